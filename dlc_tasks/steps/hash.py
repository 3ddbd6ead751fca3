"""``hash``: the dependency hash that names the build-cache image, written to ``deps_hash.env``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from dlc_tasks._files import atomic_write_text, short
from dlc_tasks.model.depshash import DepsHash
from dlc_tasks.steps.base import Decision, Done, Status, Step

if TYPE_CHECKING:
    from dlc_tasks.run import Run


@dataclass(frozen=True)
class HashPlan:
    """The hash and the file that should hold it."""

    deps: DepsHash
    path: Path


class HashStep(Step[HashPlan]):
    """Compute the hash; write the hash file unless it already holds it."""

    name = "hash"

    def decide(self, run: Run) -> Decision[HashPlan]:
        """Up to date when the hash file already holds this hash."""
        deps, path = run.facts.deps(), run.settings.hash_file
        plan = HashPlan(deps, path)
        run.out.line(f"DEPS_HASH={deps.value}")
        current = path.read_text(encoding="utf-8") if path.is_file() else None
        if current == deps.env_line():
            return Decision(False, f"{path.name} already holds {short(deps.value, 16)}", plan=plan)
        why = f"{path.name} does not hold {short(deps.value, 16)}"
        return Decision(True, why, (f"write {path}",), plan=plan)

    def execute(self, run: Run, decision: Decision[HashPlan]) -> Done:
        """Write the hash file (atomically)."""
        plan = decision.planned()
        if decision.run:
            atomic_write_text(plan.path, plan.deps.env_line())
            return Done(Status.RAN, short(plan.deps.value, 16))
        return Done(Status.SKIPPED, short(plan.deps.value, 16))
