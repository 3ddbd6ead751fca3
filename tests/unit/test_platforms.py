"""``dlc.platforms`` (issue 18, item 1): validated, part of the dependency hash, and ``test``
cross-compiling each binary per platform in the same container, each stamped."""

from __future__ import annotations

from pathlib import Path

import pytest

from dlc_tasks.errors import ConfigError, InvalidValue
from dlc_tasks.model import depshash
from dlc_tasks.model.oci.platform import Platform
from dlc_tasks.model.stamps import TestStamp
from dlc_tasks.steps import make_step
from dlc_tasks.steps.runner import run_steps
from tests.support.fakes import World, make_project, settings_for

TWO = ["linux/amd64", "linux/arm64"]


@pytest.fixture
def world(tmp_path: Path) -> World:
    return World(make_project(tmp_path / "module"))


def _test(world: World, **values: object) -> dict[str, str]:
    run = world.run(**values)
    run_steps(run, [make_step(n) for n in ("hash", "cache", "generate", "test")])
    return {o.task: o.status for o in run.outcomes}


def _builds(world: World) -> list[list[str]]:
    return [c.split() for k, c in world.engine.calls if k == "exec" and " build " in c]


def test_platforms_are_parsed_from_a_list_or_a_comma_separated_string(tmp_path: Path) -> None:
    project = make_project(tmp_path / "m")
    assert settings_for(project).platforms == ()
    listed = settings_for(project, platforms=TWO).platforms
    assert [str(p) for p in listed] == ["linux/amd64", "linux/arm64/v8"]
    assert settings_for(project, platforms="linux/amd64, linux/arm64").platforms == listed


@pytest.mark.parametrize("value", [["linux"], "linux/arm64/v8/x", [1], {"os": "linux"}])
def test_a_bad_platform_is_one_line(tmp_path: Path, value: object) -> None:
    with pytest.raises((ConfigError, InvalidValue)) as caught:
        settings_for(make_project(tmp_path / "m"), platforms=value)
    assert "\n" not in caught.value.one_line()
    assert caught.value.hint


def test_cgo_with_two_platforms_is_refused_in_one_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"dlc\.go\.cgo .* not 2 platforms"):
        settings_for(make_project(tmp_path / "m"), platforms=TWO, go={"cgo": True})


def test_cgo_with_a_foreign_platform_is_refused_by_the_run(world: World) -> None:
    run = world.run(platforms=["linux/arm64"], go={"cgo": True})
    with pytest.raises(ConfigError, match=r"cannot build for linux/arm64/v8 on a linux/amd64"):
        run.platforms()
    assert world.run(platforms=["linux/amd64"], go={"cgo": True}).platforms() == [
        Platform.parse("linux/amd64")
    ]


def test_platforms_are_part_of_the_dependency_hash_only_when_set(tmp_path: Path) -> None:
    project = make_project(tmp_path / "m")
    build = project / "Dockerfile.build"
    build.write_text("FROM scratch\n")
    plain = depshash.compute(project, build, {})
    assert depshash.compute(project, build, {}, None, []) == plain  # unset: as before
    two = depshash.compute(project, build, {}, None, ["linux/amd64", "linux/arm64/v8"])
    one = depshash.compute(project, build, {}, None, ["linux/amd64"])
    assert len({plain.value, one.value, two.value}) == 3


def test_the_run_hashes_its_platforms(world: World) -> None:
    assert world.run(platforms=TWO).facts.deps().value != world.run().facts.deps().value


def test_unset_platforms_build_one_native_binary_as_before(world: World) -> None:
    _test(world)
    commands = _builds(world)
    assert len(commands) == 1 and commands[0][0] == "go"
    stamp = world.run().state.load("test", TestStamp)
    assert stamp is not None and list(stamp.binaries) == ["fake"]


def test_each_platform_is_cross_compiled_in_the_same_container_and_stamped(
    world: World,
) -> None:
    assert _test(world, platforms=TWO)["test"] == "ran"
    builds = _builds(world)
    assert builds[0][:2] == ["go", "build"]  # the engine's own platform: native
    assert builds[1][:5] == ["env", "CGO_ENABLED=0", "GOOS=linux", "GOARCH=arm64", "go"]
    assert builds[1][builds[1].index("-o") + 1].endswith("/linux-arm64-v8/fake")
    bin_dir = world.project / ".dlc" / "bin"
    native, arm = bin_dir / "fake", bin_dir / "linux-arm64-v8" / "fake"
    assert native.read_bytes() != arm.read_bytes()
    stamp = world.run(platforms=TWO).state.load("test", TestStamp)
    assert stamp is not None and sorted(stamp.binaries) == ["fake", "fake@linux/arm64/v8"]
    assert _test(world, platforms=TWO)["test"] == "skipped"
    arm.write_bytes(b"another binary")  # the stamp's rule covers every platform's binary
    assert _test(world, platforms=TWO)["test"] == "ran"
