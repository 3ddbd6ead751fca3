"""`inv --list` and tab completion start-up: this project's tasks.py against a bare one.

    ./dev python bench/startup.py [--runs 20]

Runs each command alternately, with the same ``inv``, and prints the median and the minimum
of wall-clock and of CPU time (user + system) and their ratios: on a machine busy with other
work, CPU time and the minimum are what the others disturb least. The bare tasks.py holds two
empty tasks; ours imports only the task definitions and the ``dlc`` defaults until a task
runs (no settings, models, docker SDK, plumbum or rich), and the target is a ratio of at most
1.1.

Invoke never writes bytecode for a tasks module and what it imports (``--write-pyc`` is off by
default), so modules start from ``.pyc`` only where the installer compiled them: pip does when
it installs a wheel; uv does with ``--compile-bytecode``, which ``./dev`` passes, and ``./dev``
compiles the editable ``dlc_tasks`` on every call. The bench measures the tree as ``./dev``
left it: run it through ``./dev``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
INV = str(Path(sys.executable).parent / "inv")
BARE = '''from invoke import task


@task
def one(c):
    """An empty task."""


@task
def two(c):
    """Another empty task."""
'''


def timed(argv: list[str], cwd: Path) -> tuple[float, float]:
    """Wall-clock and CPU (user + system) seconds of one run; CPU time is what a loaded
    machine (other jobs on its cores) changes least."""
    started = time.perf_counter()
    child = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(argv)} failed in {cwd}")
    return wall, usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        bare = Path(tmp)
        (bare / "tasks.py").write_text(BARE)
        for label, extra in (("--list", ["--list"]), ("--complete", ["--complete", "--", "inv"])):
            ours, theirs = [], []
            for _ in range(args.runs):
                theirs.append(timed([INV, *extra], bare))
                ours.append(timed([INV, *extra], REPO))
            for n, kind in enumerate(("wall", "cpu")):
                for stat in (statistics.median, min):
                    a = stat(t[n] for t in theirs)
                    b = stat(t[n] for t in ours)
                    ms = f"bare {a * 1000:4.0f} ms, dlc {b * 1000:4.0f} ms"
                    print(f"inv {label:<11} {kind:<4} {stat.__name__:<6} {ms}, ratio {b / a:.2f}")


if __name__ == "__main__":
    main()
