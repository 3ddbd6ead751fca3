"""A digest of the Go source tree, for the up-to-date checks of generate, test and prod.

It covers every file that the Go tool could read when building project_dir:
all files below it except files and directories whose names begin with ``.`` or
``_`` (which the go tool, ``./...`` and ``go:embed`` directory patterns skip
too), Python byte-code caches and packaging metadata (``__pycache__``,
``*.egg-info``), and the files the chain itself writes (``.dlc/``, the hash
file, the coverage profile, the rendered Dockerfile). It errs on the side of
rebuilding: any other changed file, Go or not, changes the digest. The same
files decide whether the tree is dirty (:func:`dlc_tasks.clients.git.uncommitted`),
ignored by git or not. File names are taken as the bytes they are: a name that is not
UTF-8 is covered like any other.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from pathlib import Path

from dlc_tasks._files import file_sha256

_SKIP_DIRS = {"__pycache__", "node_modules"}


def iter_files(root: Path, exclude: Iterable[Path] = (), *, all_names: bool = False) -> list[Path]:
    """The files that make up the source tree below ``root``, sorted.

    ``all_names`` keeps files whose names begin with ``.`` or ``_`` (a generator's dot
    configuration, which a remote engine is sent); folders so named are skipped either way.
    """
    skip = {p.resolve() for p in exclude}
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(
            d
            for d in dirnames
            if not d.startswith((".", "_")) and d not in _SKIP_DIRS and not d.endswith(".egg-info")
        )
        for name in filenames:
            if name.endswith(".pyc") or (name.startswith((".", "_")) and not all_names):
                continue
            path = Path(dirpath, name)
            if path.resolve() not in skip:
                found.append(path)
    return sorted(found)


def fingerprints(root: Path, exclude: Iterable[Path] = ()) -> dict[str, tuple[str, int]]:
    """Each file's (sha256, mtime in ns), by its path relative to ``root``: what ``generate``
    compares before and after its generators ran, to know which files they wrote."""
    found: dict[str, tuple[str, int]] = {}
    for path in iter_files(root, exclude):
        try:
            found[path.relative_to(root).as_posix()] = (file_sha256(path), path.stat().st_mtime_ns)
        except OSError:
            continue  # a dangling link or a file removed while we walked
    return found


def digest(root: Path, exclude: Iterable[Path] = ()) -> str:
    """sha256 over each file's relative path, mode bit for executables, and content."""
    outer = hashlib.sha256()
    for path in iter_files(root, exclude):
        rel = path.relative_to(root).as_posix()
        inner = hashlib.sha256()
        try:
            with path.open("rb") as handle:  # in blocks: a large file must not sit in memory
                for block in iter(lambda: handle.read(1 << 20), b""):
                    inner.update(block)
            executable = os.access(path, os.X_OK)
            size = path.stat().st_size
        except OSError:
            continue  # a dangling link or a file removed while we walked
        # the name's own bytes: one that is not UTF-8 (os.walk's surrogates) is hashed as is
        outer.update(os.fsencode(rel) + f"\0{int(executable)}\0{size}\0".encode())
        outer.update(inner.digest())
    return outer.hexdigest()
