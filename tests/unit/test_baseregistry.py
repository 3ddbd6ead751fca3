"""dlc_tasks.model.oci.dockerarchive and dlc_tasks.clients.baseregistry's pure parts: an engine
image as OCI blobs (its id kept), the runtime base for another platform, built the same way."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest

from dlc_tasks.clients.baseregistry import _dpkg_arch, engine_tag, runtime_image
from dlc_tasks.errors import InvalidValue, NotFoundError
from dlc_tasks.model.oci import dockerarchive
from dlc_tasks.model.oci import layer as layers
from dlc_tasks.model.oci.descriptor import sha256_digest
from dlc_tasks.model.oci.platform import Platform


def archive(layer_tars: list[bytes], diff_ids: list[str] | None = None) -> io.BytesIO:
    """A ``docker save`` archive of one image."""
    config = json.dumps(
        {
            "os": "linux",
            "architecture": "amd64",
            "rootfs": {
                "type": "layers",
                "diff_ids": diff_ids or [sha256_digest(t) for t in layer_tars],
            },
        }
    ).encode()
    config_name = sha256_digest(config).partition(":")[2] + ".json"
    names = [f"{n}/layer.tar" for n in range(len(layer_tars))]
    manifest = json.dumps([{"Config": config_name, "RepoTags": ["x:1"], "Layers": names}]).encode()
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        for name, data in [
            ("manifest.json", manifest),
            (config_name, config),
            *zip(names, layer_tars, strict=True),
        ]:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    out.seek(0)
    return out


def test_a_saved_engine_image_keeps_its_id_and_gets_one_manifest_digest() -> None:
    tar = layers.tar_bytes([layers.file("bin/sh", b"sh", 0o755)], 0)
    image = dockerarchive.read(archive([tar]))
    assert image.layers[0].diff_id == sha256_digest(tar)
    assert layers.read_file(image.layers[0].blob.data, "bin/sh") == b"sh"
    assert dockerarchive.read(archive([tar])).manifest.digest == image.manifest.digest
    assert image.manifest.json()["config"]["digest"] == image.config.digest
    assert engine_tag(image.config.digest) == "engine-" + image.config.digest[7:]


def test_a_layer_that_is_not_the_configured_one_is_refused() -> None:
    tar = layers.tar_bytes([layers.file("a", b"a")], 0)
    with pytest.raises(InvalidValue, match="not the one configured"):
        dockerarchive.read(archive([tar], ["sha256:" + "0" * 64]))


def test_the_runtime_base_for_another_platform_is_built_deterministically(tmp_path: Path) -> None:
    busybox = tmp_path / "busybox"
    busybox.write_bytes(b"\x7fELF arm64 busybox")
    arm64 = Platform.parse("linux/arm64")
    config, layer, manifest = runtime_image(arm64, busybox, ["sh", "ls", "busybox"])
    assert runtime_image(arm64, busybox, ["sh", "ls", "busybox"])[2].digest == manifest.digest
    body = config.json()
    assert (body["os"], body["architecture"], body["variant"]) == ("linux", "arm64", "v8")
    assert body["config"]["Cmd"] == ["/bin/sh"]
    entries = layers.read_entries(layer.blob.data)
    assert entries["bin/busybox"] == b"\x7fELF arm64 busybox"
    assert (
        isinstance(entries["bin/sh"], tarfile.TarInfo) and entries["bin/sh"].linkname == "busybox"
    )
    assert "bin/busybox" in entries and "etc/passwd" in entries
    assert body["rootfs"]["diff_ids"] == [layer.diff_id]


def test_debian_names_each_architecture() -> None:
    assert _dpkg_arch(Platform.parse("linux/arm64")) == "arm64"
    assert _dpkg_arch(Platform.parse("linux/arm/v7")) == "armhf"
    with pytest.raises(NotFoundError, match="no Debian architecture for linux/mips"):
        _dpkg_arch(Platform.parse("linux/mips"))


def test_an_assembled_image_becomes_an_archive_docker_load_reads() -> None:
    tar = layers.tar_bytes([layers.file("bin/sh", b"sh", 0o755)], 0)
    image = dockerarchive.read(archive([tar]))
    out = io.BytesIO()
    dockerarchive.write(image.config, [layer.blob.data for layer in image.layers], ["x/y:1"], out)
    out.seek(0)
    again = dockerarchive.read(out)  # what `docker save` would give back: the same image
    assert again.config == image.config
    assert again.manifest.digest == image.manifest.digest
