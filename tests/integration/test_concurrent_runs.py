"""Real ``inv`` processes sharing one checkout, and real ``inv`` runs killed (issue 11, item 2).

* Several ``inv`` processes at once, each a different task (so each writes its own stamps
  and its own history record): afterwards every stamp in ``state.json`` matches what it
  describes (the registry's digest, the binary's sha256), every run has its record, and
  the next ``inv test`` trusts the stamps and skips everything.
* ``inv cache`` killed with SIGKILL at fixed points: strace's fault injection kills the
  process on its Nth ``write`` system call (at the call's entry), N drawn from a fixed list
  of seeds, plus the writes of ``state.json``'s and ``report.json``'s temporary files and of
  the history line, found in a counting run; so each kill point is the same on every
  machine and no test sleeps. After each
  kill the next ``inv cache`` succeeds and ``inv report`` reads the history.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import signal
import subprocess
from pathlib import Path

import pytest

from tests.integration.conftest import Registry, inv, inv_background, ok

pytestmark = pytest.mark.integration
CACHE_REPO = "arcodange/dance-lessons-coach-build-cache"
# task → the tasks its history record lists (pre tasks first)
CONCURRENT = {
    "hash": ["hash"],
    "cache": ["hash", "cache"],
    "generate": ["hash", "cache", "generate"],
    "test": ["hash", "cache", "generate", "test"],
}
# how strace shows the start of the writes of state.json's and report.json's temporary files,
# and of the history line
STATE_WRITE = '"{\\n  \\"cache\\": {'
REPORT_WRITE = '"{\\n  \\"schema\\": 1,'
HISTORY_WRITE = '"{\\"schema\\":1,'

SEEDS = [1, 2, 3, 5, 8, 13]


def records(service: Path) -> list[dict[str, object]]:
    lines = (service / ".dlc" / "history.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines]  # every line whole


def test_concurrent_inv_processes_in_one_checkout_keep_every_stamp_and_record(
    service: Path, registry: Registry
) -> None:
    ok(inv("cache", project=service, registry=registry.address))  # the cache image, pushed
    runs = {
        task: inv_background(task, project=service, registry=registry.address)
        for task in CONCURRENT
    }
    outputs = {task: run.communicate(timeout=600) for task, run in runs.items()}
    assert {t: r.returncode for t, r in runs.items()} == dict.fromkeys(CONCURRENT, 0), outputs

    history = records(service)
    expected = [["hash", "cache"], *CONCURRENT.values()]
    got = [[t["task"] for t in r["tasks"]] for r in history]  # type: ignore[attr-defined]
    assert sorted(got) == sorted(expected)
    assert all(r["ok"] for r in history)

    state = json.loads((service / ".dlc" / "state.json").read_text())
    deps = (service / "deps_hash.env").read_text().split("=", 1)[1].strip()
    assert state["cache"]["digest"] == registry.digest(CACHE_REPO, deps)
    binary = service / ".dlc" / "bin" / "dance-lessons-coach"
    digest = hashlib.sha256(binary.read_bytes()).hexdigest()
    assert state["test"]["binaries"]["dance-lessons-coach"] == digest
    assert re.fullmatch(r"[0-9.]+%", state["test"]["coverage"])
    assert state["generate"]["inputs"]
    json.loads((service / ".dlc" / "report.json").read_text())
    assert not list((service / ".dlc").glob("*.tmp"))

    again = ok(inv("test", project=service, registry=registry.address))  # the stamps hold
    for step in ("generate", "test"):
        assert f"    {step}: skipped" in again, again
    report = ok(inv("report", project=service, registry=registry.address))
    assert re.search(rf"\bruns\s+{len(history) + 1}\b", report), report
    assert "skipped history lines" not in report


def strace_inv(
    args: list[str], service: Path, registry: str, *, log: Path, inject: str | None = None
) -> subprocess.CompletedProcess[str]:
    """``inv ARGS`` under strace, logging its writes; ``inject`` e.g. ``signal=KILL:when=7``
    sends that signal on its 7th write."""
    trace = ["strace", "-f", "-qq", "-s", "64", "-o", str(log), "-e", "trace=write"]
    if inject is not None:
        trace += ["-e", f"inject=write:{inject}"]
    return inv(*args, project=service, registry=registry, prefix=trace)


def main_writes(log: Path) -> list[str]:
    """The write calls of the traced ``inv`` process itself (the log's first pid)."""
    lines = [line for line in log.read_text().splitlines() if " write(" in line]
    pid = lines[0].split()[0]
    return [line for line in lines if line.split()[0] == pid]


def test_inv_killed_at_fixed_points_leaves_a_checkout_the_next_run_uses(
    service: Path, registry: Registry, tmp_path: Path
) -> None:
    ok(inv("cache", project=service, registry=registry.address))  # then every run is a hit
    counted = strace_inv(["cache"], service, registry.address, log=tmp_path / "count.log")
    assert counted.returncode == 0, counted.stderr
    writes = main_writes(tmp_path / "count.log")
    # the writes that matter most, wherever the seeds fall: state.json's and report.json's
    # temporary files (a kill there leaves one behind) and the history line
    marked = [
        next(n for n, w in enumerate(writes, 1) if mark in w)
        for mark in (STATE_WRITE, REPORT_WRITE, HISTORY_WRITE)
    ]
    seeded = {random.Random(s).randrange(1, len(writes) + 1) for s in SEEDS}  # noqa: S311
    points = sorted({*seeded, *marked})
    for point in points:
        log, inject = tmp_path / f"kill-{point}.log", f"signal=KILL:when={point}"
        killed = strace_inv(["cache"], service, registry.address, log=log, inject=inject)
        assert killed.returncode == -signal.SIGKILL, (point, killed.stdout, killed.stderr)
        state = service / ".dlc" / "state.json"
        if state.exists():
            json.loads(state.read_text())  # the old stamps or the new, never torn
        after = inv("cache", project=service, registry=registry.address)
        assert after.returncode == 0, (point, after.stdout, after.stderr)
        assert not list((service / ".dlc").glob("*.tmp")), point  # the killed run's temporaries
        report = ok(inv("report", project=service, registry=registry.address))
        complete = len(records(service))
        assert re.search(rf"\bruns\s+{complete}\b", report), (point, report)
        assert records(service)[-1]["ok"] is True


def test_sigterm_as_the_second_task_starts_ends_in_one_line_with_the_report(
    service: Path, registry: Registry, tmp_path: Path
) -> None:
    """strace sends SIGTERM on the write of ``==> cache``, the second task's first line: the
    run stops there, says so in one line, exits 130 and still writes its report."""
    ok(inv("cache", project=service, registry=registry.address))
    counted = strace_inv(["cache"], service, registry.address, log=tmp_path / "count.log")
    assert counted.returncode == 0, counted.stderr
    writes = main_writes(tmp_path / "count.log")
    header = next(n for n, w in enumerate(writes, 1) if "==> cache" in w)
    log, inject = tmp_path / "term.log", f"signal=TERM:when={header}"
    result = strace_inv(["cache"], service, registry.address, log=log, inject=inject)
    assert result.returncode == 130, (result.stdout, result.stderr)
    assert result.stderr.strip().splitlines() == [
        "dlc: interrupted; containers and partial files were cleaned up"
    ]
    last = records(service)[-1]
    assert last["ok"] is False
    assert [(t["task"], t["status"]) for t in last["tasks"]] == [  # type: ignore[attr-defined]
        ("hash", "skipped"),
        ("cache", "interrupted"),
    ]
