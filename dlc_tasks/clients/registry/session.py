"""The HTTP session of the registry client: our Authorization header always wins.

``requests`` (with ``trust_env``, which it needs for proxies and
``REQUESTS_CA_BUNDLE``) fills in credentials from ``~/.netrc`` for any request
sent without ``auth``, replacing an ``Authorization`` header already set (our
bearer token), and applies them again after a redirect. Credentials the user
wrote for curl must not go to a token realm, nor replace the token a registry
asked for: this session never reads ``.netrc``. Every request carries exactly
the ``Authorization`` the transport set (bearer, basic, or none).

Proxies from the environment (``https_proxy`` and friends) are used, as docker uses
them, except for a registry or realm on loopback: a proxy cannot reach this
machine's 127.0.0.1, so a developer behind a corporate proxy with the local registry
would otherwise see every lookup fail (``no_proxy`` still wins for other hosts).

Every request has a hard deadline, its ``timeout``: the whole exchange (connecting, the
answer's headers and its body, a server trickling bytes included) ends within it, or
:class:`RequestDeadline` (a ``requests`` ``Timeout``) is raised; the request is left to
its own socket timeouts in a daemon thread, which ends when they do. A body larger than
:data:`MAX_BODY` is refused (:class:`BodyTooLarge`) rather than held in memory: the API's
answers (manifests, configurations, tag lists, tokens) are far smaller.
"""

from __future__ import annotations

import threading
import urllib.parse
from typing import TYPE_CHECKING, Any

import requests
from requests.auth import AuthBase

from dlc_tasks.config import is_loopback

if TYPE_CHECKING:
    from requests.models import PreparedRequest, Response

MAX_BODY = 32 * 1024 * 1024


class RequestDeadline(requests.exceptions.Timeout):
    """The whole request did not finish within its deadline."""

    def __init__(self, method: str, url: str, seconds: float) -> None:
        super().__init__(f"{method} {url} got no complete answer within {seconds:g} s")
        self.seconds = seconds


class BodyTooLarge(requests.exceptions.RequestException):
    """An answer's body is larger than :data:`MAX_BODY`."""


class ExplicitOnly(AuthBase):
    """Session-level auth that adds nothing: with it set, requests never asks ``.netrc``."""

    def __call__(self, request: PreparedRequest) -> PreparedRequest:
        return request


class RegistrySession(requests.Session):
    """A ``requests.Session`` that never takes credentials from ``.netrc``."""

    def __init__(self) -> None:
        super().__init__()
        self.auth = ExplicitOnly()  # a request's own ``auth=`` still wins (merge_setting)

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Response:
        """``requests.Session.request``, ended at its ``timeout`` whatever the server does."""
        deadline = kwargs.get("timeout")
        if not isinstance(deadline, int | float):
            return self._whole(method, url, *args, **kwargs)
        outcome: dict[str, Any] = {}

        def work() -> None:
            try:
                outcome["response"] = self._whole(method, url, *args, **kwargs)
            except BaseException as err:  # handed to the caller's thread
                outcome["error"] = err

        worker = threading.Thread(target=work, name="dlc-registry-request", daemon=True)
        worker.start()
        worker.join(deadline)
        if worker.is_alive():
            text = url.decode() if isinstance(url, bytes) else url
            verb = method.decode() if isinstance(method, bytes) else method
            raise RequestDeadline(verb, text, float(deadline))
        if "error" in outcome:
            raise outcome["error"]
        response: Response = outcome["response"]
        return response

    def _whole(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Response:
        """The request with its body read, up to :data:`MAX_BODY`."""
        kwargs["stream"] = True
        response: Response = super().request(method, url, *args, **kwargs)
        with response:
            body = bytearray()
            for chunk in response.iter_content(64 * 1024):
                body += chunk
                if len(body) > MAX_BODY:
                    raise BodyTooLarge(f"the answer to {response.url} is larger than {MAX_BODY}")
            response._content = bytes(body)  # what requests itself does after reading it
        return response

    def merge_environment_settings(
        self, url: str | bytes | None, proxies: Any, stream: Any, verify: Any, cert: Any
    ) -> Any:
        """Requests' own merge, without proxies for a loopback host."""
        settings: Any = super().merge_environment_settings(url, proxies, stream, verify, cert)
        text = url.decode() if isinstance(url, bytes) else (url or "")
        host = urllib.parse.urlsplit(text).hostname or ""
        if host and is_loopback(host):
            settings["proxies"] = {}
        return settings

    def rebuild_auth(self, prepared_request: PreparedRequest, response: Response) -> None:
        """On a redirect: drop Authorization when the host changes; never add ``.netrc``'s."""
        url = prepared_request.url or ""
        previous = response.request.url or ""
        strip = self.should_strip_auth(previous, url)  # type: ignore[no-untyped-call]
        if "Authorization" in prepared_request.headers and strip:
            del prepared_request.headers["Authorization"]
