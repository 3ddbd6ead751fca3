"""The executor: one configuration object and one :class:`~dlc_tasks.run.Run` per invocation.

Invoke calls ``pre`` tasks without arguments, so a flag given to ``push`` never
reached ``hash`` or ``cache``. :class:`DlcExecutor` reads the command-wide flags
(:data:`~dlc_tasks.cli.task.COMMAND_WIDE`, which each task declares through
``dlc_task(command_wide=...)``) from every task named on the command line, applies them
once to the ``dlc`` settings, and hands the same run to every task of the
invocation, ``pre`` tasks included. It also de-duplicates calls by task (the
flags are the run's, not the call's), turns SIGTERM into an interruption for
the whole invocation (so containers and temporary files are cleaned up by the
same ``finally`` blocks as Ctrl-C, between tasks too), and ends the run
explicitly: summary table, ``report.json``, history and CI outputs are written
in a ``finally`` whatever happened.

Invoke picks it through the ``tasks.executor_class`` setting (the project's
``invoke.yaml``, which ``inv init`` writes) or the ``dlc`` program.
"""

from __future__ import annotations

import signal
from collections.abc import Callable
from typing import Any

from invoke.context import Context
from invoke.exceptions import Exit
from invoke.executor import Executor
from invoke.parser.context import ParserContext
from invoke.tasks import Call

from dlc_tasks.cli.task import COMMAND_WIDE, INTERRUPTED
from dlc_tasks.config import Settings
from dlc_tasks.errors import ConfigError, DlcError
from dlc_tasks.reporting.console import Console
from dlc_tasks.run import Run, RunHolder

EXECUTOR_PATH = "dlc_tasks.cli.executor.DlcExecutor"


class RunContext(Context):
    """Invoke's context, carrying the invocation's run holder."""

    dlc_holder: RunHolder | None = None  # a real attribute, not a config key


def _make_run(settings: Settings, out: Console, options: dict[str, Any]) -> Run:
    return Run(settings, out=out, force=bool(options.get("force")))


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
    """Invoke's executor with command-wide flags, one run per invocation and an explicit end."""

    make_run: Callable[[Settings, Console, dict[str, Any]], Run] = staticmethod(_make_run)

    def execute(self, *tasks: str | tuple[str, dict[str, Any]] | ParserContext) -> dict[Any, Any]:
        """Run the tasks (and their ``pre`` tasks) of one invocation on one :class:`Run`."""
        calls = self.normalize(tasks)
        try:
            options = command_wide_options(calls, dry=bool(self.config.get("run", {}).get("dry")))
        except DlcError as err:
            raise Exit(f"dlc: {err.one_line()}", code=err.exit_code) from None
        expanded = self.expand_calls(calls)
        ordered: list[Call] = []
        for call in expanded:  # by task: the same task with other flags is the same step
            if all(call.task is not seen.task for seen in ordered):
                ordered.append(call)
        self.config.load_collection(self.collection.configuration())
        holder = self.new_holder(options)
        holder.tasks = tuple(call.task.name for call in ordered)
        previous = signal.signal(signal.SIGTERM, _sigterm_as_interrupt)
        results: dict[Any, Any] = {}
        failed: str | None = None  # the task that did not finish, if one did not
        interrupted = False
        current: Call | None = None
        try:
            for call in ordered:
                current = call
                failed = call.task.name
                self.config.load_collection(self.collection.configuration(call.called_as))
                self.config.load_shell_env()
                context = RunContext(config=self.config)
                context.dlc_holder = holder
                results[call.task] = call.task(context, *call.args, **call.kwargs)
            failed = None
        except KeyboardInterrupt:
            interrupted = True
            failed = _next_task(holder, ordered, current)
            raise Exit(INTERRUPTED, 130) from None
        except Exit as stop:  # a task's wrapper turned Ctrl-C or SIGTERM into exit 130
            if stop.code == 130:
                interrupted = True
                failed = _next_task(holder, ordered, current)
            raise
        finally:
            try:
                self._finish(holder, failed, interrupted)
            finally:
                signal.signal(signal.SIGTERM, previous)
        return results

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
