"""dlc_tasks.clients.retry: capped, jittered backoff for Transient faults only."""

from __future__ import annotations

import re

import pytest

from dlc_tasks.clients.registry import RegistryClient
from dlc_tasks.clients.registry.transport import retry_after as _retry_after
from dlc_tasks.clients.retry import Transient, backoff_delay, retried, with_retries
from dlc_tasks.config import Retries
from dlc_tasks.errors import PushError, RegistryError
from tests.support.servers import free_loopback_port
from tests.unit.test_engine import DIGEST, FakeAPI, push


class Flaky:
    """A call that raises the given exceptions in turn, then returns ``"ok"``."""

    def __init__(self, *faults: Exception) -> None:
        self.faults = list(faults)
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.faults:
            raise self.faults.pop(0)
        return "ok"


def test_returns_after_transient_faults() -> None:
    delays: list[float] = []
    call = Flaky(Transient("one"), Transient("two"))
    assert with_retries(call, Retries(attempts=3), sleep=delays.append) == "ok"
    assert call.calls == 3
    assert len(delays) == 2


def test_gives_up_after_attempts_and_reraises_the_last_fault() -> None:
    delays: list[float] = []
    faults = [Transient(f"fault {n}") for n in range(5)]
    call = Flaky(*faults)
    with pytest.raises(Transient) as caught:
        with_retries(call, Retries(attempts=3), sleep=delays.append)
    assert caught.value is faults[2]
    assert call.calls == 3
    assert len(delays) == 2


def test_a_single_attempt_never_sleeps() -> None:
    delays: list[float] = []
    call = Flaky(Transient("once"))
    with pytest.raises(Transient):
        with_retries(call, Retries(attempts=1), sleep=delays.append)
    assert (call.calls, delays) == (1, [])


def test_non_transient_errors_are_not_retried() -> None:
    delays: list[float] = []
    call = Flaky(ValueError("bug"), Transient("never reached"))
    with pytest.raises(ValueError, match="bug"):
        with_retries(call, Retries(attempts=5), sleep=delays.append)
    assert (call.calls, delays) == (1, [])


def test_honours_retry_after() -> None:
    delays: list[float] = []
    limits = Retries(attempts=2, base_delay=0.01, max_delay=0.02)
    with_retries(Flaky(Transient("429", retry_after=7.0)), limits, sleep=delays.append)
    assert delays == [7.0]


def test_retry_after_is_capped_at_a_minute() -> None:
    delays: list[float] = []
    limits = Retries(attempts=2, base_delay=0.01, max_delay=0.02)
    with_retries(Flaky(Transient("503", retry_after=3600.0)), limits, sleep=delays.append)
    assert delays == [60.0]


def test_delays_grow_but_never_pass_max_delay() -> None:
    delays: list[float] = []
    limits = Retries(attempts=8, base_delay=1.0, max_delay=3.0)
    call = Flaky(*[Transient(str(n)) for n in range(7)])
    with_retries(call, limits, sleep=delays.append)
    assert len(delays) == 7
    assert all(0 < d <= 3.0 for d in delays)
    # Full jitter keeps each wait within [cap/2, cap] of min(max_delay, base * 2**n).
    for n, delay in enumerate(delays):
        cap = min(3.0, 2.0**n)
        assert cap / 2 <= delay <= cap


def test_on_retry_sees_each_retry() -> None:
    seen: list[tuple[int, str, float]] = []
    delays: list[float] = []
    call = Flaky(Transient("a"), Transient("b"))
    with_retries(
        call,
        Retries(attempts=3, base_delay=0.0, max_delay=0.0),
        on_retry=lambda n, fault, delay: seen.append((n, str(fault), delay)),
        sleep=delays.append,
    )
    assert seen == [(1, "a", 0.0), (2, "b", 0.0)]
    assert delays == [0.0, 0.0]


def test_backoff_delay_bounds() -> None:
    limits = Retries(base_delay=0.5, max_delay=8.0)
    assert backoff_delay(0, limits, rng=lambda: 0.0) == 0.25
    assert backoff_delay(0, limits, rng=lambda: 1.0) == 0.5
    assert backoff_delay(3, limits, rng=lambda: 1.0) == 4.0
    assert backoff_delay(10, limits, rng=lambda: 1.0) == 8.0


@pytest.mark.parametrize("header", ["in a minute", "soon", "Mon, 99 Foo", "1e999x", "-"])
def test_a_retry_after_that_is_neither_seconds_nor_a_date_falls_back_to_backoff(
    header: str,
) -> None:
    assert _retry_after(header) is None  # None: the capped, jittered backoff decides


def test_retry_after_in_seconds_or_as_a_past_http_date() -> None:
    assert _retry_after("3") == 3.0
    assert _retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
    assert _retry_after(None) is None


def test_retried_says_each_retry_in_one_format_and_raises_the_callers_error_with_its_cause() -> (
    None
):
    lines: list[str] = []
    last = Transient("502 again", hint="wait")
    call = Flaky(Transient("502"), last)
    with pytest.raises(PushError) as caught:
        retried(
            call,
            Retries(attempts=2, base_delay=0.0, max_delay=0.0),
            source="engine",
            failure=PushError,
            say=lines.append,
            sleep=lambda _: None,
        )
    assert lines == ["    engine: retry 1 in 0.0s: 502"]
    assert str(caught.value) == "502 again (after 2 tries)" and caught.value.hint == "wait"
    assert caught.value.__cause__ is last


def test_the_engine_and_the_registry_client_say_retries_alike() -> None:
    """One wording: a push retried by the engine and a request retried by the registry client."""
    api = FakeAPI([{"error": "read: connection reset by peer"}], [{"aux": {"Digest": DIGEST}}])
    _, engine_lines = push(api)
    registry_lines: list[str] = []
    port = free_loopback_port()
    client = RegistryClient(
        f"127.0.0.1:{port}",
        retries=Retries(attempts=2, base_delay=0.0, max_delay=0.0, timeout=5.0),
        say=registry_lines.append,
    )
    with pytest.raises(RegistryError, match="after 2 tries"):
        client.ping()
    said = re.compile(r"^    (engine|registry): retry 1 in 0\.0s: \S")
    assert next(line for line in engine_lines if "retry" in line) == (
        "    engine: retry 1 in 0.0s: push of 127.0.0.1:5000/org/app:1.2.3: "
        "read: connection reset by peer"
    )
    assert said.match(registry_lines[0]) and registry_lines[0].startswith("    registry:")
