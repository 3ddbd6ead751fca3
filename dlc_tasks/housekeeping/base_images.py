"""Machine set-up: base images when no public registry is reachable, and where to find them.

``inv setup.base-images`` (run by ``./dev``) first asks the engine for the
configured Go and runtime base images; if the engine has them, or can pull
them, nothing is done. The engine is the one ``DOCKER_HOST`` names: Podman keeps
its own image store, so with ``DOCKER_HOST`` at a Podman service they go there.
Otherwise it imports the local images of :mod:`dlc_tasks.clients.baseimages` and
records them in the user's Invoke configuration (``~/.invoke.yaml``, merged, other
keys kept), so that every later ``inv`` on this machine builds on them.

With platforms named (``--platforms linux/amd64,linux/arm64``), the runtime base is also
kept in the registry as one index over those platforms (:func:`publish_runtime_bases`):
the engine keeps only its own platform, and images for the others are assembled from
registry manifests.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from dlc_tasks._files import atomic_write_text
from dlc_tasks.clients import baseimages
from dlc_tasks.clients.engine import Engine
from dlc_tasks.errors import RegistryError
from dlc_tasks.reporting.console import Console

if TYPE_CHECKING:
    from dlc_tasks.clients.seams import EngineAPI, RegistryAPI
    from dlc_tasks.model.oci.platform import Platform

DEFAULT_GO_IMAGE = "golang:1.26.1-alpine"
DEFAULT_RUNTIME_IMAGE = "alpine:3.18"


def user_config_path() -> Path:
    """Invoke's user-level configuration file."""
    return Path(os.path.expanduser("~/.invoke.yaml"))


def _available(engine: Engine, ref: str) -> bool:
    return engine.image_id(ref) is not None or engine.try_pull(ref)


def record_build_args(path: Path, build_args: dict[str, str]) -> None:
    """Merge ``dlc.build_args`` into a YAML config file, keeping everything else in it."""
    data: dict[str, Any] = {}
    if path.is_file():
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
        data = loaded if isinstance(loaded, dict) else {}
    dlc = data.setdefault("dlc", {})
    dlc.setdefault("build_args", {}).update(build_args)
    atomic_write_text(path, yaml.safe_dump(data, sort_keys=True))


def ensure_base_images(out: Console, configured: dict[str, str], force: bool = False) -> None:
    """Make local base images when the configured (or default) ones cannot be had."""
    engine = Engine.connect()
    go_ref = configured.get("GO_IMAGE", DEFAULT_GO_IMAGE)
    runtime_ref = configured.get("RUNTIME_IMAGE", DEFAULT_RUNTIME_IMAGE)
    name = engine.identity().name  # Podman keeps its own store: they are imported there too
    if not force and _available(engine, go_ref) and _available(engine, runtime_ref):
        out.line(f"base images available in {name}: {go_ref}, {runtime_ref}")
        return
    out.line(f"base images cannot be pulled here: importing local ones into {name}")
    busybox = baseimages.find_busybox()
    go_image = baseimages.make_go_image(engine, busybox, baseimages.find_goroot())
    out.line(f"  imported {go_image}")
    runtime_image = baseimages.make_runtime_image(engine, busybox)
    out.line(f"  imported {runtime_image}")
    args = {"GO_IMAGE": go_image, "RUNTIME_IMAGE": runtime_image, "GOPROXY": "off"}
    record_build_args(user_config_path(), args)
    out.line(f"  recorded dlc.build_args in {user_config_path()}")


def publish_runtime_bases(
    out: Console, engine: EngineAPI, client: RegistryAPI, wanted: list[Platform]
) -> str:
    """Keep ``dlc-local/runtime:1`` in the registry as an index over ``wanted``; returns the
    index digest. Writing blobs and manifests needs the real client (a dry run's empty
    registry has no API to write to)."""
    from dlc_tasks.clients.baseregistry import publish_runtime_index  # noqa: PLC0415
    from dlc_tasks.clients.registry import RegistryClient  # noqa: PLC0415

    if not isinstance(client, RegistryClient):
        raise RegistryError("publishing the runtime bases needs a running registry")

    repository, tag = baseimages.RUNTIME_IMAGE.split(":")
    digest = publish_runtime_index(
        engine,
        client,
        engine_ref=baseimages.RUNTIME_IMAGE,
        repository=repository,
        tag=tag,
        platforms=wanted,
    )
    names = ", ".join(str(p) for p in wanted)
    out.line(f"runtime base for {names}: {client.registry}/{repository}:{tag} ({digest})")
    return digest
