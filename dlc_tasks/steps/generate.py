"""``generate``: the configured code generators, run inside the cache image."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dlc_tasks.model.stamps import GenerateStamp
from dlc_tasks.model.state import inputs_key
from dlc_tasks.steps.base import Decision, Done, Status, Step
from dlc_tasks.steps.cache import cache_digest
from dlc_tasks.steps.gocontainer import describe_container, open_go_container

if TYPE_CHECKING:
    from dlc_tasks.run import Run


class GenerateStep(Step):
    """Run ``dlc.generate`` (argument lists) unless the tree is unchanged since the last run."""

    name = "generate"
    after = ("cache",)

    def idle(self, run: Run) -> Decision | None:
        """Nothing configured: nothing to do, no container, whatever ran before."""
        if not run.settings.generate:
            return Decision(False, "no generate steps configured (dlc.generate is empty)")
        return None

    def decide(self, run: Run) -> Decision:
        """Nothing configured: a skip (see :meth:`idle`). Else compare the tree's digest."""
        steps = run.settings.generate
        if idle := self.idle(run):
            return idle
        key = inputs_key(run.source_digest(), {"steps": steps, "cache": cache_digest(run)})
        if run.state.is_fresh("generate", key):
            return Decision(False, "sources unchanged since the last generate")
        done = run.state.load("generate", GenerateStamp)
        why = "sources changed" if done else "never generated here"
        return Decision(True, why, self.describe(run))

    def describe(self, run: Run) -> tuple[str, ...]:
        """The container, then each generator."""
        steps = run.settings.generate
        return (describe_container(run), *(f"  {' '.join(step)}" for step in steps))

    def execute(self, run: Run, decision: Decision) -> Done:
        """Run every generator in one container; stamp the tree as it is afterwards."""
        steps = run.settings.generate
        if not decision.run:
            return Done(Status.SKIPPED, decision.reason)
        before = run.source_fingerprints()
        with open_go_container(run) as go:
            for step in steps:
                go.run(step)
        after = run.source_fingerprints()
        # What the generators wrote: new or changed content, or rewritten (a new mtime) with
        # the same content; and what an earlier generate wrote that is still as it left it.
        previous = run.state.load("generate", GenerateStamp)
        kept = previous.outputs if previous else {}
        outputs = {
            rel: sha
            for rel, (sha, mtime) in after.items()
            if before.get(rel) != (sha, mtime) or kept.get(rel) == sha
        }
        key = inputs_key(run.source_digest(), {"steps": steps, "cache": cache_digest(run)})
        run.state.save("generate", GenerateStamp(key, outputs))
        return Done(Status.RAN, f"{len(steps)} generator(s)")
