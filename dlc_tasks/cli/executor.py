"""The executor: one configuration object and one :class:`~dlc_tasks.run.Run` per invocation.

Invoke calls ``pre`` tasks without arguments, so a flag given to ``push`` never
reached ``hash`` or ``cache``. :class:`DlcExecutor` reads the command-wide flags
(:data:`~dlc_tasks.config.options.COMMAND_WIDE`, which each task declares through
``dlc_task(command_wide=...)``) from every task named on the command line, applies them
once to the ``dlc`` settings, and hands the same run to every task of the
invocation, ``pre`` tasks included. Invoke's own loop runs the tasks
(``super().execute()``, so ``autoprint``, ``--no-dedupe`` and the ``--`` remainder work
as Invoke documents them); the executor extends it only through Invoke's hooks:
``expand_calls`` makes each call a :class:`RunCall`, whose ``make_context`` hands the
task the run; ``dedupe`` compares calls by task (the flags are the run's, not the
call's); and a ``try``/``finally`` around the loop turns SIGTERM into an interruption
for the whole invocation (so containers and temporary files are cleaned up by the same
``finally`` blocks as Ctrl-C, between tasks too) and ends the run explicitly: summary
table, ``report.json``, history and CI outputs are written whatever happened.

Invoke picks it through the ``tasks.executor_class`` setting (the project's
``invoke.yaml``, which ``inv init`` writes) or the ``dlc`` program.
"""

from __future__ import annotations

import signal
from collections.abc import Callable
from typing import Any

from invoke.collection import Collection
from invoke.config import Config
from invoke.context import Context
from invoke.exceptions import Exit
from invoke.executor import Executor
from invoke.parser import ParseResult
from invoke.parser.context import ParserContext
from invoke.tasks import Call

from dlc_tasks.cli.task import INTERRUPTED
from dlc_tasks.config import Settings
from dlc_tasks.config.environment import DlcConfig
from dlc_tasks.config.options import COMMAND_WIDE
from dlc_tasks.errors import ConfigError, DlcError
from dlc_tasks.reporting.console import Console
from dlc_tasks.run import Run, RunHolder

EXECUTOR_PATH = "dlc_tasks.cli.executor.DlcExecutor"


class RunContext(Context):
    """Invoke's context, carrying the invocation's run holder."""

    dlc_holder: RunHolder | None = None  # a real attribute, not a config key


