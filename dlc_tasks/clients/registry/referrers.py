"""Attaching artifacts to a manifest and finding them again: the referrers API, else its tag schema.

:func:`attach` pushes an artifact manifest whose ``subject`` is the image (an SBOM, a
provenance statement). A registry with the referrers API indexes it itself and says so
(``OCI-Subject``); on one without (Distribution 2.8) the artifact is recorded under the
subject's record tags and listed in the ``sha256-<hex>`` index, a read-modify-write that
loses no entry when several writers attach at once (see
:mod:`dlc_tasks.model.oci.referrers`). :func:`referrers` reads them back from the
subject's digest alone: ``GET /v2/NAME/referrers/DIGEST``, or on a 404 the tag schema.
"""

from __future__ import annotations

import random
import time
import urllib.parse
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from dlc_tasks.clients.registry.api import pull_scope
from dlc_tasks.clients.registry.blobs import ensure_blob, expect
from dlc_tasks.clients.registry.manifests import get_manifest, put_manifest
from dlc_tasks.errors import RegistryError
from dlc_tasks.model.oci import referrers as schema
from dlc_tasks.model.oci.descriptor import OCI_INDEX, Blob, Descriptor
from dlc_tasks.model.oci.manifest import referrer_descriptor

if TYPE_CHECKING:
    from dlc_tasks.clients.registry.api import RegistryClient

ATTEMPTS = 20  # rounds of read, merge, write, re-read before giving up
PAGE = 1000


def all_tags(client: RegistryClient, repository: str) -> list[str]:
    """Every tag of ``repository``, following the ``Link`` pages (``n``/``last``)."""
    tags: list[str] = []
    path = f"/v2/{repository}/tags/list?n={PAGE}"
    while path:
        response = client.request("GET", path, scope=pull_scope(repository))
        if response.status_code == 404:
            return tags
        expect(client, response, f"GET {repository} tags", 200)
        tags.extend(response.json().get("tags") or [])
        following = response.links.get("next", {}).get("url", "")
        path = urllib.parse.urljoin(f"/v2/{repository}/tags/list", following) if following else ""
    return tags


def referrers(
    client: RegistryClient, repository: str, subject: str, artifact_type: str = ""
) -> list[Descriptor]:
    """The artifacts that refer to ``subject`` (of ``artifact_type`` when given)."""
    path = f"/v2/{repository}/referrers/{subject}"
    response = client.request("GET", path, {"Accept": OCI_INDEX}, scope=pull_scope(repository))
    if response.status_code == 200:
        found = schema.listed(Blob(OCI_INDEX, bytes(response.content)))
    elif response.status_code == 404:
        found = schema.listed(get_manifest(client, repository, schema.fallback_tag(subject)))
    else:
        expect(client, response, f"GET {repository} referrers of {subject[:19]}", 200)
        found = []
    return [d for d in found if not artifact_type or d.artifact_type == artifact_type]


def attach(
    client: RegistryClient,
    repository: str,
    manifest: Blob,
    blobs: Sequence[Blob],
    *,
    pause: Callable[[float], None] = time.sleep,
) -> str:
    """Push an artifact (its ``blobs``, then its manifest by digest) and make it findable
    from its subject; returns ``referrers API`` or ``tag schema``."""
    body = manifest.json()
    subject = str(body["subject"]["digest"])
    for blob in blobs:
        ensure_blob(client, repository, blob)
    if put_manifest(client, repository, manifest.digest, manifest).subject_indexed:
        return "referrers API"
    put_manifest(client, repository, schema.record_tag(subject, manifest.digest), manifest)
    update_tag_schema(client, repository, subject, pause=pause)
    return "tag schema"


def update_tag_schema(
    client: RegistryClient,
    repository: str,
    subject: str,
    *,
    pause: Callable[[float], None] = time.sleep,
) -> Blob:
    """Bring ``subject``'s ``sha256-<hex>`` index up to every recorded artifact: list the
    records, re-read the index, write it with what it lacks, and again until a re-read after
    the last write lists them all (another writer's stale write is caught by its own check,
    or by this one). Returns the index as last read."""
    tag = schema.fallback_tag(subject)
    for attempt in range(ATTEMPTS):
        records = [t for t in all_tags(client, repository) if schema.is_record(t, subject)]
        index = get_manifest(client, repository, tag)
        have = {d.digest for d in schema.listed(index)}
        missing = []
        for record in records:
            if client.manifest_digest(repository, record) in have:
                continue
            artifact = get_manifest(client, repository, record)
            if artifact is not None and artifact.digest not in have:
                missing.append(referrer_descriptor(artifact))
        if not missing:
            return index if index is not None else schema.empty_index()
        if attempt:  # a lost update: let the other writer finish before writing again
            pause(random.uniform(0.0, 0.05 * attempt))  # noqa: S311  (jitter, not secrecy)
        put_manifest(client, repository, tag, schema.merged(index, missing))
    raise RegistryError(
        f"{repository}: the referrers index {tag} kept changing ({ATTEMPTS} rounds)",
        hint="another writer keeps rewriting it; run again",
    )
