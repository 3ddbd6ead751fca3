"""The chain's decisions, on fakes: hit, miss, --force, skip when fresh, rebuild after an edit,
a registry that disagrees, stamps whose images are gone, and plan == run step by step."""

from __future__ import annotations

from pathlib import Path

import pytest

from dlc_tasks.clients.gocontainer import TRIM_STAMP
from dlc_tasks.errors import GoStepFailed, NotFoundError, PushError
from dlc_tasks.model.state import State
from dlc_tasks.run import Run
from dlc_tasks.steps import CHAIN, Status, make_step
from dlc_tasks.steps.runner import run_steps
from tests.support.fakes import World, failing, make_project, printed, raising
from tests.support.plans import decisions, matches

CACHE_REPO = "acme/fake-build-cache"
PROD_REPO = "acme/fake"
SHA = "0123456789abcdef0123456789abcdef01234567"


@pytest.fixture
def world(tmp_path: Path) -> World:
    return World(make_project(tmp_path / "module"))


def chain(run: Run, names: tuple[str, ...] = CHAIN) -> dict[str, str]:
    """Run the steps; return step → status."""
    run_steps(run, [make_step(name, force=run.force) for name in names])
    return {o.task: o.status for o in run.outcomes}


def engine_work(world: World) -> list[tuple[str, str]]:
    """What the fake engine was asked to do that changes something."""
    return [c for c in world.engine.calls if c[0] in ("build", "push", "container", "exec", "tag")]


def test_cold_run_misses_builds_and_pushes_three_tags_of_one_digest(world: World) -> None:
    statuses = chain(world.run())
    assert statuses == {
        "hash": "ran",
        "cache": "miss",
        "generate": "ran",
        "test": "ran",
        "prod": "ran",
        "push": "ran",
    }
    tags = world.registry.tags(PROD_REPO)
    assert tags == sorted(["1.2.3", SHA, "latest"])
    assert len({world.registry.manifests[(PROD_REPO, t)] for t in tags}) == 1
    deps = (world.project / "deps_hash.env").read_text().strip().removeprefix("DEPS_HASH=")
    assert world.registry.tags(CACHE_REPO) == [deps]
    # generate ran in the same image the later steps used, pinned by digest
    images = {image for kind, image in world.engine.calls if kind == "container"}
    assert len(images) == 1 and "@sha256:" in images.pop()


def test_second_run_is_a_hit_and_touches_nothing(world: World) -> None:
    chain(world.run())
    world.engine.calls.clear()
    statuses = chain(world.run())
    assert statuses == {
        "hash": "skipped",
        "cache": "hit",
        "generate": "skipped",
        "test": "skipped",
        "prod": "skipped",
        "push": "skipped",
    }
    assert engine_work(world) == []


def test_force_rebuilds_the_cache_image_even_on_a_hit(world: World) -> None:
    chain(world.run(), ("hash", "cache"))
    world.engine.calls.clear()
    statuses = chain(world.run(force=True), ("hash", "cache"))
    assert statuses["cache"] == "miss"
    assert [c[0] for c in engine_work(world)] == ["build", "push"]


def test_a_changed_build_argument_names_a_new_cache_image(world: World) -> None:
    chain(world.run(), ("hash", "cache"))
    statuses = chain(world.run(build_args={"GO_IMAGE": "golang:other"}), ("hash", "cache"))
    assert statuses["cache"] == "miss"
    assert len(world.registry.tags(CACHE_REPO)) == 2


def test_an_argument_the_dockerfile_does_not_declare_changes_nothing(world: World) -> None:
    chain(world.run(), ("hash", "cache"))
    statuses = chain(
        world.run(build_args={"GO_IMAGE": "golang:fake", "UNUSED": "y"}), ("hash", "cache")
    )
    assert statuses["cache"] == "hit"


