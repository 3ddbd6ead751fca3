"""HTTP to one registry: TLS, retries, and authentication (basic or bearer, a token per scope).

Modelled on go-containerregistry's ``pkg/v1/remote/transport``: a request is sent;
a 401 carries a challenge; a ``Basic`` challenge is answered with the
credentials (to the registry host only), a ``Bearer`` one with a token for
exactly the (realm, service, scope) the challenge names (its actions kept whole:
``pull``, ``pull,push``, ``delete``). Tokens are cached per key and reused until
``expires_in`` runs out. A 401 to a request that carried a cached token fetches
a new one; a 401 with ``error="invalid_token"`` to a token just fetched (the
registry finds it expired: clock skew, or a token server issuing stale tokens)
fetches one more, once, as containerd does; anything else refused is the API's
401. The session never takes credentials from ``~/.netrc``
(:mod:`.session`). The API layer (:mod:`.api`) passes, with each request, the scope it
needs, so a cached token for that scope is sent up front without a 401 round trip.
"""

from __future__ import annotations

import base64
import email.utils
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from dlc_tasks.clients.registry import errorbody
from dlc_tasks.clients.registry.challenge import Challenge, parse_challenge
from dlc_tasks.clients.registry.tokens import Token, TokenFetcher, utf8_pair
from dlc_tasks.clients.retry import Transient, retried
from dlc_tasks.config import Retries, is_loopback
from dlc_tasks.errors import RegistryError, RegistryTLSError

if TYPE_CHECKING:
    import requests

    from dlc_tasks.clients.credentials import Credentials

TokenKey = tuple[str, str, str]  # (realm, service, scope)
DEADLINE_HINT = "check it is up, or give it longer with dlc.timeouts.request"
T = TypeVar("T")


def retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta or HTTP date), or None."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        try:  # an HTTP date; anything else (``in a minute``) falls back to the backoff
            parsed = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        return max(0.0, parsed.timestamp() - time.time())


def short(err: Exception) -> str:
    """The useful part of a requests/urllib3 error, on one line."""
    text = str(err)
    for marker in ("certificate verify failed", "Connection refused", "Read timed out"):
        if marker in text:
            return marker
    return text.splitlines()[0][:200] if text else type(err).__name__


def jwt_actions(token: str, scope: str) -> list[str] | None:
    """The actions a Distribution JWT grants on ``scope``'s resource, or None if unreadable."""
    kind, _, rest = scope.partition(":")
    name = rest.rpartition(":")[0]
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        access = claims.get("access") or []
        actions: list[str] = []
        for entry in access:
            if entry.get("type") == kind and entry.get("name") == name:
                actions.extend(str(a) for a in entry.get("actions") or [])
    except (IndexError, ValueError, AttributeError, TypeError, RecursionError):
        return None
    return actions


