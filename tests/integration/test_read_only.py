"""A dry run, ``doctor`` and ``hash --explain`` change nothing on the machine.

No registry is configured and the local one is not running, ``dlc.ca_file`` is set: a
real run would start the registry and install the CA into the engine's ``certs.d``
(``Run.prepare``); these three must not. Checked afterwards: the project's files, the
engine's ``certs.d`` for the registry's address, the processes, the volumes of the
module's repository, and the local registry (nothing answers, no data folder).
"""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path
from typing import Any

import docker
import pytest

from dlc_tasks.clients import localregistry
from tests.integration.conftest import free_port, inv, ok
from tests.support.certs import make_ca

pytestmark = pytest.mark.integration
CERTS_D = Path("/etc/docker/certs.d")


def _files(project: Path) -> dict[str, str]:
    """Every file of the project but git's own (``git status`` may refresh its index)."""
    return {
        str(p.relative_to(project)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(project.rglob("*"))
        if p.is_file() and ".git" not in p.relative_to(project).parts
    }


def _processes_naming(text: str) -> list[str]:
    """The command lines of the processes that name ``text`` (the registry's data folder)."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            argv = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue  # a process that ended meanwhile
        if text in argv:
            found.append(argv)
    return found


def _machine(
    project: Path, engine: docker.DockerClient, port: int, data: Path, repo: str
) -> dict[str, Any]:
    address = f"127.0.0.1:{port}"
    return {
        "files": _files(project),
        "certs.d": sorted(p.name for p in CERTS_D.glob(f"*:{port}")),
        "processes": _processes_naming(str(data)),
        "volumes": sorted(v.name for v in engine.volumes.list() if repo in (v.name or "")),
        "registry answers": localregistry.is_ours(address, data),
        "registry data": data.exists(),
    }


def test_a_dry_run_doctor_and_hash_explain_leave_the_machine_as_they_found_it(
    service: Path, tmp_path: Path, engine: docker.DockerClient
) -> None:
    port, data = free_port(), tmp_path / "registry-data"
    (tmp_path / "ca").mkdir()
    ca, _ = make_ca(tmp_path / "ca", "read-only test CA")
    repo = f"read-only-{uuid.uuid4().hex[:8]}"  # its volumes are this test's alone
    env = {
        "INVOKE_DLC_LOCAL_REGISTRY_PORT": str(port),
        "INVOKE_DLC_LOCAL_REGISTRY_DATA_DIR": str(data),
        "INVOKE_DLC_CA_FILE": str(ca),
        "INVOKE_DLC_REPO": repo,
    }
    before = _machine(service, engine, port, data, repo)
    assert before["registry answers"] is None and not before["registry data"]

    planned = ok(inv("push", "--dry-run", project=service, registry=None, env=env))
    assert f"would start one at 127.0.0.1:{port}" in planned
    assert _machine(service, engine, port, data, repo) == before

    inv("doctor", project=service, registry=None, env=env)  # its verdict is not the point
    assert _machine(service, engine, port, data, repo) == before

    explained = ok(inv("hash", "--explain", project=service, registry=None, env=env))
    assert "no registry to compare with" in explained
    assert _machine(service, engine, port, data, repo) == before