def test_an_edit_reruns_generate_test_prod_and_push(world: World) -> None:
    chain(world.run())
    first = world.registry.manifests[(PROD_REPO, "latest")]
    (world.project / "main.go").write_text('package main\n\nfunc main() { println("v2") }\n')
    statuses = chain(world.run())
    assert statuses == {
        "hash": "skipped",
        "cache": "hit",
        "generate": "ran",
        "test": "ran",
        "prod": "ran",
        "push": "ran",
    }
    assert world.registry.manifests[(PROD_REPO, "latest")] != first


def test_an_empty_generate_starts_no_container(world: World) -> None:
    chain(world.run(generate=[]), ("hash", "cache"))
    world.engine.calls.clear()
    run = world.run(generate=[])
    statuses = chain(run, ("hash", "cache", "generate"))
    assert statuses["generate"] == "skipped"
    assert "no generate steps configured" in printed(run)
    assert engine_work(world) == []


def test_a_new_go_cache_volume_gets_a_trim_stamp_once(world: World) -> None:
    """Go would trim the cache image's warm entries (mtimes of its build day) after 5 days;
    a fresh trim.txt on the volume's first use stops that, and only the first use writes it."""
    chain(world.run(), ("hash", "cache", "generate", "test"))
    stamp = " ".join(TRIM_STAMP)
    assert [c for c in world.engine.calls if c == ("exec", stamp)] == [("exec", stamp)]
    world.engine.calls.clear()
    chain(world.run(force=True), ("hash", "cache", "generate", "test"))
    assert ("exec", stamp) not in world.engine.calls


def test_vet_and_test_run_together_and_the_binary_after_them(world: World) -> None:
    chain(world.run(), ("hash", "cache", "generate", "test"))
    commands = [c[1] for c in world.engine.calls if c[0] == "exec"]
    go_commands = [c for c in commands if c.startswith("go ") and "generate" not in c]
    assert go_commands[0:2] == [
        "go vet ./...",
        "go test -covermode=atomic -coverprofile=coverage.out ./...",
    ] or go_commands[0:2] == [
        "go test -covermode=atomic -coverprofile=coverage.out ./...",
        "go vet ./...",
    ]
    assert go_commands[2].startswith("go tool cover")
    assert go_commands[3].startswith("go build -ldflags=-s -w -o .dlc/build-")  # then renamed
    assert not any(c == "go build ./..." for c in commands)  # nothing compiled twice


def test_a_failing_go_test_is_recorded_and_raised(world: World) -> None:
    world.engine.go_hook = failing("go test", lines=["--- FAIL: TestX (0.00s)"])
    run = world.run()
    with pytest.raises(GoStepFailed, match="go test failed with exit code 1: TestX"):
        chain(run)
    assert [(o.task, o.status) for o in run.outcomes][-1] == ("test", "failed")
    assert world.registry.tags(PROD_REPO) == []


def test_a_failing_generate_directive_is_named_with_dlc_generate(world: World) -> None:
    """What go generate prints for a directive the cache image cannot run (BurntSushi/toml's
    ``./gen.py``): the failure names the directive, its place and dlc.generate."""
    (world.project / "tz").mkdir()
    (world.project / "tz" / "tz.go").write_text("package tz\n\n//go:generate ./gen.py\n")
    go_said = 'tz/tz.go:3: running "./gen.py": fork/exec ./gen.py: no such file or directory'
    world.engine.go_hook = failing("go generate", lines=[go_said])
    run = world.run()
    with pytest.raises(GoStepFailed) as raised:
        chain(run)
    line = raised.value.one_line()
    assert line.startswith(
        "dlc.generate: go generate ./... failed at //go:generate ./gen.py (tz/tz.go:3): "
        'running "./gen.py": fork/exec ./gen.py: no such file or directory (leave it out in '
        "dlc.generate (go generate -skip REGEX ./..., as dlc init writes"
    ), line
    assert run.outcomes[-1].task == "generate"


