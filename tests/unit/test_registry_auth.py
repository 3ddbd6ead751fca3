"""The registry transport's auth against a fake registry and the suite's token server (loopback).

The fake registry asks, as Distribution does, for a bearer token per repository
scope (``pull`` to read, ``delete`` to delete: Distribution's ``app.go`` asks
exactly that for a manifest ``DELETE``) and checks each token against the
actions the token server granted; a token the token server issued already
expired is refused with ``error="invalid_token"``, as Distribution refuses an
expired JWT. It can also ask for basic auth, send a basic challenge before its
bearer one, ask for two scopes at once, or name a realm of the test's choosing.
"""

from __future__ import annotations

import base64
import calendar
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

from dlc_tasks.clients.credentials import Credentials
from dlc_tasks.clients.registry import RegistryClient, TokenError, parse_challenge
from dlc_tasks.clients.registry.tokens import TokenFetcher, _issued_at
from dlc_tasks.config import Retries
from dlc_tasks.errors import RegistryAuthError, RegistryError
from tests.support.tokenserver import TokenServer

SERVICE = "fake-registry"
SECRET = "pw-s3cret"
CREDS = Credentials("ci", SECRET, source="environment (DLC_REGISTRY_USERNAME)")
FAST = Retries(attempts=2, base_delay=0.0, max_delay=0.0, timeout=5.0)


