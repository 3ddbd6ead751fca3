"""Blobs, descriptors and the media types of the OCI image and distribution specifications."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from dlc_tasks.errors import InvalidValue
from dlc_tasks.model.oci.platform import Platform

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"
OCI_EMPTY = "application/vnd.oci.empty.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip"
INDEX_TYPES = (OCI_INDEX, DOCKER_LIST)
MANIFEST_TYPES = (OCI_MANIFEST, DOCKER_MANIFEST)
# A Docker media type and the OCI one for the same bytes (conversion keeps every digest).
TO_OCI = {
    DOCKER_MANIFEST: OCI_MANIFEST,
    DOCKER_LIST: OCI_INDEX,
    DOCKER_CONFIG: OCI_CONFIG,
    DOCKER_LAYER_GZIP: OCI_LAYER_GZIP,
}
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")


def sha256_digest(data: bytes) -> str:
    """``sha256:HEX`` of ``data``."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def check_digest(digest: str) -> str:
    """``digest`` when it is ``sha256:`` and 64 lowercase hex digits; else InvalidValue."""
    if not _DIGEST.fullmatch(digest):
        raise InvalidValue(f"not a sha256 digest: {digest[:80]!r}")
    return digest


def canonical_json(value: Any) -> bytes:
    """JSON with sorted keys and no spaces: one text per value, so one digest."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


@dataclass(frozen=True)
class Descriptor:
    """What a manifest or index says about another blob (OCI ``descriptor``)."""

    media_type: str
    digest: str
    size: int
    platform: Platform | None = None
    artifact_type: str = ""
    annotations: Mapping[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The JSON object a manifest or index holds."""
        out: dict[str, Any] = {
            "mediaType": self.media_type,
            "digest": self.digest,
            "size": self.size,
        }
        if self.platform is not None:
            out["platform"] = self.platform.to_dict()
        if self.artifact_type:
            out["artifactType"] = self.artifact_type
        if self.annotations:
            out["annotations"] = dict(sorted(self.annotations.items()))
        return out

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Descriptor:
        """A descriptor read from a manifest or index (digest and size checked for shape)."""
        try:
            platform = raw.get("platform")
            return cls(
                media_type=str(raw["mediaType"]),
                digest=check_digest(str(raw["digest"])),
                size=int(raw["size"]),
                platform=Platform.from_dict(platform) if isinstance(platform, Mapping) else None,
                artifact_type=str(raw.get("artifactType") or ""),
                annotations={str(k): str(v) for k, v in (raw.get("annotations") or {}).items()},
            )
        except (KeyError, TypeError, ValueError) as err:
            raise InvalidValue(f"a malformed descriptor: {err}") from err

    def with_platform(self, platform: Platform | None) -> Descriptor:
        """The same descriptor naming ``platform`` (as an index entry)."""
        return Descriptor(
            self.media_type, self.digest, self.size, platform, self.artifact_type, self.annotations
        )


@dataclass(frozen=True)
class Blob:
    """Bytes with their media type: a layer, a configuration, a manifest, an artifact."""

    media_type: str
    data: bytes = field(repr=False)

    @property
    def digest(self) -> str:
        """``sha256:HEX`` of the bytes."""
        return sha256_digest(self.data)

    @property
    def descriptor(self) -> Descriptor:
        """The descriptor that names these bytes."""
        return Descriptor(self.media_type, self.digest, len(self.data))

    def json(self) -> Any:
        """The bytes as JSON (manifests, indexes, configurations)."""
        return json.loads(self.data)

    @classmethod
    def of_json(cls, media_type: str, value: Any) -> Blob:
        """A JSON blob in its canonical form."""
        return cls(media_type, canonical_json(value))
