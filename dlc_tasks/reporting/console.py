"""What the tool prints: task headers, status lines, streamed tool output, progress, a summary.

On a terminal lines are coloured and pushes and pulls show a live bar per layer
(``rich``); elsewhere (CI, pipes) everything is plain, with no escape codes, each
line prefixed by the elapsed time, and a layer is reported once, when it is done.
Everything goes to stdout except errors, which the CLI wrapper prints to stderr. Every line
passes through :func:`dlc_tasks.secrets.redact`: a registered secret never prints.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass, field
from typing import Any, TextIO

from dlc_tasks.errors import printable
from dlc_tasks.model.status import Status
from dlc_tasks.secrets import redact


def shown(text: str) -> str:
    """What the console writes of ``text``: secrets masked, undecodable bytes as ``\\xNN``."""
    return printable(redact(text))


_COLOURS = {
    "hit": "32",
    "ran": "36",
    "skipped": "33",
    "miss": "35",
    "failed": "31",
    "planned": "34",
    "interrupted": "31",
}
DONE_STATUSES = ("Pushed", "Pull complete", "Layer already exists", "Already exists")


@dataclass
class Outcome:
    """One task's result line in the summary."""

    task: str
    status: Status
    seconds: float
    detail: str = ""


@dataclass
class Console:
    """The run's printer; the run (:class:`dlc_tasks.run.Run`) owns one."""

    stream: TextIO = field(default_factory=lambda: sys.stdout)
    started: float = field(default_factory=time.monotonic)
    _bars: Any = None
    _bar_ids: dict[str, Any] = field(default_factory=dict)
    _totals: dict[str, int] = field(default_factory=dict)

    @property
    def fancy(self) -> bool:
        """Colour only on a real terminal, and never when NO_COLOR is set."""
        return self.stream.isatty() and not os.environ.get("NO_COLOR")

    def _paint(self, text: str, colour: str) -> str:
        return f"\033[{colour}m{text}\033[0m" if self.fancy else text

    def line(self, text: str) -> None:
        """A line of the tool's own, with the elapsed time when plain."""
        prefix = "" if self.fancy else f"[{time.monotonic() - self.started:7.1f}s] "
        self.stream.write(f"{prefix}{shown(text)}\n")
        self.stream.flush()

    def task(self, name: str) -> None:
        """The header of a task."""
        self.line(self._paint(f"==> {name}", "1"))

    def status(self, outcome: Outcome) -> None:
        """A step's outcome: hit, miss, ran, skipped, planned, failed or interrupted."""
        word = self._paint(outcome.status, _COLOURS.get(outcome.status, "0"))
        detail = f" - {outcome.detail}" if outcome.detail else ""
        self.line(f"    {outcome.task}: {word} in {outcome.seconds:.1f}s{detail}")

    def output(self, text: str) -> None:
        """Streamed output of a tool (the build log, go test); timestamped when plain."""
        prefix = "" if self.fancy else f"[{time.monotonic() - self.started:7.1f}s] "
        text = shown(text)
        self.stream.write(prefix + (text if text.endswith("\n") else text + "\n"))
        self.stream.flush()

    def layer(self, layer: str, status: str, current: int | None, total: int | None) -> None:
        """A push or pull progress event for one layer."""
        if not self.fancy:
            if status in DONE_STATUSES[:2]:
                self.line(f"    {layer}: {status}")
            return
        if self._bars is None:
            from rich.console import Console as RichConsole  # noqa: PLC0415
            from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn  # noqa: PLC0415

            self._bars = Progress(
                TextColumn("    {task.description}"),
                BarColumn(),
                DownloadColumn(),
                console=RichConsole(file=self.stream, force_terminal=True),
                transient=False,
            )
            self._bars.start()
        if layer not in self._bar_ids:
            self._bar_ids[layer] = self._bars.add_task(layer, total=None)
        task = self._bar_ids[layer]
        done = status in DONE_STATUSES
        if total:
            self._totals[layer] = total
        if done and not total:
            # "Pushed" carries no size: reuse the last one; a layer the registry already
            # had sent nothing, so its bar is simply full
            total = self._totals.get(layer, 1)
        self._bars.update(
            task,
            description=shown(f"{layer} {status}"),
            completed=total if done else (current or 0),
            total=total or None,
        )

    def end_layers(self) -> None:
        """Close the layer bars of a finished push or pull."""
        if self._bars is not None:
            self._bars.stop()
            self._bars = None
            self._bar_ids.clear()
            self._totals.clear()

    def summary(self, outcomes: list[Outcome]) -> None:
        """A table of every step of the run."""
        if not outcomes:
            return
        width = max(len(o.task) for o in outcomes)
        self.line("summary:")
        for o in outcomes:
            status = self._paint(f"{o.status:<8}", _COLOURS.get(o.status, "0"))
            self.line(f"  {o.task:<{width}}  {status} {o.seconds:6.1f}s  {o.detail}")
