"""Image references, checked against Docker's reference grammar before use.

Every value that ends up in an image reference (registry, org, repo, tag) or in
the rendered Dockerfile passes through here first, so a hostile or mistyped
value is refused with a clear message instead of reaching the engine, a file or
a command line. The grammar is distribution/reference's, restricted to ASCII.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dlc_tasks.errors import InvalidValue

_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
_PATH_COMPONENT = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*")
_DOMAIN_COMPONENT = r"(?:[A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9])"
_REGISTRY = re.compile(
    rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[0-9A-Fa-f:]+\])(?::[0-9]{{1,5}})?"
)
_HEX = re.compile(r"[0-9a-f]{16,64}")
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
_MAX_NAME = 255


def _check(pattern: re.Pattern[str], value: object, what: str, example: str) -> str:
    if not isinstance(value, str) or not value.isascii() or not pattern.fullmatch(value):
        raise InvalidValue(
            f"invalid {what}: {value!r}",
            hint=f"use a value like {example!r}",
        )
    return value


def check_tag(value: object) -> str:
    """A tag: ``[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}``."""
    return _check(_TAG, value, "tag", "1.2.3-rc.1")


def check_registry(value: object) -> str:
    """A registry as ``host[:port]``, without scheme or path."""
    return _check(_REGISTRY, value, "registry", "registry.example.com:5000")


def check_path_component(value: object, what: str) -> str:
    """One lowercase component of a repository path (an org or a repo name)."""
    return _check(_PATH_COMPONENT, value, what, "my-service")


def check_hash(value: object) -> str:
    """A dependency hash: lowercase hex, as ``hash`` prints it."""
    return _check(_HEX, value, "dependency hash", "3f1c…(lowercase hex)")


def check_digest(value: object) -> str:
    """A content digest: ``sha256:`` and 64 lowercase hex digits."""
    return _check(_DIGEST, value, "digest", "sha256:" + "0" * 64)


@dataclass(frozen=True)
class Repository:
    """A repository in a registry: ``registry/org/name``."""

    registry: str
    org: str
    name: str

    def __post_init__(self) -> None:
        check_registry(self.registry)
        check_path_component(self.org, "org")
        for part in self.name.split("/"):
            check_path_component(part, "repository name")
        if len(self.path) > _MAX_NAME:
            raise InvalidValue(
                f"invalid repository name, longer than {_MAX_NAME} characters: {self.path[:40]!r}…"
            )

    @property
    def path(self) -> str:
        """The name inside the registry, as the HTTP API wants it: ``org/name``."""
        return f"{self.org}/{self.name}"

    def __str__(self) -> str:
        return f"{self.registry}/{self.path}"

    def tagged(self, tag: str) -> str:
        """``registry/org/name:tag``."""
        return f"{self}:{check_tag(tag)}"

    def pinned(self, digest: str) -> str:
        """``registry/org/name@sha256:…``."""
        return f"{self}@{check_digest(digest)}"
