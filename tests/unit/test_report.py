"""The run report, its CI outputs, the history metrics and the chart."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from dlc_tasks.config import DEFAULTS, Settings
from dlc_tasks.errors import DlcError, NotFoundError
from dlc_tasks.model.depshash import DepsHash
from dlc_tasks.model.state import State
from dlc_tasks.model.status import Status
from dlc_tasks.model.versionfile import Version
from dlc_tasks.reporting import chart
from dlc_tasks.reporting import metrics as history
from dlc_tasks.reporting import runreport as report
from dlc_tasks.reporting.console import Console, Outcome

DIGEST = "sha256:" + "b" * 64


class FakeFacts:
    """What report.build_report reads of a run's facts."""

    def deps(self) -> DepsHash:
        return DepsHash("a" * 64, {})

    def revision(self) -> str:
        return "c" * 40

    def version(self) -> Version:
        return Version(1, 2, 3, "rc.1")


class FakeRuntime:
    """What report.build_report reads from a run."""

    def __init__(self, project: Path) -> None:
        self.settings = Settings.from_mapping({**DEFAULTS, "project_dir": str(project)})
        self.state = State(self.settings.state_dir)
        self.out = Console(stream=io.StringIO())
        self.facts = FakeFacts()


@pytest.fixture
def rt(tmp_path: Path) -> FakeRuntime:
    runtime = FakeRuntime(tmp_path)
    runtime.state.record("cache", "a" * 64, ref="r/o/x-build-cache:" + "a" * 64, digest=DIGEST)
    runtime.state.record("prod", "k", image="sha256:" + "1" * 64, size=9_500_000)
    runtime.state.record(
        "push", "k", digest=DIGEST, tags=["1.2.3-rc.1", "c" * 40, "latest"], image="sha256:1"
    )
    return runtime


OUTCOMES = [
    Outcome("hash", Status.RAN, 0.01),
    Outcome("cache", Status.HIT, 0.02),
    Outcome("prod", Status.RAN, 1.5),
    Outcome("push", Status.RAN, 0.5),
]


def test_report_holds_what_the_run_did(rt: FakeRuntime) -> None:
    made = report.build_report(rt, OUTCOMES)
    assert made["ok"] is True
    assert made["cache_hit"] is True
    assert made["deps_hash"] == "a" * 64
    assert made["version"] == "1.2.3-rc.1"
    assert made["revision"] == "c" * 40
    assert made["image"] == {"id": "sha256:" + "1" * 64, "size": 9_500_000}
    assert made["pushed"]["digest"] == DIGEST
    assert [t["task"] for t in made["tasks"]] == ["hash", "cache", "prod", "push"]
    assert made["total_seconds"] == pytest.approx(2.03)


def test_a_failed_run_is_reported_as_failed_without_push_data(rt: FakeRuntime) -> None:
    made = report.build_report(
        rt, [Outcome("cache", Status.MISS, 3.0), Outcome("test", Status.FAILED, 2)]
    )
    assert made["ok"] is False
    assert made["cache_hit"] is False
    assert made["pushed"] is None
    assert made["image"] is None


