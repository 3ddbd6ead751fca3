"""Stamps of what each task last produced, kept in ``project_dir/.dlc/state.json``.

A task records the digest of its inputs when it succeeds; when the inputs are
the same next time (and its output still exists), it is skipped and says so.
A stamp is only ever a reason to skip work, never a source of truth about an
image: the engine and registry are asked before a stamp is trusted.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any


def inputs_key(*parts: object) -> str:
    """One digest over any JSON-able inputs."""
    blob = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


class State:
    """A small JSON document of stamps, written atomically."""

    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / "state.json"

    def _load(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def get(self, task: str) -> dict[str, Any]:
        """The stamp a task left, or an empty dict."""
        stamp = self._load().get(task)
        return stamp if isinstance(stamp, dict) else {}

    def is_fresh(self, task: str, key: str) -> bool:
        """True when the task's last success had these inputs."""
        return self.get(task).get("inputs") == key

    def record(self, task: str, key: str, **values: Any) -> None:
        """Record a success with its inputs key and anything later tasks need."""
        data = self._load()
        data[task] = {"inputs": key, **values}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(".state.json.tmp")
        tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        tmp.replace(self.path)

    def forget(self, task: str) -> None:
        """Drop a stamp, so the task runs next time."""
        data = self._load()
        if data.pop(task, None) is not None:
            tmp = self.path.with_name(".state.json.tmp")
            tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
            tmp.replace(self.path)
