"""The executor: one configuration object and one :class:`~dlc_tasks.run.Run` per invocation.

Invoke calls ``pre`` tasks without arguments, so a flag given to ``push`` never
reached ``hash`` or ``cache``. :class:`DlcExecutor` reads the command-wide flags
(:data:`COMMAND_WIDE`) from every task named on the command line, applies them
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

from dlc_tasks.cli.task import INTERRUPTED
from dlc_tasks.config import Settings
from dlc_tasks.errors import ConfigError, DlcError
from dlc_tasks.reporting.console import Console
from dlc_tasks.run import Run, RunHolder

# Flags that, given to any task of an invocation, apply to every task of it.
COMMAND_WIDE = ("registry", "dry_run", "latest", "force", "allow_dirty", "image")
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
    """The command-wide flags given to any of ``calls``; one value each, or an error."""
    options: dict[str, Any] = {}
    for call in calls:
        for name in COMMAND_WIDE:
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
        holder = RunHolder(self.config, options, type(self).make_run)
        previous = signal.signal(signal.SIGTERM, _sigterm_as_interrupt)
        results: dict[Any, Any] = {}
        failed = False
        try:
            for call in ordered:
                self.config.load_collection(self.collection.configuration(call.called_as))
                self.config.load_shell_env()
                context = RunContext(config=self.config)
                context.dlc_holder = holder
                results[call.task] = call.task(context, *call.args, **call.kwargs)
        except KeyboardInterrupt:
            failed = True
            raise Exit(INTERRUPTED, 130) from None
        except BaseException:
            failed = True
            raise
        finally:
            try:
                self._finish(holder, failed)
            finally:
                signal.signal(signal.SIGTERM, previous)
        return results

    @staticmethod
    def _finish(holder: RunHolder, failed: bool) -> None:
        """End the run; a report that cannot be written fails a run that had not failed."""
        if holder.run is None:
            return
        try:
            holder.run.finish()
        except DlcError as err:
            if not failed:
                raise Exit(f"dlc: {err.one_line()}", code=err.exit_code) from None
            holder.out.line(f"dlc: also: {err.one_line()}")
