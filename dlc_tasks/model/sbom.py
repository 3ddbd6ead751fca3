"""An SPDX 2.3 SBOM of one platform image, from its binary's Go build information (as ko does).

Packages: the image (its manifest digest), the base image it descends from (its digest),
the binary's main module, every dependency module with its version, its ``h1:`` sum as
a SHA256 checksum (the sum is the base64 SHA-256 of the module's dirhash; vendored builds
record none) and its ``pkg:golang`` purl, and the Go standard library at the Go version;
the build settings (``GOOS``, ``-trimpath``, ``-ldflags``…) are annotations of the main
module. Every time in it is the commit time, so the same build gives the same document.
"""

from __future__ import annotations

import base64
import binascii
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from dlc_tasks.model.gobuildinfo import BuildInfo, Module
from dlc_tasks.model.oci.config import timestamp
from dlc_tasks.model.oci.descriptor import Blob, Descriptor
from dlc_tasks.model.oci.manifest import EMPTY, artifact_manifest
from dlc_tasks.model.oci.platform import Platform

MEDIA_TYPE = "application/spdx+json"
NOASSERTION = "NOASSERTION"
CREATED = "org.opencontainers.image.created"


@dataclass(frozen=True)
class ImageRef:
    """An image in a registry: ``registry/repository`` and its manifest digest."""

    name: str  # registry/org/repo
    digest: str

    def purl(self, platform: Platform | None = None) -> str:
        """``pkg:oci/NAME@DIGEST?repository_url=…[&arch=…]`` (the purl spec's OCI type)."""
        last = self.name.rsplit("/", 1)[-1]
        query = {"repository_url": self.name}
        if platform is not None:
            query["arch"] = platform.architecture
        encoded = urllib.parse.quote(self.digest, safe="")
        return f"pkg:oci/{last}@{encoded}?{urllib.parse.urlencode(query)}"


def golang_purl(path: str, version: str) -> str:
    """``pkg:golang/PATH@VERSION``, each path segment and the version percent-encoded."""
    segments = "/".join(urllib.parse.quote(s, safe="") for s in path.split("/"))
    return f"pkg:golang/{segments}@{urllib.parse.quote(version, safe='')}"


def h1_sha256(module_sum: str) -> str:
    """The hex SHA-256 inside an ``h1:`` sum, or ``""`` (no sum, or another kind)."""
    if not module_sum.startswith("h1:"):
        return ""
    try:
        raw = base64.b64decode(module_sum[3:], validate=True)
    except (binascii.Error, ValueError):
        return ""
    return raw.hex() if len(raw) == 32 else ""


def _package(spdx_id: str, name: str, version: str, purl: str, **more: Any) -> dict[str, Any]:
    package: dict[str, Any] = {
        "SPDXID": spdx_id,
        "name": name,
        "versionInfo": version,
        "downloadLocation": NOASSERTION,
        "filesAnalyzed": False,
        "externalRefs": [
            {
                "referenceCategory": "PACKAGE-MANAGER",
                "referenceType": "purl",
                "referenceLocator": purl,
            }
        ],
    }
    package.update(more)
    return package


def _sha256(hexdigits: str) -> list[dict[str, str]]:
    return [{"algorithm": "SHA256", "checksumValue": hexdigits}] if hexdigits else []


def _module_package(spdx_id: str, module: Module, **more: Any) -> dict[str, Any]:
    used = module.effective
    extra = dict(more)
    checksums = _sha256(h1_sha256(used.sum))
    if checksums:
        extra["checksums"] = checksums
    if module.replace is not None:
        extra["comment"] = f"replaces {module.path} {module.version}"
    return _package(spdx_id, used.path, used.version, golang_purl(used.path, used.version), **extra)


def document(
    info: BuildInfo,
    *,
    image: ImageRef,
    platform: Platform,
    base: ImageRef | None,
    namespace: str,
    epoch: int,
    tool: str,
) -> dict[str, Any]:
    """The SPDX 2.3 document (JSON object) of ``image`` for ``platform``.

    ``namespace`` is a URI prefix this document's namespace is made unique under (the
    image's digest is appended); ``tool`` names the creator (``dlc-tasks-0.1.0``).
    """
    created = timestamp(epoch)
    relations: list[tuple[str, str, str]] = [("SPDXRef-DOCUMENT", "DESCRIBES", "SPDXRef-Image")]
    image_hex = image.digest.partition(":")[2]
    packages = [
        _package(
            "SPDXRef-Image",
            image.name,
            image.digest,
            image.purl(platform),
            checksums=_sha256(image_hex),
            primaryPackagePurpose="CONTAINER",
            comment=f"platform {platform}",
        )
    ]
    if base is not None:
        packages.append(
            _package(
                "SPDXRef-Base",
                base.name,
                base.digest,
                base.purl(platform),
                checksums=_sha256(base.digest.partition(":")[2]),
                primaryPackagePurpose="CONTAINER",
            )
        )
        relations.append(("SPDXRef-Image", "DESCENDANT_OF", "SPDXRef-Base"))
    main = info.main or Module(info.path or "unknown", "(devel)")
    annotations = [
        {
            "annotationDate": created,
            "annotationType": "OTHER",
            "annotator": f"Tool: {tool}",
            "comment": f"build {key}={value}",
        }
        for key, value in info.settings
    ]
    packages.append(
        _module_package(
            "SPDXRef-Main",
            main,
            primaryPackagePurpose="APPLICATION",
            annotations=annotations,
            summary=f"main package {info.path}" if info.path else "main module",
        )
    )
    relations.append(("SPDXRef-Image", "CONTAINS", "SPDXRef-Main"))
    go = info.go_version.removeprefix("go")
    packages.append(_package("SPDXRef-Go", "stdlib", info.go_version, golang_purl("stdlib", go)))
    relations.append(("SPDXRef-Main", "DEPENDS_ON", "SPDXRef-Go"))
    for number, dep in enumerate(info.deps, 1):
        packages.append(_module_package(f"SPDXRef-Dep-{number}", dep))
        relations.append(("SPDXRef-Main", "DEPENDS_ON", f"SPDXRef-Dep-{number}"))
    return {
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": f"{image.name}@{image.digest} {platform}",
        "documentNamespace": f"{namespace.rstrip('/')}/{image.digest.replace(':', '-')}",
        "creationInfo": {"created": created, "creators": [f"Tool: {tool}"]},
        "packages": packages,
        "relationships": [
            {"spdxElementId": a, "relationshipType": kind, "relatedSpdxElement": b}
            for a, kind, b in relations
        ],
    }


def artifact(sbom: Mapping[str, Any], subject: Descriptor, epoch: int) -> tuple[Blob, list[Blob]]:
    """The SBOM as an OCI artifact referring to ``subject`` (its platform's manifest): the
    artifact manifest, and the blobs it needs."""
    payload = Blob.of_json(MEDIA_TYPE, dict(sbom))
    manifest = artifact_manifest(MEDIA_TYPE, payload, subject, {CREATED: timestamp(epoch)})
    return manifest, [EMPTY, payload]
