"""generate's inputs made precise (project/geninputs.py, steps/generate.py): an edit the
generators cannot read skips generate; a change to anything they read always reruns it."""

from __future__ import annotations

from pathlib import Path

import pytest

from dlc_tasks.errors import ConfigError
from dlc_tasks.model.stamps import GenerateStamp
from dlc_tasks.model.state import State
from dlc_tasks.project.geninputs import nothing_to_run, observe
from dlc_tasks.run import Run
from dlc_tasks.steps import make_step
from dlc_tasks.steps.runner import run_steps
from tests.support.fakes import World, make_project, printed, settings_for

GO_GENERATE = [["go", "generate", "./..."]]


def write(root: Path, rel: str, text: str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.fixture
def module(tmp_path: Path) -> Path:
    """The service's shape: a package whose directive runs a generator of the module's own
    (which imports another of its packages and reads a file its arguments name), and a
    package no generator reads."""
    root = make_project(tmp_path / "module")
    (root / "doc.go").unlink()
    write(
        root,
        "pkg/server/generate.go",
        "package server\n\n//go:generate go run ./internal/gen -spec=../../api/spec.yaml\n",
    )
    write(root, "pkg/server/server.go", "package server\n")
    write(
        root,
        "pkg/server/internal/gen/main.go",
        'package main\n\nimport (\n\t"os"\n\t"example.com/fake/pkg/names" // the names\n)\n\n'
        "func main() { _ = os.Args; _ = names.X }\n",
    )
    write(root, "pkg/names/names.go", "package names\n\nconst X = 1\n")
    write(root, "pkg/names/sub/deeper.go", "package sub\n")
    write(root, "api/spec.yaml", "openapi: 3\n")
    write(root, "pkg/other/other.go", "package other\n")
    write(root, "templates/page.tmpl", "{{ . }}\n")
    return root


def test_the_observed_inputs_are_what_the_generators_read(module: Path) -> None:
    inputs = observe(module, GO_GENERATE, [])
    assert inputs.files == (
        "api/spec.yaml",
        "go.mod",
        "pkg/names/names.go",
        "pkg/server/generate.go",
        "pkg/server/internal/gen/main.go",
        "pkg/server/server.go",
    )
    assert [d.where for d in inputs.directives] == ["pkg/server/generate.go:3"]


def test_declared_patterns_and_the_last_outputs_are_inputs_too(module: Path) -> None:
    write(module, "pkg/other/out_gen.go", "package other\n")
    inputs = observe(module, GO_GENERATE, ["templates/**", "*.missing"], ["pkg/other/out_gen.go"])
    assert inputs.files is not None
    assert {"templates/page.tmpl", "pkg/other/out_gen.go"} <= set(inputs.files)
    assert "pkg/other/other.go" not in inputs.files


def test_go_tool_of_the_modules_own_tool_follows_its_package(module: Path) -> None:
    (module / "go.mod").write_text(
        "module example.com/fake\n\ngo 1.24\n\ntool example.com/fake/cmd/enumgen\n"
    )
    write(module, "cmd/enumgen/main.go", "package main\n")
    write(module, "pkg/server/generate.go", "package server\n\n//go:generate go tool enumgen\n")
    inputs = observe(module, GO_GENERATE, [])
    assert inputs.files is not None and "cmd/enumgen/main.go" in inputs.files


def test_a_step_it_cannot_read_falls_back_to_the_whole_tree_unless_declared(
    module: Path,
) -> None:
    assert observe(module, [["sh", "-c", "make gen"]], []).files is None
    declared = observe(module, [["sh", "-c", "make gen"]], ["templates/*.tmpl"])
    assert declared.files == ("go.mod", "templates/page.tmpl")
    # go run of a local package as a step: that package and what it imports
    ran = observe(module, [["go", "run", "./pkg/server/internal/gen"]], [])
    assert ran.files is not None and "pkg/names/names.go" in ran.files


def test_no_directive_means_nothing_to_run(module: Path) -> None:
    (module / "pkg/server/generate.go").write_text("package server\n")
    assert nothing_to_run(module, GO_GENERATE)
    assert observe(module, GO_GENERATE, []).nothing_to_run
    assert not nothing_to_run(module, [["go", "run", "./pkg/server/internal/gen"]])


def test_patterns_that_leave_the_project_are_refused(tmp_path: Path) -> None:
    root = make_project(tmp_path / "m")
    for bad in (["../secrets/*"], ["/etc/*"], "api/*", [""]):
        with pytest.raises(ConfigError):
            settings_for(root, generate_inputs=bad)
    assert settings_for(root, generate_inputs=["api/**/*.yaml"]).generate_inputs == [
        "api/**/*.yaml"
    ]


# -- the step, on the fakes -----------------------------------------------------------------


def generate(run: Run) -> str:
    run_steps(run, [make_step(name) for name in ("hash", "cache", "generate")])
    return {o.task: o.status for o in run.outcomes}["generate"]


@pytest.mark.parametrize(
    "edit",
    [
        "pkg/server/server.go",  # the directive's package
        "pkg/server/internal/gen/main.go",  # the generator
        "pkg/names/names.go",  # a package the generator imports
        "api/spec.yaml",  # a file the directive names
        "templates/page.tmpl",  # declared in dlc.generate_inputs
        "generated.txt",  # what the last generate wrote, edited by hand
    ],
)
def test_a_change_to_an_input_always_reruns_generate(module: Path, edit: str) -> None:
    world = World(module)
    assert generate(world.run(generate_inputs=["templates/*"])) == "ran"
    assert generate(world.run(generate_inputs=["templates/*"])) == "skipped"
    (module / edit).write_text((module / edit).read_text() + "// changed\n")
    assert generate(world.run(generate_inputs=["templates/*"])) == "ran"


def test_a_new_directive_elsewhere_reruns_generate(module: Path) -> None:
    world = World(module)
    generate(world.run())
    write(module, "pkg/other/gen.go", "package other\n\n//go:generate go version\n")
    assert generate(world.run()) == "ran"


def test_an_edit_no_generator_reads_skips_generate(module: Path) -> None:
    """Before: any change to the tree reran the generators (a container, 0.5-1.2 s)."""
    world = World(module)
    generate(world.run())
    (module / "pkg/other/other.go").write_text("package other\n\nconst Y = 2\n")
    write(module, "pkg/names/sub/deeper.go", "package sub\n\nconst Z = 3\n")
    world.engine.calls.clear()
    run = world.run()
    assert generate(run) == "skipped"
    assert "generator inputs unchanged since the last generate" in printed(run)
    assert not [c for c in world.engine.calls if c[0] in ("container", "exec")]
    # the dirty-tree rule's view: what generate wrote is still recorded as its output
    stamp = State(module / ".dlc").load("generate", GenerateStamp)
    assert stamp is not None and set(stamp.outputs) == {"generated.txt"}
    assert run.facts._generated_outputs() == {"generated.txt"}


def test_a_module_without_directives_starts_no_container(module: Path) -> None:
    """Before: the default `go generate ./...` opened a container to run nothing (1.2 s on a
    real application with no directive)."""
    (module / "pkg/server/generate.go").write_text("package server\n")
    world = World(module)
    run = world.run()
    assert generate(run) == "skipped"
    assert "no //go:generate directive in the module" in printed(run)
    assert not [c for c in world.engine.calls if c[0] in ("container", "exec")]
