"""``inv report``: the ADR's success metrics over the runs recorded in ``.dlc/history.jsonl``.

Cache-hit rate, build time with and without a cache hit (and its trend), image
sizes and failure rate, as a table on the terminal and a PNG chart
(:mod:`dlc_tasks.reporting.chart`: matplotlib, the ``report`` extra).
"""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dlc_tasks.errors import NotFoundError
from dlc_tasks.reporting.chart import draw_chart
from dlc_tasks.reporting.console import Console


def _number(value: object) -> bool:
    """A finite int or float (a bool is not a number here)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _optional(item: dict[str, Any], key: str, valid: Callable[[object], bool]) -> bool:
    return item.get(key) is None or valid(item[key])


def _image(value: object) -> bool:
    return isinstance(value, dict) and _optional(value, "size", _number)


def _complete(item: object) -> bool:
    """True when a history record has every field the metrics read, each of the right shape.

    Required: ``tasks`` (a list), ``ok`` (a bool), ``total_seconds`` (a finite number).
    Optional, but of the right shape when present: ``cache_hit`` (a bool), ``image`` (an
    object whose ``size`` is a number), ``finished`` (a string).
    """
    return (
        isinstance(item, dict)
        and isinstance(item.get("tasks"), list)
        and isinstance(item.get("ok"), bool)
        and _number(item.get("total_seconds"))
        and _optional(item, "cache_hit", lambda v: isinstance(v, bool))
        and _optional(item, "image", _image)
        and _optional(item, "finished", lambda v: isinstance(v, str))
    )


def load_counted(path: Path) -> tuple[list[dict[str, Any]], int]:
    """Every complete report in the history file, oldest first, and how many lines were skipped.

    A line that is not JSON (a run killed mid-write), or a record missing ``tasks``, ``ok`` or
    ``total_seconds`` or holding a field of the wrong shape (:func:`_complete`), is skipped
    and counted, never a crash.
    """
    if not path.is_file():
        raise NotFoundError(f"no run history at {path}", hint="run inv push (or any chain task)")
    runs: list[dict[str, Any]] = []
    skipped = 0
    with path.open("rb") as handle:
        for raw in handle:
            if not raw.strip():
                continue
            try:
                item = json.loads(raw)
            except ValueError:
                skipped += 1
                continue
            if _complete(item):
                runs.append(item)
            else:
                skipped += 1
    return runs, skipped


def load(path: Path) -> list[dict[str, Any]]:
    """Every complete report in the history file, oldest first (see :func:`load_counted`)."""
    return load_counted(path)[0]


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


def run_report(state_dir: Path, out: Console, chart: str | None) -> dict[str, Any]:
    """Print the metrics over ``state_dir``'s history and the recent trend; write the chart."""
    runs, skipped = load_counted(state_dir / "history.jsonl")
    m = metrics(runs)
    m["skipped_records"] = skipped
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
    if skipped:
        rows.append(("skipped history lines", f"{skipped} (unreadable or incomplete)"))
    for name, value in rows:
        out.line(f"{name:<34} {value}")
    out.line("recent runs:")
    for r in runs[-10:]:
        hit = {True: "hit", False: "miss", None: "-"}[r.get("cache_hit")]
        state = "ok" if r.get("ok") else "FAILED"
        out.line(
            f"  {r.get('finished', '?')}  {state:<6} cache {hit:<4} {r['total_seconds']:7.1f} s"
        )
    path = Path(chart) if chart else state_dir / "report.png"
    draw_chart(runs, path)
    out.line(f"chart: {path}")
    return m
