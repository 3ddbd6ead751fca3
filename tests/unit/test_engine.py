"""dlc_tasks.clients.engine: push stream errors are raised, classified, retried (docker-py 3161)."""

from __future__ import annotations

import http.client
import io
import json
import os
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker
import pytest
import requests
import urllib3
from docker.errors import APIError

from dlc_tasks.clients.credentials import CredentialHelperError, Credentials
from dlc_tasks.clients.engine import Engine, classify_stream_error, stream_lines
from dlc_tasks.clients.workspace import copy_out
from dlc_tasks.config import Retries, Timeouts
from dlc_tasks.errors import (
    DeadlineExceeded,
    EngineError,
    Inactive,
    PullError,
    PushError,
    RegistryAuthError,
)

DIGEST = "sha256:" + "a" * 64
NO_WAIT = Retries(attempts=3, base_delay=0, max_delay=0)


@pytest.mark.parametrize(
    ("message", "kind"),
    [
        ("denied: requested access to the resource is denied", "auth"),
        ("unauthorized: authentication required", "auth"),
        ("read: connection reset by peer", "transient"),
        ("received unexpected HTTP status: 500 Internal Server Error", "transient"),
        ("toomanyrequests: rate limit exceeded", "transient"),
        ("net/http: TLS handshake timeout", "transient"),
        ("manifest invalid", "fatal"),
        ("blob unknown to registry", "fatal"),
    ],
)
def test_classify_stream_error(message: str, kind: str) -> None:
    assert classify_stream_error(message) == kind


def test_a_registry_port_in_a_fatal_message_does_not_make_it_transient() -> None:
    """BUG: status codes are matched as bare substrings, so the local registry's port
    5000 (or a digest holding "500"/"401") changes the class of an error: a fatal
    "manifest invalid" naming 127.0.0.1:5000 is retried as transient."""
    message = "manifest invalid: 127.0.0.1:5000/arcodange/dance-lessons-coach:1.2.3"
    assert classify_stream_error(message) == "fatal"


class FakeAPI:
    """The docker SDK's low-level client, as far as push uses it: one stream per call."""

    def __init__(self, *streams: list[dict[str, Any]]) -> None:
        self.streams = list(streams)
        self.calls: list[dict[str, Any]] = []

    def push(self, repository: str, **kwargs: Any) -> Iterator[dict[str, Any]]:
        self.calls.append({"repository": repository, **kwargs})
        return iter(self.streams.pop(0))

    def pull(self, repository: str, **kwargs: Any) -> Iterator[dict[str, Any]]:
        self.calls.append({"repository": repository, **kwargs})
        stream = self.streams.pop(0)
        if isinstance(stream, Exception):
            raise stream
        return iter(stream)

    def version(self) -> dict[str, Any]:
        return {"Version": "20.10.24", "ApiVersion": "1.41"}

    def info(self) -> dict[str, Any]:
        return {"CgroupDriver": "cgroupfs", "CgroupVersion": "1"}


def push(api: FakeAPI, credentials: Credentials | None = None) -> tuple[str, list[str]]:
    lines: list[str] = []
    engine = Engine(api)  # type: ignore[arg-type]
    digest = engine.push(
        "127.0.0.1:5000/org/app",
        "1.2.3",
        credentials=credentials,
        retries=NO_WAIT,
        output=lines.append,
        progress=lambda layer, status, current, total: lines.append(f"    {layer}: {status}"),
    )
    return digest, lines


def test_stream_error_is_not_success() -> None:
    api = FakeAPI(
        [
            {"status": "Preparing"},
            {"errorDetail": {"message": "manifest invalid"}, "error": "manifest invalid"},
        ]
    )
    with pytest.raises(PushError, match="manifest invalid"):
        push(api)
    assert len(api.calls) == 1  # fatal: no retry


def test_error_detail_without_error_key_is_still_an_error() -> None:
    api = FakeAPI([{"errorDetail": {"message": "manifest invalid"}}])
    with pytest.raises(PushError, match="manifest invalid"):
        push(api)


