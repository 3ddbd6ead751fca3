"""The dependency hash that names the build-cache image.

What goes in, and nothing else (the README repeats this list):

* ``go.mod``, and ``go.sum`` when present, in ``project_dir``;
* the build Dockerfile (``dlc.dockerfile_build``);
* every build argument that the build Dockerfile declares with ``ARG`` and the
  configuration sets (``dlc.build_args``), as ``NAME=value``: the Go base
  image is one, so pointing at another toolchain names another cache image;
* ``vendor/modules.txt`` when the module vendors its dependencies (Go checks the
  vendored tree against it, so it stands for every vendored module and version);
* with ``dlc.goproxy_dir`` set, the content of that local module proxy (and then
  ``GOPROXY=file:///goproxy`` is one of the build arguments);
* ``dlc.platforms`` when set (the platforms the binaries are cross-compiled for; unset,
  the engine's own, the hash is what it was before platforms existed);
* a scheme version, so a change to this recipe changes every hash.

Each text input has CRLF and CR line endings turned into LF first, and is
identified by a fixed name rather than its path, so the hash is the same
across clones, checkout paths, file order and line-ending settings.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from dlc_tasks._files import atomic_write_text
from dlc_tasks.errors import NotFoundError

SCHEME = "dlc-deps-v1"
_ARG_LINE = re.compile(r"^\s*ARG\s+(.+)$", re.MULTILINE | re.IGNORECASE)
_ARG_NAME = re.compile(r"(?:^|\s)([A-Za-z_][A-Za-z0-9_]*)(?==|\s|$)")


@dataclass(frozen=True)
class DepsHash:
    """The hash, and the digest of each input it was made from (for ``--explain``)."""

    value: str
    inputs: dict[str, str]

    def env_line(self) -> str:
        """The ``deps_hash.env`` content, as the ADR's script writes it."""
        return f"DEPS_HASH={self.value}\n"


def normalise(data: bytes) -> bytes:
    """Line endings to LF, so a CRLF checkout hashes like an LF one."""
    return data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def declared_args(dockerfile_text: str) -> list[str]:
    """The names of the build arguments a Dockerfile declares with ``ARG``."""
    names: set[str] = set()
    for line in _ARG_LINE.findall(dockerfile_text):
        names.update(_ARG_NAME.findall(line))  # `ARG A=x B=y` declares both
    return sorted(names)


def compute(
    project_dir: Path,
    dockerfile_build: Path,
    build_args: dict[str, str],
    goproxy_dir: Path | None = None,
    platforms: Sequence[str] = (),
) -> DepsHash:
    """Hash the inputs of the build-cache image; raise :class:`NotFoundError` if one is missing."""
    go_mod = project_dir / "go.mod"
    if not go_mod.is_file():
        raise NotFoundError(
            f"no go.mod in {project_dir}", hint="set dlc.project_dir to the Go module's root"
        )
    if not dockerfile_build.is_file():
        raise NotFoundError(
            f"build Dockerfile {dockerfile_build} not found", hint="set dlc.dockerfile_build"
        )
    inputs = {"scheme": _digest(SCHEME.encode())}
    inputs["go.mod"] = _digest(normalise(go_mod.read_bytes()))
    go_sum = project_dir / "go.sum"
    if go_sum.is_file():
        inputs["go.sum"] = _digest(normalise(go_sum.read_bytes()))
    modules_txt = project_dir / "vendor" / "modules.txt"
    if modules_txt.is_file():
        inputs["vendor/modules.txt"] = _digest(normalise(modules_txt.read_bytes()))
    if goproxy_dir is not None:
        from dlc_tasks.model.sourcetree import digest  # noqa: PLC0415

        inputs["goproxy"] = digest(goproxy_dir)
    if platforms:
        inputs["platforms"] = _digest(",".join(platforms).encode())
    dockerfile = normalise(dockerfile_build.read_bytes())
    inputs["Dockerfile.build"] = _digest(dockerfile)
    for name in declared_args(dockerfile.decode("utf-8", "replace")):
        if name in build_args:
            inputs[f"build-arg:{name}"] = _digest(f"{name}={build_args[name]}".encode())
    listing = "".join(f"{name}\0{digest}\n" for name, digest in sorted(inputs.items()))
    return DepsHash(_digest(listing.encode()), inputs)


def write_env_file(path: Path, deps: DepsHash) -> None:
    """Write ``DEPS_HASH=…`` atomically (a temporary file renamed over the target)."""
    atomic_write_text(path, deps.env_line())
