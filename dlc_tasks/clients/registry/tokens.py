"""The Distribution token exchange: one bearer token per (realm, service, scope).

Follows the Distribution token specification and what the docker engine and
containerd do:

* with an ``identitytoken`` (an OAuth2 refresh token from ``docker login``):
  ``POST realm`` with ``grant_type=refresh_token``; a realm that answers the POST
  with 400, 401, 404 or 405 (ACR, Artifactory, GCR and realms without OAuth2, as
  containerd's ``remotes/docker/authorizer.go`` lists them) is asked again with
  ``GET`` and basic auth (the identity token as the password), never anonymously;
* with a username and password: ``GET realm?service=…&scope=…`` with basic auth;
  a realm that answers that with 404/405 is asked with an OAuth2 ``POST``
  ``grant_type=password``;
* with nothing: an anonymous ``GET`` (public repositories).

A scope naming several resources (space-separated) is sent as one ``scope``
parameter each on ``GET`` and space-separated in the OAuth2 form. A token lives
``expires_in`` seconds from its ``issued_at`` (UTC when the server gives no
zone), at least 60 (Distribution's ``minimumTokenLifetimeSeconds``: older
clients assumed 60, so servers must allow it).

A token is validated before it is used: an RFC 6750 ``b64token`` (letters, digits,
``-._~+/``, then ``=`` padding), at most :data:`MAX_TOKEN` characters; anything else (a
control character that would inject a header line, a non-ASCII character, a space) is
refused in one line that does not hold it. Every token and refresh token received is
registered for redaction (:mod:`dlc_tasks.secrets`) the moment it is read, valid or not.
``expires_in`` of any shape (a string, a boolean, a number of 400 digits, NaN) gives a
lifetime between 60 seconds and a day.

Credentials go to a realm only over https; plain http only when both the
registry and the realm are on loopback (a remote registry naming
``http://127.0.0.1:…`` must not make the tool send credentials to a service on
this machine). A realm whose URL carries a user name or password is refused
outright, and a redirect is followed only on the realm's own host. Every failure
is one line naming the registry, the realm and the credential *source* (never
the secret).
"""

from __future__ import annotations

import datetime
import math
import re
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from dlc_tasks.clients.credentials import TOKEN_USERNAME
from dlc_tasks.clients.retry import Transient
from dlc_tasks.config import is_loopback
from dlc_tasks.errors import TokenError
from dlc_tasks.secrets import register

if TYPE_CHECKING:
    import requests

    from dlc_tasks.clients.credentials import Credentials

# The specification's default when a token server does not say, and Distribution's minimum.
DEFAULT_EXPIRES_IN = 60
MINIMUM_LIFETIME = 60
# The longest a token is reused, whatever expires_in says (a run is shorter than that).
MAXIMUM_LIFETIME = 24 * 3600
# RFC 6750's b64token; far longer than any registry's JWT.
B64TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
MAX_TOKEN = 64 * 1024
CLIENT_ID = "dlc-tasks"
MAX_REDIRECTS = 3
# Answers to the OAuth2 POST after which the realm is asked with GET (as containerd).
POST_REFUSED = (400, 401, 404, 405)
PLAIN_HTTP_HINT = (
    "the registry's token realm must be https "
    "(plain http only when the registry and the realm are both on loopback)"
)


@dataclass(frozen=True)
class Token:
    """A bearer token and the monotonic time after which it is not used any more."""

    value: str = field(repr=False)
    expires_at: float

    def valid(self, now: float) -> bool:
        """True while the token may still be sent."""
        return now < self.expires_at


def realm_refusal(realm: str, registry: str, with_credentials: bool) -> str | None:
    """Why nothing (or no credentials) may be sent to ``realm``; None when it may.

    The host is the URL's parsed host name, never a prefix of its ``netloc``
    (``http://localhost:80@evil.example/`` is evil.example).
    """
    try:
        parts = urllib.parse.urlsplit(realm)
        host = parts.hostname
        _ = parts.port  # raises on a port out of range
    except ValueError:
        return "failed: the registry named a malformed token realm"
    if parts.scheme not in ("http", "https") or not host:
        return "failed: the registry named a token realm that is not an http(s) URL"
    if "@" in parts.netloc:
        return "refused: the token realm's URL carries a user name or password"
    local = is_loopback(registry) and is_loopback(host)
    if parts.scheme == "http" and with_credentials and not local:
        return "refused to send credentials to the token realm over plain http"
    return None


def utf8_pair(auth: tuple[str, str] | None) -> tuple[bytes, bytes] | None:
    """Basic auth's user and password as UTF-8 bytes, as the docker CLI sends them (requests
    encodes text as Latin-1 and fails on any other character)."""
    if auth is None:
        return None
    user, password = auth
    return user.encode("utf-8", "surrogateescape"), password.encode("utf-8", "surrogateescape")


