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

A client of the engine, not a step: it knows an engine, an image, a folder and a volume,
never a run (:mod:`dlc_tasks.steps.gostep` makes one for the run's cache image).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from dlc_tasks._files import short
from dlc_tasks.clients.engine import ExecResult, engine_is_local
from dlc_tasks.errors import EngineError, GoStepFailed
from dlc_tasks.model.gobuild import GoBuild
from dlc_tasks.model.gocommands import failed_tests

if TYPE_CHECKING:
    from dlc_tasks.clients.seams import EngineAPI

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


def cache_volume_name(repo: str, deps_hash: str) -> str:
    """``dlc-gocache-REPO-HASH16``: one Go build cache per dependency hash."""
    return f"dlc-gocache-{repo}-{short(deps_hash, 16)}"


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
        announce: Callable[[str], None] | None = None,
    ) -> None:
        self.engine = engine
        # None: GO_ENV with dlc.go's defaults (a module without settings)
        self.environment = dict(environment or {**GO_ENV, **GoBuild().env(vendored=False)})
        self.image = image
        self.project_dir = project_dir
        self.volume = volume
        self.output = output
        # How a command is announced as it starts (the console shows it on a terminal only)
        self.announce = announce or output
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
        self.announce(f"$ {' '.join(argv)}")
        return _checked(self._exec(argv, quiet=quiet), what)

    def run_together(self, commands: Sequence[tuple[str, Sequence[str]]]) -> list[ExecResult]:
        """Run independent commands at once (one ``exec`` each, so both cores work).

        The commands are printed when they start; each one's output is printed as one
        block when all have ended, in the order given, so lines never interleave; the
        first failure (in that order) is raised after all ended.
        """
        for _, argv in commands:
            self.announce(f"$ {' '.join(argv)}")
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
