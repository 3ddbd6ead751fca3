"""A Distribution token server of the test suite's own (the token specification, RS256 JWTs).

It answers ``GET /token?service=…&scope=…`` (basic auth or anonymous; a refresh
token is accepted as the basic password, as registries that take an identity
token on ``GET`` do) and the OAuth2 ``POST /token`` (``grant_type=password`` or
``refresh_token``; space-separated scopes), grants
exactly the scopes asked for to a known user (anonymous: ``pull`` only when
``anonymous_pull``), and signs a JWT with RS256 through ``openssl`` carrying
its certificate in ``x5c``, so a real Distribution registry configured with
``auth: token`` and ``rootcertbundle: server.cert`` accepts it. Every request
is logged (method, scopes, who, status), so tests can assert one token per
scope and reuse within ``expires_in``; the log holds no secret (the basic
username, never the password). ``fail_with`` makes it answer a status (503, …),
``html`` a 200 with an HTML page, as a broken proxy would, ``truncate`` a chunked
body cut short, ``expired_first`` the first token for each of those scopes
with a JWT ``exp`` already past (a registry refuses it as ``invalid_token``), and
``tamper`` rewrites every token answer (a token holding a line break, an ``expires_in``
of 400 digits: a hostile token server).

    tokens = TokenServer(tmp, users={"ci": "pw"})
    tokens.start()                   # tokens.realm is the URL for the registry config
    tokens.registry_config("svc")    # the registry's `auth:` block
"""

from __future__ import annotations

import base64
import json
import secrets
import ssl
import subprocess
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ISSUER = "dlc-test-tokens"


def _basic(handler: BaseHTTPRequestHandler) -> tuple[str | None, str]:
    """(username, password) of a basic Authorization header; (None, "") without one."""
    header = handler.headers.get("Authorization", "")
    if not header.startswith("Basic "):
        return None, ""
    name, _, password = base64.b64decode(header[6:]).decode().partition(":")
    return name, password


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass
class Request:
    """One request the token server answered."""

    method: str
    scopes: list[str]
    who: str  # a username, "refresh:<user>", or "anonymous"
    grant: str  # "get", "password", "refresh_token"
    status: int
    agent: str = ""  # the User-Agent: tells the engine's requests from the tool's
    basic_user: str = ""  # the username of a basic Authorization header, if any
    expired: bool = False  # the token issued had a JWT exp already past


