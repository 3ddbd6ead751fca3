"""An image assembled from its parts: a base for one platform, a recipe, files and a time.

As go-containerregistry's ``mutate.Append`` and ``mutate.ConfigFile`` and ko's
``gobuild.go``: the base's layers are kept as they are (by digest; the registry mounts
or copies them), each ``COPY`` of the recipe becomes part of a new deterministic layer,
and the configuration is the base's with the recipe's settings. Consecutive copies from
the build context share a layer, except those named in ``own_layer`` (the binary, which
changes on every build while the other files rarely do) and copies from another image
(the CA bundle of a ``scratch`` image), which get one each.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from dlc_tasks.errors import InvalidValue
from dlc_tasks.model.oci import config as image_config
from dlc_tasks.model.oci import layer as layers
from dlc_tasks.model.oci.descriptor import OCI_CONFIG, Blob, Descriptor
from dlc_tasks.model.oci.manifest import image_index, image_manifest, layers_of
from dlc_tasks.model.oci.platform import Platform
from dlc_tasks.model.oci.recipe import SCRATCH, Copy, Recipe


@dataclass(frozen=True)
class BaseImage:
    """A base image for one platform: its manifest and configuration as a registry holds them
    (``digest`` pins the manifest), or :meth:`scratch`."""

    repository: str  # where the registry holds it ("" for scratch)
    digest: str  # its manifest's ("" for scratch)
    manifest: Mapping[str, Any]
    config: Mapping[str, Any]

    @classmethod
    def scratch(cls, platform: Platform) -> BaseImage:
        """The empty base."""
        return cls("", "", {"layers": []}, image_config.empty_config(platform))

    @property
    def layers(self) -> list[Descriptor]:
        """Its layers, with OCI media types."""
        return layers_of(self.manifest)

    @property
    def platform(self) -> Platform:
        """The platform its configuration names."""
        return Platform.from_dict(self.config)


@dataclass(frozen=True)
class File:
    """A file of the build context: its bytes and mode."""

    data: bytes = field(repr=False)
    mode: int = 0o644


@dataclass(frozen=True)
class Image:
    """One platform's image: new blobs to upload, and the base layers the registry must have."""

    platform: Platform
    base: BaseImage
    config: Blob
    new_layers: tuple[layers.Layer, ...]
    manifest: Blob

    @property
    def descriptor(self) -> Descriptor:
        """The manifest's descriptor as an index lists it (with the platform)."""
        return self.manifest.descriptor.with_platform(self.platform)

    @property
    def base_layers(self) -> list[Descriptor]:
        """The layers the base contributes (mounted or copied, never rebuilt)."""
        return self.base.layers

    def blobs(self) -> list[Blob]:
        """The blobs this image adds: the configuration and each new layer."""
        return [self.config, *(layer.blob for layer in self.new_layers)]


def _describe(copy: Copy) -> str:
    origin = f"--from={copy.stage} " if copy.stage else ""
    return f"COPY {origin}{' '.join(copy.sources)} {copy.dest}"


def _groups(recipe: Recipe, own_layer: Collection[str]) -> list[list[Copy]]:
    """The recipe's copies, grouped into layers (see the module's docstring)."""
    groups: list[list[Copy]] = []
    shared = False  # whether the last group takes more context copies
    for copy in recipe.copies:
        alone = bool(copy.stage) or any(src in own_layer for src in copy.sources)
        if alone or not shared:
            groups.append([copy])
            shared = not alone
        else:
            groups[-1].append(copy)
    return groups


def assemble(
    base: BaseImage,
    recipe: Recipe,
    platform: Platform,
    files: Mapping[str, File],
    epoch: int,
    *,
    own_layer: Collection[str] = (),
    stage_files: Mapping[tuple[str, str], bytes] | None = None,
) -> Image:
    """The image for ``platform``: ``base`` with the recipe's copies and settings.

    ``files`` is the build context (source name → file); ``stage_files`` the files copies
    ``--from`` another image read, by (image, path). Every time in the layers and the
    configuration is ``epoch`` (the commit time).
    """
    if (recipe.base == SCRATCH) != (not base.digest):
        raise InvalidValue(f"the recipe's base is {recipe.base}, the base given is not")
    new: list[layers.Layer] = []
    steps: list[str] = []
    folders = [layers.directory(path) for path in recipe.folders]
    for group in _groups(recipe, own_layer) or ([[]] if folders else []):
        entries = list(folders)
        folders = []  # the WORKDIR folders go into the first new layer
        for copy in group:
            for source, target in copy.targets():
                entries.append(_entry(copy, source, target, files, stage_files or {}))
        new.append(layers.build(entries, epoch))
        steps.append("; ".join(_describe(c) for c in group) or "WORKDIR")
    config = Blob.of_json(
        OCI_CONFIG,
        image_config.derive(
            base.config,
            recipe,
            platform,
            diff_ids=[layer.diff_id for layer in new],
            steps=steps,
            epoch=epoch,
        ),
    )
    manifest = image_manifest(config.descriptor, [*base.layers, *(n.descriptor for n in new)])
    return Image(platform, base, config, tuple(new), manifest)


def _entry(
    copy: Copy,
    source: str,
    target: str,
    files: Mapping[str, File],
    stage_files: Mapping[tuple[str, str], bytes],
) -> layers.Entry:
    if copy.stage:
        data = stage_files.get((copy.stage, source))
        if data is None:
            raise InvalidValue(f"{source} of {copy.stage} was not given")
        return layers.file(target, data)
    found = files.get(source)
    if found is None:
        raise InvalidValue(f"{source} is not in the build context")
    return layers.file(target, found.data, found.mode)


def index_of(images: Sequence[Image], annotations: Mapping[str, str] | None = None) -> Blob:
    """The image index over one image per platform, in the order given."""
    platforms = [str(image.platform) for image in images]
    if len(set(platforms)) != len(platforms):
        raise InvalidValue(f"one platform twice in an index: {', '.join(platforms)}")
    return image_index([image.descriptor for image in images], annotations)
