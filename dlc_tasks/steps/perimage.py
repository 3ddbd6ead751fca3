"""One decision over several images: how ``prod`` and ``push`` handle ``dlc.images``.

Each image gets its own decision (its inputs, its stamp, its plan); the step's decision
runs when any image's does, its reason names each image's, and its actions are the
running images' actions prefixed with their names. The module's one image (no
``dlc.images``) keeps its decision unchanged, so the plan reads as before.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, TypeVar

from dlc_tasks.model.targets import ImageTarget
from dlc_tasks.steps.base import Decision, Done, Status

if TYPE_CHECKING:
    from dlc_tasks.model.refs import Repository
    from dlc_tasks.run import Run

P = TypeVar("P")


@dataclass(frozen=True)
class EachImage(Generic[P]):
    """The plan of a step over several images: each image's own decision."""

    parts: tuple[tuple[ImageTarget, Decision[P]], ...]


def image_repository(run: Run, target: ImageTarget) -> Repository:
    """``registry/org/NAME`` of one image."""
    return run.facts.prod_repository(target)


def _plain(parts: Sequence[tuple[ImageTarget, Decision[P]]]) -> bool:
    return len(parts) == 1 and not parts[0][0].configured


def combine(parts: Sequence[tuple[ImageTarget, Decision[P]]]) -> Decision[EachImage[P]]:
    """The step's decision from each image's (kept in its plan for ``execute``)."""
    plan = EachImage(tuple(parts))
    if _plain(parts):
        _, only = parts[0]
        return Decision(only.run, only.reason, only.actions, only.skip_status, plan)
    running = [(t, d) for t, d in parts if d.run]
    reason = "; ".join(
        f"{t.name}: {d.reason}" if d.run else f"{t.name}: up to date ({d.reason})" for t, d in parts
    )
    actions = tuple(f"{t.name}: {a}" for t, d in running for a in d.actions)
    return Decision(bool(running), reason, actions, plan=plan)


def describe_each(
    targets: Sequence[ImageTarget], describe: Callable[[ImageTarget], tuple[str, ...]]
) -> tuple[str, ...]:
    """Every image's action lines, prefixed with its name when the module has several."""
    if len(targets) == 1 and not targets[0].configured:
        return describe(targets[0])
    return tuple(f"{t.name}: {line}" for t in targets for line in describe(t))


def execute_each(decision: Decision[EachImage[P]], work: Callable[[ImageTarget, P], str]) -> Done:
    """Run ``work`` on the plan of each image whose decision runs; one summary line for all."""
    if not decision.run:
        return Done(Status.SKIPPED, decision.reason)
    parts = decision.planned().parts
    details = []
    for target, part in parts:
        if part.run:
            details.append(work(target, part.planned()))
        elif not _plain(parts):
            details.append(f"{target.name} up to date")
    return Done(Status.RAN, "; ".join(details))