def test_an_interruption_is_recorded_as_interrupted(world: World) -> None:
    world.engine.go_hook = raising("go generate", KeyboardInterrupt())
    run = world.run()
    with pytest.raises(KeyboardInterrupt):
        chain(run)
    assert run.outcomes[-1].task == "generate"
    assert run.outcomes[-1].status == Status.INTERRUPTED.value
    assert world.engine.containers == {}  # the container was removed on the way out


def test_an_unexpected_error_is_recorded_as_a_failure(world: World) -> None:
    world.engine.go_hook = raising("go vet", RuntimeError("engine went away"))
    run = world.run()
    with pytest.raises(RuntimeError):
        chain(run)
    assert run.outcomes[-1].task == "test"
    assert run.outcomes[-1].status == "failed"
    assert "RuntimeError" in run.outcomes[-1].detail


def test_a_tag_the_registry_resolves_to_another_digest_raises(world: World) -> None:
    world.registry.lies["latest"] = "sha256:" + "e" * 64
    with pytest.raises(PushError, match="do not name one digest"):
        chain(world.run())


def test_push_reruns_when_the_registry_lost_a_tag(world: World) -> None:
    chain(world.run())
    del world.registry.manifests[(PROD_REPO, "latest")]
    statuses = chain(world.run())
    assert statuses["push"] == "ran"
    assert (PROD_REPO, "latest") in world.registry.manifests


def test_a_stamp_whose_image_was_deleted_is_not_trusted(world: World) -> None:
    chain(world.run())
    world.engine.forget_images()  # docker image prune -a
    world.engine.calls.clear()
    statuses = chain(world.run())
    assert statuses["prod"] == "ran"  # the stamp names an image the engine no longer has
    assert statuses["test"] == "skipped"  # the binary is a file here, still valid
    kinds = [c[0] for c in world.engine.calls]
    assert "build" in kinds


def test_the_go_steps_pull_the_cache_image_by_digest_when_the_engine_lacks_it(
    world: World,
) -> None:
    chain(world.run(), ("hash", "cache"))
    world.engine.forget_images()
    chain(world.run(), ("hash", "cache", "generate"))
    pulls = [target for kind, target in world.engine.calls if kind == "pull"]
    assert len(pulls) == 1 and "@sha256:" in pulls[0]


def test_a_scratch_image_pulls_the_cache_image_it_copies_from_when_the_engine_lacks_it(
    world: World,
) -> None:
    """Podman keeps its own store: a test step skipped as up to date left no cache image in
    it, and Podman's build would fetch the FROM itself over https from a loopback registry."""
    (world.project / "docker" / "Dockerfile.prod.template").unlink()  # the packaged template
    chain(world.run(image={"base": "scratch"}), ("hash", "cache", "generate", "test"))
    world.engine.forget_images()
    chain(world.run(image={"base": "scratch"}), ("hash", "cache", "generate", "test", "prod"))
    pulls = [target for kind, target in world.engine.calls if kind == "pull"]
    assert len(pulls) == 1 and "-build-cache@sha256:" in pulls[0]
    world.engine.calls.clear()
    chain(world.run(), ("hash", "cache", "generate", "test", "prod"))  # runtime base: no pull
    assert not [c for c in world.engine.calls if c[0] == "pull"]


def test_prod_without_a_cache_image_says_what_to_run(world: World) -> None:
    with pytest.raises(NotFoundError, match="no build-cache image"):
        chain(world.run(), ("hash", "generate"))


# -- one code path for planning and doing ----------------------------------------------------


def plan_then_run(world: World, **values: object) -> tuple[dict[str, list[str]], Run, Run]:
    state = (
        (world.project / ".dlc" / "state.json").read_bytes()
        if (world.project / ".dlc" / "state.json").exists()
        else None
    )
    world.engine.calls.clear()
    world.registry.calls.clear()
    dry = world.run(dry_run=True, **values)  # type: ignore[arg-type]
    chain(dry)
    # the plan changed nothing: no engine work, no registry write, no state written
    assert engine_work(world) == []
    assert all(kind in ("HEAD", "tags", "config") for kind, _, _ in world.registry.calls)
    after = (
        (world.project / ".dlc" / "state.json").read_bytes()
        if (world.project / ".dlc" / "state.json").exists()
        else None
    )
    assert after == state
    real = world.run(**values)  # type: ignore[arg-type]
    chain(real)
    return decisions(printed(dry)), dry, real


