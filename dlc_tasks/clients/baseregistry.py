"""Base images in the registry, so images can be assembled from registry manifests.

* A base that exists only in the engine (``dlc-local/runtime:1``, imported here because
  no public image can be pulled) is pushed once: ``docker save``, its configuration kept
  byte for byte (the image id stays), its layers compressed deterministically, put by
  digest and under the tag ``engine-<image id hex>``, which later runs find by a ``HEAD``.
* The runtime base for the platforms the engine does not run is made from Debian's
  ``busybox-static`` for that architecture (``apt-get download``, ``dpkg-deb -x``: the
  architecture must have been added with ``dpkg --add-architecture``, as ``./dev`` does)
  with the same files and settings as the engine's, and kept with it in one index (the
  engine keeps only its own platform).
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from dlc_tasks._files import locked
from dlc_tasks.clients.baseimages import (
    CA_BUNDLE,
    RUNTIME_CMD,
    RUNTIME_ENV,
    busybox_applets,
    find_busybox,
    runtime_entries,
)
from dlc_tasks.clients.registry.blobs import ensure_blob
from dlc_tasks.clients.registry.images import push_index
from dlc_tasks.clients.registry.manifests import get_manifest, put_manifest
from dlc_tasks.errors import NotFoundError, ToolError
from dlc_tasks.model.oci import dockerarchive
from dlc_tasks.model.oci import layer as layers
from dlc_tasks.model.oci.config import timestamp
from dlc_tasks.model.oci.descriptor import OCI_CONFIG, Blob, Descriptor
from dlc_tasks.model.oci.manifest import image_index, image_manifest
from dlc_tasks.model.oci.platform import Platform

if TYPE_CHECKING:
    from dlc_tasks.clients.registry.api import RegistryClient
    from dlc_tasks.clients.seams import EngineAPI

# Debian's name for each architecture (and ARM variant) Go builds for.
DPKG_ARCH = {
    "amd64": "amd64",
    "arm64": "arm64",
    "arm/v7": "armhf",
    "arm/v6": "armel",
    "386": "i386",
    "ppc64le": "ppc64el",
    "s390x": "s390x",
    "riscv64": "riscv64",
}
PACKAGES = Path("~/.cache/dlc-tasks/packages").expanduser()


def engine_tag(image_id: str) -> str:
    """The tag an engine image is kept under in the registry: ``engine-<image id hex>``."""
    return "engine-" + image_id.partition(":")[2]


def engine_platform(engine: EngineAPI, ref: str) -> Platform:
    """The platform of an engine image (``Os``/``Architecture``/``Variant``)."""
    found = engine.inspect(ref)
    arch, variant = str(found["Architecture"]), str(found.get("Variant") or "")
    return Platform.parse(f"{found['Os']}/{arch}" + (f"/{variant}" if variant else ""))


def push_engine_image(
    engine: EngineAPI, client: RegistryClient, ref: str, repository: str
) -> Descriptor:
    """Make sure ``repository`` holds the engine's image ``ref`` (pushed the first time,
    found by its tag after); returns its manifest's descriptor, with its platform."""
    image_id = engine.image_id(ref)
    if image_id is None:
        raise NotFoundError(f"{ref} is not in the engine", hint="run inv setup.base-images")
    platform = engine_platform(engine, ref)
    tag = engine_tag(image_id)
    existing = get_manifest(client, repository, tag)
    if existing is not None and existing.json().get("config", {}).get("digest") == image_id:
        return existing.descriptor.with_platform(platform)
    with tempfile.TemporaryFile() as archive:
        engine.save(ref, archive)
        archive.seek(0)
        image = dockerarchive.read(archive)
    for blob in (image.config, *(layer.blob for layer in image.layers)):
        ensure_blob(client, repository, blob)
    manifest = image.manifest
    put_manifest(client, repository, manifest.digest, manifest)
    put_manifest(client, repository, tag, manifest)
    return manifest.descriptor.with_platform(platform)


def _dpkg_arch(platform: Platform) -> str:
    key = platform.architecture + (f"/{platform.variant}" if platform.architecture == "arm" else "")
    if key not in DPKG_ARCH:
        raise NotFoundError(f"no Debian architecture for {platform}")
    return DPKG_ARCH[key]


def busybox_for(platform: Platform, host: Platform, cache: Path = PACKAGES) -> Path:
    """A static busybox for ``platform``: the machine's own for its platform, else Debian's
    ``busybox-static:ARCH``, downloaded once into ``cache`` and unpacked there."""
    if platform.matches(host):
        return find_busybox()
    from plumbum import local  # noqa: PLC0415
    from plumbum.commands.processes import ProcessExecutionError  # noqa: PLC0415

    arch = _dpkg_arch(platform)
    folder = cache / arch
    binary = folder / "root" / "bin" / "busybox"
    with locked(folder / "busybox"):
        if binary.is_file():
            return binary
        try:
            with local.cwd(folder):
                local["apt-get"]("download", f"busybox-static:{arch}")
            debs = sorted(folder.glob(f"busybox-static_*_{arch}.deb"))
            local["dpkg-deb"]("-x", str(debs[-1]), str(folder / "root"))
        except (ProcessExecutionError, IndexError) as err:
            detail = getattr(err, "stderr", "") or str(err)
            raise ToolError(
                f"cannot fetch busybox-static:{arch}: {' '.join(detail.split())[:200]}",
                hint=f"dpkg --add-architecture {arch} && apt-get update (./dev does)",
            ) from err
    if not binary.is_file():
        raise ToolError(f"busybox-static:{arch} holds no bin/busybox")
    return binary


def runtime_image(
    platform: Platform, busybox: Path, applets: list[str], epoch: int = 0
) -> tuple[Blob, layers.Layer, Blob]:
    """The runtime base for ``platform`` (configuration, its one layer, manifest): the files
    and settings of the engine's ``dlc-local/runtime``, built deterministically."""
    ca_bundle = CA_BUNDLE.read_bytes() if CA_BUNDLE.is_file() else None
    layer = layers.build(runtime_entries(busybox.read_bytes(), applets, ca_bundle), epoch)
    config = Blob.of_json(
        OCI_CONFIG,
        {
            **platform.to_dict(),
            "created": timestamp(epoch),
            "config": {"Env": list(RUNTIME_ENV), "Cmd": list(RUNTIME_CMD)},
            "rootfs": {"type": "layers", "diff_ids": [layer.diff_id]},
            "history": [
                {"created": timestamp(epoch), "created_by": f"dlc-tasks: busybox for {platform}"}
            ],
        },
    )
    return config, layer, image_manifest(config.descriptor, [layer.descriptor])


def publish_runtime_index(
    engine: EngineAPI,
    client: RegistryClient,
    *,
    engine_ref: str,
    repository: str,
    tag: str,
    platforms: Sequence[Platform],
    cache: Path = PACKAGES,
) -> str:
    """One index under ``repository:tag`` with the runtime base for every platform: the
    engine's own image for its platform, busybox images for the others. Returns its digest."""
    host = engine_platform(engine, engine_ref)
    applets = busybox_applets(find_busybox())  # the same Debian release: the same applets
    entries = []
    for platform in platforms:
        if platform.matches(host):
            entries.append(push_engine_image(engine, client, engine_ref, repository))
            continue
        config, layer, manifest = runtime_image(
            platform, busybox_for(platform, host, cache), applets
        )
        for blob in (config, layer.blob):
            ensure_blob(client, repository, blob)
        put_manifest(client, repository, manifest.digest, manifest)
        entries.append(manifest.descriptor.with_platform(platform))
    return push_index(client, repository, image_index(entries), [tag])