@dataclass
class TokenServer:
    """A token server on 127.0.0.1 (http, or https with ``tls=(cert, key)``)."""

    folder: Path
    users: dict[str, str] = field(default_factory=dict)
    refresh_tokens: dict[str, str] = field(default_factory=dict)  # token -> user
    expires_in: int = 300
    issued_ago: int = 0  # issued_at this many seconds in the past (the JWT itself stays valid)
    anonymous_pull: bool = False
    tls: tuple[Path, Path] | None = None
    fail_with: int | None = None
    html: bool = False
    # Methods answered with a status (405: a realm without OAuth2 POST or without GET; 400,
    # 401, 404: what registries without OAuth2 answer to the POST).
    reject_methods: dict[str, int] = field(default_factory=dict)
    # Scopes whose first token carries an exp already past (then tokens are fine).
    expired_first: set[str] = field(default_factory=set)
    # Answer with a chunked body that stops mid-chunk.
    truncate: bool = False
    # Answer every request with a 307 to this URL (a realm that redirects elsewhere).
    redirect_to: str | None = None
    # False: opaque random tokens (for a fake registry that asks ``issued``), no openssl.
    sign: bool = True
    # Rewrites each 200 answer's JSON object before it is sent (a hostile token server).
    tamper: Callable[[dict[str, object]], dict[str, object]] | None = None
    log: list[Request] = field(default_factory=list)
    issued: dict[str, tuple[str, list[str], float]] = field(default_factory=dict)
    expired_tokens: set[str] = field(default_factory=set)  # for a fake registry to refuse
    # token -> the scopes granted, as "type:name:actions" (what a registry checks).
    granted: dict[str, set[str]] = field(default_factory=dict)
    _server: ThreadingHTTPServer | None = None
    _port: int = 0
    _expired_once: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        if not self.sign:
            return
        self.key = self.folder / "signing.key"
        self.cert = self.folder / "signing.crt"
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
             "-subj", f"/CN={ISSUER}", "-keyout", str(self.key), "-out", str(self.cert)],
            check=True, capture_output=True,
        )  # fmt: skip
        der = subprocess.run(
            ["openssl", "x509", "-in", str(self.cert), "-outform", "DER"],
            check=True, capture_output=True,
        ).stdout  # fmt: skip
        self.x5c = base64.b64encode(der).decode()

    # -- life cycle --------------------------------------------------------------------------

    def start(self) -> TokenServer:
        """Listen on a free loopback port, in a thread."""
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                owner._handle(self, "GET")

            def do_POST(self) -> None:
                owner._handle(self, "POST")

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if self.tls:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(str(self.tls[0]), str(self.tls[1]))
            self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self._port = int(self._server.server_address[1])
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        """Stop listening (a token server that is down)."""
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def realm(self) -> str:
        """The token endpoint's URL (still known once stopped: a server that is down)."""
        scheme = "https" if self.tls else "http"
        return f"{scheme}://127.0.0.1:{self._port}/token"

    def registry_config(self, service: str, realm: str | None = None) -> str:
        """The ``auth:`` block of a Distribution registry that trusts this server."""
        return (
            "auth:\n  token:\n"
            f"    realm: {realm or self.realm}\n    service: {service}\n"
            f"    issuer: {ISSUER}\n    rootcertbundle: {self.cert}\n"
        )

    def scopes_asked(self) -> list[str]:
        """Every scope asked for, in order (one entry per scope per request)."""
        return [scope for request in self.log for scope in request.scopes]

    # -- answering ---------------------------------------------------------------------------

    def _who(self, handler: BaseHTTPRequestHandler, form: dict[str, str]) -> tuple[str, str]:
        """(who, grant); who is "" when the credentials are wrong."""
        grant = form.get("grant_type", "get")
        if grant == "refresh_token":
            user = self.refresh_tokens.get(form.get("refresh_token", ""))
            return (f"refresh:{user}" if user else "", grant)
        if grant == "password":
            name, password = form.get("username", ""), form.get("password", "")
            return (name if self.users.get(name) == password and name else "", grant)
        user, secret = _basic(handler)
        if user is None:
            return "anonymous", grant
        if secret in self.refresh_tokens:
            return f"refresh:{self.refresh_tokens[secret]}", grant
        return (user if user in self.users and self.users[user] == secret else "", grant)

    def _handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        query = urllib.parse.urlsplit(handler.path).query
        params = urllib.parse.parse_qs(query)
        form: dict[str, str] = {}
        if method == "POST":
            length = int(handler.headers.get("Content-Length") or 0)
            body = urllib.parse.parse_qs(handler.rfile.read(length).decode())
            params = {**params, **body}
            form = {k: v[0] for k, v in body.items()}
        # GET: one `scope` parameter per scope (the token specification); POST: OAuth2's
        # space-separated list.
        scopes = params.get("scope", [])
        if method == "POST":
            scopes = [part for value in scopes for part in value.split()]
        service = (params.get("service") or [""])[0]
        who, grant = self._who(handler, form)
        expired = bool(self.expired_first.intersection(scopes) - self._expired_once)
        status, payload, kind = self._answer(who, scopes, service, expired)
        if method in self.reject_methods:
            status, payload, kind = self.reject_methods[method], b"not here", "text/plain"
        if self.redirect_to:
            status, payload, kind = 307, b"", "text/plain"
        if status == 200 and expired:
            self._expired_once.update(scopes)
        agent = handler.headers.get("User-Agent", "")
        user = _basic(handler)[0] or ""
        self.log.append(
            Request(method, scopes, who or "wrong-credentials", grant, status, agent, user,
                    expired and status == 200)
        )  # fmt: skip
        if self.truncate:
            handler.send_response(200)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Transfer-Encoding", "chunked")
            handler.end_headers()
            handler.wfile.write(b'40\r\n{"token": "cut')  # 64 bytes promised, 13 sent
            handler.close_connection = True
            return
        handler.send_response(status)
        if self.redirect_to:
            handler.send_header("Location", self.redirect_to)
        handler.send_header("Content-Type", kind)
        handler.send_header("Content-Length", str(len(payload)))
        handler.end_headers()
        handler.wfile.write(payload)

    def _answer(
        self, who: str, scopes: list[str], service: str, expired: bool = False
    ) -> tuple[int, bytes, str]:
        if self.fail_with:
            return self.fail_with, b'{"errors":[{"code":"UNAVAILABLE"}]}', "application/json"
        if self.html:
            return 200, b"<html><body>Sign in to continue</body></html>", "text/html"
        if not who:
            return 401, b'{"details":"wrong credentials"}', "application/json"
        grants: list[tuple[str, str, list[str]]] = []
        for scope in scopes:
            kind, _, rest = scope.partition(":")
            name, _, actions = rest.rpartition(":")
            granted = actions.split(",")
            if who == "anonymous":
                granted = ["pull"] if self.anonymous_pull and "pull" in granted else []
            grants.append((kind, name, granted))
        access: list[dict[str, object]] = [
            {"type": kind, "name": name, "actions": granted} for kind, name, granted in grants
        ]
        signed = self._sign(who, service, access, expired) if self.sign else None
        token = signed or secrets.token_urlsafe(24)
        self.issued[token] = (who, scopes, time.time() + self.expires_in)
        self.granted[token] = {
            f"{kind}:{name}:{','.join(granted)}" for kind, name, granted in grants
        }
        if expired:
            self.expired_tokens.add(token)
        answer = {
            "token": token,
            "access_token": token,
            "expires_in": self.expires_in,
            "issued_at": time.strftime(
                "%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - self.issued_ago)
            ),
        }
        if self.tamper is not None:
            answer = self.tamper(answer)
        return 200, json.dumps(answer).encode(), "application/json"

    def _sign(
        self, who: str, service: str, access: list[dict[str, object]], expired: bool = False
    ) -> str:
        # Distribution allows 60 s of clock skew: an expired token is an hour old.
        now = int(time.time()) - (3600 + self.expires_in if expired else 0)
        header = {"typ": "JWT", "alg": "RS256", "x5c": [self.x5c]}
        claims = {
            "iss": ISSUER,
            "sub": who,
            "aud": service,
            "exp": now + self.expires_in,
            "nbf": now - 10,
            "iat": now,
            "jti": secrets.token_hex(8),
            "access": access,
        }
        signing_input = ".".join(
            _b64url(json.dumps(part, separators=(",", ":")).encode()) for part in (header, claims)
        )
        signature = subprocess.run(
            ["openssl", "dgst", "-sha256", "-sign", str(self.key)],
            input=signing_input.encode(), check=True, capture_output=True,
        ).stdout  # fmt: skip
        return f"{signing_input}.{_b64url(signature)}"
