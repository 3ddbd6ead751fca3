"""Everything one ``inv`` process shares across its tasks, made lazily and once.

Invoke hands every task its own context, so the engine connection, the
registry client, the registry address (which may mean starting the local
registry) and the dependency hash are memoised here, keyed by the settings,
to keep the chain at one engine handshake and one registry start per run.
"""

from __future__ import annotations

import functools
import subprocess
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from dlc_tasks.config import Settings, settings
from dlc_tasks.errors import ToolError
from dlc_tasks.model import depshash
from dlc_tasks.model.refs import check_tag
from dlc_tasks.model.state import State
from dlc_tasks.model.versionfile import Version, read_version
from dlc_tasks.reporting.console import Console, console

if TYPE_CHECKING:
    from dlc_tasks.clients.credentials import Credentials
    from dlc_tasks.clients.engine import Engine
    from dlc_tasks.clients.registry import RegistryClient
    from dlc_tasks.model.refs import Repository


@dataclass
class Runtime:
    """The settings plus lazily made engine, registry client and derived values."""

    settings: Settings
    out: Console = field(default_factory=console)
    _engine: Engine | None = None
    _registry: str | None = None
    _client: RegistryClient | None = None
    _deps: depshash.DepsHash | None = None

    @property
    def state(self) -> State:
        """The stamps in ``project_dir/.dlc``."""
        return State(self.settings.state_dir)

    def engine(self) -> Engine:
        """The Docker engine, connected on first use."""
        if self._engine is None:
            from dlc_tasks.clients.engine import Engine  # noqa: PLC0415

            self._engine = Engine.connect()
            if self.settings.ca_file and not self.settings.dry_run:
                from dlc_tasks.clients.trust import install_ca  # noqa: PLC0415

                install_ca(self.registry(), self.settings.ca_file, self.out.line)
        return self._engine

    def registry(self) -> str:
        """The registry's address; the local registry is started when none is configured."""
        if self._registry is None:
            s = self.settings
            if s.registry:
                self._registry = s.registry
            else:
                from dlc_tasks.clients.localregistry import ensure_running  # noqa: PLC0415

                address, started = ensure_running(
                    s.local_registry_host, s.local_registry_port, s.local_registry_data_dir
                )
                self.out.line(
                    f"no registry configured: {'started' if started else 'using'} "
                    f"the local registry at {address}"
                )
                self._registry = address
        return self._registry

    def credentials(self) -> Credentials | None:
        """Credentials for the registry, from the environment or Docker's config."""
        from dlc_tasks.clients.credentials import lookup  # noqa: PLC0415

        return lookup(self.registry())

    def client(self) -> RegistryClient:
        """The registry HTTP client."""
        if self._client is None:
            from dlc_tasks.clients.registry import RegistryClient  # noqa: PLC0415

            def say(attempt: int, fault: Exception, delay: float) -> None:
                self.out.line(f"    registry: retry {attempt} in {delay:.1f}s ({fault})")

            self._client = RegistryClient(
                self.registry(),
                credentials=self.credentials(),
                ca_file=self.settings.ca_file,
                retries=self.settings.retries,
                on_retry=say,
            )
        return self._client

    def _registry_op(self, op: str, repository: str, reference: str) -> Any:
        engine = self.engine()
        try:
            return getattr(engine, op)(
                repository,
                reference,
                credentials=self.credentials(),
                retries=self.settings.retries,
                output=self.out.line,
                progress=self.out.layer,
            )
        finally:
            self.out.end_layers()

    def push(self, repository: str, tag: str) -> str:
        """Push with the run's credentials, retries and progress display; return the digest."""
        return str(self._registry_op("push", repository, tag))

    def pull(self, repository: str, reference: str) -> None:
        """Pull by tag or digest with the run's credentials, retries and progress display."""
        self._registry_op("pull", repository, reference)

    def deps(self) -> depshash.DepsHash:
        """The dependency hash of the current inputs."""
        if self._deps is None:
            s = self.settings
            self._deps = depshash.compute(
                s.project_dir, s.dockerfile_build, s.cache_build_args, s.goproxy_dir
            )
        return self._deps

    def cache_repository(self) -> Repository:
        """``registry/org/repo-build-cache``."""
        return self.settings.cache_repository(self.registry())

    def prod_repository(self) -> Repository:
        """``registry/org/repo``."""
        return self.settings.prod_repository(self.registry())

    def version(self) -> Version:
        """The parsed VERSION file."""
        return read_version(self.settings.version_file)

    def revision(self) -> str:
        """The git commit the images are tagged with (``dlc.revision`` overrides git)."""
        if self.settings.revision:
            return check_tag(self.settings.revision)
        return _git_head(str(self.settings.project_dir))


@functools.cache
def _git_head(cwd: str) -> str:
    from plumbum import local  # noqa: PLC0415
    from plumbum.commands.processes import ProcessExecutionError  # noqa: PLC0415

    try:
        with local.cwd(cwd):
            sha = str(local["git"]("rev-parse", "HEAD")).strip()
    except (ProcessExecutionError, subprocess.SubprocessError, OSError) as err:
        raise ToolError(
            f"cannot read the git commit in {cwd}: {str(err).strip().splitlines()[-1]}",
            hint="run inside a git repository with a commit, or set dlc.revision",
        ) from None
    return check_tag(sha)


_RUNTIMES: list[Runtime] = []


def runtime(ctx: Any, **overrides: Any) -> Runtime:
    """The shared :class:`Runtime` for this context's settings (and flags)."""
    if "--dry-run" in sys.argv[1:] or ctx.config.get("run", {}).get("dry"):
        overrides["dry_run"] = True  # one dry task makes the whole invocation (its pre tasks) dry
    wanted = settings(ctx, **overrides)
    for existing in _RUNTIMES:
        if existing.settings == wanted:
            return existing
    made = Runtime(wanted)
    _RUNTIMES.append(made)
    return made
