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
"""

from __future__ import annotations

import urllib.parse
from typing import TYPE_CHECKING, Any

import requests
from requests.auth import AuthBase

from dlc_tasks.config import is_loopback

if TYPE_CHECKING:
    from requests.models import PreparedRequest, Response


class ExplicitOnly(AuthBase):
    """Session-level auth that adds nothing: with it set, requests never asks ``.netrc``."""

    def __call__(self, request: PreparedRequest) -> PreparedRequest:
        return request


class RegistrySession(requests.Session):
    """A ``requests.Session`` that never takes credentials from ``.netrc``."""

    def __init__(self) -> None:
        super().__init__()
        self.auth = ExplicitOnly()  # a request's own ``auth=`` still wins (merge_setting)

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
