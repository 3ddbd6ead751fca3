"""Each image's binary for each platform of ``dlc.platforms``: where it goes, how Go builds it.

The engine's own platform is built natively, to ``.dlc/bin/NAME`` as always (what the
engine runs, and what ``prod``'s engine path copies); every other platform is
cross-compiled by Go in the same container and Go cache, ``CGO_ENABLED=0`` with the
platform's ``GOOS``/``GOARCH``/``GOARM`` (no emulation), to ``.dlc/bin/OS-ARCH[-VARIANT]/NAME``.
The test stamp records each binary's sha256 under ``NAME`` (native) or ``NAME@PLATFORM``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from dlc_tasks.model.oci.platform import Platform
from dlc_tasks.steps.gostep import binary_path

if TYPE_CHECKING:
    from dlc_tasks.model.targets import ImageTarget
    from dlc_tasks.run import Run


@dataclass(frozen=True)
class Binary:
    """One image's binary for one platform."""

    target: ImageTarget
    platform: Platform | None  # None: the engine's own, dlc.platforms unset (never asked)
    native: bool

    @property
    def relative(self) -> str:
        """Its path under ``.dlc/bin`` (and under a run's build folder)."""
        if self.native or self.platform is None:
            return self.target.binary_name
        return f"{folder_name(self.platform)}/{self.target.binary_name}"

    @property
    def stamp_key(self) -> str:
        """Its key in the test stamp's ``binaries``."""
        if self.native or self.platform is None:
            return self.target.binary_name
        return f"{self.target.binary_name}@{self.platform}"

    def path(self, run: Run) -> Path:
        """Where ``test`` leaves it."""
        return binary_path(run, self.target).parent / self.relative

    def go_env(self) -> dict[str, str]:
        """The cross-compiling environment (none for a native build)."""
        if self.native or self.platform is None:
            return {}
        return {"CGO_ENABLED": "0", **self.platform.go_env()}


def folder_name(platform: Platform) -> str:
    """``linux-arm64-v8``: a platform as one path component."""
    return str(platform).replace("/", "-")


def binaries(run: Run) -> list[Binary]:
    """Every image's binary for every platform, native ones first."""
    s = run.settings
    out: list[Binary] = []
    for target in s.all_images():
        if not s.platforms:
            out.append(Binary(target, None, native=True))
            continue
        native = run.engine_platform()
        found = [Binary(target, p, native=p.matches(native)) for p in run.platforms()]
        out += sorted(found, key=lambda b: not b.native)
    return out


def binary_for(run: Run, target: ImageTarget, platform: Platform) -> Binary:
    """``target``'s binary for ``platform`` (one of :meth:`Run.platforms`)."""
    for binary in binaries(run):
        if binary.target == target and (binary.platform is None or binary.platform == platform):
            return binary
    raise KeyError(f"{target.name} is not built for {platform}")


def command(binary: Binary, argv: list[str]) -> list[str]:
    """``argv`` (a ``go build``) with the binary's cross-compiling environment, through
    ``env`` (an argument list: no shell)."""
    env = binary.go_env()
    if not env:
        return argv
    return ["env", *(f"{k}={v}" for k, v in env.items()), *argv]
