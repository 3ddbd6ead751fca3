"""``dlc watch`` / ``inv watch``: run the chain up to a task after each change to the source.

The module's files are watched with ``watchfiles``, which groups a burst of saves into one
batch. After a batch the source digest (what ``generate`` and ``test`` stamp, so the
tool's own outputs do not count) is compared with the one the last cycle built: when it
differs, a cycle runs. A cycle is a new invocation of the chain on a fresh
:class:`CycleExecutor` with a copy of the configuration, exactly as ``inv test`` would run
it: its own :class:`~dlc_tasks.run.Run`, report and history record. Cycles never overlap
(the loop waits for one to end before it reads the next batch); changes made while one
runs are built by the next, at once. Each cycle prints one line (on failure after the
failing tests' or the compiler's lines); Ctrl-C stops the loop, after the running cycle has
cleaned up.
"""

from __future__ import annotations

import contextlib
import io
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from invoke.config import Config
from invoke.exceptions import Exit

from dlc_tasks.cli.executor import DlcExecutor
from dlc_tasks.config import settings
from dlc_tasks.errors import ConfigError
from dlc_tasks.facts import Facts
from dlc_tasks.reporting.console import Command, Console, Outcome
from dlc_tasks.run import RunHolder

LAST_TASKS = ("generate", "test", "prod", "push")  # what --to may name
QUIET_MS = 300  # a burst of saves ends after this long without another change
MAX_BATCH_MS = 3000  # however long the burst, a cycle starts after this
FAILURE_LINES = 40  # at most this many lines of a failed step's output
_GO_POSITION = re.compile(r"^\S+\.go:\d+(?::\d+)?: ")
_SKIP_DIRS = {"__pycache__", "node_modules"}


@dataclass
class CycleConsole(Console):
    """A cycle's console: everything goes to a buffer, each step's tool output is kept."""

    current: str = ""
    tool_output: dict[str, list[str]] = field(default_factory=dict)

    def task(self, name: str) -> None:
        """A step's header: later output is that step's."""
        self.current = name
        super().task(name)

    def output(self, text: str) -> None:
        """Tool output, kept by step (announced commands left out)."""
        if not isinstance(text, Command):
            self.tool_output.setdefault(self.current, []).append(text.rstrip("\n"))
        super().output(text)


class CycleExecutor(DlcExecutor):
    """The chain's executor for one cycle, its run printing to the cycle's console."""

    def __init__(self, collection: Any, config: Config, console: CycleConsole) -> None:
        super().__init__(collection, config)
        self.console = console
        self.holder: RunHolder | None = None

    def new_holder(self, options: dict[str, Any]) -> RunHolder:
        """A holder whose run prints to the cycle's console; kept to read the outcomes."""
        self.holder = RunHolder(self.config, options, type(self).make_run, out=self.console)
        return self.holder


