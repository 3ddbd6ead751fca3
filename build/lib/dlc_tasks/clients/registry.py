"""The registry's HTTP API (Distribution v2), as the tool's own client.

Used for what must not go through the engine: asking whether the build-cache
image exists (a manifest ``HEAD``: no pull, no layer traffic, the same cost for
a 5 MB and a 5 GB image), confirming the digest behind every pushed tag, and
listing or deleting cache tags. Faults are sorted strictly: a manifest found is
a hit, a 404 is a miss, and 401/403/5xx/timeouts are errors, never a miss.
"""

from __future__ import annotations

import email.utils
import hashlib
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dlc_tasks.clients.credentials import Credentials
from dlc_tasks.clients.retry import Transient, with_retries
from dlc_tasks.config import Retries, is_loopback
from dlc_tasks.errors import RegistryAuthError, RegistryError, RegistryTLSError

if TYPE_CHECKING:
    import requests

MANIFEST_TYPES = ", ".join(
    [
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    ]
)


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value)
        return max(0.0, parsed.timestamp() - time.time())


class RegistryClient:
    """A minimal Distribution API client with auth, a private CA and retries."""

    def __init__(
        self,
        registry: str,
        *,
        credentials: Credentials | None = None,
        ca_file: Path | None = None,
        retries: Retries | None = None,
        on_retry: Callable[[int, Exception, float], None] | None = None,
    ) -> None:
        import requests  # noqa: PLC0415  (kept out of `inv --list`'s start-up)

        self.registry = registry
        self.scheme = "http" if is_loopback(registry) else "https"
        self.credentials = credentials
        self.retries = retries or Retries()
        self.on_retry = on_retry
        self.session = requests.Session()
        # Verification is always on: the system store, or the private CA. Passed with every
        # request, because requests lets REQUESTS_CA_BUNDLE override a session-level setting.
        self.verify: str | bool = str(ca_file) if ca_file else True
        self._token: str | None = None
        self._ca_file = ca_file

    @property
    def base_url(self) -> str:
        """``scheme://registry``."""
        return f"{self.scheme}://{self.registry}"

    # -- transport ---------------------------------------------------------------------------

    def _send(self, method: str, url: str, headers: dict[str, str]) -> requests.Response:
        import requests  # noqa: PLC0415

        if self._token:
            headers = {**headers, "Authorization": f"Bearer {self._token}"}
        auth = None
        if self.credentials and not self._token:
            auth = (self.credentials.username, self.credentials.password)
        try:
            response = self.session.request(
                method,
                url,
                headers=headers,
                auth=auth,
                timeout=self.retries.timeout,
                verify=self.verify,
            )
        except requests.exceptions.SSLError as err:
            where = f"dlc.ca_file={self._ca_file}" if self._ca_file else "no dlc.ca_file set"
            raise RegistryTLSError(
                f"cannot verify the TLS certificate of {self.registry} ({where}): {_short(err)}"
            ) from None
        except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as err:
            raise Transient(f"{self.registry} unreachable: {_short(err)}") from None
        challenge = response.headers.get("WWW-Authenticate", "")
        if response.status_code == 401 and "Bearer" in challenge and self._fetch_token(challenge):
            return self._send(method, url, headers)
        if response.status_code == 429 or response.status_code >= 500:
            raise Transient(
                f"{self.registry} answered {response.status_code} to {method} {url}",
                _retry_after(response.headers.get("Retry-After")),
            )
        return response

    def _fetch_token(self, challenge: str) -> bool:
        params = dict(
            part.split("=", 1) for part in challenge[len("Bearer ") :].split(",") if "=" in part
        )
        params = {k.strip(): v.strip().strip('"') for k, v in params.items()}
        realm = params.pop("realm", None)
        if not realm or self._token:
            return False
        auth = (self.credentials.username, self.credentials.password) if self.credentials else None
        answer = self.session.get(
            realm, params=params, auth=auth, timeout=self.retries.timeout, verify=self.verify
        )
        if answer.status_code != 200:
            return False
        body = answer.json()
        self._token = body.get("token") or body.get("access_token")
        return bool(self._token)

    def request(self, method: str, path: str, headers: dict[str, str] | None = None) -> Any:
        """One API call with retries on transient faults; returns the response."""
        url = f"{self.base_url}{path}"

        def call() -> requests.Response:
            return self._send(method, url, dict(headers or {}))

        def report(attempt: int, fault: Transient, delay: float) -> None:
            if self.on_retry:
                self.on_retry(attempt, fault, delay)

        try:
            return with_retries(call, self.retries, on_retry=report)
        except Transient as fault:
            raise RegistryError(f"{fault} (after {self.retries.attempts} tries)") from None

    @staticmethod
    def _refuse(response: requests.Response, what: str) -> None:
        if response.status_code in (401, 403):
            raise RegistryAuthError(f"{what}: the registry answered {response.status_code}")
        raise RegistryError(f"{what}: the registry answered {response.status_code}")

    # -- API ---------------------------------------------------------------------------------

    def ping(self) -> None:
        """``GET /v2/``: reachable, trusted and (with credentials) authorised."""
        response = self.request("GET", "/v2/")
        if response.status_code != 200:
            self._refuse(response, f"GET {self.base_url}/v2/")

    def manifest_digest(self, repository: str, reference: str) -> str | None:
        """The digest a tag names, or None when the registry says it does not exist."""
        path = f"/v2/{repository}/manifests/{reference}"
        response = self.request("HEAD", path, {"Accept": MANIFEST_TYPES})
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            self._refuse(response, f"HEAD {repository}:{reference}")
        digest = response.headers.get("Docker-Content-Digest")
        if digest:
            return str(digest)
        body = self.request("GET", path, {"Accept": MANIFEST_TYPES})
        if body.status_code != 200:
            self._refuse(body, f"GET {repository}:{reference}")
        return "sha256:" + hashlib.sha256(body.content).hexdigest()

    def image_config(self, repository: str, reference: str) -> dict[str, Any]:
        """The image configuration (``created``, ``config.Labels``…) behind a tag or digest."""
        path = f"/v2/{repository}/manifests/{reference}"
        accept = "application/vnd.docker.distribution.manifest.v2+json, " + (
            "application/vnd.oci.image.manifest.v1+json"
        )
        response = self.request("GET", path, {"Accept": accept})
        if response.status_code != 200:
            self._refuse(response, f"GET {repository}:{reference}")
        digest = response.json().get("config", {}).get("digest")
        if not digest:
            raise RegistryError(f"{repository}:{reference} has no image configuration")
        blob = self.request("GET", f"/v2/{repository}/blobs/{digest}")
        if blob.status_code != 200:
            self._refuse(blob, f"GET {repository} config blob")
        return dict(blob.json())

    def tags(self, repository: str) -> list[str]:
        """Every tag of a repository (empty when the repository does not exist)."""
        response = self.request("GET", f"/v2/{repository}/tags/list")
        if response.status_code == 404:
            return []
        if response.status_code != 200:
            self._refuse(response, f"GET {repository} tags")
        return sorted(response.json().get("tags") or [])

    def delete_manifest(self, repository: str, digest: str) -> None:
        """Delete a manifest by digest (the registry must allow deletes)."""
        response = self.request("DELETE", f"/v2/{repository}/manifests/{digest}")
        if response.status_code not in (200, 202, 404):
            self._refuse(response, f"DELETE {repository}@{digest}")


def _short(err: Exception) -> str:
    text = str(err)
    for marker in ("certificate verify failed", "Connection refused", "Read timed out"):
        if marker in text:
            return marker
    return text.splitlines()[0][:200] if text else type(err).__name__
