"""The Distribution token exchange: one bearer token per (realm, service, scope).

Follows the Distribution token specification and what the docker engine does:

* with an ``identitytoken`` (an OAuth2 refresh token from ``docker login``):
  ``POST realm`` with ``grant_type=refresh_token``; a realm that answers 404/405
  to the POST is asked again with ``GET``;
* with a username and password: ``GET realm?service=…&scope=…`` with basic auth;
  a realm that answers that with 404/405 is asked with an OAuth2 ``POST``
  ``grant_type=password``;
* with nothing: an anonymous ``GET`` (public repositories).

Credentials are sent to the realm only over https (plain http only on loopback),
and never follow a redirect to another host. Every failure is one line naming
the registry, the realm and the credential *source* (never the secret).
"""

from __future__ import annotations

import contextlib
import datetime
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from dlc_tasks.clients.retry import Transient
from dlc_tasks.config import is_loopback
from dlc_tasks.errors import RegistryAuthError

if TYPE_CHECKING:
    import requests

    from dlc_tasks.clients.credentials import Credentials

# The specification's default when a token server does not say.
DEFAULT_EXPIRES_IN = 60
CLIENT_ID = "dlc-tasks"
MAX_REDIRECTS = 3


class TokenError(RegistryAuthError):
    """The token server refused, was unreachable, or answered something that is not a token."""

    hint = "check the credentials (inv doctor names their source) and that the token server is up"


@dataclass(frozen=True)
class Token:
    """A bearer token and the monotonic time after which it is not used any more."""

    value: str = field(repr=False)
    expires_at: float

    def valid(self, now: float) -> bool:
        """True while the token may still be sent."""
        return now < self.expires_at


def check_realm(realm: str, registry: str, with_credentials: bool) -> None:
    """Refuse a realm that credentials must not go to (not https, except loopback)."""
    parts = urllib.parse.urlsplit(realm)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise TokenError(f"{registry}: the registry named an unusable token realm {realm!r}")
    if parts.scheme == "http" and with_credentials and not is_loopback(parts.netloc):
        raise TokenError(
            f"{registry}: refused to send credentials to the token realm {realm} over plain http",
            hint="the registry's token realm must be https (plain http only on loopback)",
        )


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

    def fetch(self, realm: str, service: str, scope: str) -> Token:
        """A new token for ``scope`` from ``realm``; TokenError or Transient on failure."""
        creds = self.credentials
        check_realm(realm, self.registry, creds is not None)
        if creds is not None and creds.identity_token:
            response = self._post(realm, service, scope, "refresh_token")
            if response.status_code in (404, 405):
                response = self._get(realm, service, scope)
        else:
            response = self._get(realm, service, scope)
            if creds is not None and response.status_code in (404, 405):
                response = self._post(realm, service, scope, "password")
        return self._token(realm, response)

    def _get(self, realm: str, service: str, scope: str) -> requests.Response:
        params = {k: v for k, v in (("service", service), ("scope", scope)) if v}
        auth = None
        if self.credentials is not None and not self.credentials.identity_token:
            auth = (self.credentials.username, self.credentials.password)
            params["account"] = self.credentials.username
        return self._send("GET", realm, scope, params=params, auth=auth)

    def _post(self, realm: str, service: str, scope: str, grant: str) -> requests.Response:
        creds = self.credentials
        if creds is None:  # only called with credentials
            raise self.fail(realm, "failed: an OAuth2 grant needs credentials")
        form = {"grant_type": grant, "service": service, "client_id": CLIENT_ID}
        if scope:
            form["scope"] = scope
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
        try:
            response = self.session.request(
                method,
                realm,
                timeout=self.timeout,
                verify=self.verify,
                allow_redirects=False,  # a redirect never carries credentials to another host
                **kwargs,
            )
        except requests.exceptions.SSLError:
            raise self.fail(
                realm,
                "failed: cannot verify the token server's TLS certificate",
                hint="set dlc.ca_file to the CA that signed it",
            ) from None
        except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as err:
            raise Transient(
                f"token exchange for {self.registry} at {realm} (credentials: {self.source}) "
                f"failed: the token server is unreachable ({type(err).__name__})"
            ) from None
        if response.is_redirect:
            target = urllib.parse.urljoin(realm, response.headers.get("Location", ""))
            if urllib.parse.urlsplit(target).netloc != urllib.parse.urlsplit(realm).netloc:
                raise self.fail(
                    realm, f"failed: redirected to another host ({target}), not followed"
                )
            if hops >= MAX_REDIRECTS:
                raise self.fail(realm, f"failed: more than {MAX_REDIRECTS} redirects")
            check_realm(target, self.registry, self.credentials is not None)
            return self._send(method, target, scope, hops + 1, **kwargs)
        return response

    def _token(self, realm: str, response: requests.Response) -> Token:
        status = response.status_code
        if status == 429 or status >= 500:
            raise Transient(
                f"token exchange for {self.registry} at {realm} (credentials: {self.source}) "
                f"failed: the token server answered {status}"
            )
        if status in (401, 403):
            if self.credentials is None:
                raise self.fail(realm, f"was refused ({status}): this registry needs credentials")
            raise self.fail(realm, f"was refused ({status}): wrong or expired credentials")
        if status != 200:
            raise self.fail(realm, f"failed: the token server answered {_describe(response)}")
        try:
            body = response.json()
        except ValueError:
            body = None
        token = (body.get("token") or body.get("access_token")) if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise self.fail(realm, f"failed: answered {_describe(response)}, not a token")
        try:
            expires_in = float(body.get("expires_in") or DEFAULT_EXPIRES_IN)
        except (TypeError, ValueError):
            expires_in = DEFAULT_EXPIRES_IN
        # The lifetime counts from issued_at, as the docker client counts it: a token issued
        # long ago is spent on arrival (used for this request, fetched again for the next).
        age = min(max(0.0, time.time() - _issued_at(body.get("issued_at"))), expires_in)
        return Token(token, self.clock() + expires_in - age)


def _issued_at(value: object) -> float:
    """``issued_at`` (RFC 3339) as epoch seconds; now when absent or unreadable."""
    if isinstance(value, str):
        text = value.strip().replace("Z", "+00:00")
        with contextlib.suppress(ValueError):
            return datetime.datetime.fromisoformat(text).timestamp()
    return time.time()
