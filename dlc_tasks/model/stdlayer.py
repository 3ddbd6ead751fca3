"""The cache image's standard-library layer, and the previous cache image that may give it.

A dependency bump (a new ``go.sum``) names a new cache image. On a runner whose engine holds
nothing but the base images, building it compiled the standard library again (most of a cold
``cache`` step), though the registry's previous cache image holds that very layer. The legacy
builder (Docker 20.10 here, no BuildKit) cannot mount a registry layer into a build, so of the
two routes, pulling the previous cache image and building with it as ``cache_from``, or
assembling the new image's layers through the registry, this is the first: it needs nothing
but the engine's own build cache, keeps one ``docker build`` for every cache image, and the
builder itself reuses exactly the layers whose instructions and parents match (the standard
library's, and the module's when only later inputs changed). Assembling through the registry
would mean running the module's warm-up outside ``docker build`` and writing its layer by hand.

The packaged ``Dockerfile.build`` makes the standard-library layer byte-identical wherever it is
built from one Go image (its comments say how), so every module's cache image shares one blob.
Before the previous image is pulled, its configuration (read from the registry) must prove the
layer is the one this build would make: the label :data:`LABEL_STD_KEY` equal to this
Dockerfile's :func:`std_key` (its text up to :data:`STD_END` and the build arguments that part
declares), and its first layers equal, digest for digest, to the local base image's. After the
build, :func:`std_layer` of the new image must be the previous image's: the cache step says which.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from dlc_tasks.model.depshash import declared_args

# The label a cache image carries: the key of its standard-library layer.
LABEL_STD_KEY = "io.dlc-tasks.std-key"
# The line of Dockerfile.build after which everything is the module's.
STD_END = "# Module-specific from here on."
_FROM = re.compile(r"^FROM\s+(?:--platform=\S+\s+)?(?P<image>\S+)", re.IGNORECASE | re.MULTILINE)
_VAR = re.compile(r"\$\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)\}|\$(?P<bare>[A-Za-z_][A-Za-z0-9_]*)")
_ARG_DEFAULT = re.compile(r"^ARG\s+(?P<name>[A-Za-z_][A-Za-z0-9_]*)=(?P<value>\S*)", re.MULTILINE)


def std_part(dockerfile: str) -> str | None:
    """The Dockerfile up to and including :data:`STD_END`, or None when it has no such line
    (a project's own Dockerfile.build: then no previous image is reused)."""
    lines = dockerfile.splitlines(keepends=True)
    for number, line in enumerate(lines):
        if line.strip() == STD_END:
            return "".join(lines[: number + 1])
    return None


def std_key(dockerfile: str, build_args: Mapping[str, str]) -> str | None:
    """The digest of what makes the standard-library layer: the Dockerfile's part before the
    module's and the values of the build arguments that part declares (None: no such part)."""
    part = std_part(dockerfile)
    if part is None:
        return None
    args = {name: build_args.get(name) for name in sorted(declared_args(part))}
    blob = json.dumps([part, args], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()


def base_reference(dockerfile: str, build_args: Mapping[str, str]) -> str | None:
    """The image the first ``FROM`` names, its variables expanded from the build arguments,
    else the ``ARG`` defaults before it (None: no ``FROM``, or a variable left unset)."""
    found = _FROM.search(dockerfile)
    if found is None:
        return None
    before = dockerfile[: found.start()]
    defaults = {m.group("name"): m.group("value") for m in _ARG_DEFAULT.finditer(before)}
    unset = False

    def value(match: re.Match[str]) -> str:
        nonlocal unset
        name = match.group("braced") or match.group("bare")
        got = build_args.get(name, defaults.get(name))
        if not got:
            unset = True
            return ""
        return got

    image = _VAR.sub(value, found.group("image"))
    return None if unset or not image else image


@dataclass(frozen=True)
class Previous:
    """A previous cache image whose standard-library layer this build can reuse."""

    tag: str
    created: str
    std_layer: str  # the layer's digest (its diff_id, the uncompressed tar's sha256)


def layers_of(config: Mapping[str, Any]) -> list[str]:
    """An image configuration's layer digests (``rootfs.diff_ids``; the engine's ``RootFS``)."""
    rootfs = config.get("rootfs") or config.get("RootFS") or {}
    found = rootfs.get("diff_ids") or rootfs.get("Layers") or []
    return [str(d) for d in found]


def labels_of(config: Mapping[str, Any]) -> dict[str, str]:
    """An image configuration's labels (registry's ``config.Labels``, the engine's ``Config``)."""
    inner = config.get("config") or config.get("Config") or {}
    return {str(k): str(v) for k, v in (inner.get("Labels") or {}).items()}


def std_layer(config: Mapping[str, Any], base_layers: list[str]) -> str | None:
    """The layer right after the base image's, when the image stands on exactly that base."""
    layers = layers_of(config)
    if len(layers) <= len(base_layers) or layers[: len(base_layers)] != base_layers:
        return None
    return layers[len(base_layers)]


def choose_previous(
    configs: Iterable[tuple[str, Mapping[str, Any]]],
    key: str,
    base_layers: list[str],
    current: str,
) -> Previous | None:
    """The newest (by ``created``) cache image other than ``current`` whose standard-library
    layer is proved to be this build's: the same key, on the same base layers."""
    found: list[Previous] = []
    for tag, config in configs:
        if tag == current or labels_of(config).get(LABEL_STD_KEY) != key:
            continue
        layer = std_layer(config, base_layers)
        if layer is not None:
            found.append(Previous(tag, str(config.get("created", "")), layer))
    return max(found, key=lambda p: p.created) if found else None