@dataclass(frozen=True)
class Cycle:
    """What one cycle did: its outcomes, the error that ended it, the failed step's output."""

    outcomes: list[Outcome]
    seconds: float
    error: str | None = None
    output: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every step succeeded."""
        return self.error is None and all(o.status.ok for o in self.outcomes)


def run_cycle(
    config: Config, to: str, executor_class: type[CycleExecutor] = CycleExecutor
) -> Cycle:
    """One invocation of the chain up to ``to``, on a fresh executor and run."""
    from dlc_tasks.cli.collection import namespace  # noqa: PLC0415

    console = CycleConsole(stream=io.StringIO())
    executor = executor_class(namespace(), config.clone(), console)
    started = time.monotonic()
    error = None
    try:
        executor.execute(to)
    except Exit as stop:
        if stop.code == 130:
            raise KeyboardInterrupt from None
        error = str(stop.message or f"exit {stop.code}")
    run = executor.holder.run if executor.holder else None
    outcomes = list(run.outcomes) if run else []
    failed = next((o for o in outcomes if not o.status.ok), None)
    output = console.tool_output.get(failed.task, []) if failed else []
    return Cycle(outcomes, time.monotonic() - started, error, output)


def failure_lines(output: Iterable[str], limit: int = FAILURE_LINES) -> list[str]:
    """The lines of a failed Go step worth reading, once each: every ``--- FAIL`` block,
    compiler and vet errors (``# package`` and ``file.go:L:C:`` lines), ``FAIL`` and
    ``panic:`` lines; the last lines when none of those is there. (vet and test both report
    a compile error; the go tool's own ``# [tool …]`` lines say nothing.)"""
    lines = [line for line in output if line.strip()]
    found: list[str] = []
    block = False
    for line in lines:
        if line.startswith("# ["):
            continue
        if line.startswith(("--- FAIL", "# ", "panic:")):
            block = True
            found.append(line)
        elif block and (line.startswith((" ", "\t")) or _GO_POSITION.match(line)):
            found.append(line)
        else:
            block = False
            if line.startswith("FAIL") or _GO_POSITION.match(line):
                found.append(line)
    return list(dict.fromkeys(found or lines[-10:]))[:limit]


def cycle_line(number: int, cycle: Cycle) -> str:
    """The one line a cycle prints."""
    clock = time.strftime("%H:%M:%S")
    steps = ", ".join(f"{o.task} {o.status}" for o in cycle.outcomes)
    if cycle.ok:
        detail = f" ({cycle.outcomes[-1].detail})" if cycle.outcomes else ""
        return f"{clock} #{number} ok in {cycle.seconds:.1f}s: {steps}{detail}"
    failed = next((o for o in cycle.outcomes if not o.status.ok), None)
    why = failed.detail if failed and failed.detail else (cycle.error or "failed")
    where = f" at {failed.task}" if failed else ""
    return f"{clock} #{number} FAILED{where} in {cycle.seconds:.1f}s: {why.removeprefix('dlc: ')}"


@dataclass
class Watcher:
    """The loop: a cycle at the start, then one after each batch that changed the source."""

    digest: Callable[[], str]
    cycle: Callable[[], Cycle]
    say: Callable[[str], None]
    cycles: int = 0
    built: str | None = None  # the source digest the last cycle started from

    def settle(self) -> None:
        """Run cycles until one started from the tree as it is now (a change made while a
        cycle ran, or a generator's new output, makes another)."""
        current = self.digest()
        while current != self.built:
            self.cycles += 1
            result = self.cycle()
            if not result.ok:  # the Go output first: the error line points above
                for line in failure_lines(result.output):
                    self.say(f"    | {line}")
            self.say(cycle_line(self.cycles, result))
            self.built, current = current, self.digest()

    def run(self, batches: Iterable[object]) -> None:
        """Settle now, then after each batch of changes; return when the batches end."""
        self.settle()
        for _ in batches:
            self.settle()


def source_filter(root: Path) -> Callable[[Any, str], bool]:
    """watchfiles' filter: the paths the source digest could cover (no ``.*``/``_*`` names,
    byte-code or packaging folders), so the tool's own ``.dlc`` writes wake nothing."""
    root = root.resolve()

    def keep(change: Any, path: str) -> bool:
        try:
            parts = Path(path).resolve().relative_to(root).parts
        except ValueError:
            return False
        return not any(
            p.startswith((".", "_")) or p in _SKIP_DIRS or p.endswith(".egg-info") for p in parts
        )

    return keep


def watch(config: Config, to: str, out: Console) -> None:
    """Watch the module and run the chain up to ``to`` after each change, until Ctrl-C."""
    from watchfiles import watch as batches_of  # noqa: PLC0415

    if to not in LAST_TASKS:
        raise ConfigError(
            f"dlc watch --to {to}: not a task the loop can end with",
            hint=f"use one of {', '.join(LAST_TASKS)}",
        )
    root = settings(config).project_dir

    def digest() -> str:
        return Facts(settings(config)).source_digest()  # facts of their own: nothing carried

    watcher = Watcher(digest, lambda: run_cycle(config, to), out.line)
    out.line(f"watch: {root}: the chain up to {to} after each change (Ctrl-C stops)")
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C (or SIGTERM): the way to stop
        watcher.run(
            batches_of(
                root,
                watch_filter=source_filter(root),
                step=QUIET_MS,
                debounce=MAX_BATCH_MS,
                raise_interrupt=True,
            )
        )
    out.line(f"watch: stopped after {watcher.cycles} cycle(s)")
