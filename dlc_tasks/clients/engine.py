"""The Docker engine, through the docker SDK: the one seam for builds, pushes and containers.

Everything that talks to the engine goes through :class:`Engine` (no other module
touches the SDK's client), so unit tests swap it for ``tests/support/fakes.FakeEngine``
and errors come back as :mod:`dlc_tasks.errors` types. The
SDK's ``push`` reports registry errors inside its progress stream rather than
raising (docker-py #3161, #3277); :meth:`Engine.push` reads every message and
raises on ``error``/``errorDetail``, so a failed push can never look green.

Streams may rightly run for minutes (``go test``, a build, a push), so they have an
inactivity deadline rather than a hard one (``dlc.timeouts.inactivity``): every read from
the engine must return within it. A Go command's output is read from the exec's own socket
with that timeout (docker-py's stream reader polls with none, so a silent test would
wait forever); builds, pushes and pulls read with it as the client's timeout. An expiry
is :class:`~dlc_tasks.errors.Inactive`, one line naming what went silent.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import io
import json
import os
import re
import struct
import tarfile
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, TypeVar

from dlc_tasks.clients import podman
from dlc_tasks.clients.credentials import Credentials
from dlc_tasks.clients.podman import EngineIdentity
from dlc_tasks.clients.retry import Transient, retried
from dlc_tasks.config import Retries, Timeouts
from dlc_tasks.errors import (
    BuildError,
    EngineError,
    Inactive,
    PullError,
    PushError,
    RegistryAuthError,
    RegistryError,
)

if TYPE_CHECKING:
    from docker.api.client import APIClient

PING_TIMEOUT = 10
INACTIVITY = 600.0  # dlc.timeouts.inactivity's default
# Status codes as whole words only: a port (127.0.0.1:5000) or a digest must not match.
_AUTH = re.compile(r"denied|unauthorized|authentication required|forbidden|\b40[13]\b", re.I)
_TRANSIENT = re.compile(
    r"connection reset|\beof\b|broken pipe|\b50[0234]\b|\b429\b|toomanyrequests|timeout"
    r"|connection refused",
    re.I,
)


def engine_is_local() -> bool:
    """True when DOCKER_HOST is unset or a unix socket: the engine can bind-mount our files."""
    host = os.environ.get("DOCKER_HOST", "")
    return not host or host.startswith("unix://")


def classify_stream_error(message: str) -> str:
    """``auth``, ``transient`` or ``fatal`` for an error message from a push or pull stream."""
    if _AUTH.search(message):
        return "auth"
    if _TRANSIENT.search(message):
        return "transient"
    return "fatal"


def context_tar(
    files: Mapping[str, Path],
    dockerfile_text: str,
    texts: Mapping[str, str] | None = None,
    sent: dict[str, str] | None = None,
) -> Any:
    """A build context of exactly ``files`` (archive name → path), ``texts`` and the Dockerfile.

    Spooled to disk past 16 MB, so a large binary does not sit in memory. ``sent``, when
    given, receives the sha256 of each file's bytes as they went into the archive.
    """
    spool = tempfile.SpooledTemporaryFile(max_size=16 * 1024 * 1024)  # noqa: SIM115
    with tarfile.open(fileobj=spool, mode="w") as tar:
        for name, text in {"Dockerfile": dockerfile_text, **(texts or {})}.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(data))
        for name, path in sorted(files.items()):
            entry = tar.gettarinfo(str(path), arcname=name)
            entry.uid = entry.gid = 0
            entry.uname = entry.gname = ""
            entry.mtime = 0  # the layer cache keys on content, not on when the file was written
            with path.open("rb") as handle:
                reader = _HashingReader(handle)
                tar.addfile(entry, reader)
            if sent is not None:
                sent[name] = reader.digest.hexdigest()
    spool.seek(0)
    return spool


class _HashingReader:
    """A binary file's ``read``, hashing what was read."""

    def __init__(self, handle: Any) -> None:
        self.handle = handle
        self.digest = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data: bytes = self.handle.read(size)
        self.digest.update(data)
        return data


