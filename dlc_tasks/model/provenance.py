"""SLSA v1 provenance of a published index, as an in-toto statement.

The statement's subjects are the index and each platform's manifest (by digest); the
predicate's ``buildDefinition`` says what was built from what (the repository and commit,
the configuration that affects the image, the platforms; the cache image, base images
and ``go.sum`` it resolved), ``runDetails`` who built it and when. The start and finish
times are only there: the index digest does not depend on them, it stays reproducible.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dlc_tasks.model.oci.config import timestamp
from dlc_tasks.model.oci.descriptor import Blob, Descriptor
from dlc_tasks.model.oci.manifest import EMPTY, artifact_manifest
from dlc_tasks.model.oci.platform import Platform

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://slsa.dev/provenance/v1"
MEDIA_TYPE = "application/vnd.in-toto+json"
BUILD_TYPE = "https://pypi.org/project/dlc-tasks/#assembled-image/v1"
PREDICATE_ANNOTATION = "in-toto.io/predicate-type"


@dataclass(frozen=True)
class Dependency:
    """Something the build resolved: a name, where it is, and its digest(s)."""

    name: str
    uri: str
    digest: Mapping[str, str]  # {"sha256": hex} or {"gitCommit": sha}

    def to_dict(self) -> dict[str, Any]:
        """An SLSA ``ResourceDescriptor``."""
        return {"name": self.name, "uri": self.uri, "digest": dict(self.digest)}


def hex_of(digest: str) -> dict[str, str]:
    """``{"sha256": HEX}`` for ``sha256:HEX``."""
    algorithm, _, hexdigits = digest.partition(":")
    return {algorithm: hexdigits}


def statement(
    *,
    name: str,
    index: str,
    platforms: Sequence[tuple[Platform, str]],
    repository: str,
    commit: str,
    configuration: Mapping[str, Any],
    dependencies: Sequence[Dependency],
    builder_id: str,
    started: int,
    finished: int,
    invocation_id: str = "",
) -> dict[str, Any]:
    """The in-toto statement for the index ``name@index`` and its platform manifests."""
    subjects = [{"name": name, "digest": hex_of(index), "annotations": {"kind": "index"}}]
    subjects += [
        {"name": name, "digest": hex_of(digest), "annotations": {"platform": str(platform)}}
        for platform, digest in platforms
    ]
    metadata: dict[str, str] = {"startedOn": timestamp(started), "finishedOn": timestamp(finished)}
    if invocation_id:
        metadata["invocationId"] = invocation_id
    return {
        "_type": STATEMENT_TYPE,
        "subject": subjects,
        "predicateType": PREDICATE_TYPE,
        "predicate": {
            "buildDefinition": {
                "buildType": BUILD_TYPE,
                "externalParameters": {
                    "repository": repository,
                    "commit": commit,
                    "configuration": dict(configuration),
                    "platforms": [str(p) for p, _ in platforms],
                },
                "resolvedDependencies": [d.to_dict() for d in dependencies],
            },
            "runDetails": {"builder": {"id": builder_id}, "metadata": metadata},
        },
    }


def artifact(
    document: Mapping[str, Any], subject: Descriptor, epoch: int
) -> tuple[Blob, list[Blob]]:
    """The statement as an OCI artifact referring to ``subject`` (the index)."""
    payload = Blob.of_json(MEDIA_TYPE, dict(document))
    annotations = {
        PREDICATE_ANNOTATION: PREDICATE_TYPE,
        "org.opencontainers.image.created": timestamp(epoch),
    }
    return artifact_manifest(MEDIA_TYPE, payload, subject, annotations), [EMPTY, payload]
