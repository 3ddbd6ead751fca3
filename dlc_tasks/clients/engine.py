"""The Docker engine, through the docker SDK: the one seam for builds, pushes and containers.

Everything that talks to the engine goes through :class:`Engine` (no other module
touches the SDK's client), so unit tests swap it for ``tests/support/fakes.FakeEngine``
and errors come back as :mod:`dlc_tasks.errors` types. The
SDK's ``push`` reports registry errors inside its progress stream rather than
raising (docker-py #3161, #3277); :meth:`Engine.push` reads every message and
raises on ``error``/``errorDetail``, so a failed push can never look green.
"""

from __future__ import annotations

import contextlib
import functools
import io
import os
import re
import tarfile
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, TypeVar

from dlc_tasks.clients.credentials import Credentials
from dlc_tasks.clients.retry import Transient, with_retries
from dlc_tasks.config import Retries
from dlc_tasks.errors import BuildError, EngineError, PushError, RegistryAuthError

if TYPE_CHECKING:
    from docker.api.client import APIClient

T = TypeVar("T")
PING_TIMEOUT = 10
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
    files: Mapping[str, Path], dockerfile_text: str, texts: Mapping[str, str] | None = None
) -> Any:
    """A build context of exactly ``files`` (archive name → path), ``texts`` and the Dockerfile.

    Spooled to disk past 16 MB, so a large binary does not sit in memory.
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
                tar.addfile(entry, handle)
    spool.seek(0)
    return spool


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


def _engine_call(method: F) -> F:
    """Turn the engine vanishing (connection refused or reset, a 500 outside a stream, a
    stream broken mid-way) into one :class:`EngineError` line naming the operation, instead
    of a traceback."""

    @functools.wraps(method)
    def call(self: Engine, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except _engine_faults() as err:
            raise _engine_failed(method.__name__.strip("_").replace("_", " "), err) from None

    return call  # type: ignore[return-value]


def _guarded(chunks: Iterable[bytes], what: str) -> Iterator[bytes]:
    """``chunks`` read lazily (after the call returned), with the engine's faults as one line."""
    try:
        yield from chunks
    except _engine_faults() as err:
        raise _engine_failed(what, err) from None


@dataclass(frozen=True)
class ExecResult:
    """What a command run in a container printed, and how it exited."""

    argv: list[str]
    exit_code: int
    lines: list[str]


