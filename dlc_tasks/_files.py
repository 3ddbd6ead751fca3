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
import shutil
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
        raise FileError.of(err, "write", path) from err
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
            raise FileError.of(err, "write", path) from err
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
        raise FileError.of(err, "lock", path) from err
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


LIVE = ".live"  # in a live folder: flock-ed by the run that owns it


def _is_live(folder: Path) -> bool:
    """True when the run that made ``folder`` (:func:`live_folder`) still holds its lock."""
    try:
        fd = os.open(folder / LIVE, os.O_RDWR)
    except OSError:
        return False  # made under the parent's lock with its .live file: none means dead
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def remove_dead_folders(parent: Path, prefix: str) -> None:
    """Remove the ``PREFIX*`` folders of ``parent`` that killed runs left (their lock is free);
    another live run's folder is kept."""
    if not parent.is_dir():
        return
    with locked(parent / prefix.rstrip("-")):
        for leftover in parent.glob(f"{glob.escape(prefix)}*"):
            if leftover.is_dir() and not _is_live(leftover):
                shutil.rmtree(leftover, ignore_errors=True)


@contextlib.contextmanager
def live_folder(parent: Path, prefix: str) -> Iterator[Path]:
    """A new folder ``parent/PREFIX*``, locked as live for the block, removed afterwards.

    A run killed inside the block (SIGKILL) leaves it behind, unlocked: the next
    :func:`remove_dead_folders` removes it. It is made and locked under the lock that
    function takes, so a cleaner never sees it between the two.
    """
    try:
        parent.mkdir(parents=True, exist_ok=True)
        with locked(parent / prefix.rstrip("-")):
            folder = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
            fd = os.open(folder / LIVE, os.O_RDWR | os.O_CREAT, 0o600)
            fcntl.flock(fd, fcntl.LOCK_EX)
    except OSError as err:
        raise FileError.of(err, "make a folder in", parent) from err
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        os.close(fd)


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
            raise FileError.of(err, "append to", path) from err


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
