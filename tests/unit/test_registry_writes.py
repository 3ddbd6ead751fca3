"""dlc_tasks.clients.registry.{blobs,manifests,referrers} against an in-memory registry:
what Distribution 2.8 cannot show (the referrers API, a lost update at a chosen moment,
an upload sent to another host). The calls against a real Distribution:
tests/integration/test_publish.py."""

from __future__ import annotations

import hashlib
import json
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from dlc_tasks.clients.registry.blobs import ensure_blob, location_path
from dlc_tasks.clients.registry.manifests import get_manifest, put_manifest
from dlc_tasks.clients.registry.referrers import attach, referrers
from dlc_tasks.errors import RegistryError
from dlc_tasks.model.oci.descriptor import OCI_CONFIG, OCI_INDEX, Blob
from dlc_tasks.model.oci.manifest import (
    EMPTY,
    artifact_manifest,
    image_index,
    image_manifest,
    referrer_descriptor,
)
from dlc_tasks.model.oci.referrers import fallback_tag, merged, record_tag


@dataclass
class Response:
    status_code: int
    content: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    links: dict[str, dict[str, str]] = field(default_factory=dict)

    def json(self) -> Any:
        return json.loads(self.content)


@dataclass
class MemoryRegistry:
    """Manifests and blobs by digest, tags, optionally the referrers API."""

    referrers_api: bool = False
    location: str = ""  # an upload Location to answer with instead of the usual path
    blobs: set[str] = field(default_factory=set)
    manifests: dict[str, bytes] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    log: list[str] = field(default_factory=list)
    after_put: Callable[[MemoryRegistry, str], None] | None = None
    base_url = "http://127.0.0.1:5999"
    registry = "127.0.0.1:5999"

    def _refuse(self, response: Response, what: str) -> None:
        raise RegistryError(f"{what}: the registry answered {response.status_code}")

    def manifest_digest(self, repository: str, reference: str) -> str | None:
        return self.tags.get(reference) if ":" not in reference else reference

    def request(  # noqa: PLR0911  (one answer per route, as a router has)
        self,
        method: str,
        path: str,
        headers: dict[str, str] | None = None,
        *,
        scope: str = "",
        data: bytes | None = None,
    ) -> Response:
        self.log.append(f"{method} {path}")
        parts = urllib.parse.urlsplit(path)
        query = dict(urllib.parse.parse_qsl(parts.query))
        segments = parts.path.split("/")
        if "/referrers/" in path:
            if not self.referrers_api:
                return Response(404)
            listed = [
                {
                    "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "digest": d,
                    "size": len(m),
                    "artifactType": json.loads(m).get("artifactType", ""),
                }
                for d, m in self.manifests.items()
                if json.loads(m).get("subject", {}).get("digest") == segments[-1]
            ]
            return Response(200, json.dumps({"schemaVersion": 2, "manifests": listed}).encode())
        if "/tags/list" in path:
            return Response(200, json.dumps({"tags": sorted(self.tags)}).encode())
        if "/blobs/uploads/" in path and method == "POST":
            return Response(202, headers={"Location": self.location or "/v2/r/blobs/uploads/u1"})
        if "/blobs/uploads/" in path and method == "PUT":
            assert (
                data is not None and "sha256:" + hashlib.sha256(data).hexdigest() == query["digest"]
            )
            self.blobs.add(query["digest"])
            return Response(201, headers={"Docker-Content-Digest": query["digest"]})
        if "/blobs/" in path:
            return Response(200 if segments[-1] in self.blobs else 404)
        reference = segments[-1]
        if method == "PUT":
            assert data is not None
            digest = "sha256:" + hashlib.sha256(data).hexdigest()
            self.manifests[digest] = data
            if ":" not in reference:
                self.tags[reference] = digest
            headers = {"Docker-Content-Digest": digest}
            if self.referrers_api and b'"subject"' in data:
                headers["OCI-Subject"] = json.loads(data)["subject"]["digest"]
            response = Response(201, headers=headers)
            if self.after_put is not None:
                self.after_put(self, reference)
            return response
        digest = self.tags.get(reference, reference)
        if digest not in self.manifests:
            return Response(404)
        body = self.manifests[digest]
        return Response(200, body, {"Content-Type": json.loads(body)["mediaType"]})


def subject_and_artifact(registry: MemoryRegistry, text: str = "sbom") -> tuple[Blob, Blob, Blob]:
    config = Blob(OCI_CONFIG, b"{}")
    subject = image_manifest(config.descriptor, [])
    registry.manifests[subject.digest] = subject.data
    payload = Blob("application/spdx+json", text.encode())
    return subject, artifact_manifest("application/spdx+json", payload, subject.descriptor), payload


