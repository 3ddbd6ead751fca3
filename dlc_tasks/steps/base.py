"""The step model: one type for every step of the chain, its statuses and its decisions.

A :class:`Step` knows its inputs and its up-to-date check (:meth:`Step.decide`,
a function of the run's facts, its stamps and read-only lookups of the engine and the
registry: it changes nothing), how it describes what it would do (the
:class:`Decision`'s ``actions``), and how it does it (:meth:`Step.execute`, which takes
the decision's typed plan and derives nothing again). The runner (:mod:`dlc_tasks.steps.runner`)
calls ``decide`` in a real run and in a dry run alike and prints the decision
the same way, so what ``--dry-run`` says and what the run does cannot drift:
a dry run stops before ``execute``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Generic, TypeVar

from dlc_tasks.model.status import Status

if TYPE_CHECKING:
    from dlc_tasks.run import Run

__all__ = ["Decision", "Done", "NoPlan", "Status", "Step"]

P = TypeVar("P")


class NoPlan(Exception):
    """A step was asked to execute a decision that carries no plan (a programming error)."""


@dataclass(frozen=True)
class Decision(Generic[P]):
    """What a step will do next, and why: the same object drives the real run and the plan.

    ``run`` False means the step is up to date (or, for ``cache``, a hit) and does nothing
    but bookkeeping; ``actions`` are the lines that say what running means; ``plan`` is the
    step's own frozen dataclass of what ``decide`` learnt (keys, digests, tags), handed to
    ``execute`` so nothing is asked or derived twice.
    """

    run: bool
    reason: str
    actions: tuple[str, ...] = ()
    skip_status: Status = Status.SKIPPED
    plan: P | None = None
    # Dry run only: the step's inputs are the outputs of an earlier step that would run, so
    # whether it runs is known only once that one has (a rebuild may give the same output).
    conditional: bool = False

    def lines(self, dry_run: bool) -> list[str]:
        """The decision as printed: ``run:``/``would run:``/``may run:``/``skip:``, then the
        actions."""
        if not self.run:
            return [f"skip: {self.reason}"]
        verb = ("may run" if self.conditional else "would run") if dry_run else "run"
        return [f"{verb}: {self.reason}", *(f"  {action}" for action in self.actions)]

    def planned(self) -> P:
        """The plan; a decision that ``execute`` acts on always carries one."""
        if self.plan is None:
            raise NoPlan(f"a decision without a plan was executed ({self.reason})")
        return self.plan


@dataclass(frozen=True)
class Done:
    """A step's result: its status and one line of detail for the summary."""

    status: Status
    detail: str = ""


class Step(ABC, Generic[P]):
    """One step of the chain, generic over its plan's type. Subclasses set ``name`` and
    ``after`` and implement the two methods.

    ``after`` names the earlier steps whose outputs are this step's inputs: in a dry run,
    when one of them would run, this step ``may run`` (it does when that one's output
    changes, which the plan cannot know without doing the work).
    """

    name: ClassVar[str]
    after: ClassVar[tuple[str, ...]] = ()

    @abstractmethod
    def decide(self, run: Run) -> Decision[P]:
        """Check the inputs against the last success; change nothing."""

    @abstractmethod
    def execute(self, run: Run, decision: Decision[P]) -> Done:
        """Do what ``decision`` says (for a skip: record what later steps need)."""

    def observe(self, run: Run, decision: Decision[P]) -> None:
        """A dry run's skip: learn what later steps read from it (the cache image), no more."""

    def idle(self, run: Run) -> Decision[P] | None:
        """A skip that holds whatever earlier steps output (nothing configured), else None.

        The runner asks this first, in a dry run too: a step with nothing to do is planned
        as a skip even after a step that would run, so the plan matches the run.
        """
        return None

    def describe(self, run: Run) -> tuple[str, ...]:
        """What running means, in lines, from what is known before the earlier steps ran."""
        return ()
