"""Go inside the build-cache image: one container per task, one ``exec`` per step.

The source tree is bind-mounted at ``/workspace`` and every step runs as the
invoking user, so generated files, the coverage profile and the binary belong
to that user, not to root. Go's build cache lives in a named volume keyed by
the dependency hash, so a warm run compiles only what changed, while a new
toolchain or new dependencies (a new hash) start from a clean cache. Modules
come only from the cache image (``GOPROXY=off``, ``GOFLAGS=-mod=readonly``).
The container is removed on every exit path, Ctrl-C and SIGTERM included.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from dlc_tasks.clients.engine import Engine, stream_lines
from dlc_tasks.errors import GoStepFailed

WORKDIR = "/workspace"
GOCACHE = "/cache/go-build"
LABEL = "dlc-tasks.role"
GO_ENV = {
    "GOCACHE": GOCACHE,
    "HOME": "/tmp",  # noqa: S108  (inside the container: a writable HOME for any uid)
    "GOFLAGS": "-mod=readonly",
    "GOPROXY": "off",
    "GOTOOLCHAIN": "local",
    "CGO_ENABLED": "0",
}
_FAILED_TEST = re.compile(r"^\s*--- FAIL: (\S+)")
_FAILED_PKG = re.compile(r"^FAIL\s+(\S+)")
_TOTAL = re.compile(r"^total:\s+\(statements\)\s+([0-9.]+%)")


def cache_volume_name(repo: str, deps_hash: str) -> str:
    """``dlc-gocache-REPO-HASH16``: one Go build cache per dependency hash."""
    return f"dlc-gocache-{repo}-{deps_hash[:16]}"


@dataclass
class StepResult:
    """What one step printed and how it exited."""

    argv: list[str]
    exit_code: int
    lines: list[str]


class GoContainer:
    """A running container of the cache image, removed on exit."""

    def __init__(
        self,
        engine: Engine,
        image: str,
        project_dir: Path,
        volume: str,
        output: Callable[[str], None],
    ) -> None:
        self.engine = engine
        self.image = image
        self.project_dir = project_dir
        self.volume = volume
        self.output = output
        from dlc_tasks.clients.trust import engine_is_local  # noqa: PLC0415

        # A remote engine cannot bind-mount this machine's files: copy in, copy back.
        self.remote = not engine_is_local()
        self.user = "0:0" if self.remote else f"{os.getuid()}:{os.getgid()}"
        self.container_id: str | None = None

    def __enter__(self) -> GoContainer:
        api = self.engine.api
        created = self.engine.ensure_volume(self.volume, {LABEL: "gocache"})
        binds = {self.volume: {"bind": GOCACHE, "mode": "rw"}}
        if not self.remote:
            binds[str(self.project_dir)] = {"bind": WORKDIR, "mode": "rw"}
        host_config = api.create_host_config(binds=binds, init=True)
        container = api.create_container(
            self.image,
            command=["tail", "-f", "/dev/null"],
            working_dir=WORKDIR,
            environment=GO_ENV,
            host_config=host_config,
            labels={LABEL: "go-step"},
        )
        self.container_id = str(container["Id"])
        try:
            api.start(self.container_id)
            if self.remote:
                from dlc_tasks.clients.workspace import copy_in  # noqa: PLC0415

                copy_in(api, self.container_id, self.project_dir, WORKDIR)
            if created and self.user != "0:0":
                self._exec(["chown", self.user, GOCACHE], user="0:0", quiet=True)
        except BaseException:
            self.engine.remove_container(self.container_id)
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if not self.container_id:
            return
        try:
            if self.remote and exc_type is None:
                from dlc_tasks.clients.workspace import copy_out  # noqa: PLC0415

                changed = copy_out(self.engine.api, self.container_id, self.project_dir, WORKDIR)
                self.output(f"copied back from the engine: {len(changed)} changed file(s)")
        finally:
            self.engine.remove_container(self.container_id)
            self.container_id = None

    def _exec(
        self, argv: Sequence[str], *, user: str | None = None, quiet: bool = False
    ) -> StepResult:
        api = self.engine.api
        exec_id = api.exec_create(
            self.container_id, list(argv), workdir=WORKDIR, user=user or self.user
        )["Id"]
        lines = []
        for line in stream_lines(api.exec_start(exec_id, stream=True)):
            lines.append(line)
            if not quiet:
                self.output(line)
        code = api.exec_inspect(exec_id)["ExitCode"]
        return StepResult(list(argv), int(code if code is not None else 1), lines)

    def run(
        self, argv: Sequence[str], *, what: str | None = None, quiet: bool = False
    ) -> StepResult:
        """Run one step; raise :class:`GoStepFailed` naming it (and any failed tests) on failure.

        ``quiet`` keeps the step's output for the caller instead of printing it.
        """
        self.output(f"$ {' '.join(argv)}")
        result = self._exec(argv, quiet=quiet)
        if result.exit_code != 0:
            failed = failed_tests(result.lines)
            detail = f": {', '.join(failed)}" if failed else ""
            raise GoStepFailed(
                f"{what or ' '.join(argv)} failed with exit code {result.exit_code}{detail}"
            )
        return result


def failed_tests(lines: Sequence[str]) -> list[str]:
    """The names of failed tests (``--- FAIL: TestX``), else of failed packages."""
    tests = [m.group(1) for line in lines if (m := _FAILED_TEST.match(line))]
    if tests:
        return list(dict.fromkeys(tests))
    return list(dict.fromkeys(m.group(1) for line in lines if (m := _FAILED_PKG.match(line))))


def total_coverage(lines: Sequence[str]) -> str | None:
    """The ``total:`` figure from ``go tool cover -func``."""
    for line in reversed(lines):
        if m := _TOTAL.match(line):
            return m.group(1)
    return None


def test_steps(coverage_file: str) -> list[tuple[str, list[str]]]:
    """vet, build and test with coverage, as (name, argv) pairs."""
    return [
        ("go vet", ["go", "vet", "./..."]),
        ("go build", ["go", "build", "./..."]),
        (
            "go test",
            ["go", "test", "-covermode=atomic", f"-coverprofile={coverage_file}", "./..."],
        ),
        ("coverage", ["go", "tool", "cover", f"-func={coverage_file}"]),
    ]


def binary_step(main_package: str, out: str, version_var: str | None, version: str) -> list[str]:
    """``go build`` of the service's binary, stripped, with the version stamped when asked."""
    ldflags = "-s -w"
    if version_var:
        ldflags += f" -X {version_var}={version}"
    return ["go", "build", f"-ldflags={ldflags}", "-o", out, main_package]
