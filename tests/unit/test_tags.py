"""Honest tags: a dirty tree is never tagged as a commit or a release, and release tags move
only when the policy says so, saying what they replaced."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from dlc_tasks.errors import PushError
from dlc_tasks.model.state import State
from dlc_tasks.run import DirtyTree, Run
from dlc_tasks.steps import CHAIN, make_step
from dlc_tasks.steps.push import VersionTagTaken
from dlc_tasks.steps.runner import run_steps
from tests.support.fakes import World, commit_all, make_project, printed

PROD = "acme/fake"


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> World:
    monkeypatch.delenv("CI", raising=False)
    project = make_project(tmp_path / "module")
    (project / ".gitignore").write_text(".dlc/\ndeps_hash.env\ncoverage.out\n")
    # the generator's output is committed (the Go convention); it regenerates it unchanged
    (project / "generated.txt").write_text("generated\n")
    commit_all(project)
    return World(project)


def push(world: World, **values: object) -> Run:
    run = world.run(revision=None, **values)
    run_steps(run, [make_step(name) for name in CHAIN])
    return run


def head(world: World) -> str:
    return subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=world.project, capture_output=True, text=True, check=True
    ).stdout.strip()


def test_a_clean_tree_gets_version_sha_and_latest(world: World) -> None:
    push(world)
    assert world.registry.tags(PROD) == sorted(["1.2.3", head(world), "latest"])


def test_an_uncommitted_edit_gets_only_sha_dirty(world: World) -> None:
    (world.project / "main.go").write_text("package main\n\nfunc main() {}\n")
    run = push(world)
    sha = head(world)
    assert world.registry.tags(PROD) == [f"{sha}-dirty"]
    image = world.engine.inspect(world.engine.refs[f"registry.test:5000/{PROD}:{sha}-dirty"])
    assert image["Config"]["Labels"]["org.opencontainers.image.revision"] == f"{sha}-dirty"
    assert "no release tags (--allow-dirty)" in printed(run)


def test_an_untracked_source_file_makes_the_tree_dirty(world: World) -> None:
    (world.project / "extra.go").write_text("package main\n")
    push(world)
    assert world.registry.tags(PROD) == [f"{head(world)}-dirty"]


def test_an_ignored_file_the_build_reads_makes_the_tree_dirty(world: World) -> None:
    """Go does not read .gitignore: an ignored file in the module (go:embed picks it up) is in
    the source digest, so the binary may hold it and no commit does."""
    (world.project / ".gitignore").write_text(".dlc/\ndeps_hash.env\ncoverage.out\nembedded.txt\n")
    commit_all(world.project)
    run = world.run(revision=None)
    before = run.facts.source_digest()
    (world.project / "embedded.txt").write_text("local\n")
    # the digest covers it (read by the next run: a run's facts are computed once) ...
    assert world.run(revision=None).facts.source_digest() != before
    push(world)
    assert world.registry.tags(PROD) == [f"{head(world)}-dirty"]  # ... so the tags say so


def test_an_ignored_file_generate_wrote_keeps_the_tree_clean(world: World) -> None:
    """A generator's output that git ignores (not committed, made again by every generate)
    is the commit's, not a local change: release tags as for any clean tree. An ignored file
    that generate did not write still makes it dirty (the test above)."""
    (world.project / ".gitignore").write_text(".dlc/\ndeps_hash.env\ncoverage.out\ngenerated.txt\n")
    subprocess.run(["git", "rm", "-q", "--cached", "generated.txt"], cwd=world.project, check=True)
    commit_all(world.project)
    (world.project / "generated.txt").unlink()  # a fresh clone: generate writes it
    push(world)
    assert world.registry.tags(PROD) == sorted(["1.2.3", head(world), "latest"])
    (world.project / "local.txt").write_text("mine\n")  # ignored too, but no generator's
    (world.project / ".gitignore").write_text(
        ".dlc/\ndeps_hash.env\ncoverage.out\ngenerated.txt\nlocal.txt\n"
    )
    commit_all(world.project)
    push(world)
    assert f"{head(world)}-dirty" in world.registry.tags(PROD)


def test_ignored_files_the_chain_writes_itself_keep_the_tree_clean(world: World) -> None:
    (world.project / "deps_hash.env").write_text("DEPS_HASH=x\n")
    (world.project / "coverage.out").write_text("mode: atomic\n")
    push(world)
    assert "latest" in world.registry.tags(PROD)


def test_files_the_build_cannot_see_do_not_make_it_dirty(world: World) -> None:
    (world.project / ".notes").mkdir()
    (world.project / ".notes" / "todo.txt").write_text("later\n")
    push(world)
    assert "latest" in world.registry.tags(PROD)


def test_allow_dirty_tags_the_release_with_the_dirty_sha(world: World) -> None:
    (world.project / "main.go").write_text("package main\n\nfunc main() {}\n")
    push(world, allow_dirty=True)
    assert world.registry.tags(PROD) == sorted(["1.2.3", f"{head(world)}-dirty", "latest"])


def test_a_dirty_tree_under_ci_is_an_error(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    (world.project / "main.go").write_text("package main\n\nfunc main() {}\n")
    with pytest.raises(DirtyTree, match=r"uncommitted changes under CI: main\.go"):
        push(world)
    assert world.registry.tags(PROD) == []


def test_a_moved_release_tag_is_reported_with_the_digest_it_replaced(world: World) -> None:
    push(world)
    old = world.registry.manifests[(PROD, "1.2.3")]
    (world.project / "main.go").write_text("package main\n\nfunc main() { println(2) }\n")
    commit_all(world.project)
    run = push(world)
    new = world.registry.manifests[(PROD, "1.2.3")]
    assert new != old
    assert f"moved registry.test:5000/{PROD}:1.2.3 from {old}" in printed(run)
    assert run.state.get("push")["replaced"] == {"1.2.3": old}


def test_an_immutable_release_tag_is_not_moved(world: World) -> None:
    push(world, version_tags="immutable")
    old = world.registry.manifests[(PROD, "1.2.3")]
    (world.project / "main.go").write_text("package main\n\nfunc main() { println(2) }\n")
    commit_all(world.project)
    with pytest.raises(VersionTagTaken, match=r"1\.2\.3 already names"):
        push(world, version_tags="immutable")
    assert world.registry.manifests[(PROD, "1.2.3")] == old


def test_pushing_the_same_image_again_is_not_a_move(world: World) -> None:
    push(world, version_tags="immutable")
    del world.registry.manifests[(PROD, "latest")]  # the registry lost a tag: push again
    run = push(world, version_tags="immutable")
    assert [o.status for o in run.outcomes][-1] == "ran"


def test_a_prerelease_tag_moves_freely_even_when_immutable(world: World) -> None:
    (world.project / "VERSION").write_text("MAJOR=1\nMINOR=2\nPATCH=3\nPRERELEASE=rc.1\n")
    commit_all(world.project)
    push(world, version_tags="immutable")
    (world.project / "main.go").write_text("package main\n\nfunc main() { println(3) }\n")
    commit_all(world.project)
    push(world, version_tags="immutable")
    assert "1.2.3-rc.1" in world.registry.tags(PROD)


# -- resumable releases (issue 16, item 4) ---------------------------------------------------


def a_new_release(world: World) -> None:
    """A committed change and a new VERSION: a push that moves nothing."""
    (world.project / "main.go").write_text("package main\n\nfunc main() { println(4) }\n")
    (world.project / "VERSION").write_text("MAJOR=1\nMINOR=2\nPATCH=4\n")
    commit_all(world.project)


@pytest.mark.parametrize("policy", ["immutable", "move"])
@pytest.mark.parametrize("fault", [PushError("push of the sha tag refused"), KeyboardInterrupt()])
def test_a_push_stopped_between_two_tags_is_finished_by_the_next_run(
    world: World, policy: str, fault: BaseException
) -> None:
    """The version tag went, the sha tag's push failed (a 403) or was interrupted: the rerun
    finds the version tag naming this image's digest, which is done, not "another image"."""
    push(world, version_tags=policy)
    a_new_release(world)
    world.engine.push_faults[head(world)] = fault
    with pytest.raises(type(fault)):
        push(world, version_tags=policy)
    half = world.registry.manifests[(PROD, "1.2.4")]
    assert (PROD, head(world)) not in world.registry.manifests

    run = push(world, version_tags=policy)
    tags = ["1.2.4", head(world), "latest"]
    assert {world.registry.manifests[(PROD, tag)] for tag in tags} == {half}
    assert "moved" not in printed(run)
    assert run.state.get("push")["replaced"] == {}
    assert "1.2.4 already names" in printed(run)  # done, and said so: not pushed again
    assert world.engine.calls.count(("push", f"registry.test:5000/{PROD}:1.2.4")) == 1


