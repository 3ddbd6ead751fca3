"""Manifest calls: ``GET`` (checked against a pinned digest) and ``PUT`` by digest or tag.

A manifest is put with its own media type as ``Content-Type`` (Distribution picks the
schema by it); an image manifest whose ``subject`` the registry indexes answers with
``OCI-Subject`` (distribution-spec 1.1): :attr:`Put.subject_indexed` says so, and the
caller then needs no referrers tag.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from dlc_tasks.clients.registry.api import MANIFEST_TYPES, pull_scope
from dlc_tasks.clients.registry.blobs import expect, push_scope
from dlc_tasks.errors import RegistryError
from dlc_tasks.model.oci.descriptor import Blob, sha256_digest
from dlc_tasks.model.oci.manifest import media_type_of

if TYPE_CHECKING:
    from dlc_tasks.clients.registry.api import RegistryClient


@dataclass(frozen=True)
class Put:
    """What a manifest ``PUT`` told: the digest stored, whether the registry indexed a subject."""

    digest: str
    subject_indexed: bool


def get_manifest(client: RegistryClient, repository: str, reference: str) -> Blob | None:
    """The manifest or index a tag or digest names (None: 404). By digest, the bytes must
    hash to it: a registry cannot hand a pinned reference other content."""
    response = client.request(
        "GET",
        f"/v2/{repository}/manifests/{reference}",
        {"Accept": MANIFEST_TYPES},
        scope=pull_scope(repository),
    )
    if response.status_code == 404:
        return None
    expect(client, response, f"GET {repository}:{reference}", 200)
    data = bytes(response.content)
    if reference.startswith("sha256:") and sha256_digest(data) != reference:
        raise RegistryError(f"{repository}@{reference[:19]}: the manifest served does not match")
    return Blob(media_type_of(data, response.headers.get("Content-Type", "")), data)


def put_manifest(client: RegistryClient, repository: str, reference: str, manifest: Blob) -> Put:
    """``PUT /v2/NAME/manifests/REFERENCE`` (a tag or the manifest's own digest)."""
    digest = manifest.digest
    if reference.startswith("sha256:") and reference != digest:
        raise RegistryError(f"refusing to put a manifest under another digest ({reference[:19]})")
    response = client.request(
        "PUT",
        f"/v2/{repository}/manifests/{reference}",
        {"Content-Type": manifest.media_type},
        scope=push_scope(repository),
        data=manifest.data,
    )
    expect(client, response, f"PUT {repository}:{reference}", 201)
    stored = response.headers.get("Docker-Content-Digest")
    if stored and stored != digest:
        raise RegistryError(f"PUT {repository}:{reference}: the registry stored {stored}")
    return Put(digest, bool(response.headers.get("OCI-Subject")))
