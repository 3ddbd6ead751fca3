"""Fixtures for the integration tests: a real engine, real registries, real Go modules.

Nothing here skips: a missing engine or registry binary is a failure, because
a test that did not run proves nothing. ``./dev`` (and so CI) installs and
starts everything these fixtures need.

What isolation does not need is shared (the suite runs under ``pytest-xdist``, one
process per core): the service's build-cache image is built and pushed once per
suite, under a lock all workers share (:func:`service_cache_seed`), which also
puts the standard library's warm-cache layer in the engine's layer cache for every
other module's cache image. :func:`warm_registry` is a fresh registry that already
holds that cache image, for tests whose subject is not caching; :func:`registry`
is an empty one, for tests about a cache miss, a push or what a registry holds.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import docker
import pytest

REPO = Path(__file__).resolve().parents[2]
INV = str(Path(sys.executable).parent / "inv")
SERVICE_FILES = ["go.mod", "cmd", "pkg", "config.yaml", "VERSION", "docker", ".dockerignore"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def engine() -> docker.DockerClient:
    client = docker.from_env(version="auto")
    client.ping()  # fails the test run, loudly, when no engine answers
    return client


@dataclass
class Registry:
    """A running Distribution registry."""

    address: str
    process: subprocess.Popen[bytes]
    storage: Path

    def tags(self, repository: str) -> list[str]:
        with urllib.request.urlopen(f"http://{self.address}/v2/{repository}/tags/list") as r:
            return sorted(json.loads(r.read())["tags"] or [])

    def digest(self, repository: str, tag: str) -> str:
        """The digest, as an independent client (skopeo) reads it."""
        out = subprocess.run(
            [
                "skopeo",
                "inspect",
                "--tls-verify=false",
                f"docker://{self.address}/{repository}:{tag}",
            ],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        return str(json.loads(out)["Digest"])


def start_registry(
    tmp: Path,
    extra_config: str = "",
    *,
    host: str = "127.0.0.1",
    port: int | None = None,
    prefix: list[str] | None = None,
    seed: Path | None = None,
    deletes: bool = True,
) -> Registry:
    """Start ``docker-registry serve`` (under ``prefix``, e.g. ``ip netns exec NS``), on an
    empty storage or on a copy of ``seed`` (see :func:`service_cache_seed`); ``deletes=False``
    as Distribution's own default (``storage.delete.enabled: false``)."""
    port = port or free_port()
    storage = tmp / "storage"
    if seed is not None:
        _copy_storage(seed, storage)
    storage.mkdir(parents=True, exist_ok=True)
    config = tmp / "config.yml"
    config.write_text(
        "version: 0.1\nlog:\n  level: error\n"
        f"storage:\n  filesystem:\n    rootdirectory: {storage}\n"
        f"  delete:\n    enabled: {'true' if deletes else 'false'}\n"
        f"http:\n  addr: {host}:{port}\n{extra_config}"
    )
    with (tmp / "registry.log").open("wb") as log:
        process = subprocess.Popen(
            [*(prefix or []), "docker-registry", "serve", str(config)], stdout=log, stderr=log
        )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        assert process.poll() is None, (tmp / "registry.log").read_text()
        try:
            with socket.create_connection((host, port), timeout=0.5):
                break
        except OSError:
            time.sleep(0.05)  # polling the port until the registry listens
    return Registry(f"{host}:{port}", process, storage)


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[Registry]:
    """A fresh, empty registry."""
    reg = start_registry(tmp_path / "registry")
    yield reg
    reg.process.terminate()
    reg.process.wait(10)


def _shared_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder every xdist worker of this session sees (the parent of their base temps)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@pytest.fixture(scope="session")
def service_cache_seed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The storage of a registry holding the service's cache image, made once per suite.

    The first worker to get here builds and pushes it (``inv cache`` on a copy of the
    service) while the others wait on the lock; they all reuse the result. A registry's
    blobs are immutable, content-addressed files, so :func:`warm_registry` links them
    instead of copying; the small metadata (tags, links) is copied, so a test's writes
    stay its own.
    """
    shared = _shared_dir(tmp_path_factory) / "service-cache-seed"
    shared.mkdir(exist_ok=True)
    with (shared / "lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        storage = shared / "registry" / "storage"
        if not (shared / "done").exists():
            shutil.rmtree(shared / "registry", ignore_errors=True)
            reg = start_registry(shared / "registry")
            try:
                module = copy_module(REPO, shared / "service", SERVICE_FILES)
                ok(inv("cache", project=module, registry=reg.address))
            finally:
                reg.process.terminate()
                reg.process.wait(10)
            (shared / "done").touch()
    return storage


def _copy_storage(seed: Path, storage: Path) -> None:
    """A registry storage like ``seed``: blob data hard-linked (immutable, content-addressed
    files the registry never rewrites), everything else (tags, links) copied."""
    for path in sorted(seed.rglob("*")):
        target = storage / path.relative_to(seed)
        if path.is_dir():
            target.mkdir(parents=True, exist_ok=True)
        elif path.name == "data" and "blobs" in path.parts:
            os.link(path, target)
        else:
            shutil.copy2(path, target)


@pytest.fixture
def warm_registry(tmp_path: Path, service_cache_seed: Path) -> Iterator[Registry]:
    """A fresh registry that already holds the service's build-cache image (a hit for it)."""
    reg = start_registry(tmp_path / "warm-registry", seed=service_cache_seed)
    yield reg
    reg.process.terminate()
    reg.process.wait(10)