def _same_host(a: str, b: str) -> bool:
    """True when two URLs name the same host and port (userinfo ignored)."""
    try:
        first, second = urllib.parse.urlsplit(a), urllib.parse.urlsplit(b)
        return (first.hostname, first.port) == (second.hostname, second.port)
    except ValueError:
        return False


def _describe(response: requests.Response) -> str:
    kind = response.headers.get("Content-Type", "no content type").split(";")[0]
    return f"{response.status_code} with {kind}"


@dataclass
class TokenFetcher:
    """Asks a realm for tokens; the transport caches what it returns."""

    registry: str
    session: requests.Session
    verify: str | bool
    timeout: float
    credentials: Credentials | None
    clock: Callable[[], float] = time.monotonic
    # (method, realm, scope) of every exchange, for diagnostics and tests.
    log: list[tuple[str, str, str]] = field(default_factory=list)

    @property
    def source(self) -> str:
        """Where the credentials came from (``none`` for anonymous)."""
        return self.credentials.source if self.credentials else "none"

    def fail(self, realm: str, what: str, hint: str | None = None) -> TokenError:
        """One line: registry, realm, credential source, what went wrong."""
        return TokenError(
            f"token exchange for {self.registry} at {realm} (credentials: {self.source}) {what}",
            hint=hint,
        )

    def check(self, realm: str) -> None:
        """Raise the one-line refusal when nothing, or no credentials, may go to ``realm``."""
        refusal = realm_refusal(realm, self.registry, self.credentials is not None)
        if refusal is not None:
            hint = PLAIN_HTTP_HINT if "plain http" in refusal else None
            raise self.fail(realm, refusal, hint=hint)

    def fetch(self, realm: str, service: str, scope: str) -> Token:
        """A new token for ``scope`` (one or more, space-separated) from ``realm``.

        TokenError, or Transient for what is worth another try.
        """
        creds = self.credentials
        self.check(realm)
        if creds is not None and creds.identity_token:
            response = self._post(realm, service, scope, "refresh_token")
            if response.status_code in POST_REFUSED:
                response = self._get(realm, service, scope)
        else:
            response = self._get(realm, service, scope)
            if creds is not None and response.status_code in (404, 405):
                response = self._post(realm, service, scope, "password")
        return self._token(realm, response)

    def _basic(self) -> tuple[str, str] | None:
        """Basic auth for a GET: (user, password) or (user, identity token); None if neither."""
        creds = self.credentials
        if creds is None:
            return None
        secret = creds.identity_token or creds.password
        user = creds.username or (TOKEN_USERNAME if creds.identity_token else "")
        return (user, secret) if user and secret else None

    def _get(self, realm: str, service: str, scope: str) -> requests.Response:
        params = [("service", service)] if service else []
        params += [("scope", part) for part in scope.split()]
        auth = self._basic()
        if auth is not None and auth[0] != TOKEN_USERNAME:
            params.append(("account", auth[0]))
        return self._send("GET", realm, scope, params=params, auth=utf8_pair(auth))

    def _post(self, realm: str, service: str, scope: str, grant: str) -> requests.Response:
        creds = self.credentials
        if creds is None:  # only called with credentials
            raise self.fail(realm, "failed: an OAuth2 grant needs credentials")
        form = {"grant_type": grant, "service": service, "client_id": CLIENT_ID}
        if scope:
            form["scope"] = " ".join(scope.split())
        if grant == "refresh_token":
            form["refresh_token"] = creds.identity_token or ""
        else:
            form.update(username=creds.username, password=creds.password)
        return self._send("POST", realm, scope, data=form)

    def _send(
        self, method: str, realm: str, scope: str, hops: int = 0, **kwargs: Any
    ) -> requests.Response:
        import requests  # noqa: PLC0415

        self.log.append((method, realm, scope))
        unreachable = (requests.exceptions.ConnectionError, requests.exceptions.Timeout)
        cut_short = (
            requests.exceptions.ChunkedEncodingError,
            requests.exceptions.ContentDecodingError,
        )
        try:
            response = self.session.request(
                method,
                realm,
                timeout=self.timeout,
                verify=self.verify,
                allow_redirects=False,  # a redirect never carries credentials to another host
                **kwargs,
            )
        except requests.exceptions.SSLError as err:
            raise self.fail(
                realm,
                "failed: cannot verify the token server's TLS certificate",
                hint="set dlc.ca_file to the CA that signed it",
            ) from err
        except requests.exceptions.Timeout as err:
            raise self.transient(
                realm,
                f"the token server did not answer within {self.timeout:g} s",
                hint="check it is up, or give it longer with dlc.timeouts.request",
            ) from err
        except unreachable as err:
            raise self.transient(
                realm, f"the token server is unreachable ({type(err).__name__})"
            ) from err
        except cut_short as err:
            raise self.transient(
                realm, f"the token server's answer was cut short ({type(err).__name__})"
            ) from err
        except (requests.exceptions.RequestException, ValueError) as err:
            # InvalidURL, urllib3's LocationParseError (a ValueError): a realm requests cannot use
            raise self.fail(
                realm, f"failed: the registry named a malformed token realm ({type(err).__name__})"
            ) from err
        if response.is_redirect:
            target = urllib.parse.urljoin(realm, response.headers.get("Location", ""))
            if not _same_host(target, realm):
                raise self.fail(
                    realm, f"failed: redirected to another host ({target}), not followed"
                )
            if hops >= MAX_REDIRECTS:
                raise self.fail(realm, f"failed: more than {MAX_REDIRECTS} redirects")
            self.check(target)
            return self._send(method, target, scope, hops + 1, **kwargs)
        return response

    def transient(self, realm: str, what: str, hint: str | None = None) -> Transient:
        """A fault worth another try, worded as :meth:`fail` words a failure."""
        return Transient(
            f"token exchange for {self.registry} at {realm} (credentials: {self.source}) "
            f"failed: {what}",
            hint=hint,
        )

    def _token(self, realm: str, response: requests.Response) -> Token:
        status = response.status_code
        if status == 429 or status >= 500:
            raise self.transient(realm, f"the token server answered {status}")
        if status in (401, 403):
            if self.credentials is None:
                raise self.fail(realm, f"was refused ({status}): this registry needs credentials")
            raise self.fail(realm, f"was refused ({status}): wrong or expired credentials")
        if status != 200:
            raise self.fail(realm, f"failed: the token server answered {_describe(response)}")
        try:
            body = response.json()
        except (ValueError, RecursionError):
            body = None
        if not isinstance(body, dict):
            raise self.fail(realm, f"failed: answered {_describe(response)}, not a token")
        for key in ("token", "access_token", "refresh_token"):
            if isinstance(body.get(key), str):
                register(body[key])  # before anything can print it
        token = body.get("token") or body.get("access_token")
        if not isinstance(token, str) or not token:
            raise self.fail(realm, f"failed: answered {_describe(response)}, not a token")
        if len(token) > MAX_TOKEN or not B64TOKEN.fullmatch(token):
            raise self.fail(
                realm,
                "failed: the token server answered a token that is not an RFC 6750 b64token "
                f"({_why_not_b64token(token)}); it was not used",
                hint="the token server is broken or hostile: tell its operator",
            )
        # As docker/distribution's session.go: at least 60 s, counted from issued_at, so a
        # token issued long ago is spent on arrival (used for this request, fetched again for
        # the next one).
        lifetime = _lifetime(body.get("expires_in"))
        left = _issued_at(body.get("issued_at")) + lifetime - time.time()
        return Token(token, self.clock() + min(lifetime, max(0.0, left)))


