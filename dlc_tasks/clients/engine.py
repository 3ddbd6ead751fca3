"""The Docker engine, through the docker SDK: the one seam for builds, pushes and containers.

Everything that talks to the engine goes through :class:`Engine`, so tests can
swap it for a fake and errors come back as :mod:`dlc_tasks.errors` types. The
SDK's ``push`` reports registry errors inside its progress stream rather than
raising (docker-py #3161, #3277); :meth:`Engine.push` reads every message and
raises on ``error``/``errorDetail``, so a failed push can never look green.
"""

from __future__ import annotations

import contextlib
import io
import re
import tarfile
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, TypeVar

from dlc_tasks.clients.credentials import Credentials
from dlc_tasks.clients.retry import Transient, with_retries
from dlc_tasks.config import Retries
from dlc_tasks.errors import BuildError, EngineError, PushError, RegistryAuthError

T = TypeVar("T")
PING_TIMEOUT = 10
# Status codes as whole words only: a port (127.0.0.1:5000) or a digest must not match.
_AUTH = re.compile(r"denied|unauthorized|authentication required|forbidden|\b40[13]\b", re.I)
_TRANSIENT = re.compile(
    r"connection reset|\beof\b|broken pipe|\b50[0234]\b|\b429\b|toomanyrequests|timeout"
    r"|connection refused",
    re.I,
)


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


class Engine:
    """A connected Docker engine."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.api = client.api

    @classmethod
    def connect(cls) -> Engine:
        """Connect as the docker CLI would (DOCKER_HOST, DOCKER_TLS_VERIFY, DOCKER_CERT_PATH)."""
        from docker.api.client import APIClient  # noqa: PLC0415  (kept out of `inv --list`)
        from docker.client import DockerClient  # noqa: PLC0415
        from docker.errors import DockerException  # noqa: PLC0415
        from docker.utils import kwargs_from_env  # noqa: PLC0415

        class EngineAPIClient(APIClient):  # type: ignore[misc]
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
            client = DockerClient.__new__(DockerClient)
            client.api = EngineAPIClient(version="auto", timeout=PING_TIMEOUT, **kwargs_from_env())
            client.ping()
        except DockerException as err:
            raise EngineError(f"cannot reach the Docker engine: {_first_line(err)}") from None
        client.api.timeout = 600
        return cls(client)

    # -- images ------------------------------------------------------------------------------

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
            for message in self.api.build(**kwargs):
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
        if image_id is None:
            image_id = self.image_id(tag)
        if image_id is None:
            raise BuildError(f"docker build of {tag} produced no image: {' | '.join(tail[-3:])}")
        return image_id

    def image_id(self, ref: str) -> str | None:
        """The local image id for a reference, or None."""
        from docker.errors import ImageNotFound  # noqa: PLC0415

        try:
            return str(self.api.inspect_image(ref)["Id"])
        except ImageNotFound:
            return None

    def inspect(self, ref: str) -> dict[str, Any]:
        """The engine's description of a local image."""
        return dict(self.api.inspect_image(ref))

    def tag(self, image: str, repository: str, tag: str) -> None:
        """``docker tag image repository:tag``."""
        self.api.tag(image, repository, tag, force=True)

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
                stream = self.api.push(
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
                stream = self.api.pull(
                    repository, tag=reference, stream=True, decode=True, auth_config=auth
                )
                self._stream_registry_op(f"pull of {repository}", stream, progress)
            except NotFound:
                raise PushError(f"{repository}@{reference} is not in the registry") from None
            except APIError as err:
                raise Transient(f"pull of {repository}: {_first_line(err)}") from None

        _retried(attempt, retries, output)

    # -- containers --------------------------------------------------------------------------

    def ensure_volume(self, name: str, labels: Mapping[str, str]) -> bool:
        """Create a named volume if missing; True when it was created now."""
        from docker.errors import NotFound  # noqa: PLC0415

        try:
            self.api.inspect_volume(name)
            return False
        except NotFound:
            self.api.create_volume(name, labels=dict(labels))
            return True

    def remove_container(self, container_id: str) -> None:
        """Kill and remove a container, ignoring one that is already gone."""
        from docker.errors import NotFound  # noqa: PLC0415

        with contextlib.suppress(NotFound):
            self.api.remove_container(container_id, force=True, v=False)


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


def _first_line(err: Exception) -> str:
    text = str(err).strip()
    return text.splitlines()[0][:300] if text else type(err).__name__
