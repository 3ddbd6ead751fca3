"""No input ends in a traceback: every parser of outside input, driven with hypothesis.

Outside input is what the tool does not write itself: a registry's ``WWW-Authenticate``
header, a token server's answer, a credential helper's output, ``auths`` in
``~/.docker/config.json``, ``VERSION``, the registry's JSON bodies, and file names in the
module. Whatever they hold, only :class:`~dlc_tasks.errors.DlcError` comes out (one line for
the user), never a ``JSONDecodeError``, ``KeyError``, ``TypeError``, ``OverflowError`` or
``UnicodeEncodeError``. (Tag lists and the ``Link`` header belong to the pagination work;
settings from the environment to the functional-core issue.)
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dlc_tasks.clients import credhelper
from dlc_tasks.clients.credentials import Credentials, lookup
from dlc_tasks.clients.git import uncommitted
from dlc_tasks.clients.registry import RegistryClient
from dlc_tasks.clients.registry.challenge import parse_challenge, parse_challenges
from dlc_tasks.clients.registry.tokens import TokenFetcher
from dlc_tasks.errors import CredentialHelperError, DlcError, RegistryAnswerError
from dlc_tasks.model import sourcetree
from dlc_tasks.model.versionfile import parse_version
from dlc_tasks.reporting.console import Console
from tests.support.fakes import commit_all
from tests.support.tokenserver import TokenServer
from tests.unit.test_registry_auth import FakeRegistry

# Any JSON document: what a hostile server or a broken helper may print.
JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**400), max_value=10**400)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)
# Token answers: mostly objects with the keys a token server sends, of any type.
TOKEN_KEYS = ("token", "access_token", "expires_in", "issued_at", "refresh_token")
TOKEN_ANSWERS = st.one_of(
    JSON,
    st.dictionaries(st.sampled_from(TOKEN_KEYS), JSON, max_size=5),
    st.fixed_dictionaries(
        {"token": st.text(min_size=1)},
        optional={"expires_in": JSON, "issued_at": st.text() | JSON},
    ),
)
PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def response(body: bytes, status: int = 200, kind: str = "application/json") -> Any:
    made = requests.models.Response()
    made.status_code = status
    made._content = body
    made.headers["Content-Type"] = kind
    made.url = "http://127.0.0.1:1/x"
    return made


def only_dlc_errors(call: Any) -> Any:
    try:
        return call()
    except DlcError as err:
        line = err.one_line()
        assert "\n" not in line
        return err


# -- WWW-Authenticate ------------------------------------------------------------------------


@PROPERTY
@given(st.text())
def test_any_challenge_header_parses_without_an_exception(header: str) -> None:
    for challenge in parse_challenges(header):
        assert isinstance(challenge.params, dict)
        assert all(isinstance(v, str) for v in challenge.params.values())
    parse_challenge(header)


@PROPERTY
@given(st.text(alphabet=st.characters(blacklist_characters='"\\,'), min_size=1))
def test_an_unterminated_quoted_value_keeps_its_last_character(value: str) -> None:
    value = value.split(maxsplit=1)[0] if value.split() else "x"
    challenge = parse_challenge(f'Bearer realm="{value}')
    assert challenge is not None and challenge.realm == value


def test_an_unterminated_quoted_realm_is_read_whole() -> None:
    """Before the fix the last character was cut: ``https://auth.example/toke``."""
    challenge = parse_challenge('Bearer realm="https://auth.example/token')
    assert challenge is not None and challenge.realm == "https://auth.example/token"


# -- token answers ---------------------------------------------------------------------------


def fetcher() -> TokenFetcher:
    return TokenFetcher("127.0.0.1:5000", requests.Session(), True, 5.0, None)


@PROPERTY
@given(TOKEN_ANSWERS)
def test_any_token_answer_is_a_token_or_one_line(answer: Any) -> None:
    body = json.dumps(answer, allow_nan=True).encode()
    made = only_dlc_errors(lambda: fetcher()._token("http://127.0.0.1/t", response(body)))
    if not isinstance(made, DlcError):
        assert 0 <= made.expires_at - fetcher().clock() <= 24 * 3600 + 1  # at most a day


@PROPERTY
@given(st.binary(max_size=300), st.sampled_from(["application/json", "text/html", ""]))
def test_any_token_body_is_a_token_or_one_line(body: bytes, kind: str) -> None:
    only_dlc_errors(lambda: fetcher()._token("http://127.0.0.1/t", response(body, kind=kind)))


