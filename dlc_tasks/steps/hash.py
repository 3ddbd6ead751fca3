"""``hash``: the dependency hash that names the build-cache image, written to ``deps_hash.env``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dlc_tasks._files import atomic_write_text, short
from dlc_tasks.steps.base import Decision, Done, Status, Step

if TYPE_CHECKING:
    from dlc_tasks.run import Run


class HashStep(Step):
    """Compute the hash; write the hash file unless it already holds it."""

    name = "hash"

    def decide(self, run: Run) -> Decision:
        """Up to date when the hash file already holds this hash."""
        deps, path = run.deps(), run.settings.hash_file
        run.out.line(f"DEPS_HASH={deps.value}")
        current = path.read_text(encoding="utf-8") if path.is_file() else None
        if current == deps.env_line():
            return Decision(False, f"{path.name} already holds {short(deps.value, 16)}")
        why = f"{path.name} does not hold {short(deps.value, 16)}"
        return Decision(True, why, (f"write {path}",))

    def execute(self, run: Run, decision: Decision) -> Done:
        """Write the hash file (atomically)."""
        deps = run.deps()
        if decision.run:
            atomic_write_text(run.settings.hash_file, deps.env_line())
            return Done(Status.RAN, short(deps.value, 16))
        return Done(Status.SKIPPED, short(deps.value, 16))
