"""Go inside the build-cache image: one container per step, one ``exec`` per Go command.

The source tree is bind-mounted at ``/workspace`` and every command runs as the
invoking user, so generated files, the coverage profile and the binary belong
to that user, not to root. Go's build cache lives in a named volume keyed by
the dependency hash, so a warm run compiles only what changed, while a new
toolchain or new dependencies (a new hash) start from a clean cache; the first
mount of an empty volume starts from the cache image's own ``GOCACHE`` (Docker
copies an image's directory into an empty named volume). Modules come only
from the cache image or ``vendor/`` (``GOPROXY=off``), and only the mounted module is
built (``GOWORK=off``). One ``GOFLAGS`` for every command (``dlc.go``,
:mod:`dlc_tasks.model.gobuild`), here and in ``Dockerfile.build``'s warm-up, so that
what one command compiled another reuses.
The container is removed on every exit path, Ctrl-C and SIGTERM included.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from dlc_tasks._files import short
from dlc_tasks.clients.engine import ExecResult, engine_is_local
from dlc_tasks.errors import EngineError, GoStepFailed
from dlc_tasks.model.gobuild import GoBuild
from dlc_tasks.reporting.console import Command

if TYPE_CHECKING:
    from dlc_tasks.clients.seams import EngineAPI
    from dlc_tasks.model.targets import ImageTarget
    from dlc_tasks.run import Run

WORKDIR = "/workspace"
GOCACHE = "/cache/go-build"
LABEL = "dlc-tasks.role"
GO_ENV = {
    "GOCACHE": GOCACHE,
    "HOME": "/tmp",  # noqa: S108  (inside the container: a writable HOME for any uid)
    "GOPROXY": "off",
    "GOTOOLCHAIN": "local",
    "GOWORK": "off",
}
_FAILED_TEST = re.compile(r"^\s*--- FAIL: (\S+)")
_FAILED_PKG = re.compile(r"^FAIL\s+(\S+)")
_TOTAL = re.compile(r"^total:\s+\(statements\)\s+([0-9.]+%)")


def cache_volume_name(repo: str, deps_hash: str) -> str:
    """``dlc-gocache-REPO-HASH16``: one Go build cache per dependency hash."""
    return f"dlc-gocache-{repo}-{short(deps_hash, 16)}"


def binary_path(run: Run, target: ImageTarget | None = None) -> Path:
    """Where an image's binary is built: ``.dlc/bin/NAME`` (the first image's by default)."""
    target = target or run.settings.all_images()[0]
    return run.settings.state_dir / "bin" / target.binary_name


def describe_container(run: Run) -> str:
    """How a step's Go commands run, as the plan and the run print it."""
    s = run.settings
    volume = cache_volume_name(s.repo, run.deps().value)
    image = run.cache_repository().tagged(run.deps().value)
    return f"in a container of {image}, Go build cache in volume {volume}:"


def go_environment(run: Run) -> dict[str, str]:
    """The environment of every Go command: :data:`GO_ENV` and the ``dlc.go`` settings."""
    return {**GO_ENV, **run.settings.go_env}


def ensure_cache_image(run: Run, digest: str) -> EngineAPI:
    """The run's engine, holding the cache image by ``digest``: pulled from the registry when
    its store lacks it (another machine built it, or another engine: Podman keeps its own)."""
    repo, engine = run.cache_repository(), run.engine()
    if not engine.has_repo_digest(str(repo), digest):
        run.out.line(f"pulling {repo}@{short(digest)}")
        run.pull(str(repo), digest)
    return engine


def open_go_container(run: Run) -> GoContainer:
    """A :class:`GoContainer` of the run's cache image, pulled by digest if the engine lacks it."""
    from dlc_tasks.steps.cache import cache_digest  # noqa: PLC0415

    repo, digest = run.cache_repository(), cache_digest(run)
    engine = ensure_cache_image(run, digest)
    volume = cache_volume_name(run.settings.repo, run.deps().value)
    s = run.settings
    return GoContainer(
        engine,
        repo.pinned(digest),
        run.settings.project_dir,
        volume,
        run.out.output,
        owned=(*(binary_path(run, t) for t in s.all_images()), s.coverage_file),
        environment=go_environment(run),
    )


# Fixed script, the path as an argument: `date +%s` is the container's clock, the one Go reads.
TRIM_STAMP = ["sh", "-c", 'date +%s > "$1/trim.txt"', "trim-stamp", GOCACHE]


