"""The publish invariant on the fakes: the binary ``prod`` builds on is the one ``test`` built
and stamped, byte for byte (issue 16, item 1).

``test`` is fresh only when every binary's sha256 equals its stamp; binaries are built to
temporary names and renamed into place as the stamp is written, so a failed or interrupted
``test`` leaves the old binaries beside the old stamp; ``prod`` refuses a binary whose digest
is not the stamp's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from dlc_tasks.clients.engine import ExecResult
from dlc_tasks.errors import BinaryNotTested, GoStepFailed
from dlc_tasks.model.stamps import TestStamp
from dlc_tasks.run import Run
from dlc_tasks.steps import CHAIN, make_step
from dlc_tasks.steps.runner import run_steps
from tests.support.fakes import GoHook, World, make_project, printed

IMAGES = {"api": {"main_package": "./cmd/api"}, "cli": {"main_package": "./cmd/cli"}}


@pytest.fixture
def world(tmp_path: Path) -> World:
    root = make_project(tmp_path / "module")
    (root / "main.go").unlink()
    for name in IMAGES:
        (root / "cmd" / name).mkdir(parents=True)
        (root / "cmd" / name / "main.go").write_text(
            f'package main\n\nfunc main() {{ println("{name}") }}\n'
        )
    return World(root)


def two(world: World, **values: Any) -> Run:
    return world.run(images=IMAGES, **values)


def chain(run: Run, names: tuple[str, ...] = CHAIN) -> dict[str, str]:
    run_steps(run, [make_step(name) for name in names])
    return {o.task: o.status for o in run.outcomes}


def binaries(world: World) -> dict[str, bytes]:
    return {name: (world.project / ".dlc" / "bin" / name).read_bytes() for name in IMAGES}


def experiment(world: World) -> Path:
    """An edit of cmd/api that is never committed; returns the file, to put it back."""
    main = world.project / "cmd" / "api" / "main.go"
    main.write_text('package main\n\nfunc main() { println("experiment") }\n')
    return main


def revert(main: Path) -> None:
    main.write_text('package main\n\nfunc main() { println("api") }\n')


def on_the_build_of(binary: str, then: GoHook) -> GoHook:
    """A hook that fires ``then`` at the ``go build`` of ``binary`` only."""

    def hook(argv: list[str], workspace: Path) -> ExecResult | None:
        if argv[:2] == ["go", "build"] and argv[-1] == f"./cmd/{binary}":
            return then(argv, workspace)
        return None

    return hook


def test_a_failed_build_of_the_second_binary_leaves_the_first_as_stamped(world: World) -> None:
    """Reproduction 1: api changed, cli does not link; after ``git checkout -- .`` the next
    push must not publish the experiment's api binary under the commit's tags."""
    chain(two(world))
    published = dict(world.registry.manifests)
    before = binaries(world)
    main = experiment(world)
    world.engine.go_hook = on_the_build_of(
        "cli", lambda argv, _: ExecResult(argv, 1, ["relocation target missing"])
    )
    with pytest.raises(GoStepFailed, match="go build"):
        chain(two(world), ("hash", "cache", "generate", "test"))
    assert binaries(world) == before  # built to temporary names: nothing renamed
    assert sorted(p.name for p in (world.project / ".dlc" / "bin").iterdir()) == sorted(IMAGES)

    world.engine.go_hook = None
    revert(main)
    statuses = chain(two(world))
    assert statuses["prod"] == "skipped" and statuses["push"] == "skipped"
    assert world.registry.manifests == published


def test_an_interrupted_test_leaves_the_first_binary_as_stamped(world: World) -> None:
    chain(two(world))
    before = binaries(world)
    main = experiment(world)

    def interrupt(argv: list[str], workspace: Path) -> ExecResult | None:
        raise KeyboardInterrupt

    world.engine.go_hook = on_the_build_of("cli", interrupt)
    with pytest.raises(KeyboardInterrupt):
        chain(two(world), ("hash", "cache", "generate", "test"))
    assert binaries(world) == before
    world.engine.go_hook = None
    revert(main)
    assert chain(two(world))["prod"] == "skipped"


def test_a_binary_that_is_not_the_stamped_one_makes_test_run_again(world: World) -> None:
    """A binary replaced behind the tool's back (an older dlc-tasks built in place, a killed
    run, a hand copy): the stamp's key still matches the sources, the digest does not."""
    chain(two(world))
    (world.project / ".dlc" / "bin" / "api").write_bytes(b"a binary from elsewhere")
    run = two(world)
    statuses = chain(run, ("hash", "cache", "generate", "test"))
    assert statuses["test"] == "ran"
    assert "api is not the binary test built" in printed(run)
    stamp = run.state.load("test", TestStamp)
    assert stamp is not None
    assert (world.project / ".dlc" / "bin" / "api").read_bytes() != b"a binary from elsewhere"


def test_prod_refuses_a_binary_whose_digest_is_not_the_stamps(world: World) -> None:
    chain(two(world))
    (world.project / ".dlc" / "bin" / "cli").write_bytes(b"not what test built")
    with pytest.raises(BinaryNotTested, match=r"\.dlc/bin/cli is not the binary test built"):
        chain(two(world), ("hash", "cache", "prod"))  # test not run: prod alone must refuse


def test_prod_refuses_a_binary_changed_after_its_decision(world: World) -> None:
    """The check is on the bytes put in the build context, not only on the decision."""
    chain(two(world))
    (world.project / "cmd" / "api" / "main.go").write_text("package main\n\nfunc main() {}\n")
    chain(two(world), ("hash", "cache", "generate", "test"))
    run = two(world)
    step = make_step("prod")
    decision = step.decide(run)
    (world.project / ".dlc" / "bin" / "api").write_bytes(b"swapped after the decision")
    with pytest.raises(BinaryNotTested):
        step.execute(run, decision)


def test_a_killed_runs_temporary_binaries_are_removed_by_the_next_test(world: World) -> None:
    chain(two(world))
    leftover = world.project / ".dlc" / "build-killed"
    leftover.mkdir()
    (leftover / "api").write_bytes(b"half a binary")  # a run SIGKILL-ed in test: no .live lock
    assert chain(two(world), ("hash", "cache", "generate", "test"))["test"] == "skipped"
    assert not leftover.exists()  # removed by a test that skips too
    experiment(world)
    chain(two(world), ("hash", "cache", "generate", "test"))
    assert sorted(p.name for p in (world.project / ".dlc" / "bin").iterdir()) == sorted(IMAGES)
