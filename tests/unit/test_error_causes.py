"""Errors keep their cause: ``DLC_DEBUG=1`` shows the chain, masked; the CLI line stays one line.

Every conversion of a low-level fault into a :class:`~dlc_tasks.errors.DlcError` chains it
(``raise … from err``), so the traceback under ``DLC_DEBUG=1`` shows what really failed. That
traceback is text the tool writes like any other: a secret in a cause (a token in a URL, a
password in a refused header) is masked there too.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from dlc_tasks.clients.registry import RegistryClient
from dlc_tasks.config import Retries
from dlc_tasks.errors import DlcError, RegistryError, VersionFileError
from dlc_tasks.model.versionfile import read_version
from dlc_tasks.secrets import format_exception, forms_of, register
from tests.support.servers import free_loopback_port

SECRET = 'tok-"s3cret"\n-value-ä'

# A task that learns a secret and fails with an error caused by a fault holding it, run by
# Invoke's own Program in a process of its own: the traceback is printed at the top level.
SCRIPT = """
import os
from invoke import Collection, Program
from dlc_tasks.cli.task import dlc_task
from dlc_tasks.errors import RegistryError
from dlc_tasks.secrets import register

@dlc_task
def fetch(ctx):
    secret = os.environ["SECRET_FOR_TEST"]
    register(secret)
    try:
        raise ConnectionError(f"GET https://r.test/token?password={secret} refused")
    except ConnectionError as err:
        raise RegistryError("the token server refused the login") from err

Program(namespace=Collection(fetch), name="t", binary="t").run(["t", "fetch"])
"""


def _run(debug: bool) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "DLC_DEBUG"}
    env.update(SECRET_FOR_TEST=SECRET, **({"DLC_DEBUG": "1"} if debug else {}))
    return subprocess.run(
        [sys.executable, "-c", SCRIPT],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=Path(__file__).resolve().parents[2],
    )


def leaks(text: str) -> list[str]:
    return sorted(form for form in forms_of(SECRET) if form in text)


def test_without_dlc_debug_the_cli_prints_one_line_and_no_cause() -> None:
    result = _run(debug=False)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"dlc: the token server refused the login ({RegistryError.hint})"
    ]


def test_dlc_debug_shows_the_chain_of_causes_with_the_secret_masked() -> None:
    result = _run(debug=True)
    assert result.returncode == 1
    err = result.stderr
    assert "ConnectionError: GET https://r.test/token?password=*** refused" in err
    assert "The above exception was the direct cause of the following exception" in err
    assert "RegistryError: the token server refused the login" in err
    assert leaks(err) == [], err


def test_format_exception_masks_every_link_of_the_chain() -> None:
    register(SECRET)
    try:
        try:
            raise ValueError(f"bad header {SECRET!r}")
        except ValueError as err:
            raise DlcError("refused") from err
    except DlcError as caught:
        text = format_exception(caught)
    assert "ValueError: bad header" in text and "direct cause" in text
    assert leaks(text) == []


def test_a_missing_version_file_keeps_the_os_error_as_its_cause(tmp_path: Path) -> None:
    with pytest.raises(VersionFileError) as caught:
        read_version(tmp_path / "VERSION")
    assert isinstance(caught.value.__cause__, FileNotFoundError)


def test_an_unreachable_registry_keeps_the_connection_error_as_its_cause() -> None:
    client = RegistryClient(
        f"127.0.0.1:{free_loopback_port()}",
        retries=Retries(attempts=1, base_delay=0.0, max_delay=0.0, timeout=5.0),
    )
    with pytest.raises(RegistryError, match="unreachable") as caught:
        client.ping()
    chain = []
    cause: BaseException | None = caught.value
    while cause is not None:
        chain.append(type(cause).__name__)
        cause = cause.__cause__
    assert chain[:2] == ["RegistryError", "Transient"]
    assert chain[2] == "ConnectionError"  # requests' own, what DLC_DEBUG=1 shows
