"""Moving the source tree into and out of a container, for an engine on another machine.

A local engine bind-mounts the project. A remote one (``DOCKER_HOST=tcp://…``)
cannot see this machine's files, so the tree is sent in with ``put_archive``
before the Go steps and whatever they changed (generated files, the coverage
profile, the binary) is brought back with ``get_archive`` afterwards, only when
every step succeeded, each file written to a temporary name and renamed: an
interrupted or failed run changes nothing here.
"""

from __future__ import annotations

import hashlib
import os
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import IO, Any

from dlc_tasks.model import sourcetree

SPOOL = 16 * 1024 * 1024


def source_tar(project_dir: Path) -> IO[bytes]:
    """The source tree (as :mod:`sourcetree` sees it) as a tar, spooled to disk when large."""
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL)  # noqa: SIM115
    with tarfile.open(fileobj=spool, mode="w") as tar:
        for path in sourcetree.iter_files(project_dir):
            tar.add(str(path), arcname=path.relative_to(project_dir).as_posix(), recursive=False)
    spool.seek(0)
    return spool


def _members(archive: tarfile.TarFile) -> Iterator[tuple[tarfile.TarInfo, PurePosixPath]]:
    for member in archive.getmembers():
        parts = PurePosixPath(member.name).parts[1:]  # drop the leading "workspace/"
        if not parts or not member.isfile():
            continue
        rel = PurePosixPath(*parts)
        if ".." in rel.parts or rel.is_absolute() or rel.parts[0] == ".git":
            continue
        yield member, rel


def _digest(path: Path) -> str | None:
    if not path.is_file():
        return None
    h = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def bring_back(chunks: Iterator[bytes], project_dir: Path) -> list[str]:
    """Write every file of the container's workspace that differs here; return their paths."""
    changed: list[str] = []
    with tempfile.SpooledTemporaryFile(max_size=SPOOL) as spool:
        for chunk in chunks:
            spool.write(chunk)
        spool.seek(0)
        with tarfile.open(fileobj=spool, mode="r") as archive:
            for member, rel in _members(archive):
                source = archive.extractfile(member)
                if source is None:
                    continue
                data_hash = hashlib.sha256()
                target = project_dir / rel
                tmp = target.with_name(f".{target.name}.dlc-tmp")
                target.parent.mkdir(parents=True, exist_ok=True)
                with tmp.open("wb") as out:
                    for block in iter(lambda: source.read(1 << 20), b""):  # noqa: B023
                        data_hash.update(block)
                        out.write(block)
                if data_hash.hexdigest() == _digest(target):
                    tmp.unlink()
                    continue
                os.chmod(tmp, member.mode & 0o777)
                tmp.replace(target)
                changed.append(rel.as_posix())
    return changed


def copy_in(api: Any, container_id: str, project_dir: Path, workdir: str) -> None:
    """Send the source tree into ``workdir``."""
    with source_tar(project_dir) as tar:
        api.put_archive(container_id, workdir, tar.read())


def copy_out(api: Any, container_id: str, project_dir: Path, workdir: str) -> list[str]:
    """Bring back what the steps changed in ``workdir``."""
    chunks, _ = api.get_archive(container_id, workdir)
    return bring_back(chunks, project_dir)
