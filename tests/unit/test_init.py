"""``init``: the files a Go module gets, never overwritten without --force, shown by --dry-run."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml
from invoke.exceptions import Exit

from dlc_tasks.config import Settings
from dlc_tasks.housekeeping.workflow import render_workflow
from tests.unit.conftest import invoke_tasks


def module(root: Path, mains: tuple[str, ...] = ("cmd/greeter",)) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "go.mod").write_text("module example.com/acme/greeter\n\ngo 1.22\n")
    for rel in mains:
        (root / rel).mkdir(parents=True)
        (root / rel / "main.go").write_text("package main\n\nfunc main() {}\n")
    return root


def init(root: Path, **flags: object) -> None:
    invoke_tasks(("init", flags), dlc={"project_dir": str(root)})


def test_init_writes_the_minimal_files_with_derived_values(tmp_path: Path) -> None:
    root = module(tmp_path)
    init(root)
    assert "from dlc_tasks import namespace" in (root / "tasks.py").read_text()
    assert "from dlc_tasks.nox_sessions import" in (root / "noxfile.py").read_text()
    assert (root / "VERSION").read_text().startswith("MAJOR=0\nMINOR=1\nPATCH=0\n")
    config = yaml.safe_load((root / "invoke.yaml").read_text())
    assert config["tasks"]["executor_class"] == "dlc_tasks.cli.executor.DlcExecutor"
    assert config["dlc"] == {
        "org": "acme",
        "repo": "greeter",
        "main_package": "./cmd/greeter",
        "binary_name": "greeter",
        "generate": [],  # no //go:generate directive: nothing to run, not even go generate
    }
    # what it wrote validates as the settings the chain reads
    s = Settings.from_mapping({**config["dlc"], "project_dir": str(root)})
    assert s.require_main_package() == "./cmd/greeter"
    assert not (root / "docker").exists()  # the packaged templates serve until --eject


def test_init_never_overwrites_without_force_and_keeps_an_existing_version(
    tmp_path: Path,
) -> None:
    root = module(tmp_path)
    (root / "VERSION").write_text("MAJOR=3\nMINOR=0\nPATCH=0\n")
    (root / "tasks.py").write_text("# mine\n")
    with pytest.raises(Exit) as err:
        init(root)
    assert "init would replace tasks.py" in str(err.value.message)
    assert (root / "tasks.py").read_text() == "# mine\n"
    assert not (root / "invoke.yaml").exists()  # nothing written when one file clashes
    init(root, dry_run=True)
    assert not (root / "invoke.yaml").exists()
    init(root, force=True)
    assert "namespace" in (root / "tasks.py").read_text()
    assert (root / "VERSION").read_text() == "MAJOR=3\nMINOR=0\nPATCH=0\n"


def test_init_ejects_templates_and_writes_the_workflow(tmp_path: Path) -> None:
    root = module(tmp_path)
    init(root, eject=True, workflow="gitea")
    assert {p.name for p in (root / "docker").iterdir()} == {
        "Dockerfile",
        "Dockerfile.build",
        "Dockerfile.prod.template",
    }
    text = (root / ".gitea" / "workflows" / "dlc.yml").read_text()
    # dlc-tasks is installed from a path here (editable): the workflow installs a wheel of it,
    # written beside the workflow, since no index has it
    wheel = ".dlc-tasks/dlc_tasks-0.1.0-py3-none-any.whl"
    assert f"python -m pip install nox ./{wheel}" in text
    assert (root / wheel).read_bytes()[:2] == b"PK"
    init(root, eject=True, workflow="gitea")  # the same bytes again: nothing to replace
    assert Settings.from_mapping({"project_dir": str(root)}).dockerfile_build == (
        root.resolve() / "docker" / "Dockerfile.build"
    )


def test_init_with_several_main_packages_writes_one_image_each(tmp_path: Path) -> None:
    root = module(tmp_path, ("cmd/a", "cmd/b", "internal/gen"))
    (root / "go.mod").write_text(
        "module example.com/acme/greeter\n\ngo 1.24\n\ntool example.com/acme/greeter/internal/gen\n"
    )
    init(root)
    config = yaml.safe_load((root / "invoke.yaml").read_text())["dlc"]
    assert "main_package" not in config
    assert config["images"] == {"a": {"main_package": "./cmd/a"}, "b": {"main_package": "./cmd/b"}}
    s = Settings.from_mapping({**config, "project_dir": str(root)})
    assert [t.name for t in s.all_images()] == ["a", "b"]


def test_init_leaves_the_choice_in_a_comment_when_names_clash(tmp_path: Path) -> None:
    root = module(tmp_path, ("cmd/a", "server/a"))
    init(root)
    text = (root / "invoke.yaml").read_text()
    assert "# main_package: one of ./cmd/a, ./server/a (or images: one per main package)" in text
    assert "main_package" not in yaml.safe_load(text)["dlc"]


def test_init_proposes_images_for_products_and_comments_out_helpers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A real application: main.go at the root, helper commands under scripts/ (three images
    and nine tags per push before); a library with three commands and an internal helper."""
    app = module(tmp_path / "app", ("scripts/cheatsheet", "scripts/translations"))
    (app / "main.go").write_text("package main\n\nfunc main() {}\n")
    init(app)
    text = (app / "invoke.yaml").read_text()
    config = yaml.safe_load(text)["dlc"]
    assert (config["main_package"], config["binary_name"]) == ("./", "greeter")
    assert "images" not in config
    assert '#   cheatsheet: {main_package: "./scripts/cheatsheet"}' in text
    assert '#   translations: {main_package: "./scripts/translations"}' in text
    said = capsys.readouterr().out
    assert "images: ./scripts/cheatsheet is a helper" in said

    mains = ("cmd/tomlv", "cmd/toml-test-decoder", "cmd/toml-test-encoder", "internal/tz")
    helpers = ("examples/a", "tools/gen", "testing/run", "pkg/api/internal/gen")
    library = module(tmp_path / "lib", (*mains, *helpers))
    init(library)
    text = (library / "invoke.yaml").read_text()
    images = yaml.safe_load(text)["dlc"]["images"]
    assert images == {
        "tomlv": {"main_package": "./cmd/tomlv"},
        "toml-test-decoder": {"main_package": "./cmd/toml-test-decoder"},
        "toml-test-encoder": {"main_package": "./cmd/toml-test-encoder"},
    }
    for helper in ("./examples/a", "./internal/tz", "./testing/run", "./tools/gen"):
        assert f'main_package: "{helper}"}}' in text  # commented out
    # a helper deep under internal/; another whose directory's name that one took
    assert '# gen: {main_package: "./pkg/api/internal/gen"}' in text
    assert '# tools-gen: {main_package: "./tools/gen"}' in text
    # what it wrote is what the chain reads
    s = Settings.from_mapping({**yaml.safe_load(text)["dlc"], "project_dir": str(library)})
    assert [t.name for t in s.all_images()] == list(images)


