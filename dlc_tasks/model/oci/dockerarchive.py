"""Docker archives (``docker save``/``docker load``) and OCI images, both ways.

The archive holds ``manifest.json`` (the configuration's file and each layer's tar), the
configuration (whose sha256 is the engine's image id) and the uncompressed layer tars
(whose sha256s are the configuration's ``diff_ids``). The configuration is kept byte for
byte, so the image keeps its id; each layer is compressed deterministically
(:mod:`.layer`), so one engine image always gives one manifest digest. :func:`write` makes
the archive ``docker load`` takes from an assembled image (the engine keeps one image per
tag and loads Docker archives, not OCI layouts); its layers may stay compressed.
"""

from __future__ import annotations

import gzip
import io
import json
import tarfile
from collections.abc import Sequence
from dataclasses import dataclass
from typing import IO

from dlc_tasks.errors import InvalidValue
from dlc_tasks.model.oci import layer as layers
from dlc_tasks.model.oci.descriptor import OCI_CONFIG, Blob, sha256_digest
from dlc_tasks.model.oci.manifest import image_manifest


@dataclass(frozen=True)
class ArchivedImage:
    """One image of a Docker archive, as OCI blobs."""

    config: Blob
    layers: tuple[layers.Layer, ...]

    @property
    def manifest(self) -> Blob:
        """Its OCI image manifest."""
        return image_manifest(self.config.descriptor, [layer.descriptor for layer in self.layers])


def _member(tar: tarfile.TarFile, name: str) -> bytes:
    try:
        handle = tar.extractfile(name)
    except KeyError:
        handle = None
    if handle is None:
        raise InvalidValue(f"the Docker archive has no {name}")
    return handle.read()


def read(archive: IO[bytes]) -> ArchivedImage:
    """The (first) image of a ``docker save`` archive, its layers checked against the
    configuration's ``diff_ids``."""
    with tarfile.open(fileobj=archive, mode="r:") as tar:
        entries = json.loads(_member(tar, "manifest.json"))
        if not isinstance(entries, list) or not entries:
            raise InvalidValue("the Docker archive's manifest.json lists no image")
        config = Blob(OCI_CONFIG, _member(tar, str(entries[0]["Config"])))
        diff_ids = list(config.json().get("rootfs", {}).get("diff_ids") or [])
        found = []
        for position, name in enumerate(entries[0].get("Layers") or []):
            data = _member(tar, str(name))
            if data[:2] == b"\x1f\x8b":  # a compressed layer (docker load takes those too)
                data = gzip.decompress(data)
            if position >= len(diff_ids) or sha256_digest(data) != diff_ids[position]:
                raise InvalidValue(f"the Docker archive's layer {name} is not the one configured")
            found.append(layers.from_tar(data))
    if len(found) != len(diff_ids):
        raise InvalidValue("the Docker archive holds fewer layers than its configuration names")
    return ArchivedImage(config, tuple(found))


def write(
    config: Blob, layer_blobs: Sequence[bytes], repo_tags: Sequence[str], out: IO[bytes]
) -> None:
    """A ``docker load`` archive of one image: its configuration, every layer (the base's
    too, bottom first; gzip-compressed is fine) and the tags the engine gives it."""
    config_name = config.digest.partition(":")[2] + ".json"
    names = [f"{sha256_digest(blob).partition(':')[2]}/layer.tar" for blob in layer_blobs]
    manifest = json.dumps([{"Config": config_name, "RepoTags": list(repo_tags), "Layers": names}])
    with tarfile.open(fileobj=out, mode="w:", format=tarfile.PAX_FORMAT) as tar:
        for name, data in [
            ("manifest.json", manifest.encode()),
            (config_name, config.data),
            *zip(names, layer_blobs, strict=True),
        ]:
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o644
            tar.addfile(info, io.BytesIO(data))
