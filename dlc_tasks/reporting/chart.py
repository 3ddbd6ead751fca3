"""``inv report``'s chart: where each run's time went, and the production image's size.

The top panel has one bar per run (the last :data:`LAST` of the history), stacked by step
(hash, cache, generate, test, prod, push, and anything else as "other") with a legend; a
failed run's bar is hatched and marked with the step that failed. The x axis has a tick per
run, a whole number, labelled with the run's date and whether the cache image was a hit.
The bottom panel plots the production image's size from zero, in a unit that fits its
largest value, so a constant size is a flat line rather than a swing across a tenth of a MB.

:func:`chart_data` computes everything drawn (pure, tested); :func:`figure` draws it with
matplotlib (the ``report`` extra); :func:`draw_chart` writes the PNG.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dlc_tasks.errors import ToolError

STEPS = ("hash", "cache", "generate", "test", "prod", "push")
OTHER = "other"
COLOURS = {
    "hash": "#9e9e9e",
    "cache": "#1f77b4",
    "generate": "#9467bd",
    "test": "#2ca02c",
    "prod": "#ff7f0e",
    "push": "#17becf",
    OTHER: "#bcbd22",
}
LAST = 30  # runs on the chart: enough to see a trend, few enough to read each tick
UNITS = ((1e9, "GB"), (1e6, "MB"), (1e3, "kB"), (1.0, "B"))


@dataclass(frozen=True)
class ChartData:
    """What the chart shows, run by run (run numbers count from the history's first)."""

    runs: list[int]  # the x ticks: whole numbers
    labels: list[str]  # each tick's label: number, date, cache hit or miss
    stacks: dict[str, list[float]]  # step → seconds per run, in STEPS order, then other
    failed: dict[int, str]  # run number → the step (or task) that failed
    sizes: list[tuple[int, float]]  # (run number, image size in `size_unit`)
    size_unit: str
    size_limit: float  # the size axis runs from 0 to this
    total: int  # runs in the history


def _step(task: object) -> str:
    """The chart's name for a report's task (``prod:api`` counts as prod)."""
    name = str(task).split(":", 1)[0]
    return name if name in STEPS else OTHER


def _label(number: int, run: dict[str, Any]) -> str:
    finished = str(run.get("finished") or "")
    date = f"{finished[5:10]} {finished[11:16]}" if len(finished) >= 16 else "?"
    cache = {True: "hit", False: "miss"}.get(run.get("cache_hit"), "")  # type: ignore[arg-type]
    return "\n".join(part for part in (str(number), date, cache) if part)


def size_scale(largest: float) -> tuple[float, str, float]:
    """(divisor, unit, axis top in that unit) for sizes up to ``largest`` bytes: the axis
    starts at zero and ends a little above the largest size, on a round number."""
    divisor, unit = next((d, u) for d, u in UNITS if largest >= d)
    top = largest / divisor * 1.2
    magnitude = 10 ** math.floor(math.log10(top)) if top > 0 else 1
    return divisor, unit, math.ceil(top / magnitude * 2) / 2 * magnitude


def chart_data(history: list[dict[str, Any]]) -> ChartData:
    """The chart's content for the last :data:`LAST` runs of ``history`` (oldest first)."""
    first = max(1, len(history) - LAST + 1)
    shown = history[first - 1 :]
    numbers = list(range(first, first + len(shown)))
    present = {_step(t.get("task")) for r in shown for t in r["tasks"] if isinstance(t, dict)}
    names = [s for s in (*STEPS, OTHER) if s in present]
    stacks = {name: [0.0] * len(shown) for name in names}
    failed: dict[int, str] = {}
    for i, run in enumerate(shown):
        for task in run["tasks"]:
            if not isinstance(task, dict):
                continue
            seconds = task.get("seconds")
            if isinstance(seconds, int | float) and math.isfinite(seconds):
                stacks[_step(task.get("task"))][i] += float(seconds)
        if not run.get("ok"):
            failed[numbers[i]] = str(run.get("failed") or "a task")
    raw = [
        (n, float(r["image"]["size"]))
        for n, r in zip(numbers, shown, strict=True)
        if r.get("image") and r["image"].get("size")
    ]
    divisor, unit, limit = size_scale(max((s for _, s in raw), default=0.0) or 1.0)
    return ChartData(
        runs=numbers,
        labels=[_label(n, r) for n, r in zip(numbers, shown, strict=True)],
        stacks=stacks,
        failed=failed,
        sizes=[(n, s / divisor) for n, s in raw],
        size_unit=unit,
        size_limit=limit,
        total=len(history),
    )


def figure(data: ChartData) -> Any:
    """The matplotlib figure of ``data`` (two panels sharing the run axis)."""
    try:
        import matplotlib  # noqa: PLC0415

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt  # noqa: PLC0415
    except ImportError as err:
        raise ToolError(
            "matplotlib is not installed", hint="pip install 'dlc-tasks[report]' (./dev does)"
        ) from err
    width = max(8.0, 0.45 * len(data.runs) + 3)
    fig, (top, bottom) = plt.subplots(
        2, 1, figsize=(width, 7), sharex=True, gridspec_kw={"height_ratios": [3, 1.4]}
    )
    bottoms = [0.0] * len(data.runs)
    failed = [n in data.failed for n in data.runs]
    for name, seconds in data.stacks.items():
        top.bar(
            data.runs,
            seconds,
            bottom=bottoms,
            color=COLOURS[name],
            label=name,
            hatch=[("//" if f else None) for f in failed],
            edgecolor=["#d62728" if f else "white" for f in failed],
            linewidth=0.8,
        )
        bottoms = [b + s for b, s in zip(bottoms, seconds, strict=True)]
    for number, height in zip(data.runs, bottoms, strict=True):
        step = data.failed.get(number)
        top.annotate(
            f"{height:.1f} s" + (f"\nfailed ({step})" if step else ""),
            (number, height),
            xytext=(0, 3),
            textcoords="offset points",
            ha="center",
            va="bottom",
            color="#d62728" if step else "#333333",
            fontsize=8,
        )
    top.set_ylim(0, max(bottoms, default=0.0) * 1.25 or 1.0)
    top.set_ylabel("run time (s), by step")
    shown = f"runs {data.runs[0]}-{data.runs[-1]} of {data.total}" if data.runs else "no runs"
    top.set_title(f"dlc-tasks: where each run's time went ({shown}; hatched: failed)")
    if data.stacks:
        top.legend(title="step", loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    top.grid(axis="y", alpha=0.3)
    if data.sizes:
        bottom.plot(
            [n for n, _ in data.sizes], [s for _, s in data.sizes], marker="o", color="#444444"
        )
    else:
        bottom.text(0.5, 0.5, "no production image built", ha="center", transform=bottom.transAxes)
    bottom.set_ylim(0, data.size_limit)
    bottom.set_ylabel(f"image ({data.size_unit})")
    bottom.grid(axis="y", alpha=0.3)
    bottom.set_xticks(data.runs, data.labels, fontsize=7)
    bottom.set_xlabel("run (date UTC, cache)")
    if data.runs:
        bottom.set_xlim(data.runs[0] - 0.6, data.runs[-1] + 0.6)
    fig.tight_layout()
    return fig


def draw_chart(history: list[dict[str, Any]], out: Path) -> None:
    """Write the chart of ``history`` as a PNG at ``out``."""
    fig = figure(chart_data(history))
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=100)
    import matplotlib.pyplot as plt  # noqa: PLC0415

    plt.close(fig)