def test_write_creates_report_history_and_github_files(
    rt: FakeRuntime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    summary, output = tmp_path / "summary.md", tmp_path / "output"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    monkeypatch.setenv("GITHUB_OUTPUT", str(output))
    report.write(rt, OUTCOMES)
    report.write(rt, OUTCOMES)
    written = json.loads((rt.settings.state_dir / "report.json").read_text())
    assert written["pushed"]["tags"] == ["1.2.3-rc.1", "c" * 40, "latest"]
    assert len((rt.settings.state_dir / "history.jsonl").read_text().splitlines()) == 2
    assert "| cache | hit |" in summary.read_text()
    assert output.read_text().splitlines()[:3] == [
        f"deps_hash={'a' * 64}",
        "cache_hit=true",
        f"image_digest={DIGEST}",
    ]


def run(ok: bool, hit: bool | None, seconds: float, size: int | None) -> dict[str, Any]:
    return {
        "ok": ok,
        "cache_hit": hit,
        "total_seconds": seconds,
        "image": {"size": size} if size else None,
        "tasks": [],
        "finished": "2026-11-27T00:00:00Z",
    }


def test_history_metrics() -> None:
    runs = [
        run(True, False, 40, 9_000_000),
        run(True, True, 2, 9_500_000),
        run(True, True, 4, 9_400_000),
        run(False, True, 1, None),
        run(True, None, 0.5, None),
    ]
    m = history.metrics(runs)
    assert m["runs"] == 5
    assert m["failure_rate"] == pytest.approx(0.2)
    assert m["cache_hit_rate"] == pytest.approx(0.75)
    assert m["median_seconds_hit"] == 3  # the failed run is not a build time
    assert m["median_seconds_miss"] == 40
    assert (m["last_image_size"], m["min_image_size"], m["max_image_size"]) == (
        9_400_000,
        9_000_000,
        9_500_000,
    )


def test_history_load_skips_garbage_and_missing_file_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "history.jsonl"
    path.write_text(json.dumps(run(True, True, 1, None)) + "\nnot json\n{}\n")
    assert len(history.load(path)) == 1
    with pytest.raises(NotFoundError):
        history.load(tmp_path / "absent.jsonl")


def timed(
    minute: int, ok: bool, hit: bool | None, steps: dict[str, float], size: int | None = None
) -> dict[str, Any]:
    """A history record with per-task seconds, as runreport writes them."""
    return {
        **run(ok, hit, sum(steps.values()), size),
        "finished": f"2026-11-27T05:{minute:02d}:00Z",
        "failed": None if ok else list(steps)[-1],
        "tasks": [{"task": t, "status": "ran", "seconds": s} for t, s in steps.items()],
    }


CHAIN_SECONDS = {"hash": 0.1, "cache": 21.0, "generate": 1.0, "test": 6.0, "prod": 1.5, "push": 1}


def six_runs() -> list[dict[str, Any]]:
    """The README's six runs: miss, noop, edit, a failing test, the fix, noop; 9.5 MB images."""
    return [
        timed(1, True, False, CHAIN_SECONDS, 9_500_000),
        timed(2, True, True, {"hash": 0.1, "cache": 0.01}),
        timed(3, True, True, {"hash": 0.1, "cache": 0.01, "test": 2.0, "prod:api": 0.5}, 9_500_000),
        timed(4, False, True, {"hash": 0.1, "cache": 0.01, "generate": 0.5, "test": 1.5}),
        timed(5, True, True, {"hash": 0.1, "test": 2.0, "dev": 0.3}, 9_500_000),
        timed(6, True, True, {"hash": 0.1}),
    ]


def test_chart_data_ticks_stacks_failures_and_size_scale() -> None:
    data = chart.chart_data(six_runs())
    assert data.runs == [1, 2, 3, 4, 5, 6]  # whole numbers, one per run
    assert data.labels[0] == "1\n11-27 05:01\nmiss"
    assert data.labels[3] == "4\n11-27 05:04\nhit"
    assert list(data.stacks) == ["hash", "cache", "generate", "test", "prod", "push", "other"]
    assert data.stacks["cache"] == [21.0, 0.01, 0.01, 0.01, 0.0, 0.0]
    assert data.stacks["prod"] == [1.5, 0.0, 0.5, 0.0, 0.0, 0.0]  # prod:api is prod
    assert data.stacks["other"] == [0.0, 0.0, 0.0, 0.0, 0.3, 0.0]  # dev
    for i, record in enumerate(six_runs()):  # the stack of a run is its time
        assert sum(s[i] for s in data.stacks.values()) == pytest.approx(record["total_seconds"])
    assert data.failed == {4: "test"}
    # a constant 9.5 MB: an axis from 0 MB, not 9.0 to 10.0
    assert data.size_unit == "MB"
    assert data.sizes == [(1, 9.5), (3, 9.5), (5, 9.5)]
    assert data.size_limit == 15


@pytest.mark.parametrize(
    ("largest", "expected"),
    [
        (9_500_000, (1e6, "MB", 15)),
        (2_400, (1e3, "kB", 3)),
        (1.3e9, (1e9, "GB", 2)),
        (1, (1, "B", 1.5)),
    ],
)
def test_the_size_axis_fits_its_largest_value(
    largest: float, expected: tuple[float, str, float]
) -> None:
    assert chart.size_scale(largest) == expected


def test_a_long_history_shows_its_last_runs_numbered_as_in_the_history() -> None:
    history_ = [timed(i % 60, True, True, {"hash": 0.1}) for i in range(45)]
    data = chart.chart_data(history_)
    assert data.runs == list(range(16, 46)) and data.total == 45


def test_the_drawn_figure_has_those_ticks_stacks_legend_and_scale(tmp_path: Path) -> None:
    """The matplotlib objects, read back (not pixels): what a reader of the PNG sees."""
    data = chart.chart_data(six_runs())
    fig = chart.figure(data)
    top, bottom = fig.axes
    assert list(bottom.get_xticks()) == [1, 2, 3, 4, 5, 6]
    assert [t.get_text() for t in bottom.get_xticklabels()] == data.labels
    assert [t.get_text() for t in top.get_legend().get_texts()] == list(data.stacks)
    assert len(top.containers) == len(data.stacks)  # one bar series per step, stacked
    tests = top.containers[list(data.stacks).index("test")]
    assert [bar.get_height() for bar in tests] == data.stacks["test"]
    assert [bar.get_hatch() for bar in tests] == [None, None, None, "//", None, None]
    assert any("failed (test)" in t.get_text() for t in top.texts)
    assert bottom.get_ylim() == (0, 15)
    assert bottom.get_ylabel() == "image (MB)"
    fig.clf()
    chart.draw_chart(six_runs(), tmp_path / "chart.png")
    assert (tmp_path / "chart.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


class Terminal(io.StringIO):
    """A stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def test_plain_output_is_timestamped_without_escape_codes() -> None:
    out = Console(stream=io.StringIO())
    out.task("push")
    out.layer("abc123", "Pushing", 10, 100)
    out.layer("abc123", "Pushed", None, None)
    outcome = Outcome("push", Status.RAN, 1.25, "3 tags")
    out.status(outcome)
    out.summary([outcome])
    text = out.stream.getvalue()
    assert "\033[" not in text
    lines = text.splitlines()
    assert all(line.startswith("[") and "s] " in line for line in lines)
    assert not any("abc123" in line for line in lines)  # no line per layer
    assert any(line.endswith("] summary: push ran 1.2s (1.2s)") for line in lines[-1:])


def test_terminal_output_has_colour_and_layer_bars(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    out = Console(stream=Terminal())
    out.task("push")
    out.layer("abc123", "Pushing", 50, 100)
    out.layer("abc123", "Pushed", None, 100)
    out.end_layers()
    out.status(Outcome("push", Status.HIT, 0.5))
    text = out.stream.getvalue()
    assert "\033[" in text
    assert "abc123 Pushed" in text
    assert not any(line.startswith("[") for line in text.splitlines() if "==>" in line)


def test_no_color_turns_colour_off_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    out = Console(stream=Terminal())
    out.status(Outcome("cache", Status.HIT, 0.1))
    assert "\033[" not in out.stream.getvalue()


def test_a_forced_rebuild_followed_by_a_hit_counts_as_a_miss(rt: FakeRuntime) -> None:
    made = report.build_report(
        rt, [Outcome("cache", Status.MISS, 3.0), Outcome("cache", Status.HIT, 0.1)]
    )
    assert made["cache_hit"] is False


GOOD = {"tasks": [], "ok": True, "total_seconds": 1.0, "finished": "2026-01-01T00:00:00Z"}
WRONG_SHAPES = [
    {"image": "sha256:x"},
    {"image": {"size": "12MB"}},
    {"image": {"size": True}},
    {"image": ["sha256:x", 5]},
    {"cache_hit": "yes"},
    {"cache_hit": 1},
    {"total_seconds": float("nan")},
    {"total_seconds": True},
    {"total_seconds": "1.0"},
    {"tasks": "hash"},
    {"ok": "true"},
    {"finished": 20260101},
]


@pytest.mark.parametrize("bad", WRONG_SHAPES, ids=repr)
def test_a_record_of_the_wrong_shape_is_skipped_and_counted(
    tmp_path: Path, bad: dict[str, Any]
) -> None:
    path = tmp_path / "history.jsonl"
    path.write_text(json.dumps({**GOOD, **bad}) + "\n" + json.dumps(GOOD) + "\n")
    runs, skipped = history.load_counted(path)
    assert (len(runs), skipped) == (1, 1)


def test_inv_report_reads_a_history_holding_records_of_every_wrong_shape(tmp_path: Path) -> None:
    rt = FakeRuntime(tmp_path)
    rt.settings.state_dir.mkdir()
    lines = [json.dumps({**GOOD, **bad}) for bad in WRONG_SHAPES]
    lines.append(json.dumps({**GOOD, "cache_hit": True, "image": {"size": 5_000_000}}))
    (rt.settings.state_dir / "history.jsonl").write_text("\n".join(lines) + "\n")
    found = history.run_report(rt.settings.state_dir, rt.out, str(tmp_path / "chart.png"))
    assert (found["runs"], found["skipped_records"]) == (1, len(WRONG_SHAPES))
    assert found["last_image_size"] == 5_000_000
    assert found["cache_hit_rate"] == 1.0
    assert f"{len(WRONG_SHAPES)} (unreadable or incomplete)" in rt.out.stream.getvalue()  # type: ignore[attr-defined]


@pytest.mark.parametrize("variable", ["GITHUB_STEP_SUMMARY", "GITHUB_OUTPUT"])
def test_a_ci_file_that_cannot_be_written_is_named_not_report_json(
    rt: FakeRuntime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    files = {"GITHUB_STEP_SUMMARY": tmp_path / "summary.md", "GITHUB_OUTPUT": tmp_path / "out"}
    files[variable].mkdir()  # a folder where the file should be: fails even as root
    for name, path in files.items():
        monkeypatch.setenv(name, str(path))
    with pytest.raises(DlcError, match=rf"cannot write {variable} \({files[variable]}\)") as caught:
        report.write(rt, OUTCOMES)
    assert "report.json" not in str(caught.value)
    assert "\n" not in caught.value.one_line()
    # everything else was still written
    assert json.loads((rt.settings.state_dir / "report.json").read_text())["ok"] is True
    assert len((rt.settings.state_dir / "history.jsonl").read_text().splitlines()) == 1
    other = next(path for name, path in files.items() if name != variable)
    assert other.read_text()


def test_report_json_is_written_under_its_lock_and_a_killed_writers_temporary_goes(
    rt: FakeRuntime,
) -> None:
    rt.settings.state_dir.mkdir(exist_ok=True)
    left = rt.settings.state_dir / ".report.json.k1ll3d.tmp"
    left.write_text('{"half"')
    report.write(rt, OUTCOMES)
    assert not left.exists()
