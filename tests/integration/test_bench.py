"""bench/ keeps running: one edit, both pipelines side by side and the floor.

On a module with one tiny main package, so the ADR side (which compiles from a cold Go
cache at every step, by design) costs seconds, not minutes: what this guards is that
the benchmark runs and prints its table, not the figures (those are `bench/`'s job).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.conftest import REPO

pytestmark = pytest.mark.integration


def tiny_module(root: Path) -> Path:
    (root / "cmd" / "tiny").mkdir(parents=True)
    (root / "go.mod").write_text("module example.com/tiny\n\ngo 1.22\n")
    (root / "cmd" / "tiny" / "main.go").write_text("package main\n\nfunc main() {}\n")
    (root / "config.yaml").write_text('listen: ":8080"\n')  # the ADR's Dockerfile copies it
    (root / "VERSION").write_text("MAJOR=0\nMINOR=1\nPATCH=0\n")
    return root


def test_the_benchmark_runs_one_edit_and_prints_medians_ratios_and_the_floor(
    tmp_path: Path,
) -> None:
    module = tiny_module(tmp_path / "tiny")
    result = subprocess.run(
        [
            sys.executable, str(REPO / "bench" / "bench.py"), str(module),
            "--main-package", "./cmd/tiny", "--runs", "1", "--scenarios", "edit",
            "--shared-engine",  # an edit needs no empty engine; the bench's own would build std
        ],
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )  # fmt: skip
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
