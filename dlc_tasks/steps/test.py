"""``test``: go vet and go test with coverage (together), then every binary, in the cache image.

One test run serves every image of the module (``dlc.images``): it builds each image's
binary, whatever ``--image`` selects, so its stamp does not depend on the selection.

The binaries are what ``prod`` publishes, so their stamp is exact: each is built to a
temporary name (in a ``.dlc/build-*`` folder of this run) and renamed into place only
when every Go command succeeded, under the same lock as the stamp that records its sha256.
A failed, interrupted or killed ``test`` leaves the binaries its stamp names; ``test`` is
up to date only when every binary's sha256 is its stamp's (:func:`stamped_binaries`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from dlc_tasks._files import file_sha256, live_folder, locked, remove_dead_folders
from dlc_tasks.model import gocommands as go_
from dlc_tasks.model.stamps import TestStamp
from dlc_tasks.model.state import inputs_key
from dlc_tasks.steps import crossbuild, gostep
from dlc_tasks.steps.base import Decision, Done, Status, Step
from dlc_tasks.steps.gostep import binary_path

if TYPE_CHECKING:
    from dlc_tasks.run import Run


def _relative(run: Run, path: Path) -> str:
    return path.relative_to(run.settings.project_dir).as_posix()


def link_flags(run: Run) -> str:
    """The binaries' ``-ldflags``: stripped, ``version_var`` and ``dlc.go.ldflags`` rendered."""
    s = run.settings
    revision = run.facts.revision() if s.go.needs_revision else None
    return s.go.link_flags(s.version_var, str(run.facts.version()), revision)


BUILDING = "build-"  # a run's folder of binaries being built, in .dlc


def binary_commands(
    run: Run, into: Path | None = None, ldflags: str | None = None
) -> list[list[str]]:
    """The ``go build`` of every image's binary for every platform (:mod:`crossbuild`), to its
    place (or to ``into``/NAME, ``into``/PLATFORM/NAME)."""
    s = run.settings
    ldflags = link_flags(run) if ldflags is None else ldflags
    return [
        crossbuild.command(
            binary,
            go_.binary_command(
                s.main_package_of(binary.target),
                _relative(run, into / binary.relative if into else binary.path(run)),
                ldflags,
            ),
        )
        for binary in crossbuild.binaries(run)
    ]


def unstamped_binary(run: Run, stamp: TestStamp) -> str | None:
    """Why a binary is not the one ``stamp`` records (missing, or another sha256), or None."""
    for binary in crossbuild.binaries(run):
        path = binary.path(run)
        if not path.is_file():
            return f"{run.settings.shown(path)} is missing"
        if file_sha256(path) != stamp.binaries.get(binary.stamp_key):
            return f"{run.settings.shown(path)} is not the binary test built"
    return None


def install_binaries(run: Run, built: Path, key: str, coverage: str | None) -> None:
    """Rename each binary of ``built`` into place and stamp their digests, under one lock
    (so two runs in one checkout never pair one's binaries with the other's stamp)."""
    s = run.settings
    every = crossbuild.binaries(run)
    with locked(s.state_dir / "binaries"):
        digests = {b.stamp_key: file_sha256(built / b.relative) for b in every}
        for binary in every:
            binary.path(run).parent.mkdir(parents=True, exist_ok=True)
            os.replace(built / binary.relative, binary.path(run))
        run.state.save("test", TestStamp(key, coverage, digests))


@dataclass(frozen=True)
class TestPlan:
    """The stamp's key for these inputs and the binaries' ``-ldflags``."""

    __test__ = False  # not a pytest test class, whatever its name says
    key: str
    ldflags: str


class TestStep(Step[TestPlan]):
    """Check the module and build its binary, unless nothing it reads changed."""

    __test__ = False  # not a pytest test class, whatever its name says
    name = "test"
    after = ("cache", "generate")

    @staticmethod
    def _plan(run: Run) -> TestPlan:
        ldflags = link_flags(run)
        key = inputs_key(
            run.facts.source_digest(),
            run.facts.cache_image().digest,
            binary_commands(run, ldflags=ldflags),
            gostep.go_environment(run),
        )
        return TestPlan(key, ldflags)

    def decide(self, run: Run) -> Decision[TestPlan]:
        """Up to date when the tree, the cache image and the binary's settings are unchanged."""
        s = run.settings
        plan = self._plan(run)
        stamp = run.state.load("test", TestStamp)
        if stamp is None:
            return Decision(True, "never tested here", self.describe(run), plan=plan)
        if stamp.inputs != plan.key:
            return Decision(True, "sources changed", self.describe(run), plan=plan)
        why = unstamped_binary(run, stamp)
        if why is None and not s.coverage_file.is_file():
            why = f"the coverage profile {s.shown(s.coverage_file)} is missing"
        if why is None:
            return Decision(False, f"sources unchanged; coverage {stamp.coverage}", plan=plan)
        return Decision(True, why, self.describe(run), plan=plan)

    def describe(self, run: Run) -> tuple[str, ...]:
        """The container, vet and test together, the coverage total, the binary."""
        coverage = _relative(run, run.settings.coverage_file)
        checks = " & ".join(" ".join(argv) for _, argv in go_.check_commands(coverage))
        return (
            gostep.describe_container(run),
            f"  {checks}  (together)",
            f"  {' '.join(go_.coverage_command(coverage))}",
            *(f"  {' '.join(argv)}" for argv in binary_commands(run)),
        )

    def execute(self, run: Run, decision: Decision[TestPlan]) -> Done:
        """vet ∥ test, the coverage total, then each binary to a temporary name; rename the
        binaries into place and stamp their digests once everything succeeded."""
        s = run.settings
        remove_dead_folders(s.state_dir, BUILDING)  # what killed runs left
        if not decision.run:
            return Done(Status.SKIPPED, decision.reason)
        plan = decision.planned()
        coverage_file = _relative(run, s.coverage_file)
        binary_path(run).parent.mkdir(parents=True, exist_ok=True)
        with live_folder(s.state_dir, BUILDING) as building:
            for binary in crossbuild.binaries(run):
                (building / binary.relative).parent.mkdir(parents=True, exist_ok=True)
            with gostep.open_go_container(run) as go:
                go.run_together(go_.check_commands(coverage_file))
                cover = go.run(go_.coverage_command(coverage_file), what="coverage", quiet=True)
                coverage = go_.total_coverage(cover.lines)
                for argv in binary_commands(run, building, plan.ldflags):
                    go.run(argv, what=f"the go build of {argv[-1]}")
            # after the container's exit: a remote engine's results are copied back by then
            install_binaries(run, building, plan.key, coverage)
        run.out.line(f"total coverage: {coverage}; profile in {s.coverage_file}")
        return Done(Status.RAN, f"coverage {coverage}")
