"""A ``docker save`` archive as an OCI image: the engine's configuration, layers compressed here.

The archive holds ``manifest.json`` (the configuration's file and each layer's tar), the
configuration (whose sha256 is the engine's image id) and the uncompressed layer tars
(whose sha256s are the configuration's ``diff_ids``). The configuration is kept byte for
byte, so the image keeps its id; each layer is compressed deterministically
(:mod:`.layer`), so one engine image always gives one manifest digest.
"""

from __future__ import annotations

import json
import tarfile
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
            if position >= len(diff_ids) or sha256_digest(data) != diff_ids[position]:
                raise InvalidValue(f"the Docker archive's layer {name} is not the one configured")
            found.append(layers.from_tar(data))
    if len(found) != len(diff_ids):
        raise InvalidValue("the Docker archive holds fewer layers than its configuration names")
    return ArchivedImage(config, tuple(found))
