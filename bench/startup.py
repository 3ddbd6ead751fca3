"""`inv --list` and tab completion start-up: this project's tasks.py against a bare one.

    ./dev python bench/startup.py [--runs 20]

Runs each command alternately and prints medians and the ratio. The bare
tasks.py holds two empty tasks; ours must not import the docker SDK or plumbum
until a task runs (the target is a ratio of at most 1.2).

Invoke never writes bytecode for a tasks module and what it imports (``--write-pyc`` is off by
default), so the package's modules start from ``.pyc`` only where the installer compiled them:
pip does when it installs the wheel, an editable install (``./dev``'s, through uv) does not,
and then every start compiles all of ``dlc_tasks`` again. The bench compiles them first, as pip
would, and measures what an installed package costs.
"""

from __future__ import annotations

import argparse
import compileall
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


def timed(argv: list[str], cwd: Path) -> float:
    started = time.perf_counter()
    subprocess.run(argv, cwd=cwd, check=True, capture_output=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    compileall.compile_dir(REPO / "dlc_tasks", quiet=1)  # as pip install does
    with tempfile.TemporaryDirectory() as tmp:
        bare = Path(tmp)
        (bare / "tasks.py").write_text(BARE)
        for label, extra in (("--list", ["--list"]), ("--complete", ["--complete", "--", "inv"])):
            ours, theirs = [], []
            for _ in range(args.runs):
                theirs.append(timed([INV, *extra], bare))
                ours.append(timed([INV, *extra], REPO))
            a, b = statistics.median(theirs), statistics.median(ours)
            ms = f"bare {a * 1000:4.0f} ms, dlc {b * 1000:4.0f} ms"
            print(f"inv {label:<11} {ms}, ratio {b / a:.2f}")


if __name__ == "__main__":
    main()
