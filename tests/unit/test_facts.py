"""The run's facts (computed once, invalidated only by what a step changes) and the one
place a run changes the machine before its work (``Run.prepare``)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest

from dlc_tasks.checks.explain import explain_hash
from dlc_tasks.clients import localregistry, trust
from dlc_tasks.config import Settings
from dlc_tasks.reporting.console import Console
from dlc_tasks.run import RegistryNotRunning, Run
from dlc_tasks.steps import CHAIN, make_step
from dlc_tasks.steps.runner import run_steps
from tests.support.fakes import World, make_project, printed
from tests.support.servers import free_loopback_port


@pytest.fixture
def world(tmp_path: Path) -> World:
    return World(make_project(tmp_path / "module"))


def _reads_of(path: Path, monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Every ``read_text`` of ``path`` from now on."""
    reads: list[Path] = []
    original = Path.read_text

    def counting(self: Path, *args: Any, **kwargs: Any) -> str:
        if self == path:
            reads.append(self)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Path, "read_text", counting)
    return reads


def test_a_cold_chain_reads_version_once(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """VERSION feeds the binaries' -ldflags, the labels and the tags: one read serves them."""
    run = world.run()
    reads = _reads_of(run.settings.version_file, monkeypatch)
    run_steps(run, [make_step(name) for name in CHAIN])
    assert len(reads) == 1


def test_version_bump_invalidates_the_version_and_the_tags(world: World) -> None:
    run = world.run()
    assert run.facts.release_tag() == "1.2.3"
    run.settings.version_file.write_text("MAJOR=1\nMINOR=3\nPATCH=0\n")
    assert run.facts.release_tag() == "1.2.3"  # a fact is kept for the run ...
    run.facts.version_changed()  # ... until the step that changed it says so
    assert run.facts.release_tag() == "1.3.0"


def test_generate_invalidates_the_source_digest_it_changed(world: World) -> None:
    run = world.run()
    before = run.facts.source_digest()
    (world.project / "generated.go").write_text("package main\n")
    assert run.facts.source_digest() == before
    run.facts.sources_changed()
    assert run.facts.source_digest() != before


def test_deciding_never_installs_the_ca_prepare_does_once(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reading the engine (push's decision asks it for the image) installs nothing; the
    runner's one preparation does, once, before the first step."""
    installed: list[tuple[str, Path]] = []

    def install(registry: str, ca: Path, say: Any, certs_d: Path) -> bool:
        installed.append((registry, certs_d))
        return True

    monkeypatch.setattr(trust, "install_ca", install)
    ca = tmp_path / "ca.crt"
    ca.write_text("not read: install_ca is recorded\n")
    run_steps(world.run(), [make_step(name) for name in CHAIN])  # stamps and images for push
    run = world.run(ca_file=str(ca))
    run.engine()
    for name in CHAIN:
        make_step(name).decide(run)
    assert installed == []
    run_steps(run, [make_step(name) for name in CHAIN])
    assert installed == [("registry.test:5000", trust.CERTS_D)]


def _local(tmp_path: Path, **values: Any) -> Run:
    """A run with no registry configured, the local one on a free port with nothing on it."""
    project = make_project(tmp_path / "module")
    settings = Settings.from_mapping(
        {
            "project_dir": str(project),
            "local_registry": {"port": free_loopback_port(), "data_dir": str(tmp_path / "data")},
            **values,
        }
    )
    return Run(settings, out=Console(stream=io.StringIO()))


def _never_start(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    started: list[int] = []

    def start(host: str, port: int, data_dir: Path | None = None) -> tuple[str, bool]:
        started.append(port)
        raise AssertionError("the local registry was started")

    monkeypatch.setattr(localregistry, "ensure_running", start)
    return started


def test_hash_explain_without_a_running_local_registry_starts_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started = _never_start(monkeypatch)
    run = _local(tmp_path)
    explain_hash(run)
    assert started == []
    assert "no registry to compare with" in printed(run)
    assert not (tmp_path / "data").exists()


def test_a_real_client_without_preparation_is_refused_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only prepare() starts the local registry: a task that forgot it is told, not served an
    empty registry."""
    _never_start(monkeypatch)
    with pytest.raises(RegistryNotRunning, match="is not running"):
        _local(tmp_path).client()


def test_a_dry_run_never_prepares(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    started = _never_start(monkeypatch)
    run = _local(tmp_path, dry_run=True)
    run.prepare()
    assert run.client().tags("any") == []
    assert started == []
    assert "would start one" in printed(run)
