"""Stamps of what each task last produced, kept in ``project_dir/.dlc/state.json``.

A task records the digest of its inputs when it succeeds; when the inputs are
the same next time (and its output still exists), it is skipped and says so.
A stamp is only ever a reason to skip work, never a source of truth about an
image: the engine and registry are asked before a stamp is trusted. The steps read
and write typed stamps (:mod:`dlc_tasks.model.stamps`) through :meth:`State.load` and
:meth:`State.save`; :meth:`State.get` and :meth:`State.record` are the untyped storage
underneath.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from dlc_tasks._files import atomic_write_text, locked, remove_temporaries
from dlc_tasks.errors import FileError
from dlc_tasks.model.stamps import S, Stamp
from dlc_tasks.secrets import redact_values


def inputs_key(*parts: object) -> str:
    """One digest over any JSON-able inputs."""
    blob = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


class State:
    """A small JSON document of stamps, written atomically.

    Changes are read-modify-write under an exclusive ``flock`` (:func:`dlc_tasks._files.locked`)
    and land through a uniquely named temporary file and a rename, so concurrent ``inv``
    processes in one checkout keep every stamp and a reader never sees torn JSON.
    """

    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / "state.json"

    def _load(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (FileNotFoundError, NotADirectoryError, ValueError):
            return {}  # no stamps yet (or a file in the way, which the next write names)
        except OSError as err:
            raise FileError.of(err, "read", self.path) from err
        return data if isinstance(data, dict) else {}

    def get(self, task: str) -> dict[str, Any]:
        """The stamp a task left, or an empty dict."""
        stamp = self._load().get(task)
        return stamp if isinstance(stamp, dict) else {}

    def load(self, task: str, kind: type[S]) -> S | None:
        """The typed stamp a task left, or ``None`` (none, or not one of ``kind``)."""
        return kind.from_json(self._load().get(task))

    def save(self, task: str, stamp: Stamp) -> None:
        """Record a typed stamp."""
        values = stamp.to_json()
        self.record(task, values.pop("inputs"), **values)

    def is_fresh(self, task: str, key: str) -> bool:
        """True when the task's last success had these inputs."""
        return self.get(task).get("inputs") == key

    def record(self, task: str, key: str, **values: Any) -> None:
        """Record a success with its inputs key and anything later tasks need."""
        with locked(self.path):
            data = self._load()
            data[task] = {"inputs": key, **values}
            self._write(data)

    def forget(self, task: str) -> None:
        """Drop a stamp, so the task runs next time."""
        with locked(self.path):
            data = self._load()
            if data.pop(task, None) is not None:
                self._write(data)

    def _write(self, data: dict[str, Any]) -> None:
        # Called under the lock, the only place state.json is written: a temporary file of
        # it that exists now was left by a writer killed mid-write (SIGKILL).
        remove_temporaries(self.path)
        text = json.dumps(redact_values(data), indent=2, sort_keys=True)  # no secret, ever
        atomic_write_text(self.path, text + "\n")
