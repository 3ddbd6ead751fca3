"""Outside programs run with a hard deadline: a credential helper or git that never answers
ends the run in one line instead of stalling it.

The program gets its own process group; when the deadline passes the whole group is killed
(a shell script's ``sleep`` child too, which would otherwise hold the output pipe open), its
pipes are closed without being read, and :class:`~dlc_tasks.errors.DeadlineExceeded` names
what did not answer and the ``dlc.timeouts`` setting that changes the deadline. Argument
lists only, never a shell; input and output are bytes (file names in any encoding pass
through unchanged).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from dlc_tasks.errors import DeadlineExceeded


@dataclass(frozen=True)
class Finished:
    """How a program ended: its exit code and what it printed (bytes)."""

    code: int
    out: bytes
    err: bytes


def run(
    argv: Sequence[str],
    *,
    what: str,
    deadline: float,
    setting: str,
    stdin: bytes = b"",
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
) -> Finished:
    """Run ``argv`` to its end or to ``deadline`` seconds, whichever comes first.

    OSError when it cannot be started; :class:`DeadlineExceeded` (naming ``what`` and
    ``dlc.timeouts.SETTING``) when it did not finish in time.
    """
    process = subprocess.Popen(
        list(argv),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=str(cwd) if cwd else None,
        env=env,
        start_new_session=True,  # its own process group: killed whole at the deadline
    )
    try:
        out, err = process.communicate(stdin, timeout=deadline)
    except subprocess.TimeoutExpired as expired:
        _kill(process)
        raise DeadlineExceeded(what, deadline, setting) from expired
    except BaseException:  # Ctrl-C, SIGTERM: leave nothing running behind us
        _kill(process)
        raise
    return Finished(process.returncode, out, err)


def _kill(process: subprocess.Popen[bytes]) -> None:
    """Kill the program's process group, reap it, close its pipes unread."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    for pipe in (process.stdin, process.stdout, process.stderr):
        if pipe is not None:
            with contextlib.suppress(OSError):
                pipe.close()
