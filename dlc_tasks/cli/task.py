"""The bridge between Invoke and the package: one decorator for every task.

``dlc_task`` registers a function as an Invoke task and wraps its body so that a
:class:`~dlc_tasks.errors.DlcError` becomes one line on stderr
(``dlc: <what failed> (<what to do>)``) and a non-zero exit, with the traceback
only under ``inv --debug`` or ``DLC_DEBUG=1``, and Ctrl-C (or SIGTERM, which the
executor turns into one) exits 130 after the ``finally`` blocks cleaned up.
Recording outcomes is the step runner's job, not this wrapper's.
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Callable
from typing import Any, overload

from invoke.exceptions import Exit
from invoke.tasks import Task, task

from dlc_tasks.errors import DlcError

REGISTRY_HELP = "registry host[:port] (default: dlc.registry, else the local registry)"
IMAGE_HELP = "with dlc.images: make only the image NAME (default: every image)"
DRY_HELP = "print what each step would do and why; build, push, run and write nothing"
INTERRUPTED = "dlc: interrupted; containers and partial files were cleaned up"


def debugging() -> bool:
    """True under ``inv --debug`` (Invoke turns on debug logging) or ``DLC_DEBUG=1``."""
    return bool(os.environ.get("DLC_DEBUG")) or logging.getLogger("invoke").isEnabledFor(
        logging.DEBUG
    )


@overload
def dlc_task(body: Callable[..., Any], /) -> Task[Any]: ...


@overload
def dlc_task(**kwargs: Any) -> Callable[[Callable[..., Any]], Task[Any]]: ...


def dlc_task(*args: Any, **kwargs: Any) -> Any:
    """``@task`` with the package's error handling; takes ``@task``'s own arguments.

    Use it bare (``@dlc_task``) or with arguments (``@dlc_task(pre=[...], help={...})``).
    """
    if len(args) == 1 and callable(args[0]) and not kwargs:
        return dlc_task()(args[0])

    def decorate(body: Callable[..., Any]) -> Any:
        @functools.wraps(body)
        def run(ctx: Any, *a: Any, **kw: Any) -> Any:
            try:
                return body(ctx, *a, **kw)
            except DlcError as err:
                if debugging():
                    raise
                raise Exit(f"dlc: {err.one_line()}", code=err.exit_code) from None
            except KeyboardInterrupt:
                raise Exit(INTERRUPTED, 130) from None

        return task(**kwargs)(run)

    return decorate
