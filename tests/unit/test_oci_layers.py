"""dlc_tasks.model.oci: deterministic layers, descriptors, platforms, manifests and indexes."""

from __future__ import annotations

import gzip
import io
import tarfile
import time

import pytest

from dlc_tasks.errors import InvalidValue
from dlc_tasks.model.oci import layer as layers
from dlc_tasks.model.oci.descriptor import OCI_CONFIG, Blob, Descriptor, canonical_json
from dlc_tasks.model.oci.manifest import (
    artifact_manifest,
    image_index,
    image_manifest,
    layers_of,
    platform_manifest,
)
from dlc_tasks.model.oci.platform import Platform

EPOCH = 1_790_000_000


def members(blob: bytes) -> list[tarfile.TarInfo]:
    with tarfile.open(fileobj=io.BytesIO(gzip.decompress(blob))) as tar:
        return tar.getmembers()


def test_a_layer_holds_sorted_entries_with_their_folders_owned_by_root_at_the_epoch() -> None:
    layer = layers.build(
        [layers.file("/app/server", b"\x7fELF", 0o755), layers.file("app/config.yaml", b"a: 1")],
        EPOCH,
    )
    found = members(layer.blob.data)
    assert [(m.name, m.type, m.mode) for m in found] == [
        ("app", tarfile.DIRTYPE, 0o755),
        ("app/config.yaml", tarfile.REGTYPE, 0o644),
        ("app/server", tarfile.REGTYPE, 0o755),
    ]
    assert {(m.uid, m.gid, m.uname, m.gname, m.mtime) for m in found} == {(0, 0, "", "", EPOCH)}
    assert layer.diff_id == Blob("", gzip.decompress(layer.blob.data)).digest
    assert layers.read_file(layer.blob.data, "/app/config.yaml") == b"a: 1"
    assert layers.read_file(layer.blob.data, "/app/missing") is None


def test_the_gzip_header_names_no_file_and_no_time() -> None:
    data = layers.build([layers.file("x", b"x")], EPOCH).blob.data
    assert data[:4] == b"\x1f\x8b\x08\x00"  # gzip, deflate, no FNAME flag
    assert data[4:8] == b"\x00\x00\x00\x00"  # MTIME 0


def test_the_same_files_give_the_same_layer_at_another_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    entries = [layers.file("/app/a", b"a"), layers.symlink("/bin/sh", "busybox")]
    first = layers.build(entries, EPOCH)
    monkeypatch.setattr(time, "time", lambda: 2_000_000_000.0)  # gzip's default mtime
    assert layers.build(list(reversed(entries)), EPOCH) == first
    assert layers.build(entries, EPOCH + 1) != first  # the epoch is what dates them


@pytest.mark.parametrize("path", ["../etc/passwd", "/app/../../x", "", "a\nb"])
def test_paths_that_leave_the_root_or_hold_controls_are_refused(path: str) -> None:
    with pytest.raises(InvalidValue):
        layers.build([layers.file(path, b"")], EPOCH)


def test_two_files_at_one_path_are_refused() -> None:
    with pytest.raises(InvalidValue, match="two entries for /app/x"):
        layers.build([layers.file("/app/x", b"1"), layers.file("app/x", b"2")], EPOCH)


@pytest.mark.parametrize(
    ("text", "expected", "go_env"),
    [
        ("linux/amd64", Platform("linux", "amd64"), {"GOOS": "linux", "GOARCH": "amd64"}),
        ("linux/arm64", Platform("linux", "arm64", "v8"), {"GOOS": "linux", "GOARCH": "arm64"}),
        ("linux/aarch64", Platform("linux", "arm64", "v8"), {"GOOS": "linux", "GOARCH": "arm64"}),
        (
            "linux/arm/v6",
            Platform("linux", "arm", "v6"),
            {"GOOS": "linux", "GOARCH": "arm", "GOARM": "6"},
        ),
        (
            "linux/amd64/v3",
            Platform("linux", "amd64", "v3"),
            {"GOOS": "linux", "GOARCH": "amd64", "GOAMD64": "v3"},
        ),
    ],
)
def test_platforms_are_normalised_and_say_how_go_builds_for_them(
    text: str, expected: Platform, go_env: dict[str, str]
) -> None:
    platform = Platform.parse(text)
    assert platform == expected
    assert platform.go_env() == go_env
    assert Platform.parse(str(platform)) == platform


def test_a_list_of_platforms_names_each_once() -> None:
    assert Platform.parse_list("linux/amd64, linux/arm64,linux/aarch64") == [
        Platform("linux", "amd64"),
        Platform("linux", "arm64", "v8"),
    ]
    with pytest.raises(InvalidValue, match="no platform named"):
        Platform.parse_list(" , ")


@pytest.mark.parametrize("text", ["linux", "linux/amd64/v3/x", "Linux/AMD 64", "linux/$(id)"])
def test_a_malformed_platform_is_one_line(text: str) -> None:
    with pytest.raises(InvalidValue, match="not a platform"):
        Platform.parse(text)


def test_an_index_lists_each_platform_and_a_base_index_is_searched_by_platform() -> None:
    config = Blob.of_json(OCI_CONFIG, {"os": "linux"})
    amd = image_manifest(config.descriptor, []).descriptor.with_platform(
        Platform.parse("linux/amd64")
    )
    arm = Descriptor("application/vnd.oci.image.manifest.v1+json", "sha256:" + "1" * 64, 10)
    arm = arm.with_platform(Platform("linux", "arm64"))  # no variant, as some indexes say it
    index = image_index([amd, arm]).json()
    assert [m["platform"] for m in index["manifests"]] == [
        {"architecture": "amd64", "os": "linux"},
        {"architecture": "arm64", "os": "linux"},
    ]
    assert platform_manifest(index, Platform.parse("linux/arm64")).digest == arm.digest
    with pytest.raises(
        InvalidValue, match=r"no linux/s390x manifest \(it has: linux/amd64, linux/arm64\)"
    ):
        platform_manifest(index, Platform.parse("linux/s390x"))


def test_a_docker_manifests_layers_become_oci_layers_with_their_digests() -> None:
    digest = "sha256:" + "2" * 64
    manifest = {
        "layers": [
            {
                "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                "digest": digest,
                "size": 3,
            }
        ]
    }
    assert layers_of(manifest) == [
        Descriptor("application/vnd.oci.image.layer.v1.tar+gzip", digest, 3)
    ]
    manifest["layers"][0]["mediaType"] = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"
    with pytest.raises(InvalidValue, match="may not be copied"):
        layers_of(manifest)


def test_an_artifact_names_its_type_the_empty_config_and_its_subject() -> None:
    subject = Descriptor("application/vnd.oci.image.index.v1+json", "sha256:" + "3" * 64, 100)
    payload = Blob("application/spdx+json", b"{}")
    body = artifact_manifest("application/spdx+json", payload, subject, {"k": "v"}).json()
    assert body["artifactType"] == "application/spdx+json"
    assert body["config"] == {
        "mediaType": "application/vnd.oci.empty.v1+json",
        "digest": "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
        "size": 2,
    }
    assert body["subject"] == subject.to_dict()
    assert body["layers"] == [payload.descriptor.to_dict()]


def test_json_blobs_are_canonical() -> None:
    assert canonical_json({"b": 1, "a": [1, "é"]}) == '{"a":[1,"é"],"b":1}'.encode()