@pytest.mark.parametrize(
    "answer",
    [
        b'{"token": "abc", "expires_in": ' + b"9" * 400 + b"}",
        b'{"token": "abc", "expires_in": -' + b"9" * 400 + b"}",
        b'{"token": "abc", "expires_in": "soon", "issued_at": "0001-01-01T00:00:00+14:00"}',
        b'{"token": "abc", "expires_in": true, "issued_at": 5}',
        '{"token": "eyJ\u96ea"}'.encode(),
        b'{"token": "' + b"a" * 100_000 + b'"}',
        b"[" * 100_000,
    ],
    ids=[
        "400-digits",
        "minus-400-digits",
        "odd-dates",
        "wrong-types",
        "non-latin-1",
        "huge",
        "deep",
    ],
)
def test_token_answers_that_broke_the_tool(answer: bytes) -> None:
    """An expires_in of 400 digits was an OverflowError; a non-Latin-1 token a
    UnicodeEncodeError later, when sent."""
    made = only_dlc_errors(lambda: fetcher()._token("http://127.0.0.1/t", response(answer)))
    if b"abc" in answer:
        assert not isinstance(made, DlcError)


# -- credential helpers ----------------------------------------------------------------------


@PROPERTY
@given(st.one_of(st.binary(max_size=200), JSON.map(lambda v: json.dumps(v).encode())))
def test_any_helper_output_is_a_login_or_one_line(out: bytes) -> None:
    found = only_dlc_errors(lambda: credhelper._answer(out, "docker-credential-x", "r:5000"))
    assert found is None or isinstance(found, DlcError | tuple)


def helper_printing(folder: Path, name: str, out: bytes, code: int = 0) -> None:
    """A real helper that prints ``out`` and exits ``code``, whatever it is asked."""
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / f"docker-credential-{name}"
    script.write_text(
        f"#!{sys.executable}\nimport sys\nsys.stdin.read()\n"
        f"sys.stdout.buffer.write({out!r})\nsys.exit({code})\n"
    )
    script.chmod(0o755)


@pytest.mark.parametrize(
    ("out", "code", "said"),
    [
        (b"Password: hunter2-not-json", 0, "not JSON"),
        (b'{"User": "a", "Pass": "b"}', 0, "no Username and Secret"),
        (b"[1, 2]", 0, "not an object"),
        (b'{"Username": 7, "Secret": ["x"]}', 0, "no Username and Secret"),
        (b"\xff\xfe not utf-8", 0, "not JSON"),
        (b"keychain locked", 3, "exit code 3"),
    ],
    ids=["non-json", "wrong-keys", "list", "wrong-types", "not-utf8", "fails"],
)
def test_a_helper_answering_anything_but_a_login_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, out: bytes, code: int, said: str
) -> None:
    """Before the fix: JSONDecodeError, KeyError 'Username', TypeError, with a traceback."""
    helper_printing(tmp_path / "bin", "odd", out, code)
    (tmp_path / "config.json").write_text(json.dumps({"credsStore": "odd"}))
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}:{os.environ['PATH']}")
    with pytest.raises(CredentialHelperError) as caught:
        lookup("r.example:5000")
    line = caught.value.one_line()
    assert said in line and "docker-credential-odd" in line and "\n" not in line
    assert "hunter2" not in line  # what a helper printed is never echoed: it may be the secret


# -- config.json ------------------------------------------------------------------------------


@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    st.one_of(
        JSON,
        st.fixed_dictionaries(
            {},
            optional={
                "auths": st.one_of(
                    JSON,
                    st.dictionaries(
                        st.sampled_from(["r.example:5000", "https://r.example:5000", "x"]),
                        st.one_of(
                            JSON,
                            st.dictionaries(
                                st.sampled_from(["auth", "identitytoken", "email"]),
                                st.one_of(st.text(), JSON, st.just("YTpi"), st.just("!!")),
                            ),
                        ),
                    ),
                ),
                "credsStore": JSON,
                "credHelpers": JSON,
            },
        ),
    )
)
def test_any_config_json_gives_credentials_or_one_line(document: Any) -> None:
    folder = Path(os.environ["HYPOTHESIS_CONFIG_DIR"])
    (folder / "config.json").write_text(json.dumps(document))
    only_dlc_errors(lambda: lookup("r.example:5000", helper_deadline=5))


@pytest.fixture(autouse=True)
def _config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test's DOCKER_CONFIG is its own (helpers named in it are not on PATH)."""
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    monkeypatch.setenv("HYPOTHESIS_CONFIG_DIR", str(tmp_path))


def test_a_config_json_that_is_not_utf8_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_bytes(b'{"auths": {"\xff": {}}}')
    assert isinstance(only_dlc_errors(lambda: lookup("r.example:5000")), DlcError)


# -- VERSION ---------------------------------------------------------------------------------


@PROPERTY
@given(
    st.one_of(
        st.text(),
        st.lists(
            st.tuples(
                st.sampled_from(["MAJOR", "MINOR", "PATCH", "PRERELEASE", "X", "export MAJOR"]),
                st.text(max_size=12) | st.integers(-(10**30), 10**400).map(str),
            ),
            max_size=6,
        ).map(lambda pairs: "\n".join(f"{k}={v}" for k, v in pairs)),
    )
)
def test_any_version_file_parses_or_is_one_line(text: str) -> None:
    only_dlc_errors(lambda: parse_version(text))


# -- registry bodies -------------------------------------------------------------------------


