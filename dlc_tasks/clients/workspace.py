"""Moving the source tree into and out of a container, for an engine on another machine.

A local engine bind-mounts the project. A remote one (``DOCKER_HOST=tcp://…``)
cannot see this machine's files, so the tree is sent in with ``put_archive``
before the Go steps (streamed from a spooled tar, never held whole in memory),
and whatever the steps changed (generated files, the coverage profile, the
binary) is brought back with ``get_archive`` afterwards, only when every step
succeeded. The copy-back loses nothing and writes nowhere else:

* each file is compared with what was here when the run started (the manifest
  :func:`copy_in` returns): a file edited here while the steps ran is left
  alone, and the copy-back stops with one line naming it. The manifest holds
  every file sent and also the outputs the tool owns that are never sent (the
  binary in ``.dlc/bin/``): a binary an earlier run left is what was here at the
  start, so this run's binary replaces it;
* a file whose real location (symlinks followed) is outside ``project_dir`` is
  refused, and a symlink in the project is never written through;
* a file here where the container made a folder (or the reverse) is refused
  before anything is renamed;
* modes are normalised: 0755 for executables, 0644 otherwise;
* everything is first staged under ``.dlc/copy-back-*`` and checked, then renamed
  into place; a failure while receiving or checking changes nothing, a failure
  while renaming puts back every file already renamed (from hard-linked copies
  kept in the staging folder). A staging folder is locked (``flock`` on its
  ``.live`` file) while its run lives: the next run removes only staging folders
  whose lock is free, i.e. those a killed run left, never another live run's.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tarfile
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path, PurePosixPath
from typing import IO, Any

from dlc_tasks._files import file_sha256, live_folder, remove_dead_folders
from dlc_tasks.errors import CopyBackRefused
from dlc_tasks.model import sourcetree

SPOOL = 16 * 1024 * 1024
STAGING_PREFIX = "copy-back-"


def source_tar(project_dir: Path, owned: Iterable[Path] = ()) -> tuple[IO[bytes], dict[str, str]]:
    """The source tree as a tar spooled to disk past 16 MB, and the manifest of the start.

    The manifest maps each file sent, and each of the ``owned`` outputs that exists here
    (sent or not), to its sha256.
    """
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL)  # noqa: SIM115
    sent: dict[str, str] = {}
    with tarfile.open(fileobj=spool, mode="w") as tar:
        for path in sourcetree.iter_files(project_dir, all_names=True):
            rel = path.relative_to(project_dir).as_posix()
            tar.add(str(path), arcname=rel, recursive=False)
            if path.is_file() and not path.is_symlink():
                sent[rel] = file_sha256(path)
    for path in owned:
        if (digest := _digest(path)) is not None:
            sent[path.relative_to(project_dir).as_posix()] = digest
    spool.seek(0)
    return spool, sent


def _members(archive: tarfile.TarFile) -> Iterator[tuple[tarfile.TarInfo, PurePosixPath]]:
    for member in archive:
        parts = PurePosixPath(member.name).parts[1:]  # drop the leading "workspace/"
        if not parts or not member.isfile():
            continue
        rel = PurePosixPath(*parts)
        if ".." in rel.parts or rel.is_absolute() or rel.parts[0] == ".git":
            continue
        yield member, rel


def _digest(path: Path) -> str | None:
    if path.is_symlink() or not path.is_file():
        return None
    return file_sha256(path)


def clean_leftovers(project_dir: Path) -> None:
    """Remove staging folders (and old ``.*.dlc-tmp`` files) killed copy-backs left behind.

    A staging folder another run in this checkout is using (its lock is held) is kept.
    """
    remove_dead_folders(project_dir / ".dlc", STAGING_PREFIX)
    for path in sourcetree.iter_files(project_dir, all_names=True):
        if path.name.startswith(".") and path.name.endswith(".dlc-tmp"):
            with contextlib.suppress(OSError):
                path.unlink()


def _refusal(project_dir: Path, rel: PurePosixPath) -> str | None:
    """Why writing ``rel`` would leave the project, go through a symlink or replace a file
    by a folder (or the reverse), or None."""
    target = project_dir / rel
    if target.is_symlink():
        return f"{rel} is a symlink here"
    for depth in range(1, len(rel.parts)):
        folder = project_dir.joinpath(*rel.parts[:depth])
        if folder.exists() and not folder.is_dir():
            return f"{PurePosixPath(*rel.parts[:depth])} is a file here, a folder in the container"
    if not target.parent.resolve().is_relative_to(project_dir.resolve()):
        return f"{rel} would land in {target.parent.resolve()}, outside project_dir"
    if target.is_dir():
        return f"{rel} is a folder here, a file in the container"
    return None


def _receive(
    chunks: Iterator[bytes], staging: Path, project_dir: Path, sent: dict[str, str]
) -> list[tuple[Path, PurePosixPath]]:
    """Stage every file the container changed; raise before anything is renamed when one
    of them was edited here or cannot be written."""
    staged: list[tuple[Path, PurePosixPath]] = []
    edited: list[str] = []
    refused: list[str] = []
    with tempfile.SpooledTemporaryFile(max_size=SPOOL) as spool:
        for chunk in chunks:
            spool.write(chunk)
        spool.seek(0)
        with tarfile.open(fileobj=spool, mode="r|") as archive:
            for member, rel in _members(archive):
                source = archive.extractfile(member)
                if source is None:
                    continue
                data_hash = hashlib.sha256()
                tmp = staging / str(len(staged))
                with tmp.open("wb") as out:
                    for block in iter(lambda: source.read(1 << 20), b""):  # noqa: B023
                        data_hash.update(block)
                        out.write(block)
                    out.flush()
                    os.fsync(out.fileno())
                here, there = _digest(project_dir / rel), data_hash.hexdigest()
                if there == here or there == sent.get(rel.as_posix()):
                    tmp.unlink()  # the same here, or the steps did not change it
                    continue
                if here != sent.get(rel.as_posix()):
                    edited.append(rel.as_posix())
                elif why := _refusal(project_dir, rel):
                    refused.append(why)
                os.chmod(tmp, 0o755 if member.mode & 0o111 else 0o644)
                staged.append((tmp, rel))
    if edited:
        raise CopyBackRefused(
            "changed here while the Go steps ran on the remote engine, so not overwritten: "
            + ", ".join(sorted(edited)),
            hint="nothing was copied back; run the task again to rebuild from your edits",
        )
    if refused:
        raise CopyBackRefused("not copied back: " + "; ".join(sorted(refused)))
    return sorted(staged, key=lambda item: item[1])


def _keep_copy(target: Path, backup: Path) -> None:
    """A copy of ``target`` to put back on rollback: a hard link, else a real copy."""
    try:
        os.link(target, backup)
    except OSError:
        shutil.copy2(target, backup)


def _install(project_dir: Path, staged: list[tuple[Path, PurePosixPath]], staging: Path) -> None:
    """Rename the staged files into place; on any failure put everything back as it was."""
    done: list[tuple[Path, Path | None]] = []  # (target, the copy of what it held)
    made: list[Path] = []  # folders made for new files, outermost first
    try:
        for n, (tmp, rel) in enumerate(staged):
            target = project_dir / rel
            for depth in range(1, len(rel.parts)):
                folder = project_dir.joinpath(*rel.parts[:depth])
                if not folder.exists():
                    folder.mkdir()
                    made.append(folder)
            backup = None
            if target.exists():
                backup = staging / f"backup-{n}"
                _keep_copy(target, backup)
            done.append((target, backup))
            os.replace(tmp, target)
    except BaseException as err:
        for target, backup in reversed(done):
            with contextlib.suppress(OSError):
                if backup is None:
                    target.unlink(missing_ok=True)
                else:
                    os.replace(backup, target)
        for folder in reversed(made):
            with contextlib.suppress(OSError):
                folder.rmdir()
        if isinstance(err, OSError):
            where = Path(str(err.filename or "a file"))
            if where.is_relative_to(project_dir):
                where = where.relative_to(project_dir)
            raise CopyBackRefused(
                f"cannot write {where} while copying back: {err.strerror or err}"
            ) from err
        raise


def bring_back(chunks: Iterator[bytes], project_dir: Path, sent: dict[str, str]) -> list[str]:
    """Bring back every file of the container's workspace that differs here; return their paths.

    ``sent`` maps each file to its sha256 when the run started (:func:`source_tar`). Nothing
    is written unless every change can be: see the module docstring.
    """
    clean_leftovers(project_dir)
    with live_folder(project_dir / ".dlc", STAGING_PREFIX) as staging:
        staged = _receive(chunks, staging, project_dir, sent)
        _install(project_dir, staged, staging)
    return [rel.as_posix() for _, rel in staged]


def copy_in(
    api: Any, container_id: str, project_dir: Path, workdir: str, owned: Iterable[Path] = ()
) -> dict[str, str]:
    """Stream the source tree into ``workdir``; return the manifest (path → sha256) of what
    was sent, and of the ``owned`` outputs (the binary…) as they are here now."""
    clean_leftovers(project_dir)
    tar, sent = source_tar(project_dir, owned)
    with tar:
        api.put_archive(container_id, workdir, tar)
    return sent


def copy_out(
    api: Any, container_id: str, project_dir: Path, workdir: str, sent: dict[str, str]
) -> list[str]:
    """Bring back what the steps changed in ``workdir`` (see :func:`bring_back`)."""
    chunks, _ = api.get_archive(container_id, workdir)
    return bring_back(chunks, project_dir, sent)
