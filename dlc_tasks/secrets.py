"""The one redaction point: every secret the tool learns is registered, every line it writes is
redacted.

Wherever a credential is learnt (a password from the environment or ``auths``, a credential
helper's secret, an identity token, a bearer token or refresh token from a token server),
:func:`register` is called with it; every error line (``DlcError.one_line``, the CLI's
``dlc:`` line), console line and report, history, state, CI or log writer passes its text
through :func:`redact` (or its values through :func:`redact_values`), which replaces each
registered secret with ``***``, as a CI system masks its secrets.

A secret is masked in every form it may be printed in, whatever its characters: as is,
escaped as Python's ``repr`` and JSON write it (``\\n``, ``\\u00e9``), URL-encoded, with its
whitespace collapsed (a one-line error joins lines), and piece by piece where a control
character or whitespace splits it (an HTTP library refusing ``"tok\\r\\nX-Injected: 1"`` may
print the part before the line break). Values shorter than :data:`MIN_LENGTH` characters are
not masked (masking every ``a`` in the output would print nothing useful); pieces shorter
than :data:`MIN_PIECE` are not masked on their own.

A traceback is text too: under ``DLC_DEBUG=1`` (or for an error that is a bug) the task
wrapper installs :func:`excepthook`, which prints the traceback with its whole chain of
causes, redacted like any line.

The registry is process-wide (a secret learnt by one task must stay hidden in the summary
the executor prints after it), behind a lock.
"""

from __future__ import annotations

import json
import re
import sys
import threading
import traceback
import urllib.parse
from types import TracebackType
from typing import Any

MASK = "***"
MIN_LENGTH = 4
MIN_PIECE = 8
_SPLIT = re.compile(r"[\x00-\x20\x7f-\x9f]+")

_lock = threading.Lock()
_forms: set[str] = set()
_pattern: re.Pattern[str] | None = None


def forms_of(secret: str) -> set[str]:
    """Every form in which ``secret`` may appear in text the tool writes."""
    forms = {
        secret,
        repr(secret)[1:-1],
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
        urllib.parse.quote(secret, safe=""),
        urllib.parse.quote_plus(secret, safe=""),
        " ".join(secret.split()),
    }
    pieces = {piece for piece in _SPLIT.split(secret) if len(piece) >= MIN_PIECE}
    if len(pieces) > 1 or pieces != {secret}:
        forms |= pieces
    return {form for form in forms if len(form) >= MIN_LENGTH}


def register(secret: str | None) -> None:
    """Mask ``secret`` from now on in everything :func:`redact` sees; None or "" is ignored."""
    global _pattern  # noqa: PLW0603  (the process-wide registry this module is)
    if not secret or not isinstance(secret, str):
        return
    new = forms_of(secret)
    with _lock:
        if new <= _forms:
            return
        _forms.update(new)
        ordered = sorted(_forms, key=len, reverse=True)  # the longest form wins at a position
        _pattern = re.compile("|".join(re.escape(form) for form in ordered))


def redact(text: str) -> str:
    """``text`` with every registered secret, in each of its forms, replaced by ``***``."""
    pattern = _pattern
    if pattern is None or not text:
        return text
    return pattern.sub(MASK, text)


def redact_values(value: Any) -> Any:
    """A JSON-like value with :func:`redact` applied to every string in it (keys too), so a
    document is masked before it is serialised and stays valid JSON."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {redact_values(k): redact_values(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact_values(item) for item in value]
    return value


def format_exception(err: BaseException) -> str:
    """The traceback Python prints for ``err``, its causes and contexts included, with every
    registered secret masked (the message of a cause may hold a token or a URL with one)."""
    return redact("".join(traceback.format_exception(err)))


def excepthook(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
    """``sys.excepthook`` printing :func:`format_exception`'s text instead of the raw one."""
    sys.stderr.write(format_exception(value.with_traceback(tb)))
    sys.stderr.flush()


def redact_tracebacks() -> None:
    """Make the traceback of an error escaping to the top level redacted (idempotent)."""
    sys.excepthook = excepthook


def forget_all() -> None:
    """Drop every registered secret (tests only: a run never forgets a secret)."""
    global _pattern  # noqa: PLW0603
    with _lock:
        _forms.clear()
        _pattern = None
