"""bench/ keeps running: one edit on the service, both pipelines side by side and the floor."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.integration.conftest import REPO

pytestmark = pytest.mark.integration


def test_the_benchmark_runs_one_edit_and_prints_medians_ratios_and_the_floor() -> None:
    result = subprocess.run(
        [sys.executable, str(REPO / "bench" / "bench.py"), "--runs", "1", "--scenarios", "edit"],
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"
    out = result.stdout
    assert "edit: median seconds over 1 runs" in out
    for step in ("cache", "test", "prod", "push", "TOTAL"):  # both pipelines' rows
        assert any(line.split()[:1] == [step] for line in out.splitlines()), step
    assert "native Go for the same edit" in out
    total = next(
        line for line in out.splitlines() if line.strip().startswith("edit ") and "ratio" in line
    )
    assert float(total.split("ratio")[1]) > 0
    # it left nothing behind on the shared engine
    images = subprocess.run(
        ["docker", "images", "--format", "{{.Repository}}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert "benchadr-prod" not in images
