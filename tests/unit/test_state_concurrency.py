"""State and history under concurrent writers and SIGKILL at fixed points (issue 11, item 2)."""

from __future__ import annotations

import io
import json
import multiprocessing
import os
import random
import signal
from pathlib import Path
from typing import Any

import pytest

from dlc_tasks import _files
from dlc_tasks.config import DEFAULTS, Settings
from dlc_tasks.errors import FileError
from dlc_tasks.model.state import State
from dlc_tasks.reporting import metrics
from dlc_tasks.reporting.console import Console

WRITERS = 4
ROUNDS = 60


def record(line: dict[str, Any]) -> str:
    return json.dumps(line, separators=(",", ":"))


def _writer(state_dir: str, index: int) -> None:
    state = State(Path(state_dir))
    history = Path(state_dir) / "history.jsonl"
    for n in range(ROUNDS):
        state.record(f"task{index}", f"key{n}", n=n)
        state.get(f"task{(index + 1) % WRITERS}")  # reads beside the writes: never torn JSON
        entry = {"tasks": [], "ok": True, "total_seconds": n, "pad": "x" * 5000, "w": index}
        _files.append_line(history, record(entry))


def test_concurrent_writers_keep_every_stamp_and_every_history_line(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_writer, args=(str(tmp_path), i)) for i in range(WRITERS)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join()
    assert [p.exitcode for p in procs] == [0] * WRITERS
    state = State(tmp_path)
    for i in range(WRITERS):
        assert state.get(f"task{i}") == {"inputs": f"key{ROUNDS - 1}", "n": ROUNDS - 1}
    runs, skipped = metrics.load_counted(tmp_path / "history.jsonl")
    assert skipped == 0
    assert len(runs) == WRITERS * ROUNDS
    assert sorted(r["w"] for r in runs) == sorted(list(range(WRITERS)) * ROUNDS)
    assert not [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_a_torn_last_history_line_does_not_swallow_the_next_record(tmp_path: Path) -> None:
    history = tmp_path / "history.jsonl"
    good = {"tasks": [], "ok": True, "total_seconds": 1.0}
    history.write_text(record(good) + "\n" + record(good)[:17])  # a run killed mid-write
    _files.append_line(history, record({**good, "total_seconds": 2.0}))
    runs, skipped = metrics.load_counted(history)
    assert [r["total_seconds"] for r in runs] == [1.0, 2.0]
    assert skipped == 1


def test_report_skips_and_counts_incomplete_records(tmp_path: Path) -> None:
    settings = Settings.from_mapping({**DEFAULTS, "project_dir": str(tmp_path)})
    settings.state_dir.mkdir(parents=True)
    good = {"tasks": [], "ok": True, "total_seconds": 1.0, "finished": "t"}
    lines = [record(good), record({"tasks": [], "ok": True}), "{not json", record(good)]
    (settings.state_dir / "history.jsonl").write_text("\n".join(lines) + "\n")
    stream = io.StringIO()
    found = metrics.run_report(
        settings.state_dir, Console(stream=stream), str(tmp_path / "chart.png")
    )
    assert found["runs"] == 2
    assert found["skipped_records"] == 2
    assert "skipped history lines" in stream.getvalue()


def _killed_at(state_dir: str, seed: int) -> None:
    """Write state and history; SIGKILL this process at a seeded write, half-way through it."""
    rng = random.Random(seed)  # noqa: S311 - a fixed, reproducible kill point
    target = rng.randrange(1, 40)
    calls = {"n": 0}
    real_write, real_replace = os.write, os.replace

    def maybe_die(kind: str) -> None:
        calls["n"] += 1
        if calls["n"] == target:
            os.kill(os.getpid(), signal.SIGKILL)

    def write(fd: int, data: bytes) -> int:
        calls["n"] += 1
        if calls["n"] == target:
            real_write(fd, bytes(data)[: len(data) // 2])
            os.kill(os.getpid(), signal.SIGKILL)
        return real_write(fd, data)

    def replace(src: Any, dst: Any) -> None:
        maybe_die("replace")
        real_replace(src, dst)

    os.write = write  # type: ignore[assignment]
    os.replace = replace  # type: ignore[assignment]
    state = State(Path(state_dir))
    history = Path(state_dir) / "history.jsonl"
    for n in range(40):
        state.record("task", f"key{n}", n=n)
        _files.append_line(history, record({"tasks": [], "ok": True, "total_seconds": n}))


@pytest.mark.parametrize("seed", [1, 2, 3, 5, 8, 13, 21, 34])
def test_sigkill_at_a_fixed_point_leaves_state_and_history_usable(
    tmp_path: Path, seed: int
) -> None:
    ctx = multiprocessing.get_context("fork")
    proc = ctx.Process(target=_killed_at, args=(str(tmp_path), seed))
    proc.start()
    proc.join()
    assert proc.exitcode == -signal.SIGKILL
    state = State(tmp_path)
    before = state.get("task")
    assert before == {} or before["inputs"].startswith("key")  # old or new, never torn
    state.record("task", "after", n=-1)  # the next run succeeds
    history = tmp_path / "history.jsonl"
    _files.append_line(history, record({"tasks": [], "ok": True, "total_seconds": 99}))
    runs, skipped = metrics.load_counted(history)
    assert runs[-1]["total_seconds"] == 99
    assert skipped <= 1
    assert State(tmp_path).get("task")["inputs"] == "after"


def test_a_file_where_the_state_folder_should_be_is_one_error_line(tmp_path: Path) -> None:
    """A committed or stray file named .dlc: every write names it instead of a traceback."""
    (tmp_path / ".dlc").write_text("not a folder\n")
    state = State(tmp_path / ".dlc")
    assert state.get("test") == {}  # reading finds no stamps
    with pytest.raises(FileError, match=r"cannot lock .*\.dlc/state\.json") as caught:
        state.record("test", "k")
    assert "move it away" in caught.value.one_line()
    with pytest.raises(FileError, match=r"\.dlc/history\.jsonl"):
        _files.append_line(tmp_path / ".dlc" / "history.jsonl", "{}")
    with pytest.raises(FileError, match=r"cannot write .*\.dlc/report\.json"):
        _files.atomic_write_text(tmp_path / ".dlc" / "report.json", "{}")


def test_temporary_files_a_killed_writer_left_are_removed_by_the_next_write(
    tmp_path: Path,
) -> None:
    """Writes happen under the lock, so any temporary file there is a dead writer's."""
    state = State(tmp_path)
    state.record("hash", "k0")
    left = [tmp_path / ".state.json.abc123.tmp", tmp_path / ".state.json.x_y.tmp"]
    for path in left:
        path.write_text('{"half": ')
    other = tmp_path / ".history.jsonl.zz.tmp"  # not state.json's: left alone
    other.write_text("x")
    state.record("test", "k1")
    assert [p.exists() for p in left] == [False, False]
    assert other.exists()
    assert state.get("hash") == {"inputs": "k0"}


def test_a_stamp_of_the_wrong_shape_loads_as_none_and_the_step_runs_again(tmp_path: Path) -> None:
    # An older version's stamp, or a hand edit: typed loading refuses it instead of a
    # KeyError (or a str() of garbage) in the step that reads it.
    from dlc_tasks.model.stamps import CacheStamp, ProdStamp, PushStamp, TestStamp  # noqa: PLC0415

    state = State(tmp_path)
    state.record("cache", "h", ref="r/o/x-build-cache:h")  # no digest
    state.record("prod", "k", image="sha256:1", size="12MB")  # size not a number
    state.record("push", "k", digest="sha256:2", tags="latest", image="sha256:1")  # not a list
    state.record("test", "k", coverage=None, binaries={"app": 3})
    for name, kind in (("cache", CacheStamp), ("prod", ProdStamp), ("push", PushStamp)):
        assert state.load(name, kind) is None, name
    assert state.load("test", TestStamp) is None
    state.save("prod", ProdStamp("k", image="sha256:1", size=12))
    assert state.load("prod", ProdStamp) == ProdStamp("k", image="sha256:1", size=12)
    assert state.get("prod") == {"inputs": "k", "image": "sha256:1", "size": 12}