@PROPERTY
@given(
    st.one_of(st.binary(max_size=200), JSON.map(lambda v: json.dumps(v).encode())),
    st.sampled_from(["application/json", "text/html; charset=utf-8", ""]),
)
def test_any_registry_body_is_an_object_or_one_line(body: bytes, kind: str) -> None:
    client = RegistryClient("127.0.0.1:5000")
    only_dlc_errors(lambda: client.json_body(response(body, kind=kind), "GET /v2/o/r/manifests/1"))


def test_an_html_answer_names_the_registry_the_request_and_the_status() -> None:
    client = RegistryClient("127.0.0.1:5000")
    page = response(b"<html>Sign in</html>", kind="text/html")
    with pytest.raises(RegistryAnswerError) as caught:
        client.json_body(page, "GET /v2/o/r/manifests/1")
    line = caught.value.one_line()
    assert "127.0.0.1:5000" in line and "GET /v2/o/r/manifests/1" in line
    assert "200" in line and "text/html" in line and "not JSON" in line


def test_a_manifest_answered_with_html_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    """``image_config`` (``inv hash --explain``) read a proxy's HTML page as JSON: before the
    fix an unexpected JSONDecodeError naming neither the registry nor the call."""
    client = RegistryClient("127.0.0.1:5000")
    monkeypatch.setattr(client, "request", lambda *a, **k: response(b"<html/>", kind="text/html"))
    with pytest.raises(RegistryAnswerError, match=r"127\.0\.0\.1:5000 answered GET"):
        client.image_config("o/r-build-cache", "abc")
    answers = iter([response(b'{"config": ["not", "an", "object"]}'), response(b"{}")])
    monkeypatch.setattr(client, "request", lambda *a, **k: next(answers))
    with pytest.raises(DlcError, match="has no image configuration"):
        client.image_config("o/r-build-cache", "abc")


# -- file names in any encoding --------------------------------------------------------------


@pytest.fixture
def latin1_module(tmp_path: Path) -> Path:
    """A committed module, then an untracked file and an ignored one whose names are Latin-1
    bytes (not UTF-8), as a file copied from an old archive has."""
    root = tmp_path / "module"
    root.mkdir()
    (root / "go.mod").write_text("module example.com/m\n\ngo 1.22\n")
    (root / ".gitignore").write_text("*.ignored\n")
    commit_all(root)
    names = [b"caf\xe9.go", b"r\xe9sum\xe9.ignored"]
    for name in names:
        (root / os.fsdecode(name)).write_bytes(b"package m\n")
    return root


def test_a_file_name_that_is_not_utf8_is_digested_and_seen_as_a_change(
    latin1_module: Path,
) -> None:
    """Before the fix: UnicodeEncodeError in sourcetree.digest and in check-ignore's input."""
    before = sourcetree.digest(latin1_module)
    (latin1_module / os.fsdecode(b"caf\xe9.go")).write_bytes(b"package m // edited\n")
    assert sourcetree.digest(latin1_module) != before
    files = sourcetree.iter_files(latin1_module)
    changed = uncommitted(latin1_module, files)
    assert sorted(os.fsencode(name) for name in changed) == [b"caf\xe9.go", b"r\xe9sum\xe9.ignored"]


def test_a_utf8_name_digests_as_before(tmp_path: Path) -> None:
    """Names that are UTF-8 hash to the same bytes as before (no cache invalidated)."""
    (tmp_path / "é.go").write_text("package m\n")
    inner = hashlib.sha256(b"package m\n").digest()
    outer = hashlib.sha256("é.go\x000\x0010\x00".encode() + inner).hexdigest()
    assert sourcetree.digest(tmp_path) == outer


# -- credentials of any characters -----------------------------------------------------------


@pytest.mark.parametrize("mode", ["basic", "token"])
def test_a_password_outside_latin1_logs_in(tmp_path: Path, mode: str) -> None:
    """requests encodes basic auth as Latin-1: a password holding 雪 was a UnicodeEncodeError
    with a traceback; the docker CLI sends UTF-8, and so does the tool now."""
    password = 'p"ä\\雪-secret'
    tokens = TokenServer(tmp_path / "t", users={"ci": password}, sign=False).start()
    fake = FakeRegistry(tokens, basic={"ci": password} if mode == "basic" else None).start()
    try:
        creds = Credentials("ci", password, source="test")
        assert RegistryClient(fake.address, credentials=creds).tags("o/r") == ["a", "b"]
    finally:
        tokens.stop()
        assert fake.server is not None
        fake.server.shutdown()
        fake.server.server_close()


def test_a_file_name_that_is_not_utf8_prints_in_errors_and_console_lines() -> None:
    """The dirty check names such a file; stdout is strict UTF-8, so printing its surrogate
    was a UnicodeEncodeError of its own."""
    name = os.fsdecode(b"caf\xe9.go")
    line = DlcError(f"the tree has uncommitted changes under CI: {name}").one_line()
    assert line.endswith("caf\\xe9.go") and line.encode("utf-8")
    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding="utf-8", errors="strict")
    Console(stream=stream).line(f"changed: {name}")
    assert b"changed: caf\\xe9.go" in raw.getvalue()
