"""What the tool prints: task headers, status lines, streamed tool output, progress, a summary.

On a terminal lines are coloured, an image build shows one live line per instruction
(:mod:`.buildview`) and pushes and pulls a live bar per layer (``rich``), each collapsed when
done. Elsewhere (CI, pipes, ``NO_COLOR``) everything is plain, with no escape codes, each
line prefixed by the elapsed time: a build prints one line per instruction with its
duration, a push or pull one line for the layers it sent or fetched, and the commands a
step runs are not echoed (its decision, printed before, lists them) unless
:func:`debugging` (``DLC_DEBUG=1``, ``inv --debug``): then each is echoed as it starts, so the
log shows which one was running when a job hung or was killed, and since when. Everything goes to
stdout except errors, which the CLI wrapper prints to stderr. Every line passes through
:func:`dlc_tasks.secrets.redact`: a registered secret never prints.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TextIO

from dlc_tasks.errors import printable
from dlc_tasks.model.status import Status
from dlc_tasks.secrets import redact


def debugging() -> bool:
    """True under ``inv --debug`` (Invoke turns on debug logging) or ``DLC_DEBUG=1``:
    tracebacks with their causes, and plain output echoing each command as it starts."""
    return bool(os.environ.get("DLC_DEBUG")) or logging.getLogger("invoke").isEnabledFor(
        logging.DEBUG
    )


def shown(text: str) -> str:
    """What the console writes of ``text``: secrets masked, undecodable bytes as ``\\xNN``."""
    return printable(redact(text))


if TYPE_CHECKING:
    from pathlib import Path

    from dlc_tasks.reporting.buildview import BuildView

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
SENT = ("Pushed", "Pull complete")  # a layer that went over the wire
THERE = ("Layer already exists", "Already exists", "Mounted from")  # one that did not need to


class Command(str):
    """A command line a step announces as it starts it (``$ go vet ./...``).

    Printed on a terminal; in plain mode only when :func:`debugging`, because the step's
    decision, printed just before, already lists every command it runs (a cold first push
    stays within 60 lines); debugging, it says when each one started.
    """

    __slots__ = ()


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
    _layer_status: dict[str, str] = field(default_factory=dict)

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
        """Streamed output of a tool (go test); timestamped when plain. A :class:`Command`
        is printed on a terminal, or in plain mode when :func:`debugging`."""
        if isinstance(text, Command) and not self.fancy and not debugging():
            return
        prefix = "" if self.fancy else f"[{time.monotonic() - self.started:7.1f}s] "
        text = shown(text)
        self.stream.write(prefix + (text if text.endswith("\n") else text + "\n"))
        self.stream.flush()

    def build(self, log_path: Path) -> BuildView:
        """The display of one image build, its full log written to ``log_path``."""
        from dlc_tasks.reporting.buildview import BuildView  # noqa: PLC0415

        return BuildView(log_path, self.line, live_stream=self.stream if self.fancy else None)

    def layer(self, layer: str, status: str, current: int | None, total: int | None) -> None:
        """A push or pull progress event for one layer: a live bar on a terminal, counted for
        :meth:`end_layers` in both modes."""
        if total:
            self._totals[layer] = total
        self._layer_status[layer] = status
        if not self.fancy:
            return
        if self._bars is None:
            from rich.console import Console as RichConsole  # noqa: PLC0415
            from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn  # noqa: PLC0415

            self._bars = Progress(
                TextColumn("    {task.description}"),
                BarColumn(),
                DownloadColumn(),
                console=RichConsole(file=self.stream, force_terminal=True),
                transient=True,
            )
            self._bars.start()
        if layer not in self._bar_ids:
            self._bar_ids[layer] = self._bars.add_task(layer, total=None)
        task = self._bar_ids[layer]
        done = status in DONE_STATUSES
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
        """Close the layer bars of a finished push or pull; one line for the layers it sent
        or fetched (nothing when every layer was there already)."""
        if self._bars is not None:
            self._bars.stop()
            self._bars = None
            self._bar_ids.clear()
        statuses = self._layer_status
        sent = [layer for layer, status in statuses.items() if status in SENT]
        there = sum(1 for status in statuses.values() if status.startswith(THERE))
        if sent:
            pushed = any(statuses[layer] == "Pushed" for layer in sent)
            size = sum(self._totals.get(layer, 0) for layer in sent)
            where = "in the registry" if pushed else "here"
            self.line(
                f"    {'pushed' if pushed else 'pulled'} {len(sent)} layer(s), {size / 1e6:.1f} MB"
                + (f"; {there} already {where}" if there else "")
            )
        self._totals.clear()
        self._layer_status.clear()

    def summary(self, outcomes: list[Outcome]) -> None:
        """Every step of the run: a table on a terminal, one line in plain mode (each step's
        status line was printed as it ended)."""
        if not outcomes:
            return
        if not self.fancy:
            total = sum(o.seconds for o in outcomes)
            steps = ", ".join(f"{o.task} {o.status} {o.seconds:.1f}s" for o in outcomes)
            self.line(f"summary: {steps} ({total:.1f}s)")
            return
        width = max(len(o.task) for o in outcomes)
        self.line("summary:")
        for o in outcomes:
            status = self._paint(f"{o.status:<8}", _COLOURS.get(o.status, "0"))
            self.line(f"  {o.task:<{width}}  {status} {o.seconds:6.1f}s  {o.detail}")
