"""Moving the source tree into and out of a container, for an engine on another machine.

A local engine bind-mounts the project. A remote one (``DOCKER_HOST=tcp://…``)
cannot see this machine's files, so the tree is sent in with ``put_archive``
before the Go steps (streamed from a spooled tar, never held whole in memory),
and whatever the steps changed (generated files, the coverage profile, the
binary) is brought back with ``get_archive`` afterwards, only when every step
succeeded. The copy-back loses nothing and writes nowhere else:

* each file is compared with the digest of what was *sent* (the manifest
  :func:`copy_in` returns): a file edited here while the steps ran is left
  alone, and the copy-back stops with one line naming it;
* a file whose real location (symlinks followed) is outside ``project_dir`` is
  refused, and a symlink in the project is never written through;
* modes are normalised: 0755 for executables, 0644 otherwise;
* everything is first staged under ``.dlc/copy-back-*`` and checked, then renamed
  into place; a failure while receiving or checking changes nothing, and a
  staging folder a killed run left behind is removed on the next run.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import IO, Any

from dlc_tasks._files import file_sha256
from dlc_tasks.errors import DlcError
from dlc_tasks.model import sourcetree

SPOOL = 16 * 1024 * 1024
STAGING_PREFIX = "copy-back-"


class CopyBackRefused(DlcError):
    """Files the Go steps changed could not be brought back without losing or leaking something."""

    hint = "nothing was copied back; your files are as you left them"


def source_tar(project_dir: Path) -> tuple[IO[bytes], dict[str, str]]:
    """The source tree as a tar spooled to disk past 16 MB, and the sha256 of each file sent."""
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL)  # noqa: SIM115
    sent: dict[str, str] = {}
    with tarfile.open(fileobj=spool, mode="w") as tar:
        for path in sourcetree.iter_files(project_dir):
            rel = path.relative_to(project_dir).as_posix()
            tar.add(str(path), arcname=rel, recursive=False)
            if path.is_file() and not path.is_symlink():
                sent[rel] = file_sha256(path)
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
    """Remove staging folders (and old ``.*.dlc-tmp`` files) a killed copy-back left behind."""
    state_dir = project_dir / ".dlc"
    if state_dir.is_dir():
        for leftover in state_dir.glob(f"{STAGING_PREFIX}*"):
            shutil.rmtree(leftover, ignore_errors=True)
    for path in sourcetree.iter_files(project_dir):
        if path.name.startswith(".") and path.name.endswith(".dlc-tmp"):
            with contextlib.suppress(OSError):
                path.unlink()


def _refuse_outside(project_dir: Path, rel: PurePosixPath) -> str | None:
    """Why writing ``rel`` would leave the project or go through a symlink, or None."""
    target = project_dir / rel
    if target.is_symlink():
        return f"{rel} is a symlink here"
    if not target.parent.resolve().is_relative_to(project_dir.resolve()):
        return f"{rel} would land in {target.parent.resolve()}, outside project_dir"
    return None


def bring_back(chunks: Iterator[bytes], project_dir: Path, sent: dict[str, str]) -> list[str]:
    """Bring back every file of the container's workspace that differs here; return their paths.

    ``sent`` maps each file sent in to its sha256. Nothing is written unless every change
    can be: see the module docstring.
    """
    clean_leftovers(project_dir)
    (project_dir / ".dlc").mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=project_dir / ".dlc"))
    staged: list[tuple[Path, PurePosixPath]] = []
    edited: list[str] = []
    outside: list[str] = []
    try:
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
                    target = project_dir / rel
                    here, there = _digest(target), data_hash.hexdigest()
                    if there == here or there == sent.get(rel.as_posix()):
                        tmp.unlink()  # the same here, or the steps did not change it
                        continue
                    if here != sent.get(rel.as_posix()):
                        edited.append(rel.as_posix())
                    elif why := _refuse_outside(project_dir, rel):
                        outside.append(why)
                    os.chmod(tmp, 0o755 if member.mode & 0o111 else 0o644)
                    staged.append((tmp, rel))
        if edited:
            raise CopyBackRefused(
                "changed here while the Go steps ran on the remote engine, so not overwritten: "
                + ", ".join(sorted(edited)),
                hint="nothing was copied back; run the task again to rebuild from your edits",
            )
        if outside:
            raise CopyBackRefused("not copied back: " + "; ".join(sorted(outside)))
        for tmp, rel in staged:
            target = project_dir / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp.replace(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return [rel.as_posix() for _, rel in staged]


def copy_in(api: Any, container_id: str, project_dir: Path, workdir: str) -> dict[str, str]:
    """Stream the source tree into ``workdir``; return what was sent (path → sha256)."""
    clean_leftovers(project_dir)
    tar, sent = source_tar(project_dir)
    with tar:
        api.put_archive(container_id, workdir, tar)
    return sent


def copy_out(
    api: Any, container_id: str, project_dir: Path, workdir: str, sent: dict[str, str]
) -> list[str]:
    """Bring back what the steps changed in ``workdir`` (see :func:`bring_back`)."""
    chunks, _ = api.get_archive(container_id, workdir)
    return bring_back(chunks, project_dir, sent)
