"""The ``VERSION`` file (the ADR's shell-variable format) and the tags it yields.

The file is read as data, never sourced by a shell::

    MAJOR=1
    MINOR=2
    PATCH=3
    PRERELEASE=rc.1

The image version is ``MAJOR.MINOR.PATCH[-PRERELEASE]``, as the ADR's
``$MAJOR.$MINOR.$PATCH${PRERELEASE:+-$PRERELEASE}``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from dlc_tasks.errors import VersionFileError
from dlc_tasks.model.refs import check_tag

_LINE = re.compile(r"(?:export\s+)?([A-Z]+)=(.*)")
_NUMBER = re.compile(r"0|[1-9][0-9]{0,8}")
_PRERELEASE = re.compile(r"[0-9A-Za-z][0-9A-Za-z.-]{0,63}")
_KEYS = ("MAJOR", "MINOR", "PATCH", "PRERELEASE")
LATEST_POLICIES = ("always", "releases")


@dataclass(frozen=True)
class Version:
    """A parsed ``VERSION`` file."""

    major: int
    minor: int
    patch: int
    prerelease: str = ""

    def __str__(self) -> str:
        core = f"{self.major}.{self.minor}.{self.patch}"
        return f"{core}-{self.prerelease}" if self.prerelease else core

    def bumped(self, part: str, prerelease: str = "") -> Version:
        """The next version: ``part`` is major, minor or patch."""
        if part == "major":
            nxt = Version(self.major + 1, 0, 0)
        elif part == "minor":
            nxt = Version(self.major, self.minor + 1, 0)
        elif part == "patch":
            nxt = Version(self.major, self.minor, self.patch + 1)
        else:
            raise VersionFileError(f"cannot bump {part!r}", hint="use major, minor or patch")
        return Version(nxt.major, nxt.minor, nxt.patch, _check_prerelease(prerelease))

    def render(self) -> str:
        """The file's text, in the ADR's shell format."""
        return (
            f"MAJOR={self.major}\nMINOR={self.minor}\nPATCH={self.patch}\n"
            f"PRERELEASE={self.prerelease}\n"
        )


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


def _check_prerelease(value: str) -> str:
    if value and (not value.isascii() or not _PRERELEASE.fullmatch(value)):
        raise VersionFileError(
            f"invalid PRERELEASE {value!r}",
            hint="PRERELEASE may hold letters, digits, '.' and '-' (no '+' build metadata)",
        )
    return value


def parse_version(text: str, source: str = "VERSION") -> Version:
    """Parse the text of a VERSION file; raise :class:`VersionFileError` on anything odd."""
    values: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = _LINE.fullmatch(line)
        if not match or match.group(1) not in _KEYS:
            raise VersionFileError(f"{source}:{number}: unexpected line {raw!r}")
        key = match.group(1)
        if key in values:
            raise VersionFileError(f"{source}:{number}: {key} is set twice")
        values[key] = _unquote(match.group(2))
    numbers = []
    for key in _KEYS[:3]:
        value = values.get(key)
        if value is None:
            raise VersionFileError(f"{source}: {key} is missing")
        if not value.isascii() or not _NUMBER.fullmatch(value):
            raise VersionFileError(f"{source}: {key}={value!r} is not a number")
        numbers.append(int(value))
    prerelease = _check_prerelease(values.get("PRERELEASE", ""))
    return Version(numbers[0], numbers[1], numbers[2], prerelease)


def read_version(path: Path) -> Version:
    """Read and parse the VERSION file at ``path``."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as err:
        raise VersionFileError(f"{path} not found") from err
    except UnicodeDecodeError as err:
        raise VersionFileError(f"{path} is not UTF-8 text") from err
    return parse_version(text, str(path))


def image_tags(version: Version, revision: str, latest: str = "always") -> list[str]:
    """The tags a push applies, immutable ones first and ``latest`` last.

    ``latest`` is ``always`` (the ADR's behaviour) or ``releases`` (no
    ``latest`` for a version with a PRERELEASE, as docker/metadata-action does).
    """
    if latest not in LATEST_POLICIES:
        raise VersionFileError(
            f"unknown latest policy {latest!r}", hint=f"use one of {', '.join(LATEST_POLICIES)}"
        )
    tags = [check_tag(str(version)), check_tag(revision)]
    if latest == "always" or not version.prerelease:
        tags.append("latest")
    return tags
