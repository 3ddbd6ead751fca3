"""Blob calls of the Distribution API: ``HEAD``, cross-repository mount, upload, ``GET``, copy.

As go-containerregistry's ``pkg/v1/remote/write.go``: a blob the repository has is never
sent again (``HEAD``); one another repository of the same registry has is mounted
(``POST …/blobs/uploads/?mount=DIGEST&from=REPO``, 201; a registry that cannot mount
answers 202 and the upload it opened is used instead); anything else is uploaded,
monolithically (``POST`` then ``PUT …?digest=`` with the body) or in chunks (``PATCH`` with
``Content-Range``, then the closing ``PUT``), as the distribution specification and
Distribution 2.8 take them. A blob another registry lacks is read from where it is, its
digest checked, and uploaded: copied, not only mounted.
"""

from __future__ import annotations

import hashlib
import urllib.parse
from typing import TYPE_CHECKING, Any

from dlc_tasks.clients.registry.api import pull_scope
from dlc_tasks.errors import RegistryError
from dlc_tasks.model.oci.descriptor import Blob, Descriptor

if TYPE_CHECKING:
    from dlc_tasks.clients.registry.api import RegistryClient

CHUNK = 8 * 1024 * 1024  # a blob larger than this is sent in chunks of this size
OCTETS = {"Content-Type": "application/octet-stream"}


def push_scope(repository: str) -> str:
    """The token scope for writing to ``repository``."""
    return f"repository:{repository}:pull,push"


def expect(client: RegistryClient, response: Any, what: str, *expected: int) -> Any:
    """``response`` when its status is one of ``expected``; else the refusal, worded."""
    if response.status_code not in expected:
        client._refuse(response, what)  # the package's one wording of a refusal
    return response


def location_path(client: RegistryClient, location: str) -> str:
    """An upload ``Location`` as a path on this registry; one on another host is refused
    (credentials and blobs go to the configured registry only)."""
    parts = urllib.parse.urlsplit(location)
    if parts.scheme or parts.netloc:
        base = urllib.parse.urlsplit(client.base_url)
        if (parts.scheme, parts.netloc) != (base.scheme, base.netloc):
            raise RegistryError(f"the registry sent an upload to another host ({parts.netloc})")
    if not parts.path.startswith("/v2/"):
        raise RegistryError(f"the registry sent an upload location outside /v2/: {location[:80]}")
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _with_query(path: str, **params: str) -> str:
    return path + ("&" if "?" in path else "?") + urllib.parse.urlencode(params)


def blob_exists(client: RegistryClient, repository: str, digest: str) -> bool:
    """``HEAD /v2/NAME/blobs/DIGEST``: True (200) or False (404); anything else an error."""
    response = client.request(
        "HEAD", f"/v2/{repository}/blobs/{digest}", scope=pull_scope(repository)
    )
    if response.status_code == 404:
        return False
    expect(client, response, f"HEAD {repository} blob {digest[:19]}", 200)
    return True


def mount_blob(client: RegistryClient, repository: str, digest: str, source: str) -> str | None:
    """Mount ``digest`` from ``source`` (same registry): None when mounted, else the path of
    the upload the registry opened instead (to send the blob to)."""
    scope = f"{push_scope(repository)} {pull_scope(source)}"
    path = _with_query(f"/v2/{repository}/blobs/uploads/", mount=digest, **{"from": source})
    response = client.request("POST", path, scope=scope)
    expect(client, response, f"mount {digest[:19]} from {source} into {repository}", 201, 202)
    if response.status_code == 201:
        return None
    return location_path(client, response.headers.get("Location", ""))


def start_upload(client: RegistryClient, repository: str) -> str:
    """``POST /v2/NAME/blobs/uploads/``: the path of a new upload."""
    response = client.request(
        "POST", f"/v2/{repository}/blobs/uploads/", scope=push_scope(repository)
    )
    expect(client, response, f"start an upload to {repository}", 202)
    return location_path(client, response.headers.get("Location", ""))


def upload_blob(
    client: RegistryClient,
    repository: str,
    blob: Blob,
    *,
    chunk: int = CHUNK,
    upload: str | None = None,
) -> None:
    """Send ``blob``: one ``PUT`` when it fits in ``chunk`` bytes, else ``PATCH`` chunks and a
    closing ``PUT``; the registry's ``Docker-Content-Digest`` must be the blob's."""
    scope = push_scope(repository)
    path = upload or start_upload(client, repository)
    data, digest = blob.data, blob.digest
    what = f"upload of {digest[:19]} to {repository}"
    if len(data) > chunk:
        for start in range(0, len(data), chunk):
            part = data[start : start + chunk]
            headers = {**OCTETS, "Content-Range": f"{start}-{start + len(part) - 1}"}
            response = client.request("PATCH", path, headers, scope=scope, data=part)
            expect(client, response, what, 202)
            path = location_path(client, response.headers.get("Location", ""))
        data = b""
    response = client.request(
        "PUT", _with_query(path, digest=digest), dict(OCTETS), scope=scope, data=data
    )
    expect(client, response, what, 201)
    stored = response.headers.get("Docker-Content-Digest")
    if stored and stored != digest:
        raise RegistryError(f"{what}: the registry stored {stored}")


def get_blob(client: RegistryClient, repository: str, digest: str) -> bytes:
    """A blob's bytes; refused unless they hash to ``digest``."""
    response = client.request(
        "GET", f"/v2/{repository}/blobs/{digest}", scope=pull_scope(repository)
    )
    expect(client, response, f"GET {repository} blob {digest[:19]}", 200)
    data = bytes(response.content)
    if "sha256:" + hashlib.sha256(data).hexdigest() != digest:
        raise RegistryError(f"{repository} blob {digest[:19]}: the bytes served do not match")
    return data


def ensure_blob(
    client: RegistryClient, repository: str, blob: Blob, *, mount_from: str = ""
) -> str:
    """Make sure ``repository`` has ``blob``: ``present``, ``mounted`` or ``uploaded``."""
    if blob_exists(client, repository, blob.digest):
        return "present"
    upload = None
    if mount_from and mount_from != repository:
        upload = mount_blob(client, repository, blob.digest, mount_from)
        if upload is None:
            return "mounted"
    upload_blob(client, repository, blob, upload=upload)
    return "uploaded"


def copy_blob(
    source: RegistryClient,
    source_repository: str,
    client: RegistryClient,
    repository: str,
    descriptor: Descriptor,
) -> str:
    """Make sure ``repository`` has a blob ``source_repository`` holds: ``present``,
    ``mounted`` (same registry), or ``copied`` (read from the source, checked, uploaded)."""
    digest = descriptor.digest
    if blob_exists(client, repository, digest):
        return "present"
    upload = None
    if source.base_url == client.base_url and source_repository != repository:
        upload = mount_blob(client, repository, digest, source_repository)
        if upload is None:
            return "mounted"
    data = get_blob(source, source_repository, digest)
    upload_blob(client, repository, Blob(descriptor.media_type, data), upload=upload)
    return "copied"
