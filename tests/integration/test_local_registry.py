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
from tests.integration.conftest import free_port

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
