"""Fault injection for integration tests: a process sends itself a signal at a line it prints.

Python imports ``sitecustomize`` at start-up from ``sys.path``; a test puts this folder on
``PYTHONPATH`` of the ``inv`` it starts and sets ``DLC_TEST_SIGNAL_AT=SIGNAL:N:TEXT``
(``INT:1:==> prod``: Ctrl-C as the ``prod`` step's header is printed, i.e. at the boundary
between two steps; ``KILL:2:$ go build``: SIGKILL once the second binary's build starts).
The signal is sent right after the Nth line holding TEXT is written to stdout, by the
process to itself: the same point on every machine, with no sleep and no tracer. Nothing
happens without the variable, and the variable is removed so no child inherits it.
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Any, TextIO

_SPEC = os.environ.pop("DLC_TEST_SIGNAL_AT", "")


class _SignalAtLine:
    """``sys.stdout``, sending the signal after the Nth write that holds the text."""

    def __init__(self, stream: TextIO, signum: int, count: int, text: str) -> None:
        self._stream, self._signum, self._left, self._text = stream, signum, count, text

    def write(self, data: str) -> int:
        written = self._stream.write(data)
        if self._left > 0 and self._text in data:
            self._left -= 1
            if self._left == 0:
                self._stream.flush()
                os.kill(os.getpid(), self._signum)
        return written

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


if _SPEC:
    _name, _count, _text = _SPEC.split(":", 2)
    sys.stdout = _SignalAtLine(sys.stdout, getattr(signal, f"SIG{_name}"), int(_count), _text)
