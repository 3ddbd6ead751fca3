"""The registry's error body becomes the error line, with the fix each code calls for.

A registry on 127.0.0.1 (plain HTTP, in this process) answers every request with the
status and body a test gives it, as Distribution answers a refusal: ``{"errors": [{"code",
"message", "detail"}]}``. The client's error names the code and the message, and the hint
is the code's, not the generic "check dlc.registry".
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from dlc_tasks.clients.registry import RegistryClient
from dlc_tasks.clients.registry.errorbody import Fault, describe, read
from dlc_tasks.config import Retries
from dlc_tasks.errors import (
    RegistryAuthError,
    RegistryError,
    RegistryRefused,
    RegistryUnsupported,
)

DIGEST = "sha256:" + "a" * 64
ONCE = Retries(attempts=1, base_delay=0.0, max_delay=0.0, timeout=5.0)
GENERIC = RegistryError.hint


def body(*errors: tuple[str, str]) -> bytes:
    return json.dumps(
        {"errors": [{"code": c, "message": m, "detail": None} for c, m in errors]}
    ).encode()


@dataclass
class Answering:
    """Answers every request with ``status``, ``body`` and ``headers``."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    seen: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def _server() -> Iterator[tuple[Answering, str]]:
    """One server for the module (a shutdown waits for its poll); each test resets it."""
    answer = Answering()

    class Handler(BaseHTTPRequestHandler):
        def _handle(self) -> None:
            answer.seen.append(f"{self.command} {self.path}")
            self.send_response(answer.status)
            payload = b"" if self.command == "HEAD" else answer.body
            for key, value in {"Content-Type": "application/json", **answer.headers}.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_HEAD = do_DELETE = _handle

        def log_message(self, *_: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield answer, f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def answering(_server: tuple[Answering, str]) -> tuple[Answering, RegistryClient]:
    answer, address = _server
    answer.status, answer.body, answer.headers = 200, b"", {}
    answer.seen.clear()
    return answer, RegistryClient(address, retries=ONCE)


def test_a_delete_refused_as_unsupported_says_deletes_are_disabled_and_how_to_enable_them(
    answering: tuple[Answering, RegistryClient],
) -> None:
    answer, client = answering
    answer.status, answer.body = 405, body(("UNSUPPORTED", "The operation is unsupported."))
    with pytest.raises(RegistryUnsupported) as caught:
        client.delete_manifest("acme/fake-build-cache", DIGEST)
    line = caught.value.one_line()
    assert f"DELETE acme/fake-build-cache@{DIGEST}: the registry answered 405" in line
    assert "UNSUPPORTED: The operation is unsupported." in line
    assert f"deletes are disabled on {client.registry}" in line
    assert "REGISTRY_STORAGE_DELETE_ENABLED=true" in line
    assert GENERIC not in line
    assert caught.value.codes == ("UNSUPPORTED",)


def test_a_bare_405_to_a_delete_is_read_as_deletes_disabled_too(
    answering: tuple[Answering, RegistryClient],
) -> None:
    answer, client = answering
    answer.status, answer.body = 405, b""
    with pytest.raises(RegistryUnsupported) as caught:
        client.delete_manifest("acme/fake", DIGEST)
    assert "deletes are disabled" in caught.value.one_line()


@pytest.mark.parametrize(
    ("code", "message", "fix"),
    [
        ("NAME_UNKNOWN", "repository name not known to registry", "check dlc.org and dlc.repo"),
        ("MANIFEST_UNKNOWN", "manifest unknown", "push it first"),
        ("NAME_INVALID", "invalid repository name", "the repository name is refused"),
    ],
)
def test_a_404_names_its_code_and_the_fix(
    answering: tuple[Answering, RegistryClient], code: str, message: str, fix: str
) -> None:
    answer, client = answering
    answer.status, answer.body = 404, body((code, message))
    with pytest.raises(RegistryRefused) as caught:
        client.image_config("acme/fake", "1.2.3")
    line = caught.value.one_line()
    assert f"GET acme/fake:1.2.3: the registry answered 404 {code}: {message}" in line
    assert fix in line and GENERIC not in line
    assert caught.value.codes == (code,)


def test_denied_is_an_auth_error_saying_the_credentials_lack_the_right(
    answering: tuple[Answering, RegistryClient],
) -> None:
    answer, client = answering
    answer.status = 403
    answer.body = body(("DENIED", "requested access to the resource is denied"))
    with pytest.raises(RegistryAuthError) as caught:
        client.tags("acme/fake")
    line = caught.value.one_line()
    assert "answered 403 to the request DENIED: requested access to the resource is denied" in line
    assert "not allowed this" in line and "(pull, push, delete)" in line


def test_unauthorized_without_a_challenge_keeps_the_login_hint(
    answering: tuple[Answering, RegistryClient],
) -> None:
    answer, client = answering
    answer.status, answer.body = 401, body(("UNAUTHORIZED", "authentication required"))
    with pytest.raises(RegistryAuthError) as caught:
        client.ping()
    line = caught.value.one_line()
    assert "UNAUTHORIZED: authentication required" in line
    assert "DLC_REGISTRY_USERNAME" in line


def test_too_many_requests_after_the_last_try_names_the_rate_limit_and_the_settings(
    answering: tuple[Answering, RegistryClient],
) -> None:
    answer, client = answering
    answer.status = 429
    answer.body = body(("TOOMANYREQUESTS", "you have reached your pull rate limit"))
    with pytest.raises(RegistryError) as caught:
        client.tags("acme/fake")
    line = caught.value.one_line()
    assert "429" in line and "TOOMANYREQUESTS: you have reached your pull rate limit" in line
    assert "dlc.retries.attempts" in line
    assert len(answer.seen) == ONCE.attempts


def test_a_429_without_a_body_is_still_read_as_a_rate_limit(
    answering: tuple[Answering, RegistryClient],
) -> None:
    answer, client = answering
    answer.status, answer.body = 429, b""
    with pytest.raises(RegistryError) as caught:
        client.tags("acme/fake")
    assert "the registry limits the request rate" in caught.value.one_line()


def test_a_body_that_is_not_an_error_body_keeps_the_generic_line(
    answering: tuple[Answering, RegistryClient],
) -> None:
    answer, client = answering
    answer.status, answer.body = 400, b"<html>Bad Request</html>"
    answer.headers = {"Content-Type": "text/html"}
    with pytest.raises(RegistryRefused) as caught:
        client.tags("acme/fake")
    assert caught.value.one_line() == (
        f"GET http://{client.registry}/v2/acme/fake/tags/list: the registry answered 400 "
        f"({GENERIC})"
    )
    assert caught.value.codes == ()


def test_many_entries_stay_one_short_line() -> None:
    many = body(*[("BLOB_UNKNOWN", "blob unknown\nto registry " + "x" * 500)] * 40)
    faults = read(many)
    assert len(faults) == 40
    text = describe(faults)
    assert "\n" not in text and text.endswith("(and 37 more)")
    assert len(text) < 800


@pytest.mark.parametrize(
    "raw",
    [b"", b"null", b"[]", b'{"errors": "no"}', b'{"errors": [1, {"code": 5}]}', b"\xff\xfe"],
)
def test_anything_but_an_error_body_reads_as_no_entries(raw: bytes) -> None:
    assert read(raw) == []


def test_codes_are_read_in_upper_case_and_messages_on_one_line() -> None:
    assert read(b'{"errors": [{"code": "denied", "message": "no\\nway"}]}') == [
        Fault("DENIED", "no way")
    ]
