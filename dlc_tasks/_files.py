"""File helpers every layer shares, written once: atomic writes, file digests, short digests.

An ``OSError`` from these helpers (a read-only or full disk, a root-owned ``.dlc``) comes out
as one :class:`~dlc_tasks.errors.FileError` line naming the path and the fix.
"""

from __future__ import annotations

import contextlib
import fcntl
import glob
import hashlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from dlc_tasks.errors import FileError

BLOCK = 1 << 20


def atomic_write_bytes(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Write ``data`` to ``path`` through a unique temporary file in the same folder, then rename.

    A reader sees the old file or the new one, never a torn one; two writers never share a
    temporary name; a crash leaves at most a ``.NAME.*.tmp`` file, never a half-written target.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as err:
        raise FileError.of(err, "write", path) from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException as err:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(err, OSError):
            raise FileError.of(err, "write", path) from None
        raise


def remove_temporaries(path: Path) -> None:
    """Remove the ``.NAME.*.tmp`` files :func:`atomic_write_bytes` left for ``path`` when its
    writer was killed. Only call it under :func:`locked` for a file written only under it:
    then no live writer owns one of them."""
    for leftover in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
        with contextlib.suppress(OSError):
            leftover.unlink()


def atomic_write_text(path: Path, text: str, mode: int = 0o644) -> None:
    """:func:`atomic_write_bytes` for UTF-8 text."""
    atomic_write_bytes(path, text.encode("utf-8"), mode)


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold an exclusive ``fcntl.flock`` on ``path``'s lock file (``.NAME.lock``) for the block.

    Every read-modify-write of a shared file (state, history) goes through this, so two
    ``inv`` processes in one checkout take turns instead of losing each other's writes.
    The kernel drops the lock when the process dies, SIGKILL included.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path.with_name(f".{path.name}.lock"), os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as err:
        raise FileError.of(err, "lock", path) from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def append_line(path: Path, line: str) -> None:
    """Append one whole line to ``path`` under :func:`locked`, in a single ``write``.

    If a killed writer left a torn last line (no newline), a newline is written first so the
    torn fragment stays one unreadable line and never swallows this record.
    """
    data = line.rstrip("\n").encode("utf-8") + b"\n"
    with locked(path):
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
            try:
                size = os.fstat(fd).st_size
                if size and os.pread(fd, 1, size - 1) != b"\n":
                    data = b"\n" + data
                os.write(fd, data)
            finally:
                os.close(fd)
        except OSError as err:
            raise FileError.of(err, "append to", path) from None


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
