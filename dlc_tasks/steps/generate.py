"""``generate``: the configured code generators, run inside the cache image.

A failure names what failed: for ``go generate``, the directive (its text, file and line,
read from Go's ``FILE:LINE: running "CMD": …`` line) and ``dlc.generate``, where a directive
that cannot run in the cache image is left out (``dlc init`` writes ``go generate -skip``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from dlc_tasks.clients.gocontainer import WORKDIR
from dlc_tasks.errors import GenerateFailed, GoStepFailed
from dlc_tasks.model.stamps import GenerateStamp
from dlc_tasks.model.state import inputs_key
from dlc_tasks.project.geninputs import GenerateInputs, nothing_to_run, observe
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


def observe_inputs(run: Run, outputs: Iterable[str] | None = None) -> GenerateInputs:
    """The generators' inputs now; ``outputs``: what they wrote (default: the last stamp's)."""
    if outputs is None:
        previous = run.state.load("generate", GenerateStamp)
        outputs = previous.outputs if previous else ()
    s = run.settings
    return observe(
        s.project_dir, s.generate, s.generate_inputs, outputs, exclude=run.facts.not_source()
    )


@dataclass(frozen=True)
class GeneratePlan:
    """The generators to run, the inputs declared for them and the cache image they run in."""

    steps: tuple[tuple[str, ...], ...]
    declared: tuple[str, ...]
    cache_digest: str

    def key(self, run: Run, inputs: GenerateInputs) -> str:
        """The stamp's key: the inputs' digest (the whole tree's when they are not known), the
        steps, the declared patterns and the cache image."""
        if inputs.files is None:
            digest = run.facts.source_digest()
        else:
            digest = inputs.digest(run.settings.project_dir)
        steps = [list(step) for step in self.steps]
        parts = {"steps": steps, "declared": list(self.declared), "cache": self.cache_digest}
        return inputs_key(digest, inputs.files, parts)


class GenerateStep(Step[GeneratePlan]):
    """Run ``dlc.generate`` (argument lists) unless the generators' inputs are unchanged."""

    name = "generate"
    after = ("cache",)

    def idle(self, run: Run) -> Decision[GeneratePlan] | None:
        """Nothing configured, or ``go generate`` and no directive in the module: nothing to
        do, no container, whatever ran before."""
        if not run.settings.generate:
            return Decision(False, "no generate steps configured (dlc.generate is empty)")
        if nothing_to_run(run.settings.project_dir, run.settings.generate):
            return Decision(False, "no //go:generate directive in the module")
        return None

    def decide(self, run: Run) -> Decision[GeneratePlan]:
        """Nothing to do: a skip (see :meth:`idle`). Else compare the digest of the
        generators' inputs (:mod:`dlc_tasks.project.geninputs`)."""
        if idle := self.idle(run):
            return idle
        s = run.settings
        steps = tuple(tuple(step) for step in s.generate)
        plan = GeneratePlan(steps, tuple(s.generate_inputs), run.facts.cache_image().digest)
        inputs = observe_inputs(run)
        what = "sources" if inputs.files is None else "generator inputs"
        if run.state.is_fresh("generate", plan.key(run, inputs)):
            return Decision(False, f"{what} unchanged since the last generate", plan=plan)
        done = run.state.load("generate", GenerateStamp)
        why = f"{what} changed" if done else "never generated here"
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
        key = plan.key(run, observe_inputs(run, outputs))
        run.state.save("generate", GenerateStamp(key, outputs))
        return Done(Status.RAN, f"{len(steps)} generator(s)")
