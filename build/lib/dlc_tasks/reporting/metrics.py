"""``inv report``: the ADR's success metrics over the runs recorded in ``.dlc/history.jsonl``.

Cache-hit rate, build time with and without a cache hit (and its trend), image
sizes and failure rate, as a table on the terminal and a PNG chart
(matplotlib, the ``report`` extra).
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path
from typing import Any

from dlc_tasks.errors import NotFoundError, ToolError
from dlc_tasks.run import Run


def load(path: Path) -> list[dict[str, Any]]:
    """Every report in the history file, oldest first (unreadable lines are skipped)."""
    if not path.is_file():
        raise NotFoundError(f"no run history at {path}", hint="run inv push (or any chain task)")
    runs = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            item = json.loads(line)
        except ValueError:
            continue
        if isinstance(item, dict) and "tasks" in item:
            runs.append(item)
    return runs


def metrics(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The summary figures."""
    with_cache = [r for r in runs if r.get("cache_hit") is not None]
    hits = [r for r in with_cache if r["cache_hit"]]
    misses = [r for r in with_cache if not r["cache_hit"]]
    sizes = [r["image"]["size"] for r in runs if r.get("image") and r["image"].get("size")]

    def median(items: list[dict[str, Any]]) -> float | None:
        ok = [r["total_seconds"] for r in items if r.get("ok")]
        return statistics.median(ok) if ok else None

    return {
        "runs": len(runs),
        "failures": sum(1 for r in runs if not r.get("ok")),
        "failure_rate": sum(1 for r in runs if not r.get("ok")) / len(runs) if runs else 0.0,
        "cache_hit_rate": len(hits) / len(with_cache) if with_cache else None,
        "median_seconds_hit": median(hits),
        "median_seconds_miss": median(misses),
        "last_image_size": sizes[-1] if sizes else None,
        "min_image_size": min(sizes) if sizes else None,
        "max_image_size": max(sizes) if sizes else None,
    }


def _fmt(value: Any, unit: str = "") -> str:
    if value is None:
        return "-"
    if unit == "%":
        return f"{value * 100:.0f}%"
    if unit == "s":
        return f"{value:.1f} s"
    if unit == "MB":
        return f"{value / 1e6:.1f} MB"
    return str(value)


def draw_chart(runs: list[dict[str, Any]], out: Path) -> None:
    """Total time per run (hit, miss, no cache step) and image size per run, as a PNG."""
    try:
        import matplotlib  # noqa: PLC0415

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt  # noqa: PLC0415
    except ImportError:
        raise ToolError(
            "matplotlib is not installed", hint="pip install 'dlc-tasks[report]' (./dev does)"
        ) from None
    xs = list(range(1, len(runs) + 1))
    colours = [
        "tab:red"
        if not r.get("ok")
        else "tab:green"
        if r.get("cache_hit")
        else "tab:orange"
        if r.get("cache_hit") is False
        else "tab:gray"
        for r in runs
    ]
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(8, 6), sharex=True)
    top.bar(xs, [r.get("total_seconds", 0) for r in runs], color=colours)
    top.set_ylabel("run time (s)")
    top.set_title(
        "dlc-tasks runs: green = cache hit, orange = miss, grey = no cache step, red = failed"
    )
    sizes = [
        (x, r["image"]["size"] / 1e6)
        for x, r in zip(xs, runs, strict=True)
        if r.get("image") and r["image"].get("size")
    ]
    if sizes:
        bottom.plot([x for x, _ in sizes], [s for _, s in sizes], marker="o")
    bottom.set_ylabel("production image (MB)")
    bottom.set_xlabel("run")
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=100)
    plt.close(fig)


def run_report(rt: Run, chart: str | None) -> dict[str, Any]:
    """Print the metrics table and the recent trend; write the chart."""
    runs = load(rt.settings.state_dir / "history.jsonl")
    m = metrics(runs)
    rows = [
        ("runs", _fmt(m["runs"])),
        ("failure rate", _fmt(m["failure_rate"], "%")),
        ("cache-hit rate", _fmt(m["cache_hit_rate"], "%")),
        ("median run time, cache hit", _fmt(m["median_seconds_hit"], "s")),
        ("median run time, cache miss", _fmt(m["median_seconds_miss"], "s")),
        (
            "production image (last/min/max)",
            " / ".join(
                _fmt(m[k], "MB") for k in ("last_image_size", "min_image_size", "max_image_size")
            ),
        ),
    ]
    for name, value in rows:
        rt.out.line(f"{name:<34} {value}")
    rt.out.line("recent runs:")
    for r in runs[-10:]:
        hit = {True: "hit", False: "miss", None: "-"}[r.get("cache_hit")]
        state = "ok" if r.get("ok") else "FAILED"
        rt.out.line(
            f"  {r.get('finished', '?')}  {state:<6} cache {hit:<4} {r['total_seconds']:7.1f} s"
        )
    out = Path(chart) if chart else rt.settings.state_dir / "report.png"
    draw_chart(runs, out)
    rt.out.line(f"chart: {out}")
    return m