def _why_not_b64token(token: str) -> str:
    """What makes ``token`` unusable, without quoting any of it."""
    if len(token) > MAX_TOKEN:
        return f"{len(token)} characters, more than {MAX_TOKEN}"
    bad = next((c for c in token.rstrip("=") if not B64TOKEN.fullmatch(c)), "=")
    if bad == "=":
        return "padding in the middle"
    return f"it holds the character U+{ord(bad):04X}"


def _lifetime(value: object) -> float:
    """``expires_in`` (seconds) as a lifetime between the minimum and a day; the default for
    anything that is not a finite number."""
    seconds: float = DEFAULT_EXPIRES_IN
    if isinstance(value, int | float | str) and not isinstance(value, bool):
        try:
            parsed = float(value)
        except (ValueError, OverflowError):  # "soon"; an int of 400 digits
            parsed = math.inf if isinstance(value, int) and value > 0 else math.nan
        if not math.isnan(parsed):
            seconds = parsed
    return min(max(seconds, MINIMUM_LIFETIME), MAXIMUM_LIFETIME)


def _issued_at(value: object) -> float:
    """``issued_at`` (RFC 3339; without a zone: UTC) as epoch seconds; now when unreadable."""
    if isinstance(value, str):
        try:
            parsed = datetime.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return time.time()
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=datetime.UTC)
        try:
            return parsed.timestamp()
        except (OverflowError, ValueError, OSError):  # year 1 in a zone east of UTC
            return time.time()
    return time.time()
