"""Capped, jittered exponential backoff for transient faults: the one retry wrapper.

The engine's pushes and pulls and the registry client's requests both go through
:func:`retried`: each retry said in one format (:func:`retry_line`), and the last fault turned
into the caller's error type, chained to it.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

from dlc_tasks.config import Retries
from dlc_tasks.errors import DlcError

T = TypeVar("T")


class Transient(Exception):
    """Raised inside a retried call for a fault worth another try.

    ``retry_after`` (seconds) is honoured when the server sent one (429, 503); ``hint`` is the
    fix the error made of the last one gives (a deadline names its setting).
    """

    def __init__(
        self, message: str, retry_after: float | None = None, *, hint: str | None = None
    ) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.hint = hint


def backoff_delay(attempt: int, limits: Retries, rng: Callable[[], float] = random.random) -> float:
    """The wait before try ``attempt + 1``: full jitter under a capped exponential."""
    cap = min(limits.max_delay, limits.base_delay * (2.0**attempt))
    return cap * (0.5 + rng() / 2)


def with_retries(
    call: Callable[[], T],
    limits: Retries,
    *,
    on_retry: Callable[[int, Transient, float], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Run ``call``; on :class:`Transient`, wait and try again up to ``limits.attempts`` times.

    The last :class:`Transient` propagates when every try failed.
    """
    for attempt in range(limits.attempts):
        try:
            return call()
        except Transient as fault:
            if attempt + 1 >= limits.attempts:
                raise
            delay = backoff_delay(attempt, limits)
            if fault.retry_after is not None:
                delay = min(max(delay, fault.retry_after), max(limits.max_delay, 60.0))
            if on_retry:
                on_retry(attempt + 1, fault, delay)
            sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover


def retry_line(source: str, attempt: int, fault: Exception, delay: float) -> str:
    """How a retry is said, for the engine and the registry alike."""
    return f"    {source}: retry {attempt} in {delay:.1f}s: {fault}"


def retried(
    call: Callable[[], T],
    limits: Retries,
    *,
    source: str,
    failure: Callable[..., DlcError],
    say: Callable[[str], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """:func:`with_retries` saying each retry on ``say`` (``source`` names who retries), the
    last :class:`Transient` raised as ``failure(message, hint=...)``, its cause kept."""

    def report(attempt: int, fault: Transient, delay: float) -> None:
        if say is not None:
            say(retry_line(source, attempt, fault, delay))

    try:
        return with_retries(call, limits, on_retry=report, sleep=sleep)
    except Transient as fault:
        raise failure(f"{fault} (after {limits.attempts} tries)", hint=fault.hint) from fault
