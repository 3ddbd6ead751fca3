"""``inv push`` with ``dlc.platforms`` (issue 18) on a real engine and a real Distribution 2.8
registry: the service cross-compiled by ``test``, its images assembled from their parts by
``prod``, tagged by ``push``, its SBOMs and provenance found from the digest alone, and
``dlc verify``/``dlc sbom`` on what was pushed. One test, one registry, one service: each
check reads what the pushes before it left (the suite must get faster, not slower)."""

from __future__ import annotations

import json
import subprocess
import time
import uuid
from pathlib import Path

import docker
import pytest

from dlc_tasks.clients.registry import RegistryClient
from dlc_tasks.clients.registry.blobs import get_blob
from dlc_tasks.clients.registry.manifests import get_manifest
from dlc_tasks.clients.registry.referrers import referrers
from dlc_tasks.model import provenance, sbom
from dlc_tasks.model.oci import layer as layers
from tests.integration.conftest import Registry, git_sha, inv, ok
from tests.support import publishing

pytestmark = pytest.mark.integration

TWO = {"INVOKE_DLC_PLATFORMS": "linux/amd64,linux/arm64"}
REPO = "arcodange/dance-lessons-coach"
BINARY = "/app/dance-lessons-coach"


def _attached(client: RegistryClient, subject: str, artifact_type: str) -> dict[str, object]:
    found = referrers(client, REPO, subject, artifact_type)
    assert len(found) == 1, found
    artifact = get_manifest(client, REPO, found[0].digest)
    assert artifact is not None
    return dict(json.loads(get_blob(client, REPO, artifact.json()["layers"][0]["digest"])))


def _healthy(engine: docker.DockerClient, reference: str) -> str | None:
    """Run the image and wait for its health check's verdict (the engine runs the check)."""
    container = engine.containers.run(
        reference, name=f"dlc-platforms-{uuid.uuid4().hex[:8]}", detach=True
    )
    try:
        deadline, health = time.monotonic() + 120, None
        while time.monotonic() < deadline and health not in ("healthy", "unhealthy"):
            time.sleep(0.5)  # polling the engine's verdict, not waiting for an event
            container.reload()
            health = container.attrs["State"].get("Health", {}).get("Status")
        return health
    finally:
        container.remove(force=True)


def test_push_with_two_platforms_publishes_one_verifiable_index_assembled_from_parts(
    warm_registry: Registry, service: Path, engine: docker.DockerClient, tmp_path: Path
) -> None:
    address = warm_registry.address
    said = ok(inv("push", project=service, registry=address, env=TWO))
    assert "assemble" in said and "attached (tag schema)" in said, said
    sha = git_sha(service)

    # an independent client: one index, one manifest per platform, every tag naming it
    raw = publishing.skopeo_raw(f"{address}/{REPO}:1.0.0")
    print(json.dumps(raw, indent=2))
    assert raw["mediaType"] == "application/vnd.oci.image.index.v1+json"
    entries = raw["manifests"]
    assert isinstance(entries, list)
    assert [e["platform"] for e in entries] == [
        {"architecture": "amd64", "os": "linux"},
        {"architecture": "arm64", "os": "linux", "variant": "v8"},
    ]
    client = RegistryClient(address)
    index = client.manifest_digest(REPO, "1.0.0")
    assert index is not None
    assert {client.manifest_digest(REPO, tag) for tag in (sha, "latest")} == {index}

    # each layer's binary is for its platform; the arm64 one starts under qemu
    for entry in entries:
        manifest = publishing.skopeo_raw(f"{address}/{REPO}@{entry['digest']}")
        top = manifest["layers"][-1]["digest"]  # type: ignore[index]
        binary = layers.read_file(get_blob(client, REPO, top), BINARY)
        assert binary is not None
        arch = entry["platform"]["architecture"]
        assert publishing.elf_machine(binary) == publishing.ELF_MACHINE[arch]
        if arch == "arm64":
            path = tmp_path / "arm64-from-layer"
            path.write_bytes(binary)
            path.chmod(0o755)
            ran = subprocess.run(
                ["qemu-aarch64", str(path), "-h"], capture_output=True, text=True, check=False
            )
            assert ran.returncode == 0 and "-healthcheck" in ran.stderr, ran

    # report.json: the index digest, each platform's manifest digest and size
    image = json.loads((service / ".dlc" / "report.json").read_text())["image"]
    assert image["digest"] == index
    assert {p: v["digest"] for p, v in image["platforms"].items()} == {
        "linux/amd64": entries[0]["digest"],
        "linux/arm64/v8": entries[1]["digest"],
    }
    assert all(v["size"] > 1_000_000 for v in image["platforms"].values())

    # the SBOMs and the provenance, found from the digests alone, validate
    statement = _attached(client, index, provenance.MEDIA_TYPE)
    predicate = publishing.check_statement(statement)
    parameters = predicate["buildDefinition"]["externalParameters"]
    assert parameters["commit"] == sha
    assert parameters["platforms"] == ["linux/amd64", "linux/arm64/v8"]
    for entry in entries:
        document = _attached(client, entry["digest"], sbom.MEDIA_TYPE)
        assert publishing.spdx_errors(document) == []
        names = {p["name"] for p in document["packages"]}  # type: ignore[attr-defined]
        assert {"github.com/arcodange/dance-lessons-coach", "stdlib"} <= names
    table = ok(
        inv(
            "sbom",
            f"{address}/{REPO}:1.0.0",
            "--format",
            "table",
            project=service,
            registry=address,
        )
    )
    assert "pkg:golang/stdlib" in table

    # warm: nothing to do, the registry asked only
    started = time.monotonic()
    again = ok(inv("prod", "push", project=service, registry=address, env=TWO))
    print(f"warm prod + push, two platforms: {time.monotonic() - started:.2f} s")
    assert "skip:" in again and "assemble" not in again.split("prod", 1)[1], again

    # inv prod alone leaves the engine's platform in the engine; the engine runs it, healthy
    tag = f"{address}/{REPO}:{sha}"
    try:
        alone = ok(inv("prod", project=service, registry=address, env=TWO))
        assert f"loaded {tag} (linux/amd64)" in alone, alone
        config = publishing.skopeo_raw(f"{address}/{REPO}@{entries[0]['digest']}")["config"]
        assert engine.images.get(tag).id == config["digest"]  # type: ignore[index]
        assert _healthy(engine, tag) == "healthy"
    finally:
        engine.images.remove(tag, force=True)

    # verify: the commit rebuilt in a fresh clone gives the same index
    verified = inv("verify", f"{address}/{REPO}:1.0.0", project=service, registry=address)
    print(verified.stdout[-600:])
    assert verified.returncode == 0 and f"verified: {address}/{REPO}:1.0.0" in verified.stdout

    # an image built from an edited tree: verify names the binary
    main = service / "cmd" / "server" / "main.go"
    main.write_text(main.read_text().replace("configuration `file`", "edited `file`"))
    ok(inv("push", project=service, registry=address, env=TWO))
    refused = inv("verify", f"{address}/{REPO}:{sha}-dirty", project=service, registry=address)
    print(refused.stdout[-400:], refused.stderr[-400:])
    assert refused.returncode == 1
    assert f"the binary {BINARY} for linux/amd64 differs" in refused.stdout + refused.stderr
