"""Platforms (``linux/arm64``): as OCI indexes name them, and as Go's cross-compiler wants them."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from dlc_tasks.errors import InvalidValue

_PART = re.compile(r"[a-z0-9]+")
# The variant an index names when a platform is given without one (as Docker's official
# images and containerd's defaults do); Go's setting for it.
DEFAULT_VARIANT = {"arm64": "v8", "arm": "v7"}
ALIASES = {"x86_64": "amd64", "x86-64": "amd64", "aarch64": "arm64", "armhf": "arm"}


@dataclass(frozen=True, order=True)
class Platform:
    """``os/architecture[/variant]``; ``linux/arm64`` is ``linux/arm64/v8``."""

    os: str
    architecture: str
    variant: str = ""

    @classmethod
    def parse(cls, text: str) -> Platform:
        """``linux/amd64``, ``linux/arm64``, ``linux/arm/v6``…, normalised."""
        parts = text.strip().lower().split("/")
        if not 2 <= len(parts) <= 3 or not all(_PART.fullmatch(p) for p in parts):
            raise InvalidValue(
                f"not a platform: {text[:60]!r}", hint="use os/architecture, e.g. linux/arm64"
            )
        os_name, arch = parts[0], ALIASES.get(parts[1], parts[1])
        variant = parts[2] if len(parts) == 3 else DEFAULT_VARIANT.get(arch, "")
        if arch == "arm64" and variant == "8":
            variant = "v8"
        return cls(os_name, arch, variant)

    @classmethod
    def parse_list(cls, text: str) -> list[Platform]:
        """``linux/amd64,linux/arm64``: each parsed, each once, in order."""
        found: list[Platform] = []
        for part in text.split(","):
            if part.strip() and (platform := cls.parse(part)) not in found:
                found.append(platform)
        if not found:
            raise InvalidValue("no platform named", hint="use e.g. linux/amd64,linux/arm64")
        return found

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Platform:
        """An index entry's or a configuration's ``os``/``architecture``/``variant``."""
        return cls(str(raw["os"]), str(raw["architecture"]), str(raw.get("variant") or ""))

    def to_dict(self) -> dict[str, str]:
        """``{"architecture", "os"[, "variant"]}``."""
        out = {"architecture": self.architecture, "os": self.os}
        if self.variant:
            out["variant"] = self.variant
        return out

    def matches(self, other: Platform) -> bool:
        """The same platform, a missing default variant counting as that variant."""
        mine = self.variant or DEFAULT_VARIANT.get(self.architecture, "")
        theirs = other.variant or DEFAULT_VARIANT.get(other.architecture, "")
        return (self.os, self.architecture, mine) == (other.os, other.architecture, theirs)

    def go_env(self) -> dict[str, str]:
        """``GOOS``, ``GOARCH`` and the variant's setting (``GOARM``, ``GOAMD64``), for
        ``CGO_ENABLED=0`` cross-compilation."""
        env = {"GOOS": self.os, "GOARCH": self.architecture}
        if self.architecture == "arm" and self.variant:
            env["GOARM"] = self.variant.removeprefix("v")
        elif self.architecture == "amd64" and self.variant:
            env["GOAMD64"] = self.variant
        return env

    def __str__(self) -> str:
        return "/".join(p for p in (self.os, self.architecture, self.variant) if p)
