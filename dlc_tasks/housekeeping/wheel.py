"""The running dlc-tasks as a wheel file, for a CI runner that cannot reach where it came from.

Installed from a path (a checkout, a local wheel, an editable install), the library has no
address a runner could fetch it from, so the written workflow installs a wheel committed
beside it (``.dlc-tasks/dlc_tasks-VERSION-py3-none-any.whl``, :mod:`dlc_tasks.config.install`).
The wheel is made from the installed package itself: its Python files, ``py.typed`` and the
Dockerfile templates (the package data ``pyproject.toml`` declares), the installed metadata and
entry points, and a ``RECORD`` of hashes; entries sorted, dates fixed, so the same library
gives the same bytes (``init`` then says ``unchanged``).
"""

from __future__ import annotations

import base64
import hashlib
import io
import zipfile
from importlib.metadata import Distribution
from pathlib import Path

from dlc_tasks.config.install import bundled_wheel, installed
from dlc_tasks.errors import NotFoundError

PACKAGE = Path(__file__).resolve().parent.parent  # dlc_tasks/
DATE = (1980, 1, 1, 0, 0, 0)  # the earliest a zip entry can say


def _package_files() -> list[tuple[str, bytes]]:
    """(path in the wheel, content) of the package: what ``pyproject.toml`` ships."""
    found = []
    for path in sorted(PACKAGE.rglob("*")):
        rel = path.relative_to(PACKAGE)
        if not path.is_file() or "__pycache__" in rel.parts:
            continue
        if path.suffix == ".py" or rel.as_posix() == "py.typed" or rel.parts[0] == "templates":
            found.append((f"dlc_tasks/{rel.as_posix()}", path.read_bytes()))
    return found


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def build_wheel(dist: Distribution) -> bytes:
    """The wheel of the installed ``dist`` (this library), as bytes."""
    info = f"dlc_tasks-{dist.version}.dist-info"
    metadata = dist.read_text("METADATA") or dist.read_text("PKG-INFO") or ""
    entries = [
        *_package_files(),
        (f"{info}/METADATA", metadata.encode()),
        (
            f"{info}/WHEEL",
            b"Wheel-Version: 1.0\nGenerator: dlc-tasks\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        ),
        (f"{info}/entry_points.txt", (dist.read_text("entry_points.txt") or "").encode()),
    ]
    record = "".join(_record_line(n, d) + "\n" for n, d in entries) + f"{info}/RECORD,,\n"
    entries.append((f"{info}/RECORD", record.encode()))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries:
            entry = zipfile.ZipInfo(name, DATE)
            entry.external_attr = 0o644 << 16
            entry.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(entry, data)
    return buffer.getvalue()


def wheel_files(install: list[str]) -> dict[str, bytes]:
    """The wheel to commit with a workflow whose ``install`` names it (relative path → bytes);
    nothing when it installs dlc-tasks from elsewhere."""
    dist = installed()
    if dist is None or bundled_wheel(dist.version) not in install:
        return {}
    if not (PACKAGE / "templates").is_dir():
        raise NotFoundError(f"{PACKAGE} holds no templates: cannot make the wheel of dlc-tasks")
    return {bundled_wheel(dist.version).removeprefix("./"): build_wheel(dist)}
