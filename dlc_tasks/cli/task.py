"""The bridge between Invoke and the package: one decorator for every task.

``dlc_task`` registers a function as an Invoke task and wraps its body so that a
:class:`~dlc_tasks.errors.DlcError` (or an ``OSError`` from a file operation, naming the
path) becomes one line on stderr
(``dlc: <what failed> (<what to do>)``) and a non-zero exit, with the traceback
only under ``inv --debug`` or ``DLC_DEBUG=1`` (with the chain of causes, every secret
masked: :func:`~dlc_tasks.secrets.redact_tracebacks`), and Ctrl-C (or SIGTERM, which the
executor turns into one) exits 130 after the ``finally`` blocks cleaned up.
Recording outcomes is the step runner's job, not this wrapper's.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterable
from typing import Any, overload

from invoke.exceptions import Exit
from invoke.tasks import Task, task

from dlc_tasks.config.options import COMMAND_WIDE
from dlc_tasks.errors import DlcError, FileError
from dlc_tasks.secrets import redact, redact_tracebacks

INTERRUPTED = "dlc: interrupted; containers and partial files were cleaned up"

# The command-wide flags (declared in the table of options, config/options.py): given to any
# task of an invocation that takes them, they apply to every task of it (the executor reads
# them; task bodies never see them), so every chain task accepts every one of them: `inv
# push --force` works as `inv cache --force push` does.
CHAIN_FLAGS = tuple(COMMAND_WIDE)  # what every chain task takes


def _debugging() -> bool:
    from dlc_tasks.reporting.console import debugging  # noqa: PLC0415  (kept out of --list)

    return debugging()


def oserror_line(err: OSError) -> str:
    """One line for an OSError no helper converted: the path and the fix when it names one."""
    if err.filename:
        return FileError.of(err, "use").one_line()
    text = " ".join(redact(str(err)).split())
    return f"unexpected {type(err).__name__}: {text} (DLC_DEBUG=1 shows the traceback)"


def _with_flags(signature: inspect.Signature, flags: Iterable[str]) -> inspect.Signature:
    """A body's ``signature`` plus the command-wide ``flags`` as keyword parameters."""
    extra = [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=COMMAND_WIDE[name][0])
        for name in flags
        if name not in signature.parameters
    ]
    return signature.replace(parameters=[*signature.parameters.values(), *extra])


class DlcTask(Task[Any]):
    """Invoke's task, copied by reference.

    Invoke deep-copies the namespace it loads from ``tasks.py`` (``Collection.from_module``),
    and with it each task's ``pre`` chain, again for every task that stands on it (``push``
    copies ``prod``, which copies ``test``…): most of what ``inv --list`` spent beyond a bare
    ``tasks.py``. A task is not changed once defined (``namespace()`` makes new ones for a
    new collection), so its copy is itself.
    """

    def __deepcopy__(self, memo: dict[int, Any]) -> DlcTask:
        return self


@overload
def dlc_task(body: Callable[..., Any], /) -> Task[Any]: ...


@overload
def dlc_task(
    *, command_wide: Iterable[str] = (), needs_module: bool = False, **kwargs: Any
) -> Callable[[Callable[..., Any]], Task[Any]]: ...


def dlc_task(
    *args: Any, command_wide: Iterable[str] = (), needs_module: bool = False, **kwargs: Any
) -> Any:
    """``@task`` with the package's error handling; takes ``@task``'s own arguments.

    Use it bare (``@dlc_task``) or with arguments (``@dlc_task(pre=[...], help={...})``).
    ``command_wide`` names the :data:`COMMAND_WIDE` flags the task takes: they are added
    to its parameters and help, recorded on the task for the executor, and not passed to
    the body (which reads them from the run's settings). ``needs_module``: the task builds or
    reports on the Go module, so outside one (no ``go.mod`` in ``dlc.project_dir``) it stops
    in one line before its body runs, and nothing is written
    (:func:`~dlc_tasks.config.require_go_module`).
    """
    if len(args) == 1 and callable(args[0]) and not kwargs and not command_wide:
        return dlc_task()(args[0])
    flags = tuple(command_wide)
    unknown = sorted(set(flags) - set(COMMAND_WIDE))
    if unknown:
        raise TypeError(f"not command-wide flags: {unknown}")

    def decorate(body: Callable[..., Any]) -> Any:
        signature = inspect.signature(body)  # once: every `inv --list` decorates every task
        own = set(signature.parameters)

        @functools.wraps(body)
        def run(ctx: Any, *a: Any, **kw: Any) -> Any:
            kw = {k: v for k, v in kw.items() if k in own}
            try:
                if needs_module:
                    from dlc_tasks.config import require_go_module  # noqa: PLC0415
                    from dlc_tasks.config.settings import early  # noqa: PLC0415

                    require_go_module(early(ctx.config).project_dir, ": nothing was run or written")
                return body(ctx, *a, **kw)
            except DlcError as err:
                if _debugging():
                    redact_tracebacks()  # the chain of causes, every secret masked
                    raise
                # the cause stays out of the one line: DLC_DEBUG=1 shows the chain
                raise Exit(f"dlc: {err.one_line()}", code=err.exit_code) from None
            except OSError as err:
                # the helpers in _files and the state turn theirs into FileError; any other
                # file operation that fails still ends in one line naming the path
                if _debugging():
                    redact_tracebacks()
                    raise
                raise Exit(f"dlc: {oserror_line(err)}", code=1) from None
            except KeyboardInterrupt:
                raise Exit(INTERRUPTED, 130) from None
            except Exception:
                redact_tracebacks()  # a bug: its traceback is printed, masked too
                raise

        run.__signature__ = _with_flags(signature, flags)  # type: ignore[attr-defined]
        helps = {name: COMMAND_WIDE[name][1] for name in flags}
        options = {"klass": DlcTask, **kwargs, "help": {**helps, **kwargs.get("help", {})}}
        made = task(**options)(run)
        made.dlc_command_wide = frozenset(flags)
        return made

    return decorate