class Engine:
    """A connected Docker engine: images, registries (push, pull), containers, volumes."""

    def __init__(self, api: APIClient) -> None:
        self._api = api

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
            raise EngineError(f"cannot reach the Docker engine: {_first_line(err)}") from None
        api.timeout = 600
        return cls(api)

    @_engine_call
    def version(self) -> dict[str, Any]:
        """The engine's version document (``Version``, ``ApiVersion``…)."""
        return dict(self._api.version())

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
    ) -> str:
        """Build and tag an image; return its id. ``context`` is a tar (custom) or a path.

        Only the build arguments that ``dockerfile_text`` declares are passed, so one
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
        if custom_context:
            kwargs.update(fileobj=context, custom_context=True)
        else:
            kwargs.update(path=str(context))
        image_id = None
        tail: list[str] = []
        try:
            for message in self._api.build(**kwargs):
                if "stream" in message:
                    text = str(message["stream"])
                    if text.strip():
                        output(text.rstrip("\n"))
                        tail = [*tail[-29:], text.strip()]
                if "error" in message or "errorDetail" in message:
                    detail = message.get("errorDetail", {}).get("message") or message.get("error")
                    raise BuildError(f"docker build of {tag} failed: {detail}", log=tail)
                aux = message.get("aux")
                if isinstance(aux, dict) and "ID" in aux:
                    image_id = str(aux["ID"])
        except APIError as err:
            raise BuildError(f"docker build of {tag} failed: {_first_line(err)}") from None
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
            ) from None
        if image_id is None:
            image_id = self.image_id(tag)
        if image_id is None:
            raise BuildError(f"docker build of {tag} produced no image: {' | '.join(tail[-3:])}")
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
    ) -> dict[str, Any]:
        aux: dict[str, Any] = {}
        for message in messages:
            error = message.get("errorDetail", {}).get("message") or message.get("error")
            if error:
                kind = classify_stream_error(str(error))
                if kind == "auth":
                    raise RegistryAuthError(f"{what} refused: {error}")
                if kind == "transient":
                    raise Transient(f"{what}: {error}")
                raise PushError(f"{what} failed: {error}")
            if isinstance(message.get("aux"), dict):
                aux.update(message["aux"])
            status, layer = message.get("status"), message.get("id")
            if status and layer and progress is not None:
                detail = message.get("progressDetail") or {}
                progress(str(layer), str(status), detail.get("current"), detail.get("total"))
        return aux

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
                stream = self._api.push(
                    repository, tag=tag, stream=True, decode=True, auth_config=auth
                )
                aux = self._stream_registry_op(f"push of {repository}:{tag}", stream, progress)
            except APIError as err:
                raise Transient(f"push of {repository}:{tag}: {_first_line(err)}") from None
            digest = aux.get("Digest")
            if not digest:
                raise PushError(f"push of {repository}:{tag} reported no digest")
            return str(digest)

        return _retried(attempt, retries, output)

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
                stream = self._api.pull(
                    repository, tag=reference, stream=True, decode=True, auth_config=auth
                )
                self._stream_registry_op(f"pull of {repository}", stream, progress)
            except NotFound:
                raise PushError(f"{repository}@{reference} is not in the registry") from None
            except APIError as err:
                raise Transient(f"pull of {repository}: {_first_line(err)}") from None

        _retried(attempt, retries, output)

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
        container is removed before the error propagates."""
        from docker.errors import APIError  # noqa: PLC0415

        host_config = self._api.create_host_config(
            binds={src: {"bind": dst, "mode": "rw"} for src, dst in (binds or {}).items()},
            init=True,
            port_bindings={publish: ("127.0.0.1", None)} if publish else None,
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
            raise EngineError(f"cannot create a container of {image}: {_first_line(err)}") from None
        container_id = str(container["Id"])
        try:
            self._api.start(container_id)
        except BaseException as err:
            self.remove_container(container_id)
            if isinstance(err, APIError):
                raise EngineError(f"cannot start {image}: {_first_line(err)}") from None
            raise
        return container_id

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
            stream = self._api.exec_start(exec_id["Id"], stream=True)
            try:
                for line in stream_lines(stream):
                    lines.append(line)
                    if output is not None:
                        output(line)
            finally:
                stream.close()  # the hijacked socket: otherwise one leaks per command
            code = self._api.exec_inspect(exec_id["Id"])["ExitCode"]
        except APIError as err:
            what = " ".join(argv[:2])
            raise EngineError(f"{what} in the container: {_first_line(err)}") from None
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
        """Pull ``repository:tag`` quietly; False when it cannot be had (no error raised)."""
        from docker.errors import DockerException  # noqa: PLC0415

        repository, _, tag = ref.rpartition(":")
        try:
            self._api.pull(repository, tag=tag)
        except DockerException:
            return False
        return True

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
        """``docker import`` a root filesystem tar as repository:tag."""
        self._api.import_image_from_file(
            str(archive), repository=repository, tag=tag, changes=changes
        )


def _retried(attempt: Callable[[], T], retries: Retries, output: Callable[[str], None]) -> T:
    """Run a push or pull attempt with retries, saying each retry; the last fault is a PushError."""

    def say(n: int, fault: Transient, delay: float) -> None:
        output(f"    retry {n}/{retries.attempts - 1} in {delay:.1f}s: {fault}")

    try:
        return with_retries(attempt, retries, on_retry=say)
    except Transient as fault:
        raise PushError(f"{fault} (after {retries.attempts} tries)") from None


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
