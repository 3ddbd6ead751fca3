"""Running steps: one loop for the chain, ``--dry-run``, ``inv ci`` and ``check.cache-env``.

Before the first step of a real run the runner calls :meth:`~dlc_tasks.run.Run.prepare`
(the one place the run changes the machine before its work: the local registry, the
engine's trust in ``dlc.ca_file``). For each step it prints a header, asks the step to
:meth:`~Step.decide`, prints the decision, and then, in a real run, calls
:meth:`~Step.execute` with it; a dry run stops there. Every outcome, failure and
interruption included, is recorded on the :class:`~dlc_tasks.run.Run` exactly once, with
its own duration.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from dlc_tasks.errors import DlcError
from dlc_tasks.reporting.console import Outcome
from dlc_tasks.steps.base import Decision, Done, Status, Step

if TYPE_CHECKING:
    from dlc_tasks.run import Run


def decide(run: Run, step: Step[Any]) -> Decision[Any]:
    """The step's decision; in a dry run, a step after one that would run ``may run``.

    Its inputs are that earlier step's outputs, which the plan cannot know without doing
    the work: ``generate`` may write the same files again, a forced cache rebuild may give
    the same image, and then the real run skips this step. So the plan says so, instead
    of claiming either. Everything up to the first step that would run is exact. A step
    with nothing to do (:meth:`Step.idle`) is a skip in both, whatever ran before it.
    """
    idle = step.idle(run)
    if idle is not None:
        return idle
    if run.dry_run:
        pending = [name for name in step.after if name in run.would_run]
        if pending:
            return Decision(
                True,
                f"if {pending[0]} changes its inputs (known once {pending[0]} has run)",
                step.describe(run),
                conditional=True,
            )
    return step.decide(run)


def run_step(run: Run, step: Step[Any]) -> Done:
    """Decide, print, and (unless dry) execute one step; record its outcome."""
    dry = run.dry_run
    run.out.task(step.name + (" (dry run)" if dry else ""))
    started = time.monotonic()

    def record(status: Status, detail: str) -> None:
        run.record(Outcome(step.name, status, time.monotonic() - started, detail))

    try:
        if not dry:
            run.prepare()  # a real run's side effects before its work, once
        decision = decide(run, step)
        for line in decision.lines(dry):
            run.out.line(f"    {line}")
        if dry:
            if decision.run:
                run.would_run.add(step.name)
                done = Done(Status.PLANNED, decision.reason)
            else:
                step.observe(run, decision)
                done = Done(decision.skip_status, decision.reason)
        else:
            done = step.execute(run, decision)
    except DlcError as err:
        record(Status.FAILED, err.one_line())
        raise
    except KeyboardInterrupt:
        record(Status.INTERRUPTED, "interrupted")
        raise
    except BaseException as err:
        record(Status.FAILED, f"unexpected {type(err).__name__}: {err}")
        raise
    record(done.status, done.detail)
    return done


def run_steps(run: Run, steps: Iterable[Step[Any]]) -> list[Done]:
    """Run steps in order; the first failure stops the rest."""
    return [run_step(run, step) for step in steps]
