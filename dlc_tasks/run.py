"""One ``inv`` invocation: its settings, its console, its clients and what its steps did.

The executor (:mod:`dlc_tasks.cli.executor`) makes exactly one :class:`Run` per
invocation, with the command-wide flags already applied to the settings, and
hands it to every task; nothing about a run lives in a module-level variable.
The engine, the registry address (which may mean starting the local
registry), the registry client and the dependency hash are made on first use
and kept for the run. The two seams to the outside world are constructor
arguments (``make_engine``, ``make_registry_client``), so unit tests pass fakes.
The run ends in :meth:`Run.finish`: summary table, ``report.json``, history, CI
outputs, whatever happened.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from invoke.config import Config

from dlc_tasks._files import file_sha256
from dlc_tasks.config import Settings, settings
from dlc_tasks.errors import DlcError
from dlc_tasks.model import depshash, sourcetree
from dlc_tasks.model.dirtytree import DirtyTree, TreeState, judge
from dlc_tasks.model.refs import check_tag
from dlc_tasks.model.stamps import GenerateStamp
from dlc_tasks.model.state import State
from dlc_tasks.model.status import Status
from dlc_tasks.model.versionfile import Version, read_version
from dlc_tasks.reporting.console import Console, Outcome
from dlc_tasks.reporting.runlogs import RunLogs

if TYPE_CHECKING:
    from dlc_tasks.clients.credentials import Credentials
    from dlc_tasks.clients.engine import Engine
    from dlc_tasks.clients.registry import RegistryClient
    from dlc_tasks.model.refs import Repository


def _connect_engine() -> Engine:
    from dlc_tasks.clients.engine import Engine  # noqa: PLC0415  (kept out of `inv --list`)

    return Engine.connect()


def _registry_client(registry: str, **kwargs: Any) -> RegistryClient:
    from dlc_tasks.clients.registry import RegistryClient  # noqa: PLC0415

    return RegistryClient(registry, **kwargs)


__all__ = ["DirtyTree", "EmptyRegistry", "NoRepository", "Run", "RunHolder"]


class NoRepository(DlcError):
    """The project is in no git repository and ``dlc.revision`` is not set."""

    exit_code = 2
    hint = "set dlc.revision to the revision to tag (outside git no dirty check is possible)"


class ReportWriteFailed(DlcError):
    """The run's report or history could not be written."""

    hint = "check that project_dir/.dlc is writable and the disk is not full"