F = TypeVar("F", bound=Callable[..., Any])


def _engine_faults() -> tuple[type[BaseException], ...]:
    """What a dying or misbehaving engine raises, at the call or later, mid-stream.

    The SDK's and requests' errors (connection refused, a 500 outside a stream), and what a
    stream read from a socket raises when the engine goes away in the middle: the socket's
    own errors (reset, broken pipe, timeout), urllib3's ``ProtocolError`` and http.client's
    ``IncompleteRead``.
    """
    import http.client  # noqa: PLC0415

    from docker.errors import DockerException  # noqa: PLC0415
    from requests.exceptions import RequestException  # noqa: PLC0415
    from urllib3.exceptions import HTTPError as Urllib3Error  # noqa: PLC0415

    return (
        DockerException,
        RequestException,
        Urllib3Error,
        http.client.HTTPException,
        ConnectionError,
        TimeoutError,
    )


def _engine_failed(what: str, err: BaseException) -> EngineError:
    return EngineError(f"the Docker engine failed during {what}: {_first_line(err)}")


def _timed_out(err: BaseException) -> bool:
    """True when ``err`` is a read that waited longer than the client's timeout."""
    from requests.exceptions import ConnectionError as RequestsConnectionError  # noqa: PLC0415
    from requests.exceptions import Timeout  # noqa: PLC0415
    from urllib3.exceptions import ReadTimeoutError  # noqa: PLC0415

    if isinstance(err, TimeoutError | ReadTimeoutError | Timeout):
        return True
    cause = err.args[0] if err.args else None
    return isinstance(err, RequestsConnectionError) and isinstance(cause, ReadTimeoutError)


def _engine_call(method: F) -> F:
    """Turn the engine vanishing (connection refused or reset, a 500 outside a stream, a
    stream broken mid-way) into one :class:`EngineError` line naming the operation, instead
    of a traceback."""

    @functools.wraps(method)
    def call(self: Engine, *args: Any, **kwargs: Any) -> Any:
        what = method.__name__.strip("_").replace("_", " ")
        try:
            return method(self, *args, **kwargs)
        except _engine_faults() as err:
            if _timed_out(err):
                raise Inactive(f"the Docker engine's {what}", self.inactivity) from err
            raise _engine_failed(what, err) from err

    return call  # type: ignore[return-value]


def _guarded(chunks: Iterable[bytes], what: str) -> Iterator[bytes]:
    """``chunks`` read lazily (after the call returned), with the engine's faults as one line."""
    try:
        yield from chunks
    except _engine_faults() as err:
        raise _engine_failed(what, err) from err


@dataclass(frozen=True)
class ExecResult:
    """What a command run in a container printed, and how it exited."""

    argv: list[str]
    exit_code: int
    lines: list[str]