def test_a_release_is_finished_when_the_progress_stamp_was_lost_too(world: World) -> None:
    """Killed after the registry took the version tag but before anything was recorded: the
    engine's repo digest of the image says the tag names it."""
    push(world, version_tags="immutable")
    a_new_release(world)
    world.engine.push_faults[head(world)] = KeyboardInterrupt()
    with pytest.raises(KeyboardInterrupt):
        push(world, version_tags="immutable")
    state = State(world.project / ".dlc")
    for name in ("pushed", "push"):
        state.forget(name)
    push(world, version_tags="immutable")
    tags = ["1.2.4", head(world), "latest"]
    assert len({world.registry.manifests[(PROD, tag)] for tag in tags}) == 1


def test_another_image_under_the_release_tag_is_still_refused_after_a_stopped_push(
    world: World,
) -> None:
    push(world, version_tags="immutable")
    a_new_release(world)
    world.engine.push_faults[head(world)] = PushError("refused")
    with pytest.raises(PushError):
        push(world, version_tags="immutable")
    (world.project / "main.go").write_text("package main\n\nfunc main() { println(5) }\n")
    commit_all(world.project)  # another image, same VERSION
    with pytest.raises(VersionTagTaken, match=r"1\.2\.4 already names"):
        push(world, version_tags="immutable")