@pytest.fixture(scope="session", autouse=True)
def _warm_engine(service_cache_seed: Path) -> None:
    """Every integration test starts after the seed: one std warm-cache layer, built once."""


@pytest.fixture(scope="session", autouse=True)
def _own_local_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """A test's ``inv`` with no registry configured starts the local registry of this worker
    (its own port and data folder, stopped at the end), never the developer's: the suite left
    one on 127.0.0.1:5000 serving ~/.cache/dlc-tasks, which a later run then refused once that
    folder was gone. (A ``-f`` config file still overrides these variables.)"""
    data = tmp_path_factory.mktemp("local-registry")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("INVOKE_DLC_LOCAL_REGISTRY_PORT", str(free_port()))
        env.setenv("INVOKE_DLC_LOCAL_REGISTRY_DATA_DIR", str(data))
        yield
    pid_file = data / "registry.pid"
    if pid_file.is_file():
        with contextlib.suppress(ProcessLookupError):  # already gone
            os.kill(int(pid_file.read_text(encoding="utf-8")), signal.SIGTERM)


def copy_module(source: Path, dest: Path, names: list[str] | None = None) -> Path:
    """Copy a Go module and make it a git repository with one commit."""
    dest.mkdir(parents=True)
    for name in names or [p.name for p in source.iterdir()]:
        src = source / name
        if src.is_dir():
            shutil.copytree(
                src, dest / name, ignore=shutil.ignore_patterns(".dlc", "*.out", "Dockerfile.prod")
            )
        elif src.exists():
            shutil.copy2(src, dest / name)
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=dest, check=True)
    commit(dest, "fixture")
    return dest


def commit(path: Path, message: str = "edit") -> None:
    """Commit everything in ``path`` (an edit a developer commits before pushing a release)."""
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "add", "-A"], cwd=path, check=True)
    subprocess.run([*git, "commit", "-qm", message], cwd=path, check=True)


def git_sha(path: Path) -> str:
    return subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=path, check=True, capture_output=True, text=True
    ).stdout.strip()


@pytest.fixture
def service(tmp_path: Path) -> Path:
    """A fresh copy of the repository's own Go service, as a git repository."""
    return copy_module(REPO, tmp_path / "service", SERVICE_FILES)


def _inv_env(project: Path, registry: str | None, env: dict[str, str] | None) -> dict[str, str]:
    # As a developer runs it: CI (set by .ci/run) makes a dirty tree an error, which the tests
    # that edit files and push do not want; the tests about CI set it themselves.
    full_env = {k: v for k, v in os.environ.items() if k != "CI"}
    full_env.update({"INVOKE_DLC_PROJECT_DIR": str(project), "NO_COLOR": "1"})
    if registry:
        full_env["INVOKE_DLC_REGISTRY"] = registry
    full_env.update(env or {})
    return full_env


def inv(
    *args: str,
    project: Path,
    registry: str | None,
    env: dict[str, str] | None = None,
    prefix: list[str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``inv`` from this repository's tasks.py against ``project``, as a user would
    (under ``prefix``, e.g. strace, when given)."""
    return subprocess.run(
        [*(prefix or []), INV, "--search-root", str(REPO), *args],
        cwd=project,
        env=_inv_env(project, registry, env),
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


def inv_background(
    *args: str, project: Path, registry: str | None, env: dict[str, str] | None = None
) -> subprocess.Popen[str]:
    """Start ``inv`` like :func:`inv` does, without waiting; stdout and stderr are pipes."""
    return subprocess.Popen(
        [INV, "--search-root", str(REPO), *args],
        cwd=project,
        env=_inv_env(project, registry, env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result.stdout
