"""The registry's HTTP API (Distribution v2), as the tool's own client.

Used for what must not go through the engine: asking whether the build-cache
image exists (a manifest ``HEAD``: no pull, no layer traffic, the same cost for
a 5 MB and a 5 GB image), confirming the digest behind every pushed tag, and
listing or deleting cache tags. Faults are sorted strictly: a manifest found is
a hit, a 404 is a miss, and 401/403/5xx/timeouts are errors, never a miss.
Each call names the token scope it needs (``repository:NAME:pull``, ``…:delete``);
authentication is the transport's job (:mod:`.transport`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dlc_tasks.clients.registry import errorbody, taglist
from dlc_tasks.clients.registry.transport import Transport
from dlc_tasks.errors import (
    RegistryAnswerError,
    RegistryAuthError,
    RegistryError,
    RegistryRefused,
    RegistryUnsupported,
)

if TYPE_CHECKING:
    import requests

    from dlc_tasks.clients.credentials import Credentials
    from dlc_tasks.config import Retries


def pull_scope(repository: str) -> str:
    """The token scope for reading ``repository``."""
    return f"repository:{repository}:pull"


def delete_scope(repository: str) -> str:
    """The token scope for deleting from ``repository``.

    Distribution's ``registry/handlers/app.go`` asks for exactly ``delete`` on a
    manifest ``DELETE`` (not ``pull,delete``); the token asked for is the one the
    challenge names, this is the key it is cached under.
    """
    return f"repository:{repository}:delete"


MANIFEST_TYPES = ", ".join(
    [
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    ]
)


class RegistryClient:
    """The Distribution API calls the tool makes, over one :class:`Transport`."""

    def __init__(
        self,
        registry: str,
        *,
        credentials: Credentials | None = None,
        ca_file: Path | None = None,
        retries: Retries | None = None,
        say: Callable[[str], None] | None = None,
        transport: Transport | None = None,
    ) -> None:
        self.transport = transport or Transport(
            registry, credentials=credentials, ca_file=ca_file, retries=retries, say=say
        )
        self.registry = registry

    @property
    def base_url(self) -> str:
        """``scheme://registry``."""
        return self.transport.base_url

    @property
    def auth_scheme(self) -> str:
        """``bearer``, ``basic`` or ``none``: what the registry asked for so far."""
        return self.transport.auth_scheme

    def granted(self, scope: str) -> list[str] | None:
        """The actions a new token for ``scope`` grants (see :meth:`Transport.granted`)."""
        return self.transport.granted(scope)

    def request(
        self,
        method: str,
        path: str,
        headers: dict[str, str] | None = None,
        *,
        scope: str = "",
        data: bytes | None = None,
    ) -> Any:
        """One API call (see :meth:`Transport.request`); ``data`` is the body of a write."""
        return self.transport.request(method, path, headers, scope=scope, data=data)

    def json_body(self, response: requests.Response, what: str) -> dict[str, Any]:
        """The JSON object a 200 answer holds; one line naming the registry, the request and
        the status for anything else (HTML from a proxy, a truncated body, a list)."""
        try:
            body = response.json()
        except (ValueError, RecursionError) as err:
            kind = response.headers.get("Content-Type", "no content type").split(";")[0]
            raise RegistryAnswerError(
                f"{self.registry} answered {what} with {response.status_code} and "
                f"{kind.strip() or 'no content type'}, not JSON",
                hint="is dlc.registry a registry, and not a proxy's or a web server's page?",
            ) from err
        if not isinstance(body, dict):
            raise RegistryAnswerError(
                f"{self.registry} answered {what} with {response.status_code} and JSON that "
                f"is not an object ({type(body).__name__})"
            )
        return body

    def _refuse(self, response: requests.Response, what: str) -> None:
        """Raise the error a refused request is: its status, and the codes and messages of
        the registry's error body (:mod:`.errorbody`), with the fix the first code calls for."""
        status = response.status_code
        request = getattr(response, "request", None)
        method = str(getattr(request, "method", "") or what.split(" ", 1)[0])
        faults = errorbody.read(getattr(response, "content", None))
        said = f" {errorbody.describe(faults)}" if faults else ""
        codes = tuple(fault.code for fault in faults)
        if status == 405 and not codes and method == "DELETE":
            codes = ("UNSUPPORTED",)  # Distribution's answer with deletes disabled, body or not
        hints = [errorbody.hint(code, method=method, registry=self.registry) for code in codes]
        hint = next((h for h in hints if h), None)
        if status in (401, 403) or any(code in errorbody.AUTH_CODES for code in codes):
            creds = self.transport.credentials
            source = creds.source if creds else "none"
            via = "a token" if self.transport.auth_scheme == "bearer" else "the request"
            raise RegistryAuthError(
                f"{what}: the registry answered {status} to {via}{said} "
                f"(credentials: {source}; auth: {self.transport.auth_scheme})",
                hint=hint,
            )
        kind = RegistryUnsupported if "UNSUPPORTED" in codes else RegistryRefused
        raise kind(f"{what}: the registry answered {status}{said}", hint=hint, codes=codes)

    # -- API ---------------------------------------------------------------------------------

    def ping(self) -> None:
        """``GET /v2/``: reachable, trusted and (with credentials) authorised."""
        response = self.request("GET", "/v2/")
        if response.status_code != 200:
            self._refuse(response, f"GET {self.base_url}/v2/")

    def manifest_digest(self, repository: str, reference: str) -> str | None:
        """The digest a tag names, or None when the registry says it does not exist."""
        path = f"/v2/{repository}/manifests/{reference}"
        response = self.request(
            "HEAD", path, {"Accept": MANIFEST_TYPES}, scope=pull_scope(repository)
        )
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            self._refuse(response, f"HEAD {repository}:{reference}")
        digest = response.headers.get("Docker-Content-Digest")
        if digest:
            return str(digest)
        body = self.request("GET", path, {"Accept": MANIFEST_TYPES}, scope=pull_scope(repository))
        if body.status_code != 200:
            self._refuse(body, f"GET {repository}:{reference}")
        return "sha256:" + hashlib.sha256(body.content).hexdigest()

    def image_config(self, repository: str, reference: str) -> dict[str, Any]:
        """The image configuration (``created``, ``config.Labels``…) behind a tag or digest."""
        path = f"/v2/{repository}/manifests/{reference}"
        accept = "application/vnd.docker.distribution.manifest.v2+json, " + (
            "application/vnd.oci.image.manifest.v1+json"
        )
        response = self.request("GET", path, {"Accept": accept}, scope=pull_scope(repository))
        if response.status_code != 200:
            self._refuse(response, f"GET {repository}:{reference}")
        manifest = self.json_body(response, f"GET {path}")
        config = manifest.get("config")
        digest = config.get("digest") if isinstance(config, dict) else None
        if not isinstance(digest, str) or not digest.startswith("sha256:"):
            raise RegistryError(f"{repository}:{reference} has no image configuration")
        blob_path = f"/v2/{repository}/blobs/{digest}"
        blob = self.request("GET", blob_path, scope=pull_scope(repository))
        if blob.status_code != 200:
            self._refuse(blob, f"GET {repository} config blob")
        return self.json_body(blob, f"GET {blob_path}")

    def tags(self, repository: str) -> list[str]:
        """Every tag of a repository, every page followed (empty when it does not exist).

        A paginating registry ends each page with a ``Link`` to the next
        (:mod:`.taglist`); the list is read until a page has none.
        """
        path: str | None = f"/v2/{repository}/tags/list"
        found: list[str] = []
        seen: set[str] = set()
        while path is not None:
            what = f"GET {self.base_url}{path}"
            if path in seen or len(seen) >= taglist.MAX_PAGES:
                raise RegistryError(f"{what}: the registry's tag list pages do not end")
            seen.add(path)
            response = self.request("GET", path, scope=pull_scope(repository))
            if response.status_code == 404 and len(seen) == 1:
                return []
            if response.status_code != 200:
                self._refuse(response, what)
            found += taglist.page_tags(response.content, what)
            path = taglist.next_page(response.headers.get("Link"), self.base_url + path, what)
        return sorted(set(found))

    def delete_manifest(self, repository: str, digest: str) -> None:
        """Delete a manifest by digest (the registry must allow deletes)."""
        response = self.request(
            "DELETE", f"/v2/{repository}/manifests/{digest}", scope=delete_scope(repository)
        )
        if response.status_code not in (200, 202, 404):
            self._refuse(response, f"DELETE {repository}@{digest}")