def test_transient_errors_are_retried_until_the_digest_comes() -> None:
    reset = {"errorDetail": {"message": "read: connection reset by peer"}}
    api = FakeAPI(
        [{"status": "Preparing", "id": "l1"}, reset],
        [reset],
        [
            {"status": "Pushed", "id": "l1"},
            {"status": "1.2.3: digest: ... size: 528"},
            {"aux": {"Tag": "1.2.3", "Digest": DIGEST, "Size": 528}},
        ],
    )
    digest, lines = push(api)
    assert digest == DIGEST
    assert len(api.calls) == 3
    assert all(c["tag"] == "1.2.3" and c["stream"] and c["decode"] for c in api.calls)
    assert sum("retry" in line for line in lines) == 2
    assert "    l1: Pushed" in lines


def test_transient_errors_on_every_try_become_push_error() -> None:
    reset = {"error": "received unexpected HTTP status: 502 Bad Gateway"}
    api = FakeAPI([reset], [reset], [reset])
    with pytest.raises(PushError, match="after 3 tries"):
        push(api)
    assert len(api.calls) == 3


def test_auth_error_is_not_retried() -> None:
    denied = {
        "errorDetail": {"message": "denied: requested access to the resource is denied"},
        "error": "denied: requested access to the resource is denied",
    }
    api = FakeAPI([denied], [{"aux": {"Digest": DIGEST}}])
    with pytest.raises(RegistryAuthError, match="denied"):
        push(api)
    assert len(api.calls) == 1


def test_a_stream_without_a_digest_is_a_failure() -> None:
    api = FakeAPI([{"status": "Preparing"}, {"status": "Pushed", "id": "l1"}])
    with pytest.raises(PushError, match="no digest"):
        push(api)


def pull(api: FakeAPI) -> list[str]:
    lines: list[str] = []
    Engine(api).pull(  # type: ignore[arg-type]
        "127.0.0.1:5000/org/app", DIGEST, credentials=None, retries=NO_WAIT, output=lines.append
    )
    return lines


@pytest.mark.parametrize(
    "streams",
    [
        [docker.errors.NotFound("manifest unknown")],
        [[{"error": "manifest invalid"}]],
        [[{"error": "read: connection reset by peer"}]] * 3,
    ],
    ids=["not-found", "fatal-in-stream", "transient-every-try"],
)
def test_a_failed_pull_is_a_pull_error_not_a_push_error(streams: list[Any]) -> None:
    with pytest.raises(PullError) as caught:
        pull(FakeAPI(*streams))
    assert not isinstance(caught.value, PushError)
    assert "pull" in str(caught.value) or "not in the registry" in str(caught.value)


def test_credentials_are_passed_as_auth_config() -> None:
    api = FakeAPI([{"aux": {"Digest": DIGEST}}])
    push(api, Credentials("ci", "s3cret"))
    assert api.calls[0]["auth_config"] == {"username": "ci", "password": "s3cret"}
    api = FakeAPI([{"aux": {"Digest": DIGEST}}])
    push(api)
    assert api.calls[0]["auth_config"] is None


def test_stream_lines_joins_partial_chunks() -> None:
    chunks = [b"ok  \tpkg/a", b"\t0.01s\nFAIL", b"\npartial"]
    assert list(stream_lines(iter(chunks))) == ["ok  \tpkg/a\t0.01s", "FAIL", "partial"]


class VanishingAPI:
    """An engine that went away: every call fails as requests fails on a dead socket."""

    def __getattr__(self, name: str) -> Any:
        def fail(*args: Any, **kwargs: Any) -> Any:
            raise requests.exceptions.ConnectionError(
                "('Connection aborted.', ConnectionResetError(104))"
            )

        return fail


class FailingAPI:
    """An engine answering 500 to exec_create."""

    def exec_create(self, *args: Any, **kwargs: Any) -> Any:
        raise APIError("500 Server Error: Internal Server Error")


def test_an_engine_that_vanishes_during_a_go_step_is_one_line() -> None:
    engine = Engine(VanishingAPI())  # type: ignore[arg-type]
    with pytest.raises(EngineError, match=r"failed during exec: .*Connection aborted") as caught:
        engine.exec("c1", ["go", "test", "./..."], workdir="/w", user="0:0")
    assert "\n" not in caught.value.one_line()
    with pytest.raises(EngineError, match="during image id"):
        engine.image_id("x:1")


