"""cache.prune never deletes a digest a kept tag names, and says what it kept and why; it reads
every page of a paginated tag list, and reads the list again just before deleting."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from dlc_tasks.housekeeping.prune import PruneRefused, run_prune
from dlc_tasks.reporting.console import Console
from dlc_tasks.run import Run
from tests.support.fakes import World, make_project, printed, settings_for
from tests.support.servers import PagingRegistry, paging_registry


@pytest.fixture
def world(tmp_path: Path) -> World:
    return World(make_project(tmp_path / "module"))


def seed(world: World) -> tuple[str, str]:
    """Current hash on digest D1; an old hash on D0: (cache repository path, current hash)."""
    run = world.run()
    repo, current = run.facts.cache_repository().path, run.facts.deps().value
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
    assert f"kept {run.facts.cache_repository()}:{'1' * 16} (same digest as kept tag" in out


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
    assert f"{run.facts.cache_repository()}:{'0' * 16}… already gone" in out


# -- a registry that paginates its tag lists (GHCR, Harbor, Quay) ---------------------------


def real_client_run(project: Path, registry: PagingRegistry) -> Run:
    """A run whose registry client is the tool's own, against the paginating registry."""
    return Run(
        settings_for(project, registry=registry.address),
        out=Console(stream=io.StringIO()),
        make_engine=lambda: None,  # type: ignore[arg-type,return-value]
    )


def paged(project: Path, **values: object) -> PagingRegistry:
    """Reproduction 5: the current hash and an old one on page 1, ``stable`` on page 2
    naming the old hash's digest."""
    current = real_client_run(project, PagingRegistry()).facts.deps().value
    old, other = "0" * 64, "1" * 64
    reg = PagingRegistry(page_size=2, **values)  # type: ignore[arg-type]
    repo = "acme/fake-build-cache"
    reg.manifests = {
        (repo, old): "sha256:" + "d0" * 32,
        (repo, other): "sha256:" + "d2" * 32,
        (repo, current): "sha256:" + "d1" * 32,
        (repo, "stable"): "sha256:" + "d0" * 32,  # a human's tag, on the second page
    }
    reg.configs = {
        "sha256:" + "d0" * 32: {"created": "2026-11-01T10:00:00Z"},
        "sha256:" + "d1" * 32: {"created": "2026-12-01T10:00:00Z"},
        "sha256:" + "d2" * 32: {"created": "2026-10-01T10:00:00Z"},
    }
    return reg


@pytest.mark.parametrize("absolute", [False, True])
def test_prune_reads_every_page_and_keeps_what_a_later_page_names(
    tmp_path: Path, absolute: bool
) -> None:
    project = make_project(tmp_path / "module")
    with paging_registry(paged(project, absolute_links=absolute)) as reg:
        run = real_client_run(project, reg)
        doomed = run_prune(run, keep=0, dry_run=False)
        assert len(reg.pages) >= 3  # two pages, then read again before deleting
    assert doomed == ["1" * 64]
    assert reg.deleted == [("acme/fake-build-cache", "sha256:" + "d2" * 32)]
    assert ("acme/fake-build-cache", "stable") in reg.manifests
    assert f"kept {run.facts.cache_repository()}:{'0' * 16} (same digest as kept tag stable)" in (
        printed(run)
    )


def test_prune_refuses_when_a_tag_appears_on_a_doomed_digest_before_the_delete(
    tmp_path: Path,
) -> None:
    project = make_project(tmp_path / "module")
    reg = paged(project)
    del reg.manifests[("acme/fake-build-cache", "stable")]

    def tag_meanwhile(pages: int) -> None:
        if pages == 3:  # the list read again just before deleting
            reg.manifests[("acme/fake-build-cache", "release")] = "sha256:" + "d2" * 32

    reg.on_page = tag_meanwhile
    with paging_registry(reg):
        run = real_client_run(project, reg)
        with pytest.raises(PruneRefused, match=r":release now names sha256:d2d2") as refused:
            run_prune(run, keep=0, dry_run=False)
    assert reg.deleted == []
    assert "nothing was deleted" in refused.value.one_line()
