"""One ``inv`` invocation: its settings, facts, console, clients and what its steps did.

The executor (:mod:`dlc_tasks.cli.executor`) makes exactly one :class:`Run` per
invocation, with the command-wide flags already applied to the settings, and
hands it to every task; nothing about a run lives in a module-level variable.
What the run reads from the world is its :class:`~dlc_tasks.facts.Facts`, computed
once. The engine and the registry client are made on first use and kept for the run;
making them changes nothing. What changes the machine before the work (starting the
local registry, installing ``dlc.ca_file`` into the engine's ``certs.d``) happens in
:meth:`Run.prepare`, which the runner calls once before the first step of a real run,
never in a dry run, ``doctor`` or ``hash --explain``. The two seams to the outside
world are constructor arguments (``make_engine``, ``make_registry_client``), so unit
tests pass fakes. The run ends in :meth:`Run.finish`: summary table, ``report.json``,
history, CI outputs, whatever happened.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from invoke.config import Config

from dlc_tasks.config import Settings, settings
from dlc_tasks.errors import (
    ConfigError,
    DirtyTree,
    NoRepository,
    NotFoundError,
    RegistryNotRunning,
    ReportWriteFailed,
)
from dlc_tasks.facts import Facts
from dlc_tasks.model.oci.platform import Platform
from dlc_tasks.model.state import State
from dlc_tasks.model.status import Status
from dlc_tasks.reporting.console import Console, Outcome
from dlc_tasks.reporting.runlogs import RunLogs

if TYPE_CHECKING:
    from dlc_tasks.clients.credentials import Credentials
    from dlc_tasks.clients.registry import RegistryClient
    from dlc_tasks.clients.seams import EngineAPI, RegistryAPI


def _connect_engine() -> EngineAPI:
    from dlc_tasks.clients.engine import Engine  # noqa: PLC0415  (kept out of `inv --list`)

    return Engine.connect()


def _registry_client(registry: str, **kwargs: Any) -> RegistryAPI:
    from dlc_tasks.clients.registry import RegistryClient  # noqa: PLC0415

    return RegistryClient(registry, **kwargs)


__all__ = [
    "DirtyTree",
    "EmptyRegistry",
    "NoRepository",
    "RegistryNotRunning",
    "Run",
    "RunHolder",
]


@dataclass
class Run:
    """Everything one invocation shares across its tasks, made lazily and once."""

    settings: Settings
    out: Console = field(default_factory=Console)
    make_engine: Callable[[], EngineAPI] = _connect_engine
    make_registry_client: Callable[..., RegistryAPI] = _registry_client
    # `--force`: rebuild the cache image even when the registry has it.
    force: bool = False
    outcomes: list[Outcome] = field(default_factory=list)
    # Dry run: the steps the plan says would run, so later steps know their inputs change.
    would_run: set[str] = field(default_factory=set)
    facts: Facts = field(init=False)
    # True when nothing may change: no build, push, container or written file.
    dry_run: bool = field(init=False)
    # The stamps in ``project_dir/.dlc``.
    state: State = field(init=False)
    _engine: EngineAPI | None = None
    _registry_up: bool | None = None
    _prepared: bool = False
    _client: RegistryAPI | None = None
    _credentials: tuple[Credentials | None] | None = None
    _logs: RunLogs | None = None
    _engine_platform: Platform | None = None
    # The tasks of this invocation, in order (the executor says): `prod` loads its image into
    # the engine only when no `push` follows it.
    tasks: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        self.facts = Facts(self.settings)
        self.dry_run = self.settings.dry_run
        self.state = State(self.settings.state_dir)

    # -- the one place a run changes the machine before its work ----------------------------

    def prepare(self) -> None:
        """Once per real run, before the first step: start the local registry when no registry
        is configured, and make the engine trust ``dlc.ca_file`` for the registry.

        Never in a dry run (nothing may change), nor in ``doctor`` or ``hash --explain``,
        which do not call it.
        """
        if self._prepared or self.dry_run:
            return
        self._prepared = True
        s = self.settings
        if not s.registry:
            from dlc_tasks.clients import localregistry  # noqa: PLC0415

            address, started = localregistry.ensure_running(
                s.local_registry_host, s.local_registry_port, s.local_registry_data_dir
            )
            self.out.line(
                f"no registry configured: {'started' if started else 'using'} "
                f"the local registry at {address}"
            )
            self._registry_up = True
        if s.ca_file:
            from dlc_tasks.clients.trust import certs_dirs, install_ca  # noqa: PLC0415

            engine = self.engine()
            certs_d = certs_dirs(engine.identity())[0]
            install_ca(self.facts.registry(), s.ca_file, self.out.line, certs_d)

    # -- the outside world (making a client changes nothing) --------------------------------

    def engine(self) -> EngineAPI:
        """The Docker engine, connected on first use."""
        if self._engine is None:
            self._engine = self.make_engine()
            self._engine.set_timeouts(self.settings.timeouts)
            self._engine.say = self.out.line
        return self._engine

    def engine_platform(self) -> Platform:
        """The engine's own platform (its ``Os``/``Arch``), asked once."""
        if self._engine_platform is None:
            found = self.engine().version()
            os_name, arch = str(found.get("Os") or "linux"), str(found.get("Arch") or "amd64")
            self._engine_platform = Platform.parse(f"{os_name}/{arch}")
        return self._engine_platform

    def platforms(self) -> list[Platform]:
        """The platforms to publish: ``dlc.platforms``, else the engine's own. ``dlc.go.cgo``
        with another platform is refused (cgo cannot cross-compile here)."""
        s = self.settings
        if not s.platforms:
            return [self.engine_platform()]
        if s.go.cgo and not s.platforms[0].matches(self.engine_platform()):
            raise ConfigError(
                f"dlc.go.cgo cannot build for {s.platforms[0]} on a "
                f"{self.engine_platform()} engine",
                hint="set dlc.go.cgo: false (Go cross-compiles without cgo)",
            )
        return list(s.platforms)

    def registry(self) -> str:
        """The registry's address (a fact: nothing is started, see :meth:`prepare`)."""
        return self.facts.registry()

    def registry_up(self) -> bool:
        """Whether the registry can be asked: a configured one is assumed to answer; the local
        one when it does (something else on its port is an error: the run would refuse it)."""
        if self._registry_up is None:
            s = self.settings
            if s.registry:
                self._registry_up = True
            else:
                from dlc_tasks.clients import localregistry  # noqa: PLC0415

                self._registry_up = localregistry.running(
                    s.local_registry_host, s.local_registry_port, s.local_registry_data_dir
                )
        return self._registry_up

    def credentials(self) -> Credentials | None:
        """Credentials for the registry, resolved once per run."""
        if self._credentials is None:
            from dlc_tasks.clients.credentials import lookup  # noqa: PLC0415

            deadline = self.settings.timeouts.helper
            self._credentials = (lookup(self.registry(), helper_deadline=deadline),)
        return self._credentials[0]

    def client(self) -> RegistryAPI:
        """The registry HTTP client.

        The local registry not running: a dry run plans against an empty registry (and
        says the run would start it); anything else is :class:`RegistryNotRunning`, since
        only :meth:`prepare` starts it.
        """
        if self._client is None:
            registry = self.registry()
            if not self.registry_up():
                if not self.dry_run:
                    raise RegistryNotRunning(
                        f"no registry configured and the local registry at {registry} "
                        "is not running"
                    )
                self.out.line(f"no registry configured: would start one at {registry}")
                self._client = EmptyRegistry()
                return self._client
            self._client = self.make_registry_client(
                registry,
                credentials=self.credentials(),
                ca_file=self.settings.ca_file,
                retries=self.settings.retries,
                say=self.out.line,
            )
        return self._client

    def writer(self, host: str | None = None) -> RegistryClient:
        """The registry client for blobs and manifests (steps/assemble.py, publish.py), which
        speak HTTP through it (clients/registry/blobs.py, manifests.py), as its class: the
        run's one client, or one for another ``host`` (a base image's registry, anonymous).
        Only real runs write (a dry run's empty registry is never asked to)."""
        if host is None or host == self.registry():
            return cast("RegistryClient", self.client())
        s = self.settings
        return cast(
            "RegistryClient",
            self.make_registry_client(
                host, ca_file=s.ca_file, retries=s.retries, say=self.out.line
            ),
        )

    def push(self, repository: str, tag: str) -> str:
        """Push with the run's credentials, retries and progress display; return the digest."""
        try:
            return self.engine().push(
                repository,
                tag,
                credentials=self.credentials(),
                retries=self.settings.retries,
                output=self.out.line,
                progress=self.out.layer,
            )
        finally:
            self.out.end_layers()

    def build(self, context: Any, *, log: str, tag: str, **options: Any) -> str:
        """Build and tag an image with the run's build display; return its id.

        ``options`` are :meth:`Engine.build`'s (``buildargs``, ``dockerfile_text``…). The
        engine's whole log goes to ``.dlc/logs/RUN/LOG.log`` (the last 20 runs' are kept).
        """
        if self._logs is None:
            self._logs = RunLogs(self.settings.state_dir / "logs")
        with self.out.build(self._logs.path(log)) as view:
            return self.engine().build(context, tag=tag, output=view.feed, **options)

    def pull(self, repository: str, reference: str) -> None:
        """Pull by tag or digest with the run's credentials, retries and progress display."""
        try:
            self.engine().pull(
                repository,
                reference,
                credentials=self.credentials(),
                retries=self.settings.retries,
                output=self.out.line,
                progress=self.out.layer,
            )
        finally:
            self.out.end_layers()

    # -- the end -----------------------------------------------------------------------------

    def record(self, outcome: Outcome) -> None:
        """A step's outcome, for the summary and the report."""
        self.outcomes.append(outcome)
        self.out.status(outcome)

    def finish(self, failed: str | None = None, interrupted: bool = False) -> None:
        """End the run: the summary table, then (real runs) report.json, history, CI outputs.

        Called from the executor's ``finally``, after success, failure or interruption alike;
        ``failed`` names the task that did not finish. When no step recorded that failure
        (it happened in a task around the steps), it is recorded here, so the report never
        calls a failed invocation a success. A report that cannot be written is an error of
        its own (the exit code says so).
        """
        if failed and self.outcomes and all(o.status.ok for o in self.outcomes):
            status = Status.INTERRUPTED if interrupted else Status.FAILED
            self.outcomes.append(Outcome(failed, status, 0.0, f"{status} outside the steps"))
        self.out.summary(self.outcomes)
        if not self.outcomes or self.dry_run:
            return
        from dlc_tasks.reporting import runreport  # noqa: PLC0415

        try:
            written = runreport.write(self, self.outcomes)
        except OSError as err:
            raise ReportWriteFailed(
                f"cannot write {self.settings.state_dir / 'report.json'}: {err.strerror or err}"
            ) from err
        self.out.line(f"report: {self.settings.state_dir / 'report.json'} (ok={written['ok']})")