def test_init_writes_the_generate_that_runs_in_the_cache_image_and_says_what_it_left_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = module(tmp_path)
    (root / "Dockerfile").write_text("FROM scratch\n")
    (root / "tz").mkdir()
    (root / "tz" / "tz.go").write_text(
        "package tz\n\n//go:generate ./gen.py\n//go:generate go run ./gen\n"
    )
    init(root)
    text = (root / "invoke.yaml").read_text()
    (step,) = yaml.safe_load(text)["dlc"]["generate"]
    assert step == ["go", "generate", "-skip", r"^(?://go:generate \./gen\.py)$", "./..."]
    assert "#   tz/tz.go:3: //go:generate ./gen.py\n" in text
    assert "#     ./gen.py is not a Go command" in text
    said = capsys.readouterr().out
    assert "generate: left out tz/tz.go:3 //go:generate ./gen.py: ./gen.py is not a Go" in said
    # the project's own Dockerfile: named, left alone, not the library's
    assert "./Dockerfile is the project's own and is left alone" in text
    assert (root / "Dockerfile").read_text() == "FROM scratch\n"
    s = Settings.from_mapping({**yaml.safe_load(text)["dlc"], "project_dir": str(root)})
    assert s.dockerfile_dev.parent.name == "templates"


def test_org_and_repo_come_from_the_git_remote_before_go_mod(tmp_path: Path) -> None:
    (tmp_path / "checkout").mkdir()
    root = module(tmp_path / "checkout")
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    subprocess.run(
        [
            "git",
            "remote",
            "add",
            "origin",
            "https://bot:s3cret@gitea.example.com/Team/Greeter-CLI.git",
        ],
        cwd=root,
        check=True,
    )
    init(root)
    text = (root / "invoke.yaml").read_text()
    assert "org and repo from the git remote origin" in text
    assert yaml.safe_load(text)["dlc"]["org"] == "team"
    assert yaml.safe_load(text)["dlc"]["repo"] == "greeter-cli"
    assert "s3cret" not in text and "bot" not in text
    s = Settings.from_mapping({"project_dir": str(root / "cmd")})  # from a subdirectory too
    assert (s.org, s.repo) == ("team", "greeter-cli")


def test_workflows_read_as_written_by_hand() -> None:
    text = render_workflow("github", None, ["main"], ["nox"])
    assert "&id" not in text
    assert "*id" not in text
    data = yaml.safe_load(text)
    steps = [data["jobs"][job]["steps"][0] for job in ("build-cache", "ci-pipeline")]
    assert steps == [{"uses": "actions/checkout@v4"}] * 2
