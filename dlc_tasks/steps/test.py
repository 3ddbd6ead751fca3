"""``test``: go vet and go test with coverage (together), then every binary, in the cache image.

One test run serves every image of the module (``dlc.images``): it builds each image's
binary, whatever ``--image`` selects, so its stamp does not depend on the selection.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from dlc_tasks._files import file_sha256
from dlc_tasks.model.stamps import TestStamp
from dlc_tasks.model.state import inputs_key
from dlc_tasks.steps import gocontainer as go_
from dlc_tasks.steps.base import Decision, Done, Status, Step
from dlc_tasks.steps.cache import cache_digest
from dlc_tasks.steps.gocontainer import binary_path

if TYPE_CHECKING:
    from dlc_tasks.run import Run


def _relative(run: Run, path: Path) -> str:
    return path.relative_to(run.settings.project_dir).as_posix()


def link_flags(run: Run) -> str:
    """The binaries' ``-ldflags``: stripped, ``version_var`` and ``dlc.go.ldflags`` rendered."""
    s = run.settings
    revision = run.revision() if s.go.needs_revision else None
    return s.go.link_flags(s.version_var, str(run.version()), revision)


def binary_commands(run: Run) -> list[list[str]]:
    """The ``go build`` of every image's binary."""
    s, ldflags = run.settings, link_flags(run)
    return [
        go_.binary_command(
            s.main_package_of(target), _relative(run, binary_path(run, target)), ldflags
        )
        for target in s.all_images()
    ]


class TestStep(Step):
    """Check the module and build its binary, unless nothing it reads changed."""

    __test__ = False  # not a pytest test class, whatever its name says
    name = "test"
    after = ("cache", "generate")

    def _key(self, run: Run) -> str:
        return inputs_key(
            run.source_digest(),
            cache_digest(run),
            binary_commands(run),
            go_.go_environment(run),
        )

    def decide(self, run: Run) -> Decision:
        """Up to date when the tree, the cache image and the binary's settings are unchanged."""
        s = run.settings
        key = self._key(run)
        stamp = run.state.load("test", TestStamp)
        built = all(binary_path(run, t).is_file() for t in s.all_images())
        fresh = stamp is not None and stamp.inputs == key
        if stamp is not None and fresh and built and s.coverage_file.is_file():
            return Decision(False, f"sources unchanged; coverage {stamp.coverage}")
        why = "sources changed" if stamp else "never tested here"
        if fresh:
            why = "a binary or the coverage profile is missing"
        return Decision(True, why, self.describe(run), facts={"key": key})

    def describe(self, run: Run) -> tuple[str, ...]:
        """The container, vet and test together, the coverage total, the binary."""
        coverage = _relative(run, run.settings.coverage_file)
        checks = " & ".join(" ".join(argv) for _, argv in go_.check_commands(coverage))
        return (
            go_.describe_container(run),
            f"  {checks}  (together)",
            f"  {' '.join(go_.coverage_command(coverage))}",
            *(f"  {' '.join(argv)}" for argv in binary_commands(run)),
        )

    def execute(self, run: Run, decision: Decision) -> Done:
        """vet ∥ test, the coverage total, then each binary; stamp the binaries' digests."""
        if not decision.run:
            return Done(Status.SKIPPED, decision.reason)
        s = run.settings
        coverage_file = _relative(run, s.coverage_file)
        binary_path(run).parent.mkdir(parents=True, exist_ok=True)
        with go_.open_go_container(run) as go:
            go.run_together(go_.check_commands(coverage_file))
            cover = go.run(go_.coverage_command(coverage_file), what="coverage", quiet=True)
            coverage = go_.total_coverage(cover.lines)
            for argv in binary_commands(run):
                go.run(argv, what=f"the go build of {argv[-1]}")
        run.out.line(f"total coverage: {coverage}; profile in {s.coverage_file}")
        binaries = {t.binary_name: file_sha256(binary_path(run, t)) for t in s.all_images()}
        run.state.save("test", TestStamp(str(decision.facts["key"]), coverage, binaries))
        return Done(Status.RAN, f"coverage {coverage}")