class EmptyRegistry:
    """A dry run's view of a local registry that is not running yet: it holds nothing
    (a :class:`~dlc_tasks.clients.seams.RegistryAPI`)."""

    auth_scheme = "none"

    def ping(self) -> None:
        """Nothing to reach yet: the run would start it."""

    def granted(self, scope: str) -> list[str] | None:
        """No bearer auth: nothing granted to read."""
        return None

    def manifest_digest(self, repository: str, reference: str) -> str | None:
        """Nothing is there."""
        return None

    def image_config(self, repository: str, reference: str) -> dict[str, Any]:
        """Nothing is there: no tag names an image."""
        raise NotFoundError(f"{repository}:{reference} is not in the registry (not started)")

    def tags(self, repository: str) -> list[str]:
        """No tags."""
        return []

    def delete_manifest(self, repository: str, digest: str) -> None:
        """Nothing to delete (a dry run deletes nothing anyway)."""


@dataclass
class RunHolder:
    """Makes the invocation's :class:`Run` on first use (a task such as ``doctor`` may want
    to report a configuration error itself rather than fail before it starts)."""

    config: Config
    options: dict[str, Any]
    make_run: Callable[[Settings, Console, dict[str, Any]], Run]
    out: Console = field(default_factory=Console)
    run: Run | None = None
    tasks: tuple[str, ...] = ()  # the invocation's tasks, in order

    def get(self) -> Run:
        """The run, made from the merged ``dlc`` configuration and the command-wide flags."""
        if self.run is None:
            self.run = self.make_run(self.settings(), self.out, self.options)
            self.run.tasks = self.tasks
        return self.run

    def settings(self) -> Settings:
        """The validated settings (raises :class:`ConfigError` on bad values)."""
        return settings(self.config, **self.options)
