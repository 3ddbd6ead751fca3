"""Nothing waits forever: a credential helper, git, a registry or a token server that never
answers (or answers a byte at a time) ends the run in one line naming what did not answer
and the ``dlc.timeouts`` setting that changes the deadline.

Real programs and real sockets on loopback; the deadlines are set short so the tests are
quick, and nothing here measures time: a deadline that did not hold would hang the test.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from dlc_tasks.clients.credentials import Credentials, lookup
from dlc_tasks.clients.git import head, uncommitted
from dlc_tasks.clients.registry import RegistryClient
from dlc_tasks.clients.registry.session import RegistrySession
from dlc_tasks.clients.registry.tokens import TokenFetcher
from dlc_tasks.config import Retries, Settings
from dlc_tasks.errors import ConfigError, DeadlineExceeded, DlcError, RegistryError
from tests.support.fakes import make_project, settings_for

ONE_TRY = Retries(attempts=1, base_delay=0.0, max_delay=0.0, timeout=0.5)


def program(folder: Path, name: str, body: str) -> Path:
    """A shell script on a PATH of its own."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)
    return path


def test_a_credential_helper_that_never_answers_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before the fix the docker SDK waited for the helper forever, printing nothing."""
    program(tmp_path / "bin", "docker-credential-stuck", "sleep 1000")
    (tmp_path / "config.json").write_text(json.dumps({"credsStore": "stuck"}))
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}:{os.environ['PATH']}")
    with pytest.raises(DeadlineExceeded) as caught:
        lookup("r.example:5000", helper_deadline=0.5)
    line = caught.value.one_line()
    assert "docker-credential-stuck" in line and "r.example:5000" in line
    assert "did not answer within 0.5 s" in line and "dlc.timeouts.helper" in line


@pytest.mark.parametrize("call", ["head", "uncommitted"])
def test_a_git_that_never_answers_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, call: str
) -> None:
    program(tmp_path / "bin", "git", "sleep 1000")
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}:{os.environ['PATH']}")
    with pytest.raises(DeadlineExceeded) as caught:
        if call == "head":
            head(tmp_path, deadline=0.5)
        else:
            uncommitted(tmp_path, [tmp_path / "x.go"], deadline=0.5)
    line = caught.value.one_line()
    assert "git rev-parse" in line and "dlc.timeouts.git" in line


class Silent:
    """A TCP server on loopback that accepts connections and then, per ``mode``, never
    answers (``silent``) or answers one header byte at a time, forever (``trickle``)."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen()
        self.stop = threading.Event()
        self.accepted: list[socket.socket] = []
        self.serving = threading.Thread(target=self._serve, daemon=True)
        self.serving.start()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.listener.getsockname()[1]}"

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.accepted.append(conn)
            if self.mode == "trickle":
                threading.Thread(target=self._trickle, args=(conn,), daemon=True).start()

    def _trickle(self, conn: socket.socket) -> None:
        with_headers = b"HTTP/1.1 200 OK\r\n" + b"X-Slow: " + b"a" * 10_000
        for byte in with_headers:
            if self.stop.wait(0.1):  # a byte every 0.1 s: each read returns well in time
                return
            try:
                conn.sendall(bytes([byte]))
            except OSError:
                return

    def close(self) -> None:
        self.stop.set()
        with contextlib.suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)  # wakes the accept() below
        self.listener.close()
        self.serving.join()
        for conn in self.accepted:
            conn.close()


@pytest.fixture(params=["silent", "trickle"])
def silent(request: pytest.FixtureRequest) -> Iterator[Silent]:
    server = Silent(request.param)
    yield server
    server.close()
    # The requests the deadline gave up on end as their connections close: wait for them,
    # then collect, so whatever they held is released here and not in a later test.
    for thread in threading.enumerate():
        if thread.name == "dlc-registry-request":
            thread.join()
    gc.collect()


def test_a_registry_that_accepts_and_never_answers_is_one_line(silent: Silent) -> None:
    """Before the fix: a silent registry gave ``unreachable: Read timed out`` naming no
    setting; one trickling its answer a byte at a time kept every read alive and the run
    waited forever (requests' timeout is per read, not for the request)."""
    client = RegistryClient(silent.address, retries=ONE_TRY)
    with pytest.raises(RegistryError) as caught:
        client.ping()
    line = caught.value.one_line()
    assert f"{silent.address} did not answer GET http://{silent.address}/v2/" in line
    assert "within 0.5 s" in line and "dlc.timeouts.request" in line


def test_a_token_server_that_never_answers_is_one_line(silent: Silent) -> None:
    fetcher = TokenFetcher(
        "127.0.0.1:5000", RegistrySession(), True, 0.5, Credentials("ci", "pw", source="t")
    )
    with pytest.raises(Exception) as caught:  # a Transient: the transport retries it
        fetcher.fetch(f"http://{silent.address}/token", "svc", "repository:o/r:pull")
    assert "the token server did not answer within 0.5 s" in str(caught.value)
    assert "dlc.timeouts.request" in getattr(caught.value, "hint", "")


def test_timeouts_are_settings_checked_up_front(tmp_path: Path) -> None:
    project = make_project(tmp_path / "m")
    made = settings_for(project, timeouts={"helper": 2, "inactivity": "5"})
    assert made.timeouts.helper == 2.0 and made.timeouts.inactivity == 5.0
    assert made.timeouts.request == made.retries.timeout == 30.0
    for bad in ({"request": 0}, {"git": "soon"}, {"git": True}, {"gti": 1}, {"helper": 1e999}):
        with pytest.raises(ConfigError) as caught:
            settings_for(project, timeouts=bad)
        assert "dlc.timeouts" in caught.value.one_line()
    with pytest.raises(ConfigError, match=r"dlc\.timeouts\.request"):
        settings_for(project, retries={"timeout": 5})
    assert isinstance(Settings, type) and issubclass(DeadlineExceeded, DlcError)
