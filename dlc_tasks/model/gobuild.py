"""How Go compiles the module (``dlc.go``): GOFLAGS, build tags, -ldflags, cgo, private modules.

Pure: validates the configuration and computes the environment every Go command of the
steps runs with (:meth:`GoBuild.env`), the build arguments the cache image is built with
(the same settings: ``Dockerfile.build`` warms its Go
build cache with the steps' flags, so what it compiled the steps reuse, and the
dependency hash covers them), and the binary's ``-ldflags``.

Every binary is reproducible: ``-trimpath`` (no checkout or GOROOT path in it) and
``-buildvcs=false`` (the cache image has no git, and the same commit must give the same
bytes in any checkout); the revision is available to ``-ldflags`` as ``{{ revision }}``
instead. A vendored module (``vendor/modules.txt``) builds with ``-mod=vendor``, any other
with ``-mod=readonly`` (go.mod and go.sum are never rewritten by a build).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from dlc_tasks.errors import ConfigError, InvalidValue
from dlc_tasks.model.render import render

# Flags every Go command gets, in GOFLAGS (so vet, test, build and the warm-up agree).
REPRODUCIBLE = ("-trimpath", "-buildvcs=false")
_TAG = re.compile(r"[A-Za-z0-9_.]+")
_FLAG = re.compile(r"-[A-Za-z][A-Za-z0-9_.-]*(=[^\s\"'\\`$]*)?")
_PATTERNS = re.compile(r"[A-Za-z0-9._~*?/\[\]-]+(,[A-Za-z0-9._~*?/\[\]-]+)*")
# -mod, -trimpath and -buildvcs are the library's: a second value would silently win or lose
_OWN_FLAGS = ("-mod", "-trimpath", "-buildvcs", "-tags")
KEYS = ("private", "nosumdb", "flags", "tags", "ldflags", "cgo")


def mod_mode(vendored: bool) -> str:
    """``vendor`` for a vendored module, else ``readonly`` (a build never rewrites go.mod)."""
    return "vendor" if vendored else "readonly"


def _strings(value: object, what: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ConfigError(f"{what} must be a list of strings, got {value!r}")
    return list(value)


def _patterns(value: object, what: str) -> str:
    """GOPRIVATE/GONOSUMDB: comma-separated module path patterns (``go help private``)."""
    if value is None or value == "":
        return ""
    text = ",".join(value) if isinstance(value, list) else str(value)
    if not _PATTERNS.fullmatch(text):
        raise InvalidValue(
            f"{what} {text!r} is not a comma-separated list of module path patterns",
            hint="use e.g. gitea.example.com/team/*,example.com/private",
        )
    return text


@dataclass(frozen=True)
class GoBuild:
    """``dlc.go``: the Go build settings, validated."""

    private: str = ""  # GOPRIVATE
    nosumdb: str = ""  # GONOSUMDB
    flags: list[str] = field(default_factory=list)  # extra GOFLAGS
    tags: list[str] = field(default_factory=list)  # -tags
    ldflags: list[str] = field(default_factory=list)  # extra -ldflags, {{ version }} {{ revision }}
    cgo: bool = False  # CGO_ENABLED

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any] | None) -> GoBuild:
        """Validate ``dlc.go``; unknown keys are refused (a typo would be silently ignored)."""
        raw = dict(raw or {})
        unknown = sorted(set(raw) - set(KEYS))
        if unknown:
            raise ConfigError(
                f"dlc.go has unknown keys: {', '.join(unknown)}", hint=f"use {', '.join(KEYS)}"
            )
        flags = _strings(raw.get("flags"), "dlc.go.flags")
        for flag in flags:
            if not _FLAG.fullmatch(flag):
                raise InvalidValue(
                    f"dlc.go.flags: {flag!r} is not one -flag[=value] (GOFLAGS is space-separated)"
                )
            if flag.split("=", 1)[0] in _OWN_FLAGS:
                raise InvalidValue(
                    f"dlc.go.flags: {flag.split('=', 1)[0]} is set by dlc-tasks",
                    hint="build tags go in dlc.go.tags; -mod, -trimpath, -buildvcs are fixed",
                )
        tags = _strings(raw.get("tags"), "dlc.go.tags")
        for tag in tags:
            if not _TAG.fullmatch(tag):
                raise InvalidValue(f"dlc.go.tags: invalid build tag {tag!r}")
        ldflags = _strings(raw.get("ldflags"), "dlc.go.ldflags")
        for flag in ldflags:
            if not flag.isprintable() or any(ch in flag for ch in "\"'\\`"):
                raise InvalidValue(f"dlc.go.ldflags: refusing quotes or controls in {flag!r}")
            render(flag, {"version": "0.0.0", "revision": "0" * 40}, "dlc.go.ldflags")
        cgo = raw.get("cgo", False)
        if str(cgo).lower() not in ("0", "1", "true", "false", "yes", "no"):
            raise ConfigError(f"dlc.go.cgo must be true or false, got {cgo!r}")
        return cls(
            private=_patterns(raw.get("private"), "dlc.go.private"),
            nosumdb=_patterns(raw.get("nosumdb"), "dlc.go.nosumdb"),
            flags=flags,
            tags=tags,
            ldflags=ldflags,
            cgo=str(cgo).lower() in ("1", "true", "yes"),
        )

    def goflags(self, vendored: bool) -> str:
        """``GOFLAGS`` for every Go command of the steps and of the cache image's warm-up."""
        tags = [f"-tags={','.join(self.tags)}"] if self.tags else []
        return " ".join([f"-mod={mod_mode(vendored)}", *REPRODUCIBLE, *tags, *self.flags])

    def env(self, vendored: bool) -> dict[str, str]:
        """The Go variables this configuration sets (GOFLAGS, CGO_ENABLED, GOPRIVATE…).

        The steps' containers run with them, and the cache image is built with them as build
        arguments (the packaged Dockerfile.build declares each as an ``ARG``), so its warm
        Go build cache was compiled with the steps' flags and the dependency hash covers them.
        (Its std layer, shared by every module, is warmed with :data:`REPRODUCIBLE` alone; the
        module's layer warms std again with these flags, compiling only what they change.)
        """
        out = {"GOFLAGS": self.goflags(vendored), "CGO_ENABLED": "1" if self.cgo else "0"}
        if self.private:
            out["GOPRIVATE"] = self.private
        if self.nosumdb:
            out["GONOSUMDB"] = self.nosumdb
        return out

    def link_flags(self, version_var: str | None, version: str, revision: str | None) -> str:
        """``-ldflags`` of the binary: stripped, the version stamped, the extra ones rendered.

        ``revision`` is None when no extra flag uses ``{{ revision }}`` (no git asked).
        """
        flags = ["-s", "-w"]
        if version_var:
            flags.append(f"-X {version_var}={version}")
        values = {"version": version, "revision": revision or ""}
        flags += [render(flag, values, "dlc.go.ldflags") for flag in self.ldflags]
        return " ".join(flags)

    @property
    def needs_revision(self) -> bool:
        """True when an extra -ldflags value uses ``{{ revision }}``."""
        return any("revision" in flag for flag in self.ldflags)
