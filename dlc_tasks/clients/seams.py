"""The two seams to the outside world, declared: what a run asks of an engine and of a registry.

:class:`~dlc_tasks.run.Run` is handed its engine and its registry client by two factories
(``make_engine``, ``make_registry_client``); everything above it (the steps, the checks) sees
them through these Protocols only. The real clients (:class:`~dlc_tasks.clients.engine.Engine`,
:class:`~dlc_tasks.clients.registry.RegistryClient`) implement them, and so do the fakes the
unit tests pass (``tests/support/fakes.py``) and a dry run's empty registry
(:class:`~dlc_tasks.run.EmptyRegistry`); mypy checks each against them, so a fake cannot drift
from the client it stands for.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import IO, TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from dlc_tasks.clients.credentials import Credentials
    from dlc_tasks.clients.engine import ExecResult
    from dlc_tasks.clients.podman import EngineIdentity
    from dlc_tasks.config import Retries, Timeouts

Progress = Callable[[str, str, int | None, int | None], None]


class EngineAPI(Protocol):
    """A container engine (Docker's or Podman's service): images, pushes and pulls, containers.

    Faults are :class:`~dlc_tasks.errors.DlcError` subclasses: ``EngineError`` when the engine
    fails, ``BuildError``, ``PushError``/``PullError`` and ``RegistryAuthError`` for what the
    registry answered through it, ``Inactive`` past ``dlc.timeouts.inactivity``.
    """

    say: Callable[[str], None]  # where the engine says what it adapted to

    def set_timeouts(self, timeouts: Timeouts) -> None:
        """How long a read from the engine, and a credential helper, may take."""

    def version(self) -> dict[str, Any]:
        """The engine's version document."""
        ...

    def identity(self) -> EngineIdentity:
        """Which engine this is (Docker or Podman, its version)."""
        ...

    def step_user(self) -> str:
        """The ``UID:GID`` the Go steps run as in a container."""
        ...

    def build(
        self,
        context: Any,
        *,
        tag: str,
        buildargs: Mapping[str, str],
        labels: Mapping[str, str] | None = None,
        output: Callable[[str], None],
        dockerfile: str = "Dockerfile",
        custom_context: bool = True,
        dockerfile_text: str | None = None,
        cache_from: Sequence[str] = (),
    ) -> str:
        """Build and tag an image; its id."""
        ...

    def image_id(self, ref: str) -> str | None:
        """The id of a local image, or None."""
        ...

    def inspect(self, ref: str) -> dict[str, Any]:
        """A local image's inspect document."""
        ...

    def tag(self, image: str, repository: str, tag: str) -> None:
        """``docker tag``."""

    def has_repo_digest(self, repository: str, digest: str) -> bool:
        """True when a local image carries ``repository@digest``."""
        ...

    def push(
        self,
        repository: str,
        tag: str,
        *,
        credentials: Credentials | None,
        retries: Retries,
        output: Callable[[str], None],
        progress: Progress | None = None,
    ) -> str:
        """Push ``repository:tag``; the digest the registry reported."""
        ...

    def pull(
        self,
        repository: str,
        reference: str,
        *,
        credentials: Credentials | None,
        retries: Retries,
        output: Callable[[str], None],
        progress: Progress | None = None,
    ) -> None:
        """Pull a tag or a digest."""

    def ensure_volume(self, name: str, labels: Mapping[str, str]) -> bool:
        """Create a volume if missing; True when created now."""
        ...

    def start_container(
        self,
        image: str,
        *,
        command: list[str] | None = None,
        workdir: str | None = None,
        environment: Mapping[str, str] | None = None,
        binds: Mapping[str, str] | None = None,
        labels: Mapping[str, str] | None = None,
        publish: int | None = None,
    ) -> str:
        """Create and start a container; its id."""
        ...

    def remove_container(self, container_id: str) -> None:
        """Remove a container, running or not."""

    def exec(
        self,
        container_id: str,
        argv: Sequence[str],
        *,
        workdir: str,
        user: str,
        output: Callable[[str], None] | None = None,
    ) -> ExecResult:
        """Run a command in a running container."""
        ...

    def put_archive(self, container_id: str, path: str, data: IO[bytes] | bytes) -> None:
        """Copy a tar into a container."""

    def get_archive(self, container_id: str, path: str) -> tuple[Iterator[bytes], Any]:
        """A tar of a path in a container, and its stat."""
        ...

    def published_port(self, container_id: str, port: int) -> int:
        """The loopback port a container's ``port`` is published on."""
        ...

    def container_state(self, container_id: str) -> str:
        """``running``, ``exited``…"""
        ...

    def container_logs(self, container_id: str) -> str:
        """Everything the container printed so far."""
        ...

    def save(self, ref: str, dest: IO[bytes]) -> None:
        """``docker save REF`` into ``dest``."""

    def load(self, archive: IO[bytes]) -> None:
        """``docker load`` a Docker archive."""


class RegistryAPI(Protocol):
    """The Distribution API calls a run reads and deletes with (no pushes: the engine's).

    A manifest found is a digest, a 404 is None (a miss); every other answer is an error
    (:class:`~dlc_tasks.errors.RegistryError` and its subclasses, naming the registry's error
    code), never a miss.
    """

    @property
    def auth_scheme(self) -> str:
        """``bearer``, ``basic`` or ``none``: what the registry asked for so far."""
        ...

    def ping(self) -> None:
        """``GET /v2/``: reachable, trusted and authorised."""

    def granted(self, scope: str) -> list[str] | None:
        """The actions a new token for ``scope`` grants (None without bearer auth)."""
        ...

    def manifest_digest(self, repository: str, reference: str) -> str | None:
        """The digest a tag names, or None."""
        ...

    def image_config(self, repository: str, reference: str) -> dict[str, Any]:
        """The image configuration behind a tag or digest."""
        ...

    def tags(self, repository: str) -> list[str]:
        """Every tag of a repository (empty when it does not exist)."""
        ...

    def delete_manifest(self, repository: str, digest: str) -> None:
        """Delete a manifest by digest."""