class Engine:
    """A connected Docker engine: images, registries (push, pull), containers, volumes."""

    def __init__(self, api: APIClient, inactivity: float = INACTIVITY) -> None:
        self._api = api
        self.inactivity = inactivity
        self.helper_deadline = Timeouts().helper
        # Where the engine says what it adapted to (no init binary, lower rlimits): the run
        # points it at its console.
        self.say: Callable[[str], None] = lambda line: None
        self._identity: EngineIdentity | None = None
        self._init = True  # containers get an init process unless the engine has none
        self._ulimits: dict[str, int] | None = None  # set when Podman's own cannot be given

    def set_timeouts(self, timeouts: Timeouts) -> None:
        """How long any read from the engine may wait (``dlc.timeouts.inactivity``), and how
        long a credential helper the SDK asks before a build may take (``.helper``)."""
        self.inactivity = timeouts.inactivity
        self._api.timeout = timeouts.inactivity  # type: ignore[assignment]
        self.helper_deadline = timeouts.helper

    def _bound_helpers(self) -> None:
        """Before a build the SDK runs the credsStore helper (``list``, then ``get`` for each
        login) with no deadline: give every helper it runs ``dlc.timeouts.helper``."""
        from docker import auth  # noqa: PLC0415

        api: Any = self._api
        configs = api._auth_configs  # the SDK's own attribute: what build() will read
        if not configs or configs.is_empty:
            configs = api._auth_configs = auth.load_config(credstore_env=api.credstore_env)
        deadline, environment = self.helper_deadline, configs._credstore_env
        configs._get_store_instance = lambda name: _deadline_store(name, environment, deadline)

    @classmethod
    def connect(cls) -> Engine:
        """Connect as the docker CLI would (DOCKER_HOST, DOCKER_TLS_VERIFY, DOCKER_CERT_PATH)."""
        from docker.api.client import APIClient  # noqa: PLC0415  (kept out of `inv --list`)
        from docker.errors import DockerException  # noqa: PLC0415
        from docker.utils import kwargs_from_env  # noqa: PLC0415

        class EngineAPIClient(APIClient):
            """docker-py's client, with the engine's CA (DOCKER_CERT_PATH) always winning.

            requests lets REQUESTS_CA_BUNDLE or CURL_CA_BUNDLE replace a session's own
            CA file on every request; with either set, a TLS engine would be refused.
            """

            def merge_environment_settings(self, *args: Any, **kwargs: Any) -> Any:
                settings = super().merge_environment_settings(*args, **kwargs)
                if isinstance(self.verify, str):
                    settings["verify"] = self.verify
                return settings

        try:
            api = EngineAPIClient(version="auto", timeout=PING_TIMEOUT, **kwargs_from_env())
            api.ping()
        except DockerException as err:
            raise EngineError(f"cannot reach the Docker engine: {_first_line(err)}") from err
        api.timeout = INACTIVITY  # type: ignore[assignment]
        return cls(api)

    @_engine_call
    def version(self) -> dict[str, Any]:
        """The engine's version document (``Version``, ``ApiVersion``…)."""
        return dict(self._api.version())

    @_engine_call
    def identity(self) -> EngineIdentity:
        """Docker or Podman, its version, rootless or not, its cgroup manager (asked once)."""
        if self._identity is None:
            self._identity = podman.identify(self._api.version(), self._api.info())
        return self._identity

    # -- images ------------------------------------------------------------------------------

    @_engine_call
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
        """Build and tag an image; return its id. ``context`` is a tar (custom) or a path.

        ``output`` receives the engine's log one whole line at a time, as the engine wrote it
        (the build display, :mod:`dlc_tasks.reporting.buildview`, makes it readable). Only
        the build arguments that ``dockerfile_text`` declares are passed, so one
        ``dlc.build_args`` mapping serves every Dockerfile without "not consumed" warnings.
        """
        from docker.credentials.errors import StoreError  # noqa: PLC0415
        from docker.errors import APIError  # noqa: PLC0415

        kwargs: dict[str, Any] = {
            "tag": tag,
            "buildargs": _declared_only(buildargs, dockerfile_text),
            "labels": dict(labels or {}),
            "rm": True,
            "forcerm": True,
            "decode": True,
            "dockerfile": dockerfile,
        }
        if cache_from:  # images whose layers the builder may reuse (the legacy builder's rules)
            kwargs["cache_from"] = list(cache_from)
        if custom_context:
            kwargs.update(fileobj=context, custom_context=True)
        else:
            kwargs.update(path=str(context))
        self._bound_helpers()
        image_id = None
        log = _BuildLog(output)
        try:
            for message in self._api.build(**kwargs):
                if "stream" in message:
                    log.add(str(message["stream"]))
                if "error" in message or "errorDetail" in message:
                    log.flush()
                    detail = message.get("errorDetail", {}).get("message") or message.get("error")
                    raise BuildError(f"docker build of {tag} failed: {detail}", log=log.tail)
                aux = message.get("aux")
                if isinstance(aux, dict) and "ID" in aux:
                    image_id = str(aux["ID"])
            log.flush()
        except APIError as err:
            raise BuildError(f"docker build of {tag} failed: {_first_line(err)}") from err
        except StoreError as err:
            # The SDK asks the credsStore helper for every login (`list`), to hand the engine
            # credentials for the base images; a helper failing there is the user's to fix.
            from dlc_tasks.clients.credentials import (  # noqa: PLC0415
                CredentialHelperError,
                docker_config_file,
            )

            raise CredentialHelperError(
                f"docker build of {tag}: the credential helper named in {docker_config_file()} "
                f"failed to list its logins ({type(err).__name__}: {_first_line(err)})"
            ) from err
        if image_id is None:
            image_id = self.image_id(tag)
        if image_id is None:
            raise BuildError(
                f"docker build of {tag} produced no image: {' | '.join(log.tail[-3:])}"
            )
        return image_id

    @_engine_call
    def image_id(self, ref: str) -> str | None:
        """The local image id for a reference, or None."""
        from docker.errors import ImageNotFound  # noqa: PLC0415

        try:
            return str(self._api.inspect_image(ref)["Id"])  # type: ignore[no-untyped-call]
        except ImageNotFound:
            return None

    @_engine_call
    def inspect(self, ref: str) -> dict[str, Any]:
        """The engine's description of a local image."""
        # types-docker leaves inspect_image unannotated
        return dict(self._api.inspect_image(ref))  # type: ignore[no-untyped-call]

    @_engine_call
    def tag(self, image: str, repository: str, tag: str) -> None:
        """``docker tag image repository:tag``."""
        self._api.tag(image, repository, tag, force=True)

    def has_repo_digest(self, repository: str, digest: str) -> bool:
        """True when a local image carries ``repository@digest`` (pushed from or pulled here)."""
        return self.image_id(f"{repository}@{digest}") is not None

    def _stream_registry_op(
        self,
        what: str,
        messages: Iterable[dict[str, Any]],
        progress: Callable[[str, str, int | None, int | None], None] | None,
        failure: type[RegistryError] = PushError,
    ) -> dict[str, Any]:
        """Read a push's or pull's messages: progress to ``progress``, an error in the stream
        raised (auth, transient, or ``failure``), the ``aux`` fields returned."""
        aux: dict[str, Any] = {}
        for message in messages:
            error = message.get("errorDetail", {}).get("message") or message.get("error")
            if error:
                kind = classify_stream_error(str(error))
                if kind == "auth":
                    raise RegistryAuthError(f"{what} refused: {error}")
                if kind == "transient":
                    raise Transient(f"{what}: {error}")
                raise failure(f"{what} failed: {error}")
            if isinstance(message.get("aux"), dict):
                aux.update(message["aux"])
            status, layer = message.get("status"), message.get("id")
            if status and layer and progress is not None:
                detail = message.get("progressDetail") or {}
                progress(str(layer), str(status), detail.get("current"), detail.get("total"))
        return aux

    def _push_stream(
        self, repository: str, tag: str, auth: dict[str, Any] | None
    ) -> Iterable[dict[str, Any]]:
        """The push's message stream: the SDK's push, or (a loopback registry on Podman) the same
        request with ``tlsVerify=false``, which the SDK cannot add (:mod:`.podman`)."""
        params = podman.registry_params(self.identity(), repository)
        if not params:
            stream = self._api.push(repository, tag=tag, stream=True, decode=True, auth_config=auth)
            return stream  # type: ignore[no-any-return]
        from docker import auth as sdk_auth  # noqa: PLC0415

        header = (
            sdk_auth.encode_header(auth)
            if auth
            else sdk_auth.get_config_header(self._api, podman.registry_of(repository))
        )
        url = self._api._url("/images/{0}/push", repository)  # type: ignore[attr-defined]
        return _sdk_stream(self._api, url, {"tag": tag, **params}, header)

    def _pull_stream(
        self, repository: str, reference: str, auth: dict[str, Any] | None
    ) -> Iterable[dict[str, Any]]:
        """The pull's message stream: the SDK's pull, or (a loopback registry on Podman) the
        libpod pull with ``tlsVerify=false`` (Podman's compat pull ignores the parameter)."""
        params = podman.registry_params(self.identity(), repository)
        if not params:
            stream = self._api.pull(
                repository, tag=reference, stream=True, decode=True, auth_config=auth
            )
            return stream  # type: ignore[no-any-return]
        from docker import auth as sdk_auth  # noqa: PLC0415

        separator = "@" if reference.startswith("sha256:") else ":"
        params = {"reference": f"{repository}{separator}{reference}", **params}
        header = sdk_auth.encode_header(auth) if auth else None
        url = self._api._url("/libpod/images/pull")  # type: ignore[attr-defined]
        return _sdk_stream(self._api, url, params, header)

    @_engine_call
    def push(
        self,
        repository: str,
        tag: str,
        *,
        credentials: Credentials | None,
        retries: Retries,
        output: Callable[[str], None],
        progress: Callable[[str, str, int | None, int | None], None] | None = None,
    ) -> str:
        """Push ``repository:tag`` with retries; return the digest the registry reported."""
        from docker.errors import APIError  # noqa: PLC0415

        auth = credentials.auth_config() if credentials else None

        def attempt() -> str:
            try:
                statuses: list[str] = []
                stream = _noting_statuses(self._push_stream(repository, tag, auth), statuses)
                aux = self._stream_registry_op(f"push of {repository}:{tag}", stream, progress)
            except APIError as err:
                raise Transient(f"push of {repository}:{tag}: {_first_line(err)}") from err
            digest = aux.get("Digest") or _status_digest(statuses)
            if not digest:
                raise PushError(f"push of {repository}:{tag} reported no digest")
            return str(digest)

        return retried(attempt, retries, source="engine", failure=PushError, say=output)

    @_engine_call
    def pull(
        self,
        repository: str,
        reference: str,
        *,
        credentials: Credentials | None,
        retries: Retries,
        output: Callable[[str], None],
        progress: Callable[[str, str, int | None, int | None], None] | None = None,
    ) -> None:
        """Pull ``repository`` at a tag or ``sha256:`` digest, with retries."""
        from docker.errors import APIError, NotFound  # noqa: PLC0415

        auth = credentials.auth_config() if credentials else None

        def attempt() -> None:
            try:
                stream = self._pull_stream(repository, reference, auth)
                self._stream_registry_op(f"pull of {repository}", stream, progress, PullError)
            except NotFound as err:
                raise PullError(f"{repository}@{reference} is not in the registry") from err
            except APIError as err:
                raise Transient(f"pull of {repository}: {_first_line(err)}") from err

        retried(attempt, retries, source="engine", failure=PullError, say=output)

    # -- containers --------------------------------------------------------------------------

    @_engine_call
    def ensure_volume(self, name: str, labels: Mapping[str, str]) -> bool:
        """Create a named volume if missing; True when it was created now."""
        from docker.errors import NotFound  # noqa: PLC0415

        try:
            self._api.inspect_volume(name)
            return False
        except NotFound:
            self._api.create_volume(name, labels=dict(labels))
            return True

    @_engine_call
    def remove_container(self, container_id: str) -> None:
        """Kill and remove a container, ignoring one that is already gone."""
        from docker.errors import NotFound  # noqa: PLC0415

        with contextlib.suppress(NotFound):
            self._api.remove_container(container_id, force=True, v=False)

    @_engine_call
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
        """Create and start a container; return its id. ``binds`` maps source to target (rw);
        ``publish`` publishes one container port on a free loopback port. On any failure the
        container is removed before the error propagates. An engine without an init binary,
        or one that cannot give containers its own rlimits (Podman, :mod:`.podman`), gets
        containers without init, or with the service's limits, and the engine says so once."""
        from docker.errors import APIError  # noqa: PLC0415

        while True:
            host_config = self._api.create_host_config(
                binds={src: {"bind": dst, "mode": "rw"} for src, dst in (binds or {}).items()},
                port_bindings={publish: ("127.0.0.1", None)} if publish else None,
                **self._container_options(),
            )
            try:
                container = self._api.create_container(
                    image,
                    command=command,
                    working_dir=workdir,
                    environment=dict(environment or {}),
                    host_config=host_config,
                    labels=dict(labels or {}),
                    ports=[publish] if publish else None,
                )
            except APIError as err:
                if self._adapted_to(err):
                    continue
                raise EngineError(
                    f"cannot create a container of {image}: {_first_line(err)}"
                ) from err
            container_id = str(container["Id"])
            try:
                self._api.start(container_id)
            except BaseException as err:
                self.remove_container(container_id)
                if isinstance(err, APIError):
                    if self._adapted_to(err):
                        continue
                    raise EngineError(f"cannot start {image}: {_first_line(err)}") from err
                raise
            return container_id

    def _container_options(self) -> dict[str, Any]:
        """``init`` and ``ulimits`` of the host config, as far as this engine allows them."""
        from docker.types import Ulimit  # noqa: PLC0415

        options: dict[str, Any] = {"init": self._init}
        if self._ulimits is not None:
            options["ulimits"] = [
                Ulimit(name=name, soft=value, hard=value) for name, value in self._ulimits.items()
            ]
        return options

    def _adapted_to(self, err: BaseException) -> bool:
        """Adapt the container options to an engine's refusal (once each); True to try again."""
        message = str(err)
        if self._init and podman.init_missing(message):
            self._init = False
            self.say(
                f"the engine has no container init binary ({podman.init_path()}): containers "
                f"run without one (apt-get install {podman.INIT_PACKAGE} to add it)"
            )
            return True
        if self._ulimits is None and podman.rlimit_refused(message):
            self._ulimits = podman.service_limits(
                podman.socket_path(os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock"))
            )
            shown = ", ".join(f"{k}={v}" for k, v in self._ulimits.items())
            self.say(f"the engine cannot raise containers' rlimits here: containers get {shown}")
            return True
        return False

    def step_user(self) -> str:
        """The user Go steps run as so that what they write is the invoking user's:
        ``UID:GID``, or ``0:0`` where the engine maps the container's root to the caller
        (rootless Podman) or cannot bind-mount this machine's files (a remote engine)."""
        if not engine_is_local() or self.identity().maps_root_to_caller:
            return "0:0"
        return f"{os.getuid()}:{os.getgid()}"

    @_engine_call
    def exec(
        self,
        container_id: str,
        argv: Sequence[str],
        *,
        workdir: str,
        user: str,
        output: Callable[[str], None] | None = None,
    ) -> ExecResult:
        """Run ``argv`` in a running container, streaming each line to ``output``."""
        from docker.errors import APIError  # noqa: PLC0415

        try:
            exec_id = self._api.exec_create(container_id, list(argv), workdir=workdir, user=user)
            lines = []
            sock = self._api.exec_start(exec_id["Id"], socket=True)
            try:
                for line in stream_lines(exec_frames(sock, self.inactivity)):
                    lines.append(line)
                    if output is not None:
                        output(line)
            except TimeoutError as err:
                what = " ".join(argv)
                raise Inactive(f"{what[:120]} in the container", self.inactivity) from err
            finally:
                _close_socket(sock)  # the hijacked socket: otherwise one leaks per command
            code = self._api.exec_inspect(exec_id["Id"])["ExitCode"]
        except APIError as err:
            what = " ".join(argv[:2])
            raise EngineError(f"{what} in the container: {_first_line(err)}") from err
        return ExecResult(list(argv), int(code if code is not None else 1), lines)

    @_engine_call
    def put_archive(self, container_id: str, path: str, data: IO[bytes] | bytes) -> None:
        """Unpack a tar stream into a container's ``path``."""
        self._api.put_archive(container_id, path, data)

    @_engine_call
    def get_archive(self, container_id: str, path: str) -> tuple[Iterator[bytes], Any]:
        """A container's ``path`` as tar chunks, and its stat."""
        chunks, stat = self._api.get_archive(container_id, path)
        return _guarded(chunks, "get archive"), stat

    @_engine_call
    def published_port(self, container_id: str, port: int) -> int:
        """The loopback port a container's ``port`` is published on."""
        return int(self._api.port(container_id, port)[0]["HostPort"])

    @_engine_call
    def container_state(self, container_id: str) -> str:
        """``running``, ``exited``…"""
        return str(self._api.inspect_container(container_id)["State"]["Status"])

    @_engine_call
    def container_logs(self, container_id: str) -> str:
        """Everything the container printed so far."""
        return bytes(self._api.logs(container_id)).decode("utf-8", "replace")

    def try_pull(self, ref: str) -> bool:
        """Pull ``repository:tag`` quietly; False when it cannot be had (no error raised).

        An error inside the pull's stream is a failure too (Podman reports an unreachable
        registry there, with a 200), and the image must be in the engine afterwards.
        """
        from docker.errors import DockerException  # noqa: PLC0415

        repository, _, tag = ref.rpartition(":")
        try:
            for message in self._api.pull(repository, tag=tag, stream=True, decode=True):
                if message.get("error") or message.get("errorDetail"):
                    return False
            return self.image_id(ref) is not None
        except (DockerException, EngineError):
            return False

    @_engine_call
    def save(self, ref: str, dest: IO[bytes]) -> None:
        """``docker save REF`` (a Docker archive) into ``dest``."""
        for chunk in self._api.get_image(ref):
            dest.write(chunk)

    @_engine_call
    def load(self, archive: IO[bytes]) -> None:
        """``docker load`` a Docker archive (:func:`dlc_tasks.model.oci.dockerarchive.write`)."""
        for message in self._api.load_image(archive):  # type: ignore[no-untyped-call]
            error = message.get("errorDetail", {}).get("message") or message.get("error")
            if error:
                raise EngineError(f"docker load failed: {error}")

    @_engine_call
    def import_image(self, archive: Path, repository: str, tag: str, changes: list[str]) -> None:
        """``docker import`` a root filesystem tar as repository:tag.

        Tagged by the id the import reports: Podman's compat import ignores the name it is
        given and leaves the image untagged.
        """
        answer = self._api.import_image_from_file(
            str(archive), repository=repository, tag=tag, changes=changes
        )
        image_id = _imported_id(answer)
        if image_id is not None and self.image_id(f"{repository}:{tag}") != image_id:
            self._api.tag(image_id, repository, tag, force=True)


def _imported_id(answer: Any) -> str | None:
    """The image id in an import's answer (``{"status": "sha256:…"}`` lines), if any."""
    for line in str(answer).splitlines():
        with contextlib.suppress(ValueError):
            status = json.loads(line).get("status", "")
            if isinstance(status, str) and status.startswith("sha256:"):
                return status
    return None


def _noting_statuses(
    messages: Iterable[dict[str, Any]], statuses: list[str]
) -> Iterator[dict[str, Any]]:
    """``messages``, each ``status`` noted in ``statuses`` on the way."""
    for message in messages:
        if isinstance(message.get("status"), str):
            statuses.append(message["status"])
        yield message


_STATUS_DIGEST = re.compile(r"\bdigest: (sha256:[0-9a-f]{64})\b")


def _status_digest(statuses: Sequence[str]) -> str | None:
    """The digest in a push's ``TAG: digest: sha256:… size: N`` line: Podman's compat push
    sends no ``aux`` message, only that line (Docker sends both)."""
    for status in reversed(statuses):
        if match := _STATUS_DIGEST.search(status):
            return match.group(1)
    return None


def _sdk_stream(
    api: Any, url: str, params: Mapping[str, str], auth_header: str | bytes | None
) -> Iterable[dict[str, Any]]:
    """POST ``url`` (the SDK's ``_url``) as the SDK's own push and pull do (its error mapping,
    its JSON stream), with query parameters the SDK's methods do not take."""
    response = api._post(
        url,
        params=dict(params),
        headers={"X-Registry-Auth": auth_header} if auth_header else {},
        stream=True,
    )
    api._raise_for_status(response)
    return api._stream_helper(response, decode=True)  # type: ignore[no-any-return]


def _deadline_store(name: str, environment: Any, deadline: float) -> Any:
    """The SDK's credential store for helper ``name``, run by :mod:`.bounded` with a deadline
    (the SDK's own runs it with none)."""
    import subprocess  # noqa: PLC0415

    from docker.credentials import Store, errors  # noqa: PLC0415
    from docker.credentials.utils import create_environment_dict  # noqa: PLC0415

    from dlc_tasks.clients.bounded import run  # noqa: PLC0415

    class DeadlineStore(Store):
        def _execute(self, subcmd: str, data_input: bytes | None) -> bytes:
            if self.exe is None:
                raise errors.StoreError(f"{self.program} not installed or not available in PATH")
            try:
                done = run(
                    [self.exe, subcmd],
                    what=f"the credential helper {self.program} ({subcmd})",
                    deadline=deadline,
                    setting="helper",
                    stdin=data_input or b"",
                    env=create_environment_dict(self.environment),  # type: ignore[no-untyped-call]
                )
            except OSError as err:
                raise errors.StoreError(f"cannot run {self.program}: {err.strerror}") from err
            if done.code != 0:
                failed = subprocess.CalledProcessError(done.code, [self.exe, subcmd], done.out)
                raise errors.process_store_error(failed, self.program)
            return done.out

    return DeadlineStore(name, environment=environment)


class _BuildLog:
    """A build's stream as whole lines for ``output`` (the engine cuts a command's output
    anywhere, not only at line ends), and its last 30 non-blank lines for the error."""

    def __init__(self, output: Callable[[str], None]) -> None:
        self.output = output
        self.pending = ""
        self.tail: list[str] = []

    def add(self, text: str) -> None:
        *lines, self.pending = (self.pending + text).split("\n")
        for line in lines:
            self._emit(line)

    def flush(self) -> None:
        if self.pending:
            self._emit(self.pending)
            self.pending = ""

    def _emit(self, line: str) -> None:
        self.output(line)
        if line.strip():
            self.tail = [*self.tail[-29:], line.strip()]


def exec_frames(sock: Any, inactivity: float | None) -> Iterator[bytes]:
    """The payloads of an exec's multiplexed stream (each frame: a stream byte, three zero
    bytes, a big-endian length, then that many bytes), every read waiting at most
    ``inactivity`` seconds (TimeoutError past it)."""
    target = getattr(sock, "_sock", sock)  # a SocketIO (unix socket) wraps the socket
    if inactivity is not None and hasattr(target, "settimeout"):
        target.settimeout(inactivity)
    while True:
        header = _read_exactly(sock, 8)
        if len(header) < 8:
            return
        _, size = struct.unpack(">BxxxL", header)
        payload = _read_exactly(sock, size)
        if payload:
            yield payload
        if len(payload) < size:
            return


def _read_exactly(sock: Any, size: int) -> bytes:
    """Up to ``size`` bytes: fewer only at the end of the stream."""
    data = b""
    while len(data) < size:
        wanted = min(size - len(data), 64 * 1024)
        chunk = sock.recv(wanted) if hasattr(sock, "recv") else sock.read(wanted)
        if not chunk:
            break
        data += chunk
    return data


def _close_socket(sock: Any) -> None:
    """Close an exec's socket and the HTTP response docker-py keeps beside it."""
    response = getattr(sock, "_response", None)
    with contextlib.suppress(Exception):
        sock.close()
    if response is not None:
        with contextlib.suppress(Exception):
            response.close()


def stream_lines(chunks: Iterator[bytes]) -> Iterator[str]:
    """Split a byte stream into text lines, keeping a partial last line for the next chunk."""
    pending = b""
    for chunk in chunks:
        pending += chunk
        *lines, pending = pending.split(b"\n")
        for line in lines:
            yield line.decode("utf-8", "replace")
    if pending:
        yield pending.decode("utf-8", "replace")


def _declared_only(buildargs: Mapping[str, str], dockerfile_text: str | None) -> dict[str, str]:
    if dockerfile_text is None:
        return dict(buildargs)
    from dlc_tasks.model.depshash import declared_args  # noqa: PLC0415

    declared = set(declared_args(dockerfile_text))
    return {k: v for k, v in buildargs.items() if k in declared}


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0][:300] if text else type(err).__name__