def test_an_engine_answering_500_during_a_go_step_is_one_line() -> None:
    engine = Engine(FailingAPI())  # type: ignore[arg-type]
    with pytest.raises(EngineError, match="go test in the container: 500 Server Error"):
        engine.exec("c1", ["go", "test", "./..."], workdir="/w", user="0:0")


class ExecStream:
    """The hijacked socket of an exec (``exec_start(socket=True)``): the chunks as the
    engine's multiplexed frames (stdout), read with ``recv``, then close()."""

    def __init__(self, chunks: list[bytes]) -> None:
        data = b"".join(struct.pack(">BxxxL", 1, len(c)) + c for c in chunks)
        self.data = io.BytesIO(data)
        self.closed = False
        self.timeout: float | None = None

    def settimeout(self, seconds: float | None) -> None:
        self.timeout = seconds

    def recv(self, size: int) -> bytes:
        return self.data.read(size)

    def close(self) -> None:
        self.closed = True


class ExecAPI:
    """The low-level client, as far as ``Engine.exec`` uses it."""

    def __init__(self, stream: ExecStream) -> None:
        self.stream = stream

    def exec_create(self, container: str, argv: list[str], **_: Any) -> dict[str, str]:
        return {"Id": "e1"}

    def exec_start(self, exec_id: str, socket: bool) -> ExecStream:
        return self.stream

    def exec_inspect(self, exec_id: str) -> dict[str, int]:
        return {"ExitCode": 0}


def test_exec_closes_the_stream_it_read() -> None:
    """One socket per Go command was left to the garbage collector (a ResourceWarning)."""
    stream = ExecStream([b"ok  \texample.com/x\n"])
    result = Engine(ExecAPI(stream)).exec("c1", ["go", "test"], workdir="/w", user="0:0")  # type: ignore[arg-type]
    assert result.lines == ["ok  \texample.com/x"]
    assert stream.closed


def test_a_creds_store_helper_failing_its_list_before_a_build_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With credsStore set, the docker SDK runs ``docker-credential-NAME list`` before every
    build (to hand the engine base-image logins); a helper failing there is one line naming
    config.json, not an unexpected CredentialsNotFound with a traceback."""
    helper = tmp_path / "bin" / "docker-credential-brokenlist"
    helper.parent.mkdir()
    helper.write_text("#!/bin/sh\necho 'credentials not found in native keychain'\nexit 1\n")
    helper.chmod(0o755)
    (tmp_path / "config.json").write_text(json.dumps({"credsStore": "brokenlist"}))
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    monkeypatch.setenv("PATH", f"{helper.parent}:{os.environ['PATH']}")
    api = docker.APIClient(base_url="unix:///nonexistent/docker.sock", version="1.41")
    with pytest.raises(CredentialHelperError) as caught:
        Engine(api).build(io.BytesIO(b"x"), tag="r/o/x:1", buildargs={}, output=print)
    line = caught.value.one_line()
    assert str(tmp_path / "config.json") in line and "list its logins" in line
    assert "\n" not in line


class BreakingStream(ExecStream):
    """A stream whose socket breaks after the first chunk, as a dying engine's does."""

    def __init__(self, fault: BaseException) -> None:
        super().__init__([b"ok  \texample.com/x\n"])
        self.fault = fault

    def recv(self, size: int) -> bytes:
        data = self.data.read(size)
        if not data:
            raise self.fault
        return data


MID_STREAM_FAULTS = [
    ConnectionResetError(104, "Connection reset by peer"),
    urllib3.exceptions.ProtocolError("Connection broken: IncompleteRead(0 bytes read)"),
    http.client.IncompleteRead(b""),
    requests.exceptions.ChunkedEncodingError("Connection broken: InvalidChunkLength"),
]