@dataclass
class Run:
    """Everything one invocation shares across its tasks, made lazily and once."""

    settings: Settings
    out: Console = field(default_factory=Console)
    make_engine: Callable[[], Engine] = _connect_engine
    make_registry_client: Callable[..., RegistryClient] = _registry_client
    # `--force`: rebuild the cache image even when the registry has it.
    force: bool = False
    outcomes: list[Outcome] = field(default_factory=list)
    # What each step produced this run, or (dry run) observed: e.g. the cache image's digest.
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Dry run: the steps the plan says would run, so later steps know their inputs change.
    would_run: set[str] = field(default_factory=set)
    _engine: Engine | None = None
    _registry: str | None = None
    _registry_started: bool = True
    _client: RegistryClient | None = None
    _credentials: tuple[Credentials | None] | None = None
    _deps: depshash.DepsHash | None = None
    _tree: TreeState | None = None
    _logs: RunLogs | None = None

    @property
    def dry_run(self) -> bool:
        """True when nothing may change: no build, push, container or written file."""
        return self.settings.dry_run

    @property
    def state(self) -> State:
        """The stamps in ``project_dir/.dlc``."""
        return State(self.settings.state_dir)

    # -- the outside world -------------------------------------------------------------------

    def engine(self) -> Engine:
        """The Docker engine, connected on first use (and told to trust ``ca_file``)."""
        if self._engine is None:
            self._engine = self.make_engine()
            self._engine.set_timeouts(self.settings.timeouts)
            self._engine.say = self.out.line
            if self.settings.ca_file and not self.dry_run:
                from dlc_tasks.clients.trust import certs_dirs, install_ca  # noqa: PLC0415

                certs_d = certs_dirs(self._engine.identity())[0]
                install_ca(self.registry(), self.settings.ca_file, self.out.line, certs_d)
        return self._engine

    def registry(self) -> str:
        """The registry's address; the local registry is started when none is configured.

        A dry run starts nothing: when the local registry does not answer it says that
        the run would start it, and plans as if the registry were empty.
        """
        if self._registry is None:
            s = self.settings
            if s.registry:
                self._registry = s.registry
            else:
                from dlc_tasks.clients import localregistry  # noqa: PLC0415

                address = s.registry_or_local()
                if self.dry_run:
                    self._registry_started = localregistry.running(
                        s.local_registry_host, s.local_registry_port, s.local_registry_data_dir
                    )
                    if not self._registry_started:
                        self.out.line(f"no registry configured: would start one at {address}")
                    self._registry = address
                else:
                    address, started = localregistry.ensure_running(
                        s.local_registry_host, s.local_registry_port, s.local_registry_data_dir
                    )
                    self.out.line(
                        f"no registry configured: {'started' if started else 'using'} "
                        f"the local registry at {address}"
                    )
                    self._registry = address
        return self._registry

    def credentials(self) -> Credentials | None:
        """Credentials for the registry, resolved once per run."""
        if self._credentials is None:
            from dlc_tasks.clients.credentials import lookup  # noqa: PLC0415

            deadline = self.settings.timeouts.helper
            self._credentials = (lookup(self.registry(), helper_deadline=deadline),)
        return self._credentials[0]

    def client(self) -> RegistryClient:
        """The registry HTTP client (in a dry run against a registry not yet started: empty)."""
        if self._client is None:
            registry = self.registry()
            if not self._registry_started:
                self._client = EmptyRegistry()  # type: ignore[assignment]
                return self._client  # type: ignore[return-value]

            def say(attempt: int, fault: Exception, delay: float) -> None:
                self.out.line(f"    registry: retry {attempt} in {delay:.1f}s ({fault})")

            self._client = self.make_registry_client(
                registry,
                credentials=self.credentials(),
                ca_file=self.settings.ca_file,
                retries=self.settings.retries,
                on_retry=say,
            )
        return self._client

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

    # -- derived values ----------------------------------------------------------------------

    def deps(self) -> depshash.DepsHash:
        """The dependency hash of the current inputs."""
        if self._deps is None:
            s = self.settings
            self._deps = depshash.compute(
                s.project_dir, s.dockerfile_build, s.cache_build_args, s.goproxy_dir
            )
        return self._deps

    def source_digest(self) -> str:
        """The digest of the Go source tree, minus what the chain writes itself.

        Not memoised: ``generate`` changes the tree between two reads.
        """
        return sourcetree.digest(self.settings.project_dir, exclude=self.not_source())

    def source_fingerprints(self) -> dict[str, tuple[str, int]]:
        """Each source file's (sha256, mtime), as :meth:`source_digest` covers them."""
        return sourcetree.fingerprints(self.settings.project_dir, exclude=self.not_source())

    def not_source(self) -> list[Path]:
        """The tool's own outputs in the tree, which no source digest covers."""
        s = self.settings
        return [s.hash_file, s.coverage_file, s.dockerfile_prod]

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
        """The revision the images are tagged and labelled with (see :meth:`tree`)."""
        return self.tree().revision

    def tree(self) -> TreeState:
        """The revision and the uncommitted changes the build sees, judged once per run by
        the dirty-tree rule (:mod:`dlc_tasks.model.dirtytree`).

        The revision is ``dlc.revision`` when set, else git's commit; the git check runs
        wherever there is a git repository, whatever names the revision. Outside one,
        ``dlc.revision`` is required and no dirty check is possible.
        """
        if self._tree is None:
            from dlc_tasks.clients import git  # noqa: PLC0415

            s = self.settings
            within = s.timeouts.git
            if git.toplevel(s.project_dir, deadline=within) is None:
                if not s.revision:
                    raise NoRepository(f"{s.project_dir} is not in a git repository")
                revision, changed = check_tag(s.revision), []
            else:
                revision = check_tag(s.revision) if s.revision else ""
                revision = revision or git.head(s.project_dir, deadline=within)
                changed = git.uncommitted(
                    s.project_dir,
                    self.build_inputs(),
                    generated=self._generated_outputs(),
                    deadline=within,
                )
            under_ci = os.environ.get("CI", "").lower() in ("1", "true", "yes")
            self._tree = judge(revision, changed, under_ci=under_ci, allow_dirty=s.allow_dirty)
        return self._tree

    def build_inputs(self) -> list[Path]:
        """Every file the build reads: the source digest's files and the configured inputs
        inside the project (``prod_files``, VERSION, the Dockerfiles), unresolved, so that the
        dirty check judges a link and what it leads to."""
        s = self.settings
        configured = [s.version_file, s.dockerfile_build, s.dockerfile_prod_template]
        configured += [s.project_dir / name for t in s.all_images() for name in t.prod_files]
        inside = [p for p in configured if p.is_relative_to(s.project_dir) and p.is_file()]
        found = sourcetree.iter_files(s.project_dir, exclude=self.not_source())
        return list(dict.fromkeys([*found, *inside]))

    def _generated_outputs(self) -> set[str]:
        """The files the last generate wrote that are still as it wrote them."""
        stamp = self.state.load("generate", GenerateStamp)
        if stamp is None:
            return set()
        root = self.settings.project_dir
        return {
            rel
            for rel, sha in stamp.outputs.items()
            if (root / rel).is_file() and file_sha256(root / rel) == sha
        }

    @property
    def dirty(self) -> bool:
        """True when the images would be built from source that no commit holds."""
        return self.tree().dirty

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
            ) from None
        self.out.line(f"report: {self.settings.state_dir / 'report.json'} (ok={written['ok']})")


class EmptyRegistry:
    """A dry run's view of a local registry that is not running yet: it holds nothing."""

    def manifest_digest(self, repository: str, reference: str) -> str | None:
        """Nothing is there."""
        return None

    def tags(self, repository: str) -> list[str]:
        """No tags."""
        return []


@dataclass
class RunHolder:
    """Makes the invocation's :class:`Run` on first use (a task such as ``doctor`` may want
    to report a configuration error itself rather than fail before it starts)."""

    config: Config
    options: dict[str, Any]
    make_run: Callable[[Settings, Console, dict[str, Any]], Run]
    out: Console = field(default_factory=Console)
    run: Run | None = None

    def get(self) -> Run:
        """The run, made from the merged ``dlc`` configuration and the command-wide flags."""
        if self.run is None:
            self.run = self.make_run(self.settings(), self.out, self.options)
        return self.run

    def settings(self) -> Settings:
        """The validated settings (raises :class:`ConfigError` on bad values)."""
        return settings(self.config, **{k: v for k, v in self.options.items() if k != "force"})
