"""File helpers every layer shares, written once: atomic writes, file digests, short digests."""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from pathlib import Path

BLOCK = 1 << 20


def atomic_write_bytes(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Write ``data`` to ``path`` through a unique temporary file in the same folder, then rename.

    A reader sees the old file or the new one, never a torn one; two writers never share a
    temporary name; a crash leaves at most a ``.NAME.*.tmp`` file, never a half-written target.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def atomic_write_text(path: Path, text: str, mode: int = 0o644) -> None:
    """:func:`atomic_write_bytes` for UTF-8 text."""
    atomic_write_bytes(path, text.encode("utf-8"), mode)


def file_sha256(path: Path) -> str:
    """The hex sha256 of a file's content, read in blocks (a large file never sits in memory)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(BLOCK), b""):
            digest.update(block)
    return digest.hexdigest()


def short(digest: str, length: int = 12) -> str:
    """A digest or hash shortened for people: ``sha256:`` kept, ``length`` hex digits after it."""
    algorithm, sep, hexpart = digest.partition(":")
    if not sep:
        return digest[:length]
    return f"{algorithm}:{hexpart[:length]}"