@pytest.mark.parametrize("fault", MID_STREAM_FAULTS, ids=lambda f: type(f).__name__)
def test_an_engine_vanishing_mid_stream_in_a_go_step_is_one_line(fault: BaseException) -> None:
    stream = BreakingStream(fault)
    with pytest.raises(EngineError, match="the Docker engine failed during exec") as caught:
        Engine(ExecAPI(stream)).exec("c1", ["go", "test"], workdir="/w", user="0:0")  # type: ignore[arg-type]
    assert "\n" not in caught.value.one_line()
    assert stream.closed


class ArchiveAPI:
    """get_archive whose chunks are read lazily, after the call returned, and then break."""

    def __init__(self, fault: BaseException) -> None:
        self.fault = fault

    def get_archive(self, container: str, path: str) -> tuple[Iterator[bytes], dict[str, Any]]:
        def chunks() -> Iterator[bytes]:
            yield b"\0" * 512
            raise self.fault

        return chunks(), {}


@pytest.mark.parametrize("fault", MID_STREAM_FAULTS, ids=lambda f: type(f).__name__)
def test_an_engine_vanishing_while_the_results_are_read_back_is_one_line(
    fault: BaseException, tmp_path: Path
) -> None:
    engine = Engine(ArchiveAPI(fault))  # type: ignore[arg-type]
    with pytest.raises(EngineError, match="during get archive") as caught:
        copy_out(engine, "c1", tmp_path, "/workspace", {})
    assert "\n" not in caught.value.one_line()
    assert not list((tmp_path / ".dlc").glob("copy-back-*"))


def test_a_creds_store_helper_that_never_answers_before_a_build_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The SDK runs ``docker-credential-NAME list`` before every build with no deadline: a
    helper that never answered stalled the build forever, printing nothing."""
    helper = tmp_path / "bin" / "docker-credential-stuck"
    helper.parent.mkdir()
    helper.write_text("#!/bin/sh\nsleep 1000\n")
    helper.chmod(0o755)
    (tmp_path / "config.json").write_text(json.dumps({"credsStore": "stuck"}))
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    monkeypatch.setenv("PATH", f"{helper.parent}:{os.environ['PATH']}")
    api = docker.APIClient(base_url="unix:///nonexistent/docker.sock", version="1.41")
    engine = Engine(api)
    engine.set_timeouts(Timeouts(helper=0.5))
    with pytest.raises(DeadlineExceeded) as caught:
        engine.build(io.BytesIO(b"x"), tag="r/o/x:1", buildargs={}, output=print)
    line = caught.value.one_line()
    assert "docker-credential-stuck (list)" in line and "dlc.timeouts.helper" in line


class SilentStreams:
    """An engine whose push and build streams stop: the read times out, as urllib3 says."""

    timeout = 600
    _auth_configs = None
    credstore_env = None

    def _stall(self, *args: Any, **kwargs: Any) -> Iterator[dict[str, Any]]:
        yield {"status": "Preparing", "id": "layer1"}
        raise urllib3.exceptions.ReadTimeoutError(None, "/push", "Read timed out.")  # type: ignore[arg-type]

    push = _stall
    build = _stall

    def version(self) -> dict[str, Any]:
        return {"Version": "20.10.24", "ApiVersion": "1.41"}

    def info(self) -> dict[str, Any]:
        return {"SecurityOptions": [], "CgroupDriver": "cgroupfs"}


@pytest.mark.parametrize("what", ["push", "build"])
def test_a_push_or_build_stream_that_stops_is_one_inactivity_line(what: str) -> None:
    """Before the fix a stream read timing out was ``the Docker engine failed during push:
    … Read timed out``, naming no setting."""
    engine = Engine(SilentStreams())  # type: ignore[arg-type]
    engine.set_timeouts(Timeouts(inactivity=7))
    with pytest.raises(Inactive) as caught:
        if what == "push":
            engine.push("r/o/x", "1", credentials=None, retries=Retries(attempts=1), output=print)
        else:
            engine.build(io.BytesIO(b"x"), tag="r/o/x:1", buildargs={}, output=print)
    line = caught.value.one_line()
    assert f"the Docker engine's {what} printed nothing" in line
    assert "for 7 s" in line and "dlc.timeouts.inactivity" in line