def test_a_registry_with_the_referrers_api_needs_no_tags() -> None:
    registry = MemoryRegistry(referrers_api=True)
    subject, artifact, payload = subject_and_artifact(registry)
    assert attach(registry, "r", artifact, [EMPTY, payload]) == "referrers API"  # type: ignore[arg-type]
    assert registry.tags == {}
    found = referrers(registry, "r", subject.digest, "application/spdx+json")  # type: ignore[arg-type]
    assert [d.digest for d in found] == [artifact.digest]
    assert referrers(registry, "r", subject.digest, "application/vnd.in-toto+json") == []  # type: ignore[arg-type]


def test_without_the_api_the_artifact_is_recorded_and_listed_under_the_subjects_tag() -> None:
    registry = MemoryRegistry()
    subject, artifact, payload = subject_and_artifact(registry)
    assert attach(registry, "r", artifact, [EMPTY, payload]) == "tag schema"  # type: ignore[arg-type]
    assert set(registry.tags) == {
        fallback_tag(subject.digest),
        record_tag(subject.digest, artifact.digest),
    }
    index = json.loads(registry.manifests[registry.tags[fallback_tag(subject.digest)]])
    assert index["mediaType"] == OCI_INDEX
    assert [(m["digest"], m["artifactType"]) for m in index["manifests"]] == [
        (artifact.digest, "application/spdx+json")
    ]
    found = referrers(registry, "r", subject.digest)  # type: ignore[arg-type]
    assert [d.digest for d in found] == [artifact.digest]


def test_an_entry_lost_to_another_writers_stale_write_is_written_again() -> None:
    """Another writer read the index before ours landed and writes its own version after:
    the re-read finds our record missing from the index and writes it again."""
    registry = MemoryRegistry()
    subject, artifact, payload = subject_and_artifact(registry)
    _, theirs, _ = subject_and_artifact(registry, "theirs")
    tag = fallback_tag(subject.digest)
    registry.manifests[theirs.digest] = theirs.data
    registry.tags[record_tag(subject.digest, theirs.digest)] = theirs.digest
    stale = merged(None, [referrer_descriptor(theirs)])  # they read nothing, add theirs
    writes = []

    def other_writer(reg: MemoryRegistry, reference: str) -> None:
        if reference == tag and not writes:  # right after our first write of the index
            writes.append(reference)
            put_manifest(reg, "r", tag, stale)  # type: ignore[arg-type]

    registry.after_put = other_writer
    attach(registry, "r", artifact, [EMPTY, payload])  # type: ignore[arg-type]
    final = json.loads(registry.manifests[registry.tags[tag]])
    assert sorted(m["digest"] for m in final["manifests"]) == sorted(
        [artifact.digest, theirs.digest]
    )
    assert writes == [tag]
    index_writes = [line for line in registry.log if line == f"PUT /v2/r/manifests/{tag}"]
    assert len(index_writes) == 3  # ours, theirs (stale), ours again


def test_an_index_that_keeps_changing_is_one_error_line() -> None:
    registry = MemoryRegistry()
    subject, artifact, payload = subject_and_artifact(registry)
    tag = fallback_tag(subject.digest)

    def vandal(reg: MemoryRegistry, reference: str) -> None:
        if reference == tag:
            reg.tags[tag] = reg.tags[tag]  # keep the tag, then empty the index it names
            reg.manifests[reg.tags[tag]] = image_index([]).data

    registry.after_put = vandal
    with pytest.raises(RegistryError, match="kept changing"):
        attach(registry, "r", artifact, [EMPTY, payload], pause=lambda _: None)  # type: ignore[arg-type]


def test_an_upload_location_on_another_host_is_refused() -> None:
    registry = MemoryRegistry(location="http://elsewhere.example/v2/r/blobs/uploads/u1")
    with pytest.raises(RegistryError, match="another host"):
        ensure_blob(registry, "r", Blob("x", b"data"))  # type: ignore[arg-type]
    assert location_path(registry, "http://127.0.0.1:5999/v2/r/blobs/uploads/u?_state=s") == (  # type: ignore[arg-type]
        "/v2/r/blobs/uploads/u?_state=s"
    )
    with pytest.raises(RegistryError, match="outside /v2/"):
        location_path(registry, "/admin")  # type: ignore[arg-type]


def test_a_manifest_served_for_a_digest_must_hash_to_it() -> None:
    registry = MemoryRegistry()
    subject, _, _ = subject_and_artifact(registry)
    registry.manifests[subject.digest] = subject.data.replace(
        b'"schemaVersion"', b' "schemaVersion"'
    )
    with pytest.raises(RegistryError, match="does not match"):
        get_manifest(registry, "r", subject.digest)  # type: ignore[arg-type]
