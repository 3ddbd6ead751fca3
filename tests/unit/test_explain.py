"""`inv hash --explain`'s comparison of inputs."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from dlc_tasks.checks.explain import compare, explain_hash
from dlc_tasks.errors import RegistryError
from dlc_tasks.model.labels import LABEL_INPUTS
from dlc_tasks.reporting.console import Console
from dlc_tasks.run import Run
from tests.support.fakes import World, make_project, printed, settings_for
from tests.support.servers import PagingRegistry, paging_registry


def test_compare_names_each_change() -> None:
    current = {"go.mod": "1" * 64, "go.sum": "2" * 64, "Dockerfile.build": "3" * 64}
    previous = {"go.mod": "1" * 64, "Dockerfile.build": "4" * 64, "build-arg:X": "5" * 64}
    rows = {name: status for name, _, status in compare(current, previous)}
    assert rows == {
        "go.mod": "same",
        "go.sum": "new",
        "Dockerfile.build": "changed",
        "build-arg:X": "removed",
    }


@pytest.mark.parametrize("label", ["{not json", "[1, 2]", '{"go.mod": 3}', "null"])
def test_an_invalid_deps_inputs_label_is_one_error_line(tmp_path: Path, label: str) -> None:
    world = World(make_project(tmp_path / "module"))
    run = world.run()
    repo = run.facts.cache_repository().path
    world.registry.manifests[(repo, "a" * 64)] = "sha256:" + "c" * 64
    world.registry.configs["sha256:" + "c" * 64] = {"config": {"Labels": {LABEL_INPUTS: label}}}
    with pytest.raises(RegistryError, match=r"invalid io\.dlc-tasks\.deps-inputs label") as caught:
        explain_hash(run)
    assert "\n" not in caught.value.one_line()
    assert "inv cache --force" in caught.value.one_line()


def test_explain_reads_every_page_of_a_paginated_tag_list(tmp_path: Path) -> None:
    """The newest cache image is on the tag list's second page."""
    project = make_project(tmp_path / "module")
    repo = "acme/fake-build-cache"
    reg = PagingRegistry(page_size=2)
    for n, (tag, created) in enumerate(
        [("a" * 64, "2026-10-01"), ("b" * 64, "2026-11-01"), ("f" * 64, "2026-12-01")]
    ):
        digest = f"sha256:{n}" + "0" * 63
        reg.manifests[(repo, tag)] = digest
        labels = {LABEL_INPUTS: json.dumps({"go.mod": str(n) * 64})}
        reg.configs[digest] = {"created": created, "config": {"Labels": labels}}
    with paging_registry(reg):
        run = Run(
            settings_for(project, registry=reg.address),
            out=Console(stream=io.StringIO()),
            make_engine=lambda: None,  # type: ignore[arg-type,return-value]
        )
        explain_hash(run)
    assert len(reg.pages) == 2
    assert f"newest cache image in the registry: {'f' * 16}" in printed(run)