@dataclass
class FakeRegistry:
    """Distribution's auth behaviour, on 127.0.0.1, over an in-memory tag list."""

    tokens: TokenServer
    realm: str | None = None  # default: the token server's
    basic: dict[str, str] | None = None  # user -> password: basic auth instead of tokens
    revoked: set[str] = field(default_factory=set)
    unauthorised: int = 0
    deleted: list[str] = field(default_factory=list)
    basic_seen: list[str] = field(default_factory=list)
    # Challenge with `Basic realm="fake", Bearer …` (two challenges in one header).
    basic_first: bool = False
    # A second scope the challenge names, space-separated after the first.
    extra_scope: str = ""
    # Refuse every token as invalid_token (a registry whose clock is far ahead).
    refuse_all: bool = False
    server: ThreadingHTTPServer | None = None

    @property
    def address(self) -> str:
        assert self.server is not None
        return f"127.0.0.1:{self.server.server_address[1]}"

    def required(self, method: str, path: str) -> str:
        if path == "/v2/":
            return ""
        name = (
            path[len("/v2/") :].split("/manifests/", maxsplit=1)[0].split("/tags/", maxsplit=1)[0]
        )
        return f"repository:{name}:{'delete' if method == 'DELETE' else 'pull'}"

    def allowed(self, header: str, scope: str) -> bool | str:
        """True, False (no or wrong credentials) or "invalid_token" (an expired token)."""
        if self.basic is not None:
            if not header.startswith("Basic "):
                return False
            self.basic_seen.append(header)
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
            return self.basic.get(user) == password
        if not header.startswith("Bearer "):
            return False
        token = header[7:]
        issued = self.tokens.issued.get(token)
        if issued is None or token in self.revoked:
            return False
        if self.refuse_all or token in self.tokens.expired_tokens:
            return "invalid_token"
        return not scope or scope in self.tokens.granted[token]

    def answer(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        scope = self.required(method, handler.path)
        verdict = self.allowed(handler.headers.get("Authorization", ""), scope)
        if verdict is not True:
            self.unauthorised += 1
            handler.send_response(401)
            if self.basic is not None:
                handler.send_header("WWW-Authenticate", 'Basic realm="fake"')
            else:
                realm = self.realm or self.tokens.realm
                scopes = " ".join(s for s in (scope, self.extra_scope) if s)
                extra = f',scope="{scopes}"' if scopes else ""
                if verdict == "invalid_token":
                    extra += ',error="invalid_token"'
                challenge = f'Bearer realm="{realm}",service="{SERVICE}"{extra}'
                if self.basic_first:
                    challenge = f'Basic realm="fake", {challenge}'
                handler.send_header("WWW-Authenticate", challenge)
            handler.send_header("Content-Length", "0")
            handler.end_headers()
            return
        body = b'{"name":"x","tags":["a","b"]}' if "/tags/" in handler.path else b"{}"
        if method == "DELETE":
            self.deleted.append(handler.path)
            body = b""
        handler.send_response(202 if method == "DELETE" else 200)
        if "/manifests/" in handler.path:
            handler.send_header("Docker-Content-Digest", "sha256:" + "a" * 64)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        if method != "HEAD":
            handler.wfile.write(body)

    def start(self) -> FakeRegistry:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                owner.answer(self, "GET")

            def do_HEAD(self) -> None:
                owner.answer(self, "HEAD")

            def do_DELETE(self) -> None:
                owner.answer(self, "DELETE")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self


@pytest.fixture
def tokens(tmp_path: Path) -> Iterator[TokenServer]:
    server = TokenServer(tmp_path / "tokens", users={"ci": SECRET}, sign=False).start()
    yield server
    server.stop()


@pytest.fixture
def fake(tokens: TokenServer) -> Iterator[FakeRegistry]:
    registry = FakeRegistry(tokens).start()
    yield registry
    assert registry.server is not None
    registry.server.shutdown()
    registry.server.server_close()


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def client(
    fake: FakeRegistry, creds: Credentials | None = CREDS, clock: Clock | None = None
) -> RegistryClient:
    c = RegistryClient(fake.address, credentials=creds, retries=FAST)
    if clock is not None:
        c.transport.clock = clock
        c.transport.fetcher.clock = clock
    return c


# -- challenges ------------------------------------------------------------------------------


def test_a_scope_with_comma_separated_actions_is_kept_whole() -> None:
    challenge = parse_challenge(
        'Bearer realm="https://auth.example/token",service="reg",scope="repository:o/r:pull,delete"'
    )
    assert challenge is not None
    assert challenge.scheme == "bearer"
    assert challenge.realm == "https://auth.example/token"
    assert challenge.service == "reg"
    assert challenge.scope == "repository:o/r:pull,delete"


def test_basic_and_unquoted_challenges_parse() -> None:
    basic = parse_challenge('Basic realm="Registry Realm"')
    assert basic is not None and basic.scheme == "basic" and basic.realm == "Registry Realm"
    bare = parse_challenge("Bearer realm=https://a/token,service=s")
    assert bare is not None and bare.service == "s" and bare.realm == "https://a/token"
    assert parse_challenge("") is None


# -- tokens per scope ------------------------------------------------------------------------


def test_one_token_per_scope_reused_within_its_lifetime(
    fake: FakeRegistry, tokens: TokenServer
) -> None:
    c = client(fake)
    assert c.tags("org/repo-build-cache") == ["a", "b"]
    assert c.manifest_digest("org/repo-build-cache", "h1")
    assert c.tags("org/repo") == ["a", "b"]  # another repository: its own token
    assert c.manifest_digest("org/repo", "1.0.0")
    assert c.tags("org/repo-build-cache") == ["a", "b"]
    assert tokens.scopes_asked() == [
        "repository:org/repo-build-cache:pull",
        "repository:org/repo:pull",
    ]
    assert fake.unauthorised == 2  # one challenge per scope; later calls send the cached token


def test_delete_asks_for_the_scope_the_registry_names(
    fake: FakeRegistry, tokens: TokenServer
) -> None:
    c = client(fake)
    c.delete_manifest("o/r", "sha256:" + "b" * 64)
    assert tokens.scopes_asked() == ["repository:o/r:delete"]
    assert fake.deleted == [f"/v2/o/r/manifests/sha256:{'b' * 64}"]


@pytest.mark.parametrize(
    ("expires_in", "reused_at", "spent_at"),
    [(60, 30, 61), (10, 50, 61)],  # under 60 s counts as 60, as docker/distribution's session.go
    ids=["expires_in", "lifetime_under_60_seconds_counts_as_60"],
)
def test_an_expired_token_is_not_sent_and_a_new_one_is_fetched(
    fake: FakeRegistry, tokens: TokenServer, expires_in: int, reused_at: int, spent_at: int
) -> None:
    tokens.expires_in = expires_in
    clock = Clock()
    c = client(fake, clock=clock)
    c.tags("o/r")
    clock.now += reused_at
    c.tags("o/r")
    assert len(tokens.log) == 1  # reused within its lifetime
    clock.now += spent_at - reused_at
    c.tags("o/r")
    assert len(tokens.log) == 2  # expired: asked again
    assert fake.unauthorised == 2


def test_a_token_lifetime_counts_from_issued_at(fake: FakeRegistry, tokens: TokenServer) -> None:
    tokens.expires_in, tokens.issued_ago = 300, 200
    clock = Clock()
    c = client(fake, clock=clock)
    c.tags("o/r")
    clock.now += 90
    c.tags("o/r")
    assert len(tokens.log) == 1  # 200 + 90 < 300: still valid
    clock.now += 20
    c.tags("o/r")
    assert len(tokens.log) == 2  # 200 + 110 > 300: spent, asked again


def test_a_token_the_registry_stops_accepting_is_replaced_once(
    fake: FakeRegistry, tokens: TokenServer
) -> None:
    c = client(fake)
    c.tags("o/r")
    fake.revoked.update(tokens.issued)  # the registry's clock says it expired
    assert c.tags("o/r") == ["a", "b"]
    assert len(tokens.log) == 2


def test_anonymous_tokens_when_no_credentials(fake: FakeRegistry, tokens: TokenServer) -> None:
    tokens.anonymous_pull = True
    assert client(fake, creds=None).tags("public/repo") == ["a", "b"]
    assert [(r.who, r.grant) for r in tokens.log] == [("anonymous", "get")]


def test_an_identitytoken_uses_the_oauth2_refresh_token_grant(
    fake: FakeRegistry, tokens: TokenServer
) -> None:
    tokens.refresh_tokens["rt-1"] = "ci"
    creds = Credentials("<token>", identity_token="rt-1", source="credential helper desktop")
    assert client(fake, creds=creds).tags("o/r") == ["a", "b"]
    assert [(r.method, r.who, r.grant) for r in tokens.log] == [
        ("POST", "refresh:ci", "refresh_token")
    ]


def test_a_realm_without_get_is_asked_with_the_oauth2_password_grant(
    fake: FakeRegistry, tokens: TokenServer
) -> None:
    tokens.reject_methods = {"GET": 405}
    assert client(fake).tags("o/r") == ["a", "b"]
    assert [(r.method, r.status) for r in tokens.log] == [("GET", 405), ("POST", 200)]
    assert tokens.log[1].grant == "password"


@pytest.mark.parametrize("refusal", [400, 401, 404, 405])
def test_a_realm_refusing_the_oauth2_post_is_asked_with_get_and_the_identity_token(
    fake: FakeRegistry, tokens: TokenServer, refusal: int
) -> None:
    """As containerd: POST refused with 400 (ACR), 401 (Artifactory), 404 (GCR) or 405, then
    GET with basic auth; anonymous gets nothing here, so the GET must carry the token."""
    tokens.reject_methods = {"POST": refusal}
    tokens.refresh_tokens["rt-1"] = "ci"
    creds = Credentials("<token>", identity_token="rt-1", source="config.json")
    assert client(fake, creds=creds).tags("o/r") == ["a", "b"]
    assert [(r.method, r.status) for r in tokens.log] == [("POST", refusal), ("GET", 200)]
    assert tokens.log[1].who == "refresh:ci" and tokens.log[1].basic_user == "<token>"


# -- failures: one line naming registry, realm and credential source, never the secret --------


def assert_one_line(err: Exception, *parts: str) -> str:
    line = err.one_line() if hasattr(err, "one_line") else str(err)
    assert "\n" not in line
    for part in parts:
        assert part in line, line
    assert SECRET not in line
    return line


def test_a_wrong_password_names_registry_realm_and_source(
    fake: FakeRegistry, tokens: TokenServer
) -> None:
    wrong = Credentials("ci", "not-it", source="environment (DLC_REGISTRY_USERNAME)")
    with pytest.raises(TokenError) as caught:
        client(fake, creds=wrong).tags("o/r")
    line = assert_one_line(caught.value, fake.address, tokens.realm, "environment", "401")
    assert "not-it" not in line


def test_a_token_server_that_is_down_is_one_line_after_retries(
    fake: FakeRegistry, tokens: TokenServer
) -> None:
    realm = tokens.realm
    tokens.stop()
    with pytest.raises(RegistryError) as caught:
        client(fake).tags("o/r")
    assert_one_line(caught.value, fake.address, realm, "unreachable", "environment")


@pytest.mark.parametrize(
    ("fault", "said"),
    [("fail_with", "answered 503"), ("truncate", "answer was cut short")],
    ids=["503", "answer_cut_short"],
)
def test_a_token_server_answering_503_is_one_line(
    fake: FakeRegistry, tokens: TokenServer, fault: str, said: str
) -> None:
    """A 503, or a chunked answer that stops midway: retried, then one line."""
    setattr(tokens, fault, 503 if fault == "fail_with" else True)
    with pytest.raises(RegistryError) as caught:
        client(fake).tags("o/r")
    assert_one_line(caught.value, fake.address, tokens.realm, "environment", said)
    assert len(tokens.log) == FAST.attempts


def test_a_token_server_answering_html_is_not_wrong_password_advice(
    fake: FakeRegistry, tokens: TokenServer
) -> None:
    tokens.html = True
    with pytest.raises(TokenError) as caught:
        client(fake).tags("o/r")
    assert_one_line(caught.value, fake.address, tokens.realm, "text/html, not a token")


# -- where credentials go ---------------------------------------------------------------------


def test_a_plain_http_realm_on_another_host_gets_no_credentials(
    fake: FakeRegistry, tokens: TokenServer
) -> None:
    fake.realm = "http://192.0.2.10:8080/token"  # TEST-NET: nothing may be sent there
    with pytest.raises(TokenError) as caught:
        client(fake).tags("o/r")
    assert_one_line(caught.value, "refused to send credentials", "http://192.0.2.10:8080/token")
    assert tokens.log == []


def test_a_redirect_to_another_host_is_not_followed(
    fake: FakeRegistry, tokens: TokenServer, tmp_path: Path
) -> None:
    elsewhere = TokenServer(tmp_path / "elsewhere", users={"ci": SECRET}, sign=False).start()
    try:
        tokens.redirect_to = elsewhere.realm.replace("127.0.0.1", "localhost")
        with pytest.raises(TokenError) as caught:
            client(fake).tags("o/r")
        assert_one_line(caught.value, "redirected to another host")
        assert elsewhere.log == []
    finally:
        elsewhere.stop()


def test_basic_auth_registries_get_credentials_only_after_their_challenge(
    fake: FakeRegistry,
) -> None:
    fake.basic = {"ci": SECRET}
    c = client(fake)
    assert c.tags("o/r") == ["a", "b"]
    assert c.tags("o/r") == ["a", "b"]
    assert fake.unauthorised == 1  # then basic is sent up front
    fake.basic = {"ci": "other"}
    with pytest.raises(RegistryAuthError):
        c.tags("o/r")


def test_redirects_on_the_realm_host_are_followed_a_bounded_number_of_times(
    fake: FakeRegistry, tokens: TokenServer
) -> None:
    tokens.redirect_to = tokens.realm + "?again"  # same host: followed, but not forever
    with pytest.raises(TokenError) as caught:
        client(fake).tags("o/r")
    assert_one_line(caught.value, "more than 3 redirects")
    assert len(tokens.log) == 4


# -- audit: where credentials go (userinfo, loopback look-alikes, remote registries) ----------


@pytest.mark.parametrize(
    "realm",
    [
        "http://localhost:80@evil.example/token",  # the host is evil.example
        "http://127.0.0.1:1@evil.example/token",
        "http://user:pw@127.0.0.1:{port}/token",  # userinfo, even on loopback
    ],
)
def test_a_realm_with_userinfo_is_refused_before_anything_is_sent(
    fake: FakeRegistry, tokens: TokenServer, realm: str
) -> None:
    fake.realm = realm.format(port=tokens.realm.rsplit(":", 1)[1].split("/")[0])
    with pytest.raises(TokenError) as caught:
        client(fake).tags("o/r")
    assert_one_line(caught.value, fake.address, "refused", "environment")
    assert tokens.log == []


def test_a_remote_registry_naming_a_loopback_http_realm_gets_no_credentials(
    tokens: TokenServer,
) -> None:
    """Plain http to loopback is allowed only when the registry itself is on loopback: a
    remote registry must not make the tool send credentials to a service on this machine."""
    fetcher = TokenFetcher("registry.example.com", requests.Session(), True, 5.0, CREDS)
    with pytest.raises(TokenError) as caught:
        fetcher.fetch(tokens.realm, SERVICE, "repository:o/r:pull")
    assert_one_line(caught.value, "registry.example.com", tokens.realm, "plain http")
    assert tokens.log == []


# -- audit: ~/.netrc never replaces our Authorization, nor reaches a realm --------------------


@pytest.fixture
def netrc_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A HOME whose .netrc holds credentials for 127.0.0.1 (every server of these tests)."""
    home = tmp_path / "home"
    home.mkdir()
    netrc = home / ".netrc"
    netrc.write_text("machine 127.0.0.1 login netrc-user password netrc-secret\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("NETRC", raising=False)
    return home


def test_netrc_credentials_never_replace_the_bearer_token(
    netrc_home: Path, fake: FakeRegistry, tokens: TokenServer
) -> None:
    assert client(fake).tags("o/r") == ["a", "b"]
    assert fake.basic_seen == [] and fake.unauthorised == 1
    assert [r.basic_user for r in tokens.log] == ["ci"]


def test_netrc_credentials_never_reach_a_realm_asked_anonymously(
    netrc_home: Path, fake: FakeRegistry, tokens: TokenServer
) -> None:
    tokens.anonymous_pull = True
    assert client(fake, creds=None).tags("o/r") == ["a", "b"]
    assert [(r.who, r.basic_user) for r in tokens.log] == [("anonymous", "")]


def test_netrc_credentials_never_replace_basic_auth(netrc_home: Path, fake: FakeRegistry) -> None:
    fake.basic = {"ci": SECRET}
    assert client(fake).tags("o/r") == ["a", "b"]
    assert all("bmV0cmMt" not in h for h in fake.basic_seen)  # base64 of "netrc-"


# -- audit: several challenges, several scopes --------------------------------------------------


def test_bearer_is_chosen_over_a_basic_challenge_before_it(
    fake: FakeRegistry, tokens: TokenServer
) -> None:
    fake.basic_first = True
    assert client(fake).tags("o/r") == ["a", "b"]
    assert fake.basic_seen == []
    assert tokens.scopes_asked() == ["repository:o/r:pull"]


def test_parse_challenges_reads_every_challenge() -> None:
    from dlc_tasks.clients.registry.challenge import parse_challenges  # noqa: PLC0415

    header = 'Basic realm="x", Bearer realm="https://a/t",service="s",scope="repository:o/r:pull"'
    assert [c.scheme for c in parse_challenges(header)] == ["basic", "bearer"]
    chosen = parse_challenge(header)
    assert chosen is not None and chosen.scheme == "bearer" and chosen.service == "s"
    assert chosen.scopes == ["repository:o/r:pull"]


def test_a_challenge_with_two_scopes_asks_for_both_as_separate_parameters(
    fake: FakeRegistry, tokens: TokenServer
) -> None:
    fake.extra_scope = "repository:o/base:pull"
    assert client(fake).tags("o/r") == ["a", "b"]
    assert [r.scopes for r in tokens.log] == [["repository:o/r:pull", "repository:o/base:pull"]]


def test_an_oauth2_post_sends_two_scopes_space_separated(
    fake: FakeRegistry, tokens: TokenServer
) -> None:
    fake.extra_scope = "repository:o/base:pull"
    tokens.refresh_tokens["rt-1"] = "ci"
    creds = Credentials("<token>", identity_token="rt-1", source="config.json")
    assert client(fake, creds=creds).tags("o/r") == ["a", "b"]
    assert [(r.method, r.scopes) for r in tokens.log] == [
        ("POST", ["repository:o/r:pull", "repository:o/base:pull"])
    ]


# -- audit: malformed realms and broken answers are one line -----------------------------------


@pytest.mark.parametrize(
    "realm", ["https://[::1/t", "https://127.0.0.1:99999/t", "https://exa..mple.com/token"]
)
def test_a_malformed_realm_is_one_line_naming_registry_realm_and_source(
    fake: FakeRegistry, tokens: TokenServer, realm: str
) -> None:
    fake.realm = realm
    with pytest.raises(TokenError) as caught:
        client(fake).tags("o/r")
    assert_one_line(caught.value, fake.address, realm, "environment")


# -- audit: lifetimes -----------------------------------------------------------------------


def test_a_naive_issued_at_is_utc(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        expected = calendar.timegm((2026, 1, 2, 3, 4, 5, 0, 0, 0))
        assert _issued_at("2026-01-02T03:04:05") == expected
        assert _issued_at("2026-01-02T03:04:05Z") == expected
        assert _issued_at("2026-01-02T04:04:05+01:00") == expected
    finally:
        monkeypatch.undo()
        time.tzset()


def test_a_fresh_token_the_registry_calls_expired_is_fetched_once_more(
    fake: FakeRegistry, tokens: TokenServer
) -> None:
    """The registry answers invalid_token to a token it finds expired (clock skew): one new
    token, then the call succeeds; the expired one is never sent again."""
    tokens.expired_first = {"repository:o/r:pull"}
    c = client(fake)
    assert c.tags("o/r") == ["a", "b"]
    assert c.tags("o/r") == ["a", "b"]
    assert [r.expired for r in tokens.log] == [True, False]
    assert fake.unauthorised == 2  # the first anonymous try, the expired token


def test_a_registry_refusing_every_token_is_asked_twice_then_one_line(
    fake: FakeRegistry, tokens: TokenServer
) -> None:
    fake.refuse_all = True
    with pytest.raises(RegistryAuthError) as caught:
        client(fake).tags("o/r")
    assert "401" in caught.value.one_line()
    assert len(tokens.log) == 2


def test_a_loopback_registry_is_asked_directly_whatever_the_proxy_variables_say(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A developer behind a corporate proxy (http_proxy set, no no_proxy) with the local
    registry: a proxy cannot reach this machine's 127.0.0.1, so the lookups go direct;
    a registry elsewhere still goes through the proxy, as docker's own requests do."""
    from dlc_tasks.clients.registry.session import RegistrySession  # noqa: PLC0415

    monkeypatch.setenv("http_proxy", "http://proxy.corp.example:3128")
    monkeypatch.setenv("https_proxy", "http://proxy.corp.example:3128")
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)
    session = RegistrySession()
    for url in ("http://127.0.0.1:5000/v2/", "http://localhost:5000/v2/", "http://[::1]:5000/v2/"):
        assert session.merge_environment_settings(url, {}, None, None, None)["proxies"] == {}, url
    remote = session.merge_environment_settings("https://r.example.com/v2/", {}, None, None, None)
    assert remote["proxies"].get("https") == "http://proxy.corp.example:3128"