class Transport:
    """Sends requests to one registry with auth, a private CA and retries."""

    def __init__(
        self,
        registry: str,
        *,
        credentials: Credentials | None = None,
        ca_file: Path | None = None,
        retries: Retries | None = None,
        say: Callable[[str], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        from dlc_tasks.clients.registry.session import RegistrySession  # noqa: PLC0415

        self.registry = registry
        self.scheme = "http" if is_loopback(registry) else "https"
        self.credentials = credentials
        self.retries = retries or Retries()
        self.say = say  # where each retry is said (retry.retry_line)
        self.clock = clock
        self.session = RegistrySession()  # kept out of `inv --list`'s start-up
        # Verification is always on: the system store, or the private CA. Passed with every
        # request, because requests lets REQUESTS_CA_BUNDLE override a session-level setting.
        self.verify: str | bool = str(ca_file) if ca_file else True
        self.ca_file = ca_file
        self.tokens: dict[TokenKey, Token] = {}
        self._key_for_scope: dict[str, TokenKey] = {}
        self._basic = False
        # The last bearer challenge seen (realm, service): what `granted` asks.
        self.bearer: Challenge | None = None
        self.fetcher = TokenFetcher(
            registry, self.session, self.verify, self.retries.timeout, credentials, clock
        )

    @property
    def base_url(self) -> str:
        """``scheme://registry``."""
        return f"{self.scheme}://{self.registry}"

    @property
    def token_log(self) -> list[tuple[str, str, str]]:
        """Every token exchange so far: (method, realm, scope)."""
        return self.fetcher.log

    def request(
        self,
        method: str,
        path: str,
        headers: dict[str, str] | None = None,
        *,
        scope: str = "",
        data: bytes | None = None,
    ) -> requests.Response:
        """One API call with retries on transient faults; returns the final response.

        ``data`` is the request body (a blob, a chunk, a manifest): bytes, so a retry
        sends it again whole.
        """
        url = f"{self.base_url}{path}"
        return self._retried(
            lambda: self._authorised(method, url, dict(headers or {}), scope, data)
        )

    def _retried(self, call: Callable[[], T]) -> T:
        """``call`` with retries on transient faults; the last one becomes a RegistryError."""
        return retried(call, self.retries, source="registry", failure=RegistryError, say=self.say)

    @property
    def auth_scheme(self) -> str:
        """``bearer``, ``basic`` or ``none``: what the registry asked for so far."""
        return "bearer" if self.bearer else "basic" if self._basic else "none"

    def granted(self, scope: str) -> list[str] | None:
        """The actions a new token for ``scope`` grants (its JWT ``access`` claim).

        Only meaningful after a bearer challenge (``ping`` first); None when the
        token is not a JWT the tool can read. Raises TokenError when refused, and
        RegistryError when the token server stays down (retried like any call).
        """
        if self.bearer is None:
            return None
        key = (self.bearer.realm, self.bearer.service, scope)
        token = self._retried(lambda: self.fetcher.fetch(*key))
        self.tokens[key] = token
        return jwt_actions(token.value, scope)

    # -- one try -----------------------------------------------------------------------------

    def _cached(self, scope: str) -> Token | None:
        key = self._key_for_scope.get(scope)
        token = self.tokens.get(key) if key else None
        return token if token and token.valid(self.clock()) else None

    def _authorised(
        self, method: str, url: str, headers: dict[str, str], scope: str, data: bytes | None = None
    ) -> requests.Response:
        sent = self._cached(scope)
        response = self._send(method, url, headers, sent, data)
        fetched = 0  # tokens fetched for this request: at most 2, the second on invalid_token
        while response.status_code == 401:
            challenge = parse_challenge(response.headers.get("WWW-Authenticate", ""))
            if challenge is None:
                return response
            if challenge.scheme == "basic":
                if self.credentials is None or self._basic:
                    return response  # nothing (more) to offer: the API turns the 401 into an error
                self._basic = True
                return self._send(method, url, headers, None, data)
            if challenge.scheme != "bearer" or not challenge.realm:
                return response
            self.bearer = challenge
            key = (challenge.realm, challenge.service, challenge.scope or scope)
            token = self.tokens.get(key)
            if token is None or token is sent or not token.valid(self.clock()):
                if fetched == 2 or (fetched == 1 and challenge.error != "invalid_token"):
                    return response  # a new token refused: the API's 401
                token = self.fetcher.fetch(*key)
                fetched += 1
                self.tokens[key] = token
            if scope:
                self._key_for_scope[scope] = key
            sent = token
            response = self._send(method, url, headers, token, data)
        return response

    def _send(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        token: Token | None,
        data: bytes | None = None,
    ) -> requests.Response:
        import requests  # noqa: PLC0415

        auth = None
        if token is not None:
            headers = {**headers, "Authorization": f"Bearer {token.value}"}
        elif self._basic and self.credentials is not None:
            auth = utf8_pair((self.credentials.username, self.credentials.password))
        try:
            # requests drops Authorization when a redirect leaves the host (blob storage).
            response = self.session.request(
                method,
                url,
                headers=headers,
                auth=auth,
                data=data,
                timeout=self.retries.timeout,
                verify=self.verify,
            )
        except requests.exceptions.SSLError as err:
            where = f"dlc.ca_file={self.ca_file}" if self.ca_file else "no dlc.ca_file set"
            raise RegistryTLSError(
                f"cannot verify the TLS certificate of {self.registry} ({where}): {short(err)}"
            ) from err
        except requests.exceptions.Timeout as err:
            raise Transient(
                f"{self.registry} did not answer {method} {url} within {self.retries.timeout:g} s",
                hint=DEADLINE_HINT,
            ) from err
        except requests.exceptions.ConnectionError as err:
            raise Transient(f"{self.registry} unreachable: {short(err)}") from err
        except requests.exceptions.ChunkedEncodingError as err:
            cut = f"{self.registry}: the answer to {method} {url} was cut short"
            raise Transient(cut) from err
        except requests.exceptions.RequestException as err:
            raise RegistryError(f"{method} {url} failed: {short(err)}") from err
        if response.status_code == 429 or response.status_code >= 500:
            faults = errorbody.read(response.content)
            said = f" {errorbody.describe(faults)}" if faults else ""
            code = faults[0].code if faults else "TOOMANYREQUESTS" * (response.status_code == 429)
            raise Transient(
                f"{self.registry} answered {response.status_code} to {method} {url}{said}",
                retry_after(response.headers.get("Retry-After")),
                hint=errorbody.hint(code, method=method, registry=self.registry),
            )
        return response
