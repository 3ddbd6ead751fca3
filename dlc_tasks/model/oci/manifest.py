"""OCI image manifests, image indexes and artifact manifests, as canonical JSON blobs."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from dlc_tasks.errors import InvalidValue
from dlc_tasks.model.oci.descriptor import (
    INDEX_TYPES,
    MANIFEST_TYPES,
    OCI_EMPTY,
    OCI_INDEX,
    OCI_MANIFEST,
    TO_OCI,
    Blob,
    Descriptor,
)
from dlc_tasks.model.oci.platform import Platform

# The empty JSON object an artifact manifest names as its configuration (image-spec 1.1).
EMPTY = Blob(OCI_EMPTY, b"{}")


def image_manifest(
    config: Descriptor, layers: Sequence[Descriptor], annotations: Mapping[str, str] | None = None
) -> Blob:
    """An OCI image manifest over a configuration and layers."""
    body: dict[str, Any] = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": config.to_dict(),
        "layers": [layer.to_dict() for layer in layers],
    }
    if annotations:
        body["annotations"] = dict(sorted(annotations.items()))
    return Blob.of_json(OCI_MANIFEST, body)


def image_index(
    manifests: Sequence[Descriptor], annotations: Mapping[str, str] | None = None
) -> Blob:
    """An OCI image index listing ``manifests`` (each with its platform), in the order given."""
    body: dict[str, Any] = {
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": [m.to_dict() for m in manifests],
    }
    if annotations:
        body["annotations"] = dict(sorted(annotations.items()))
    return Blob.of_json(OCI_INDEX, body)


def artifact_manifest(
    artifact_type: str,
    payload: Blob,
    subject: Descriptor,
    annotations: Mapping[str, str] | None = None,
) -> Blob:
    """An OCI 1.1 artifact: ``artifactType``, the empty configuration, the payload as its one
    layer, and the ``subject`` it refers to (found through the referrers API or tag schema)."""
    body: dict[str, Any] = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "artifactType": artifact_type,
        "config": EMPTY.descriptor.to_dict(),
        "layers": [payload.descriptor.to_dict()],
        "subject": Descriptor(subject.media_type, subject.digest, subject.size).to_dict(),
    }
    if annotations:
        body["annotations"] = dict(sorted(annotations.items()))
    return Blob.of_json(OCI_MANIFEST, body)


def referrer_descriptor(manifest: Blob) -> Descriptor:
    """How a referrers list names an artifact manifest: with its type and annotations."""
    body = manifest.json()
    return Descriptor(
        manifest.media_type,
        manifest.digest,
        len(manifest.data),
        artifact_type=str(body.get("artifactType") or body.get("config", {}).get("mediaType", "")),
        annotations={str(k): str(v) for k, v in (body.get("annotations") or {}).items()},
    )


def media_type_of(data: bytes, declared: str = "") -> str:
    """A manifest's media type: its own ``mediaType``, else the one it was served as."""
    try:
        body = json.loads(data)
    except ValueError as err:
        raise InvalidValue("a manifest that is not JSON") from err
    own = body.get("mediaType") if isinstance(body, dict) else None
    kind = str(own or declared.split(";", maxsplit=1)[0].strip())
    if kind not in (*INDEX_TYPES, *MANIFEST_TYPES):
        raise InvalidValue(f"not an image manifest or index: {kind or 'no media type'}")
    return kind


def layers_of(manifest: Mapping[str, Any]) -> list[Descriptor]:
    """An image manifest's layers with OCI media types (a Docker v2 manifest's are renamed:
    the bytes, so the digests, stay); a foreign (non-distributable) layer is refused."""
    out = []
    for raw in manifest.get("layers") or []:
        layer = Descriptor.from_dict(raw)
        if "foreign" in layer.media_type or "nondistributable" in layer.media_type:
            raise InvalidValue(f"a base image layer that may not be copied: {layer.digest}")
        out.append(
            Descriptor(TO_OCI.get(layer.media_type, layer.media_type), layer.digest, layer.size)
        )
    return out


def platform_manifest(index: Mapping[str, Any], platform: Platform) -> Descriptor:
    """The index entry for ``platform`` (InvalidValue naming the platforms it has)."""
    entries = [Descriptor.from_dict(m) for m in index.get("manifests") or []]
    for entry in entries:
        if entry.platform is not None and entry.platform.matches(platform):
            return entry
    offered = ", ".join(str(e.platform) for e in entries if e.platform) or "none"
    raise InvalidValue(f"the base image has no {platform} manifest (it has: {offered})")
