"""Typed stamps: what each step records in ``.dlc/state.json`` when it succeeds.

A stamp holds the digest of the step's inputs (``inputs``) and what later steps or a later
run need from it. The steps read and write these types only (``State.load``/``State.save``);
a stored stamp whose fields are missing or of the wrong type (an older version, a hand
edit) loads as ``None``, which every step reads as "never done here": it runs again.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Self, TypeVar


@dataclass(frozen=True)
class Stamp:
    """A step's last success: the digest of its inputs."""

    inputs: str

    @classmethod
    def from_json(cls, data: object) -> Self | None:
        """The stamp ``data`` holds, or ``None`` when it does not hold one of this type."""
        if not isinstance(data, Mapping):
            return None
        hints = typing.get_type_hints(cls)
        values: dict[str, Any] = {}
        for item in dataclasses.fields(cls):
            if item.name not in data:
                if (
                    item.default is dataclasses.MISSING
                    and item.default_factory is dataclasses.MISSING
                ):
                    return None
                continue
            if not _is(data[item.name], hints[item.name]):
                return None
            values[item.name] = data[item.name]
        return cls(**values)

    def to_json(self) -> dict[str, Any]:
        """The stamp as stored."""
        return dataclasses.asdict(self)


def _is(value: object, kind: Any) -> bool:
    """True when ``value`` (from JSON) is of the annotated ``kind``."""
    origin = typing.get_origin(kind)
    if origin in (typing.Union, types.UnionType):
        return any(_is(value, option) for option in typing.get_args(kind))
    if kind is type(None):
        return value is None
    if origin is list:
        (item,) = typing.get_args(kind)
        return isinstance(value, list) and all(_is(v, item) for v in value)
    if origin is dict:
        key, item = typing.get_args(kind)
        return isinstance(value, dict) and all(
            _is(k, key) and _is(v, item) for k, v in value.items()
        )
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, kind)


@dataclass(frozen=True)
class GenerateStamp(Stamp):
    """``generate``: the inputs were the source tree and the cache image; ``outputs`` are
    the files the generators wrote (relative path to sha256), so that an output git ignores
    does not make the tree dirty: the commit and the generators make it again."""

    outputs: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class CacheStamp(Stamp):
    """``cache``: ``inputs`` is the dependency hash; the image is ``ref`` at ``digest``."""

    ref: str
    digest: str


@dataclass(frozen=True)
class TestStamp(Stamp):
    """``test``: the coverage total and each binary's sha256, by binary name."""

    __test__ = False  # not a pytest test class, whatever its name says
    coverage: str | None
    binaries: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ProdStamp(Stamp):
    """``prod`` (``prod:NAME`` per image): the production image's id and size."""

    image: str
    size: int


@dataclass(frozen=True)
class PushStamp(Stamp):
    """``push`` (``push:NAME``): the tags pushed, the one digest they name, the image pushed,
    and the release tags the push moved, with the digest each named before."""

    digest: str
    tags: list[str]
    image: str
    replaced: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PushedTags(Stamp):
    """``pushed`` (``pushed:NAME``): a push's progress, saved as each tag lands. ``inputs``
    is the image and repository pushed; ``tags`` are those already naming ``digest`` there.
    A push stopped between two tags leaves it, so the next run knows those tags are its own."""

    digest: str
    tags: list[str]


S = TypeVar("S", bound=Stamp)


@dataclass(frozen=True)
class AssembledStamp(ProdStamp):
    """``prod`` of an image assembled from its parts (``dlc.platforms``): ``image`` is the
    digest of what the tags will name (the index, or the one manifest) in ``repository``;
    ``manifests`` each platform's manifest digest, ``sizes`` its size (layers and config);
    ``engine_image`` the engine platform's configuration digest, its id once loaded."""

    repository: str
    manifests: dict[str, str]
    sizes: dict[str, int]
    engine_image: str
