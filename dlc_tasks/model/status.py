"""A step's outcome: one enum for the summary, the report and the history."""

from __future__ import annotations

import enum


class Status(enum.StrEnum):
    """A step's outcome. A ``str`` enum: its value is what the report and history hold."""

    RAN = "ran"
    HIT = "hit"
    MISS = "miss"
    SKIPPED = "skipped"
    PLANNED = "planned"
    FAILED = "failed"
    INTERRUPTED = "interrupted"

    @property
    def ok(self) -> bool:
        """False for a failed or interrupted step."""
        return self not in (Status.FAILED, Status.INTERRUPTED)
