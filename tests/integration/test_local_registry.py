"""The embedded local registry with the real ``docker-registry``: started once under a lock."""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest

from dlc_tasks.clients import localregistry
from tests.integration.conftest import free_port, inv
from tests.support.servers import REGISTRY_HEADER, http_server, not_http

pytestmark = pytest.mark.integration
RUNS = 4


def _first_run(port: int, data: str, barrier: Any, results: Any) -> None:
    barrier.wait()  # every process asks at the same moment
    results.put(localregistry.ensure_running("127.0.0.1", port, Path(data)))


def test_first_runs_at_once_start_one_registry_and_the_pid_file_names_it(tmp_path: Path) -> None:
    port, data = free_port(), tmp_path / "registry"
    ctx = multiprocessing.get_context("fork")
    barrier, results = ctx.Barrier(RUNS), ctx.Queue()
    procs = [
        ctx.Process(target=_first_run, args=(port, str(data), barrier, results))
        for _ in range(RUNS)
    ]
    for proc in procs:
        proc.start()
    try:
        answers = [results.get(timeout=60) for _ in procs]
        for proc in procs:
            proc.join()
        assert [p.exitcode for p in procs] == [0] * RUNS
        assert {address for address, _ in answers} == {f"127.0.0.1:{port}"}
        assert sorted(started for _, started in answers) == [False] * (RUNS - 1) + [True]
        assert localregistry.pid_alive(data)
        assert localregistry.is_ours(f"127.0.0.1:{port}", data) is True
    finally:
        if (data / "registry.pid").is_file():
            os.kill(int((data / "registry.pid").read_text()), signal.SIGTERM)
            deadline = time.monotonic() + 30
            while localregistry.is_ours(f"127.0.0.1:{port}", data) is not None:
                assert time.monotonic() < deadline, "the registry did not stop"
                time.sleep(0.1)  # polling for the registry to be gone, not guessing a delay


def local_config(tmp_path: Path, port: int) -> Path:
    config = tmp_path / "local-registry.yaml"
    data = tmp_path / "registry-data"
    config.write_text(f"dlc:\n  local_registry: {{port: {port}, data_dir: {data}}}\n")
    return config


def test_a_non_http_service_on_the_local_registry_port_is_one_line(
    service: Path, tmp_path: Path
) -> None:
    with not_http() as port:
        config = local_config(tmp_path, port)
        push = inv("-f", str(config), "push", project=service, registry=None)
        doctor = inv("-f", str(config), "doctor", project=service, registry=None)
    assert push.returncode == 1
    assert "Traceback" not in push.stderr + doctor.stderr
    assert push.stderr.strip().splitlines() == [
        f"dlc: 127.0.0.1:{port} is served by something other than this user's dlc-tasks "
        "registry (stop it, or set dlc.local_registry.port (or dlc.registry))"
    ]
    assert f"warn registry: 127.0.0.1:{port} is served by something other" in doctor.stdout


def test_doctor_finds_our_registry_directly_whatever_http_proxy_says(
    service: Path, tmp_path: Path
) -> None:
    port = free_port()
    config = local_config(tmp_path, port)
    data = tmp_path / "registry-data"
    # the real docker-registry, started as inv starts it (from a process of its own that ends)
    ctx = multiprocessing.get_context("fork")
    starter = ctx.Process(target=localregistry.ensure_running, args=("127.0.0.1", port, data))
    starter.start()
    starter.join()
    assert starter.exitcode == 0
    try:
        seen: list[str] = []  # a proxy answering for anyone as a registry without our marker
        with http_server(REGISTRY_HEADER, seen) as proxy:
            env = {
                "http_proxy": f"http://127.0.0.1:{proxy}",
                "HTTP_PROXY": f"http://127.0.0.1:{proxy}",
            }
            doctor = inv("-f", str(config), "doctor", project=service, registry=None, env=env)
        ours = f"registry: local registry (ours, loopback, single-user) answers on 127.0.0.1:{port}"
        assert f"ok   {ours}" in doctor.stdout, doctor.stdout
        assert seen == []
    finally:
        os.kill(int((data / "registry.pid").read_text()), signal.SIGTERM)