def assert_plan_matches(world: World, **values: object) -> dict[str, list[str]]:
    planned, dry, real = plan_then_run(world, **values)
    done = decisions(printed(real))
    for name in CHAIN:
        assert matches(planned[name], done[name]), (name, planned[name], done[name])
    statuses = {o.task: o.status for o in dry.outcomes}
    assert all(s in ("planned", "skipped", "hit") for s in statuses.values())
    return planned


def test_plan_equals_run_on_a_cold_start(world: World) -> None:
    planned = assert_plan_matches(world)
    assert planned["cache"][0].startswith("run: cache miss")
    assert any(
        line.startswith("docker build -f docker/Dockerfile.build") for line in planned["cache"]
    )
    # the plan shows only the arguments the build will pass (UNUSED is not declared)
    assert "--build-arg GO_IMAGE=golang:fake" in "\n".join(planned["cache"])
    assert "UNUSED" not in "\n".join(planned["cache"])


def test_plan_equals_run_when_nothing_changed(world: World) -> None:
    chain(world.run())
    planned = assert_plan_matches(world)
    assert [lines[0].split(":")[0] for lines in planned.values()] == ["skip"] * 6


def test_plan_equals_run_after_an_edit(world: World) -> None:
    chain(world.run())
    (world.project / "main.go").write_text('package main\n\nfunc main() { println("v3") }\n')
    planned = assert_plan_matches(world)
    assert planned["cache"] == [planned["cache"][0]] and planned["cache"][0].startswith("skip")
    assert planned["generate"][0] == "run: generator inputs changed"


def test_plan_equals_run_with_no_generate_steps(world: World) -> None:
    """Cold and after an edit: generate plans and runs a skip, and never opens a container."""
    main_go = world.project / "main.go"
    for edit in (False, True):
        if edit:
            main_go.write_text('package main\n\nfunc main() { println("v4") }\n')
        planned = assert_plan_matches(world, generate=[])
        assert planned["generate"] == ["skip: no generate steps configured (dlc.generate is empty)"]
        containers = [c for c in world.engine.calls if c[0] == "container"]
        assert len(containers) == 1  # the test step's; none for generate


def test_plan_equals_run_with_a_local_module_proxy(world: World) -> None:
    proxy = world.project / "goproxy"
    (proxy / "example.com" / "dep" / "@v").mkdir(parents=True)
    (proxy / "example.com" / "dep" / "@v" / "list").write_text("v1.0.0\n")
    planned = assert_plan_matches(world, goproxy_dir="goproxy")
    text = "\n".join(planned["cache"])
    assert "--build-arg GOPROXY=file:///goproxy" in text
    assert "goproxy/example.com/dep/@v/list" in text


def test_plan_says_may_run_after_a_step_whose_output_it_cannot_know(world: World) -> None:
    # generate's stamp is lost (a new .dlc, say): generate runs again and writes the same
    # files, so test, prod and push are up to date after all. The plan cannot know that
    # before generate has run; it must not claim they run (they are skipped) or skip.
    chain(world.run())
    State(world.project / ".dlc").forget("generate")
    planned, _, real = plan_then_run(world)
    done = decisions(printed(real))
    assert planned["generate"] == done["generate"]
    assert done["generate"][0].startswith("run: ")
    assert planned["test"][0] == (
        "may run: if generate changes its inputs (known once generate has run)"
    )
    for name in ("test", "prod", "push"):
        assert planned[name][0].startswith("may run: if "), name
        assert done[name][0].startswith("skip: "), name
