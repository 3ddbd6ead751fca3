"""The images one module gives (``dlc.images``), after GoReleaser's ``builds`` and Skaffold's
``artifacts``: each a name, a main package, a binary and its production settings.

Pure: validates the configuration. With no ``dlc.images`` the module gives one image,
named ``repo``, from ``main_package``, ``binary_name``, ``dlc.image`` and ``prod_files``
(its stamps keep the plain step names, ``prod`` and ``push``). With ``dlc.images``, each
entry is an image ``REGISTRY/ORG/NAME``; an entry's ``base``, ``ports``, ``healthcheck``,
``args`` and ``user`` default to ``dlc.image``'s and its ``prod_files`` to ``dlc.prod_files``;
its stamps are ``prod:NAME`` and ``push:NAME``. One cache image and one test run serve
every image (the test step builds every binary); ``prod`` and ``push`` do each selected
image (``--image NAME``, or all).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dlc_tasks.errors import ConfigError, InvalidValue
from dlc_tasks.model.prodimage import IMAGE_KEYS, ImageSettings
from dlc_tasks.model.refs import check_path_component

TARGET_KEYS = ("main_package", "binary_name", "prod_files")


def check_main_package(value: object, what: str = "main_package") -> str:
    """A ``./relative`` package path inside the module."""
    if not isinstance(value, str) or not value.startswith("./") or ".." in value.split("/"):
        raise InvalidValue(f"{what} must be a ./relative package path, got {value!r}")
    return value


def check_prod_files(value: object, what: str = "prod_files") -> list[str]:
    """Relative paths (confined to project_dir again when the settings are made)."""
    if not isinstance(value, list) or not all(
        isinstance(f, str) and f and not f.startswith("/") and ".." not in Path(f).parts
        for f in value
    ):
        raise ConfigError(f"{what} must be relative paths inside project_dir: {value!r}")
    return list(value)


@dataclass(frozen=True)
class ImageTarget:
    """One production image of the module."""

    name: str  # the image repository's last component: REGISTRY/ORG/NAME
    main_package: str | None  # None: the module's only package main, found when needed
    binary_name: str
    image: ImageSettings = field(default_factory=ImageSettings)
    prod_files: list[str] = field(default_factory=list)
    configured: bool = False  # from dlc.images (per-image stamps), else the module's one image

    def stamp(self, step: str) -> str:
        """The state key of ``step`` (``prod``, ``push``) for this image."""
        return f"{step}:{self.name}" if self.configured else step


def parse_images(
    raw: object,
    *,
    repo: str,
    defaults: Mapping[str, Any],
    prod_files: list[str],
    binary_name: Any,
) -> tuple[ImageTarget, ...]:
    """``dlc.images`` as targets, validated; empty when not set.

    ``binary_name`` derives an entry's binary from its main package and name.
    """
    if not raw:
        return ()
    if not isinstance(raw, Mapping):
        raise ConfigError(
            f"dlc.images must map image names to settings, got {raw!r}",
            hint="e.g. images: {api: {main_package: ./cmd/api}}",
        )
    targets: list[ImageTarget] = []
    for key, entry in raw.items():
        name = check_path_component(str(key), "dlc.images name")
        if name == f"{repo}-build-cache":
            raise InvalidValue(f"dlc.images: {name} is the build-cache image's name")
        values = dict(entry or {})
        unknown = sorted(set(values) - set(TARGET_KEYS) - set(IMAGE_KEYS))
        if unknown:
            raise ConfigError(
                f"dlc.images.{name} has unknown keys: {', '.join(unknown)}",
                hint=f"use {', '.join([*TARGET_KEYS, *IMAGE_KEYS])}",
            )
        if "main_package" not in values:
            raise ConfigError(
                f"dlc.images.{name} has no main_package", hint="e.g. main_package: ./cmd/NAME"
            )
        main = check_main_package(values["main_package"], f"dlc.images.{name}.main_package")
        binary = check_path_component(
            str(values.get("binary_name") or binary_name(main, name)),
            f"dlc.images.{name}.binary_name",
        )
        image = {**dict(defaults or {}), **{k: v for k, v in values.items() if k in IMAGE_KEYS}}
        targets.append(
            ImageTarget(
                name=name,
                main_package=main,
                binary_name=binary,
                image=ImageSettings.from_mapping(image, f"dlc.images.{name}"),
                prod_files=check_prod_files(
                    values.get("prod_files", prod_files), f"dlc.images.{name}.prod_files"
                ),
                configured=True,
            )
        )
    binaries = [t.binary_name for t in targets]
    doubled = sorted({b for b in binaries if binaries.count(b) > 1})
    if doubled:
        raise ConfigError(
            f"dlc.images: two images build the binary {doubled[0]}",
            hint="give each image its own binary_name",
        )
    return tuple(targets)


def select(targets: tuple[ImageTarget, ...], name: str | None) -> tuple[ImageTarget, ...]:
    """The images ``--image NAME`` selects (all when None); one line naming the choices."""
    if name is None:
        return targets
    chosen = tuple(t for t in targets if t.name == name)
    if not chosen:
        names = ", ".join(t.name for t in targets)
        hint = "pick one of them" if targets[0].configured else "dlc.images lists several images"
        raise InvalidValue(f"--image {name}: this module's images are {names}", hint=hint)
    return chosen
