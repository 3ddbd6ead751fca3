"""cache.prune never deletes a digest a kept tag names, and says what it kept and why."""

from __future__ import annotations

from pathlib import Path

import pytest

from dlc_tasks.housekeeping.prune import run_prune
from tests.support.fakes import World, make_project, printed


@pytest.fixture
def world(tmp_path: Path) -> World:
    return World(make_project(tmp_path / "module"))


def seed(world: World) -> tuple[str, str]:
    """Current hash on digest D1; an old hash on D0: (cache repository path, current hash)."""
    run = world.run()
    repo, current = run.cache_repository().path, run.deps().value
    reg = world.registry
    reg.manifests[(repo, current)] = "sha256:d1"
    reg.configs["sha256:d1"] = {"created": "2026-12-01T10:00:00Z"}
    reg.manifests[(repo, "0" * 64)] = "sha256:d0"
    reg.configs["sha256:d0"] = {"created": "2026-11-01T10:00:00Z"}
    return repo, current


def test_a_second_tag_on_the_current_digest_keeps_it(world: World) -> None:
    repo, current = seed(world)
    world.registry.manifests[(repo, "stable")] = "sha256:d1"  # a human's tag on the current image
    world.registry.manifests[(repo, "1" * 64)] = "sha256:d1"  # an older hash, same image
    world.registry.configs["sha256:d1"] = {"created": "2026-12-01T10:00:00Z"}
    run = world.run()
    doomed = run_prune(run, keep=0, dry_run=False)
    assert doomed == ["0" * 64]
    assert [c for c in world.registry.calls if c[0] == "DELETE"] == [("DELETE", repo, "sha256:d0")]
    assert world.registry.manifests[(repo, current)] == "sha256:d1"  # still there
    out = printed(run)
    assert "(not a cache hash)" in out  # stable
    assert f"kept {run.cache_repository()}:{'1' * 16} (same digest as kept tag" in out


def test_keep_n_newest_and_delete_the_rest(world: World) -> None:
    repo, _ = seed(world)
    world.registry.manifests[(repo, "2" * 64)] = "sha256:d2"
    world.registry.configs["sha256:d2"] = {"created": "2026-11-15T10:00:00Z"}
    doomed = run_prune(world.run(), keep=1, dry_run=False)
    assert doomed == ["0" * 64]
    assert (repo, "2" * 64) in world.registry.manifests


def test_a_tag_gone_before_its_delete_is_not_said_deleted(world: World) -> None:
    """A tag listed, then gone when its digest is asked (someone else pruned): nothing is
    deleted for it and the line says it was already gone."""
    seed(world)
    world.registry.lies["0" * 64] = None  # HEAD: 404
    run = world.run()
    doomed = run_prune(run, keep=0, dry_run=False)
    assert doomed == []
    assert not [c for c in world.registry.calls if c[0] == "DELETE"]
    out = printed(run)
    assert "deleted" not in out.replace("deleted 0", "")
    assert f"{run.cache_repository()}:{'0' * 16}… already gone" in out
