"""Where a run's build logs go: ``.dlc/logs/RUN/NAME.log``, the last :data:`KEEP` runs kept.

A run's folder is named by its start (UTC, to the second) and process id, so names sort
in the order the runs started and two runs at once never share one. It is made when the
run's first build starts (a run that builds nothing leaves no folder); the folders of
older runs beyond the newest :data:`KEEP` are removed then.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from dlc_tasks.errors import FileError

KEEP = 20
_RUN_NAME = re.compile(r"^\d{8}T\d{6}Z-\d+$")
_LOG_NAME = re.compile(r"[^A-Za-z0-9_.-]+")


@dataclass
class RunLogs:
    """The build-log folder of one run, under ``root`` (``.dlc/logs``)."""

    root: Path
    keep: int = KEEP
    started: datetime = field(default_factory=lambda: datetime.now(UTC))
    _folder: Path | None = None

    def path(self, name: str) -> Path:
        """The log file for the build ``name`` (``cache``, ``prod``, ``prod-api``…)."""
        if self._folder is None:
            self._folder = self._make_folder()
        safe = _LOG_NAME.sub("-", name).strip("-.") or "build"
        return self._folder / f"{safe}.log"

    def _make_folder(self) -> Path:
        if self.root.is_symlink():
            raise FileError(
                f"{self.root} is a symbolic link; build logs would land outside the project",
                hint=f"remove the link: rm {self.root}",
            )
        folder = self.root / f"{self.started:%Y%m%dT%H%M%SZ}-{os.getpid()}"
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise FileError.of(err, "create", folder) from err
        self.prune()
        return folder

    def prune(self) -> list[Path]:
        """Remove the run folders older than the newest ``keep``; return what was removed."""
        runs = sorted(
            (p for p in self.root.iterdir() if p.is_dir() and _RUN_NAME.match(p.name)),
            key=lambda p: (p.name.split("-")[0], int(p.name.split("-")[1])),
        )
        old = runs[: max(0, len(runs) - self.keep)]
        for folder in old:
            shutil.rmtree(folder, ignore_errors=True)
        return old