class GoContainer:
    """A running container of the cache image, removed on exit."""

    def __init__(
        self,
        engine: EngineAPI,
        image: str,
        project_dir: Path,
        volume: str,
        output: Callable[[str], None],
        *,
        owned: Sequence[Path] = (),
        environment: Mapping[str, str] | None = None,
    ) -> None:
        self.engine = engine
        # None: GO_ENV with dlc.go's defaults (a module without settings)
        self.environment = dict(environment or {**GO_ENV, **GoBuild().env(vendored=False)})
        self.image = image
        self.project_dir = project_dir
        self.volume = volume
        self.output = output
        # Outputs the Go steps write that belong to the tool (binary, coverage profile): with a
        # remote engine, the copy an earlier run left here is not an edit made here.
        self.owned = tuple(owned)
        # A remote engine cannot bind-mount this machine's files: copy in, copy back.
        self.remote = not engine_is_local()
        # Your uid, so what Go writes is yours; root where that root is you (rootless Podman)
        self.user = engine.step_user()
        self.container_id: str | None = None
        self.sent: dict[str, str] = {}  # remote engine: what copy_in sent, path -> sha256

    def __enter__(self) -> GoContainer:
        created = self.engine.ensure_volume(self.volume, {LABEL: "gocache"})
        binds = {self.volume: GOCACHE}
        if not self.remote:
            binds[str(self.project_dir)] = WORKDIR
        self.container_id = self.engine.start_container(
            self.image,
            command=["tail", "-f", "/dev/null"],
            workdir=WORKDIR,
            environment=self.environment,
            binds=binds,
            labels={LABEL: "go-step"},
        )
        try:
            if self.remote:
                from dlc_tasks.clients.workspace import copy_in  # noqa: PLC0415

                self.sent = copy_in(
                    self.engine, self.container_id, self.project_dir, WORKDIR, self.owned
                )
            if created:
                # Docker seeded the new volume from the cache image's warm GOCACHE, whose files
                # carry the image's build time. Go trims entries unused for 5 days once a day,
                # going by trim.txt: stamping it now keeps an old cache image's entries alive
                # for a day, and every entry used meanwhile gets a fresh mtime from Go itself.
                self._exec(TRIM_STAMP, user="0:0", quiet=True)
                if self.user != "0:0":
                    self._exec(["chown", "-R", self.user, GOCACHE], user="0:0", quiet=True)
        except BaseException:
            self._remove(failing=True)
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
        failing = exc_type is not None
        try:
            if self.remote and not failing:
                from dlc_tasks.clients.workspace import copy_out  # noqa: PLC0415

                changed = copy_out(
                    self.engine, self.container_id, self.project_dir, WORKDIR, self.sent
                )
                self.output(f"copied back from the engine: {len(changed)} changed file(s)")
        except BaseException:
            failing = True
            raise
        finally:
            self._remove(failing=failing)

    def _remove(self, *, failing: bool) -> None:
        """Remove the container. When a step already failed (the engine vanished, say), a
        failed removal is said on a line of its own and the step's error is the one raised."""
        container_id, self.container_id = self.container_id, None
        if container_id is None:
            return
        try:
            self.engine.remove_container(container_id)
        except EngineError as err:
            if not failing:
                raise
            self.output(f"could not remove container {short(container_id)}: {err.one_line()}")

    def _exec(
        self, argv: Sequence[str], *, user: str | None = None, quiet: bool = False
    ) -> ExecResult:
        assert self.container_id is not None, "use GoContainer as a context manager"  # noqa: S101
        return self.engine.exec(
            self.container_id,
            argv,
            workdir=WORKDIR,
            user=user or self.user,
            output=None if quiet else self.output,
        )

    def run(
        self, argv: Sequence[str], *, what: str | None = None, quiet: bool = False
    ) -> ExecResult:
        """Run one command; raise :class:`GoStepFailed` naming it (and any failed tests).

        ``quiet`` keeps the command's output for the caller instead of printing it.
        """
        self.output(Command(f"$ {' '.join(argv)}"))
        return _checked(self._exec(argv, quiet=quiet), what)

    def run_together(self, commands: Sequence[tuple[str, Sequence[str]]]) -> list[ExecResult]:
        """Run independent commands at once (one ``exec`` each, so both cores work).

        The commands are printed when they start; each one's output is printed as one
        block when all have ended, in the order given, so lines never interleave; the
        first failure (in that order) is raised after all ended.
        """
        for _, argv in commands:
            self.output(Command(f"$ {' '.join(argv)}"))
        results: list[ExecResult | BaseException | None] = [None] * len(commands)

        def work(index: int, argv: Sequence[str]) -> None:
            try:
                results[index] = self._exec(argv, quiet=True)
            except BaseException as err:  # handed to the caller's thread below
                results[index] = err

        threads = [
            threading.Thread(target=work, args=(i, argv), daemon=True)
            for i, (_, argv) in enumerate(commands)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        done: list[ExecResult] = []
        for result in results:
            if isinstance(result, BaseException):
                raise result
            assert result is not None  # noqa: S101
            for line in result.lines:
                self.output(line)
            done.append(result)
        for (what, _), result in zip(commands, done, strict=True):
            _checked(result, what)
        return done


def _checked(result: ExecResult, what: str | None) -> ExecResult:
    if result.exit_code != 0:
        failed = failed_tests(result.lines)
        detail = f": {', '.join(failed)}" if failed else ""
        raise GoStepFailed(
            f"{what or ' '.join(result.argv)} failed with exit code {result.exit_code}{detail}",
            lines=list(result.lines),
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


def check_commands(coverage_file: str) -> list[tuple[str, list[str]]]:
    """vet and test with coverage, as (name, argv) pairs: independent, so they run together.

    No separate ``go build ./...``: vet type-checks every package and test compiles every
    package it tests, so a build of its own would only compile the same code a third time.
    """
    return [
        ("go vet", ["go", "vet", "./..."]),
        (
            "go test",
            ["go", "test", "-covermode=atomic", f"-coverprofile={coverage_file}", "./..."],
        ),
    ]


def coverage_command(coverage_file: str) -> list[str]:
    """``go tool cover -func`` over the profile ``go test`` wrote."""
    return ["go", "tool", "cover", f"-func={coverage_file}"]


def binary_command(main_package: str, out: str, ldflags: str = "-s -w") -> list[str]:
    """``go build`` of one binary with its ``-ldflags`` (:meth:`GoBuild.link_flags`)."""
    return ["go", "build", f"-ldflags={ldflags}", "-o", out, main_package]