class RunCall(Call):
    """Invoke's call of a task, whose context carries the invocation's run holder.

    :meth:`make_context` is Invoke's hook for the context a task gets; the executor's loop
    calls it just before the task runs, so it also tells the executor which task is running
    (the one a failure or an interruption is recorded against).
    """

    def __init__(self, *args: Any, executor: DlcExecutor | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.executor = executor

    def clone_data(self) -> dict[str, Any]:
        """Invoke's data for a copy of this call, with the executor it belongs to."""
        return {**super().clone_data(), "executor": self.executor}

    def make_context(self, config: Config, core_parse_result: ParseResult) -> Context:
        """A :class:`RunContext` holding the executor's run holder; this call is now current."""
        context = RunContext(config=config, remainder=core_parse_result.remainder)
        if self.executor is not None:
            self.executor.current = self
            context.dlc_holder = self.executor.holder
        return context


def _make_run(settings: Settings, out: Console, options: dict[str, Any]) -> Run:
    return Run(settings, out=out, force=settings.force)


def holder_of(ctx: Any) -> RunHolder:
    """The run holder of a task's context; a clear error when another executor runs the task."""
    holder: RunHolder | None = ctx.dlc_holder if isinstance(ctx, RunContext) else None
    if holder is None:
        raise ConfigError(
            "dlc tasks must run under dlc-tasks' executor",
            hint=f"add `tasks: {{executor_class: {EXECUTOR_PATH}}}` to invoke.yaml "
            "(inv init writes it), or use the dlc command",
        )
    return holder


def run_of(ctx: Any) -> Run:
    """The invocation's run, for a task body."""
    return holder_of(ctx).get()


def command_wide_options(calls: list[Call], dry: bool = False) -> dict[str, Any]:
    """The command-wide flags given to any of ``calls``; one value each, or an error.

    Only the flags a task declares as command-wide count: ``init --force`` (replace files)
    and ``setup.base-images --force`` are that task's own and force no rebuild.
    """
    options: dict[str, Any] = {}
    for call in calls:
        declared: frozenset[str] = getattr(call.task, "dlc_command_wide", frozenset())
        for name in COMMAND_WIDE:
            if name not in declared:
                continue
            value = call.kwargs.get(name)
            if value is None or value is False:
                continue
            if name in options and options[name] != value:
                flag = "--" + name.replace("_", "-")
                raise ConfigError(
                    f"{flag} is given twice with different values ({options[name]!r}, {value!r})",
                    hint=f"give {flag} once: it applies to every task of the command",
                )
            options[name] = value
    if dry:
        options["dry_run"] = True
    return options


def _next_task(holder: RunHolder, ordered: list[Call], current: Call | None) -> str | None:
    """The task an interruption outside a step stopped: the first, from ``current`` on, with
    no outcome yet (an interruption between two tasks, or as one prints its header, is the
    next one's), else ``current``'s."""
    if current is None:
        return None
    done = {outcome.task for outcome in holder.run.outcomes} if holder.run else set()
    names = [call.task.name for call in ordered]
    pending = [name for name in names[names.index(current.task.name) :] if name not in done]
    return pending[0] if pending else current.task.name


def _sigterm_as_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


class DlcExecutor(Executor):
    """Invoke's executor with command-wide flags, one run per invocation and an explicit end.

    Invoke's own loop runs the tasks (``super().execute()``: configuration per task, the
    context from :meth:`RunCall.make_context`, ``autoprint``, ``tasks.dedupe``); this class
    adds, through Invoke's hooks, what a run needs: :meth:`expand_calls` makes every call a
    :class:`RunCall`, :meth:`dedupe` compares calls by task, and a ``try``/``finally``
    around the loop turns SIGTERM into an interruption and ends the run whatever happened.
    """

    make_run: Callable[[Settings, Console, dict[str, Any]], Run] = staticmethod(_make_run)
    holder: RunHolder | None = None  # this invocation's run, once execute() has begun
    current: Call | None = None  # the call running (or the last one that started)
    planned: list[Call]  # the calls in the order they run, once expanded

    def __init__(
        self, collection: Collection, config: Config | None = None, core: ParseResult | None = None
    ) -> None:
        super().__init__(collection, config, core)
        if type(self.config) is Config:  # Invoke's own, as `inv` makes it
            # INVOKE_DLC_* read by the table of options. The same object, of the subclass
            # that only changes how the environment is read: Invoke's clone(into=) would
            # load the system and user files again, which a caller may have left out.
            self.config.__class__ = DlcConfig

    def execute(self, *tasks: str | tuple[str, dict[str, Any]] | ParserContext) -> dict[Any, Any]:
        """Run the tasks (and their ``pre`` tasks) of one invocation on one :class:`Run`."""
        calls = self.normalize(tasks)
        try:
            options = command_wide_options(calls, dry=bool(self.config.get("run", {}).get("dry")))
            self.config.load_collection(self.collection.configuration())
            self.config.load_shell_env()  # a bad INVOKE_DLC_* stops here, before any task
        except DlcError as err:
            raise Exit(f"dlc: {err.one_line()}", code=err.exit_code) from None
        self.planned = self.dedupe(self.expand_calls(calls))
        self.holder = holder = self.new_holder(options)
        holder.tasks = tuple(call.task.name for call in self.planned)
        self.current = None
        previous = signal.signal(signal.SIGTERM, _sigterm_as_interrupt)
        failed: str | None = None  # the task that did not finish, if one did not
        interrupted = False
        try:
            results = super().execute(*tasks)
        except KeyboardInterrupt:
            interrupted = True
            failed = _next_task(holder, self.planned, self.current)
            raise Exit(INTERRUPTED, 130) from None
        except Exit as stop:  # a task's wrapper turned Ctrl-C or SIGTERM into exit 130
            interrupted = stop.code == 130
            failed = (
                _next_task(holder, self.planned, self.current)
                if interrupted
                else _name(self.current)
            )
            raise
        except BaseException:
            failed = _name(self.current)
            raise
        finally:
            try:
                self._finish(holder, failed, interrupted)
            finally:
                signal.signal(signal.SIGTERM, previous)
        return results

    def expand_calls(self, calls: list[Call]) -> list[Call]:
        """Invoke's expansion (``pre`` tasks first), each call a :class:`RunCall` of this run."""
        return [
            call if isinstance(call, RunCall) else call.clone(RunCall, {"executor": self})
            for call in super().expand_calls(calls)
        ]

    def dedupe(self, calls: list[Call]) -> list[Call]:
        """One call per task, the first: the flags are the run's, not the call's, so
        ``inv cache --force push`` runs ``cache`` once (Invoke's own compares arguments)."""
        kept: list[Call] = []
        for call in calls:
            if all(call.task is not seen.task for seen in kept):
                kept.append(call)
        return kept

    def new_holder(self, options: dict[str, Any]) -> RunHolder:
        """The holder of this invocation's run (``dlc watch`` gives each cycle's its console)."""
        return RunHolder(self.config, options, type(self).make_run)

    @staticmethod
    def _finish(holder: RunHolder, failed: str | None, interrupted: bool) -> None:
        """End the run; a report that cannot be written fails a run that had not failed.

        ``failed`` names the task that did not finish (raised, exited non-zero or was
        interrupted): the report says the run failed even when no step recorded it,
        e.g. ``inv hash version.bump bogus``.
        """
        if holder.run is None:
            return
        try:
            holder.run.finish(failed, interrupted)
        except DlcError as err:
            if failed is None:
                raise Exit(f"dlc: {err.one_line()}", code=err.exit_code) from None
            holder.out.line(f"dlc: also: {err.one_line()}")


def _name(call: Call | None) -> str | None:
    return call.task.name if call is not None else None
