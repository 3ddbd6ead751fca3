"""Whole images through the registry: read a base for one platform, write images and indexes.

As go-containerregistry's ``remote.Image``/``remote.Write``/``remote.WriteIndex``: a base is
read pinned by digest (its index, the platform's manifest, its configuration, each checked
against its digest); an assembled image (:mod:`dlc_tasks.model.oci.image`) is written blobs
first (the base's layers mounted or copied, the new ones uploaded unless present), then its
manifest by digest; an index is put by digest, then under each tag, and every tag is read
back and must name the index.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from dlc_tasks.clients.registry.blobs import copy_blob, ensure_blob, get_blob
from dlc_tasks.clients.registry.manifests import get_manifest, put_manifest
from dlc_tasks.errors import NotFoundError, PushError
from dlc_tasks.model.oci import layer as layers
from dlc_tasks.model.oci.descriptor import INDEX_TYPES, Blob, check_digest
from dlc_tasks.model.oci.image import BaseImage, Image
from dlc_tasks.model.oci.manifest import platform_manifest
from dlc_tasks.model.oci.platform import Platform

if TYPE_CHECKING:
    from dlc_tasks.clients.registry.api import RegistryClient


def read_base(
    client: RegistryClient, repository: str, digest: str, platform: Platform
) -> BaseImage:
    """The base image ``repository@digest`` (a manifest, or an index holding ``platform``)."""
    found = get_manifest(client, repository, check_digest(digest))
    if found is None:
        raise NotFoundError(f"{client.registry}/{repository}@{digest} is not in the registry")
    if found.media_type in INDEX_TYPES:
        entry = platform_manifest(found.json(), platform)
        found = get_manifest(client, repository, entry.digest)
        if found is None:
            raise NotFoundError(f"{repository}@{entry.digest}: the index names a missing manifest")
    manifest = found.json()
    config_digest = check_digest(str(manifest["config"]["digest"]))
    config = Blob("", get_blob(client, repository, config_digest)).json()
    return BaseImage(repository, found.digest, manifest, config)


def push_image(
    client: RegistryClient,
    repository: str,
    image: Image,
    *,
    base_client: RegistryClient | None = None,
) -> dict[str, str]:
    """Write ``image`` to ``repository``; returns what happened to each blob (digest →
    ``present``/``mounted``/``copied``/``uploaded``). The base's layers come from
    ``base_client`` (another registry) or this one."""
    done: dict[str, str] = {}
    source = base_client or client
    for descriptor in image.base_layers:
        done[descriptor.digest] = copy_blob(
            source, image.base.repository, client, repository, descriptor
        )
    for blob in image.blobs():
        done[blob.digest] = ensure_blob(client, repository, blob)
    put_manifest(client, repository, image.manifest.digest, image.manifest)
    return done


def push_index(
    client: RegistryClient, repository: str, index: Blob, tags: Sequence[str] = ()
) -> str:
    """Put an index (or a single manifest) by digest, then under each tag; each tag read back
    must name it (a PushError otherwise). Returns its digest."""
    digest = put_manifest(client, repository, index.digest, index).digest
    for tag in tags:
        put_manifest(client, repository, tag, index)
    for tag in tags:
        named = client.manifest_digest(repository, tag)
        if named != digest:
            raise PushError(f"{repository}:{tag} names {named}, not the index pushed ({digest})")
    return digest


def read_file(
    client: RegistryClient, repository: str, layer_digests: Iterable[str], path: str
) -> bytes | None:
    """A file of an image, from its layers (digests, bottom first) read top down; None when
    no layer has it. (A ``scratch`` image's CA bundle, from the cache image by digest.)"""
    for digest in reversed(list(layer_digests)):
        found = layers.read_file(get_blob(client, repository, digest), path)
        if found is not None:
            return found
    return None
