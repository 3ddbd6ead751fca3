"""``generate``: the configured code generators, run inside the cache image.

A failure names what failed: for ``go generate``, the directive (its text, file and line,
read from Go's ``FILE:LINE: running "CMD": …`` line) and ``dlc.generate``, where a directive
that cannot run in the cache image is left out (``dlc init`` writes ``go generate -skip``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from dlc_tasks.clients.gocontainer import WORKDIR
from dlc_tasks.errors import GenerateFailed, GoStepFailed
from dlc_tasks.model.stamps import GenerateStamp
from dlc_tasks.model.state import inputs_key
from dlc_tasks.steps.base import Decision, Done, Status, Step
from dlc_tasks.steps.gostep import describe_container, open_go_container

if TYPE_CHECKING:
    from dlc_tasks.run import Run


# what go generate prints when a directive fails: `tz/tz.go:3: running "./gen.py": …`
_GO_GENERATE_ERROR = re.compile(r"^(?P<file>\S+\.go):(?P<line>[0-9]+): (?P<error>.+)$")


def generate_failure(project_dir: Path, step: list[str], err: GoStepFailed) -> GoStepFailed:
    """``err`` as one line naming the failing directive and ``dlc.generate``."""
    command = " ".join(step)
    for line in reversed(err.lines):
        match = _GO_GENERATE_ERROR.match(line.strip())
        if match is None:
            continue
        rel = match.group("file").removeprefix(WORKDIR + "/")
        number = int(match.group("line"))
        try:
            source = (project_dir / rel).read_text(encoding="utf-8", errors="replace")
            text = source.splitlines()[number - 1].strip()
        except (OSError, IndexError):
            text = "a //go:generate directive"
        return GenerateFailed(
            f"dlc.generate: {command} failed at {text} ({rel}:{number}): {match.group('error')}",
            lines=err.lines,
        )
    return GenerateFailed(f"dlc.generate: {err}", lines=err.lines)


@dataclass(frozen=True)
class GeneratePlan:
    """The generators to run and the cache image they run in."""

    steps: tuple[tuple[str, ...], ...]
    cache_digest: str

    def key(self, source_digest: str) -> str:
        """The stamp's key for a tree of ``source_digest``."""
        steps = [list(step) for step in self.steps]
        return inputs_key(source_digest, {"steps": steps, "cache": self.cache_digest})


class GenerateStep(Step[GeneratePlan]):
    """Run ``dlc.generate`` (argument lists) unless the tree is unchanged since the last run."""

    name = "generate"
    after = ("cache",)

    def idle(self, run: Run) -> Decision[GeneratePlan] | None:
        """Nothing configured: nothing to do, no container, whatever ran before."""
        if not run.settings.generate:
            return Decision(False, "no generate steps configured (dlc.generate is empty)")
        return None

    def decide(self, run: Run) -> Decision[GeneratePlan]:
        """Nothing configured: a skip (see :meth:`idle`). Else compare the tree's digest."""
        if idle := self.idle(run):
            return idle
        steps = tuple(tuple(step) for step in run.settings.generate)
        plan = GeneratePlan(steps, run.facts.cache_image().digest)
        if run.state.is_fresh("generate", plan.key(run.facts.source_digest())):
            return Decision(False, "sources unchanged since the last generate", plan=plan)
        done = run.state.load("generate", GenerateStamp)
        why = "sources changed" if done else "never generated here"
        return Decision(True, why, self.describe(run), plan=plan)

    def describe(self, run: Run) -> tuple[str, ...]:
        """The container, then each generator."""
        steps = run.settings.generate
        return (describe_container(run), *(f"  {' '.join(step)}" for step in steps))

    def execute(self, run: Run, decision: Decision[GeneratePlan]) -> Done:
        """Run every generator in one container; stamp the tree as it is afterwards (the
        facts that depend on the tree are read again: the generators changed it)."""
        if not decision.run:
            return Done(Status.SKIPPED, decision.reason)
        plan = decision.planned()
        steps = plan.steps
        before = run.facts.source_fingerprints()
        with open_go_container(run) as go:
            for step in steps:
                try:
                    go.run(step)
                except GoStepFailed as err:
                    raise generate_failure(run.settings.project_dir, list(step), err) from err
        run.facts.sources_changed()
        after = run.facts.source_fingerprints()
        # What the generators wrote: new or changed content, or rewritten (a new mtime) with
        # the same content; and what an earlier generate wrote that is still as it left it.
        previous = run.state.load("generate", GenerateStamp)
        kept = previous.outputs if previous else {}
        outputs = {
            rel: sha
            for rel, (sha, mtime) in after.items()
            if before.get(rel) != (sha, mtime) or kept.get(rel) == sha
        }
        run.state.save("generate", GenerateStamp(plan.key(run.facts.source_digest()), outputs))
        return Done(Status.RAN, f"{len(steps)} generator(s)")
