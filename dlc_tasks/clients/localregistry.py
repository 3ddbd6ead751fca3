"""The embedded default: a local Distribution registry on loopback when none is configured.

``ensure_running`` starts ``docker-registry serve`` (Debian's package of CNCF
Distribution) in its own session, with its storage under ``~/.cache/dlc-tasks/``,
and waits until ``/v2/`` answers. The engine allows plain HTTP to loopback
registries, so no TLS set-up is needed for it.

It is recognised by what it is, not by any 200 on the port: Distribution's
``Docker-Distribution-Api-Version`` header and a marker of ours, a random token kept
in the data folder (mode 0600) that the registry sends back in an ``X-Dlc-Tasks-Registry``
header (Distribution's ``http.headers``). Something else on the port is an error,
never taken for our registry. The check and the start happen under an exclusive lock
on the data folder, so two first runs at once start one registry.

It listens on loopback only and has no authentication: it is for one user on one
machine. On a machine shared with other users, configure ``dlc.registry`` instead.
"""

from __future__ import annotations

import http.client
import os
import secrets
import shutil
import time
import urllib.error
import urllib.request
from pathlib import Path

from dlc_tasks._files import atomic_write_text, locked
from dlc_tasks.config import is_loopback
from dlc_tasks.errors import ConfigError, ToolError

READY_TIMEOUT = 20.0
MARKER_HEADER = "X-Dlc-Tasks-Registry"
API_HEADER = "Docker-Distribution-Api-Version"


# No proxy for the loopback probe, whatever http_proxy says: a proxy cannot reach our
# loopback, and its answer (or another user's registry behind it) must never pass for ours.
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _headers(address: str) -> dict[str, str] | None:
    """The response headers of ``/v2/`` (200 or 401), or None when nothing answers there.

    Something that answers, but not in HTTP (an SSH banner), or with another status, gives
    an empty mapping: it is not a registry.
    """
    try:
        with _DIRECT.open(f"http://{address}/v2/", timeout=1.0) as response:
            return {k.lower(): v for k, v in response.headers.items()}
    except urllib.error.HTTPError as err:
        return {k.lower(): v for k, v in err.headers.items()} if err.code == 401 else {}
    except (http.client.HTTPException, ValueError):
        return {}  # not HTTP: BadStatusLine, a malformed header…
    except OSError:
        return None


def _foreign(address: str) -> ToolError:
    return ToolError(
        f"{address} is served by something other than this user's dlc-tasks registry",
        hint="stop it, or set dlc.local_registry.port (or dlc.registry)",
    )


def running(host: str, port: int, data_dir: Path | None = None) -> bool:
    """For a dry run, which starts nothing: True when our registry answers (the run would use
    it), False when nothing does (the run would start it). Something else on the port is the
    error the real run would stop with."""
    address = f"{host}:{port}"
    ours = is_ours(address, data_dir or default_data_dir(port))
    if ours is False:
        raise _foreign(address)
    return bool(ours)


def marker(data_dir: Path) -> str:
    """Our registry's token, made once per data folder and readable by this user only."""
    path = data_dir / "marker"
    if not path.is_file():
        atomic_write_text(path, secrets.token_hex(16) + "\n", mode=0o600)
    return path.read_text(encoding="utf-8").strip()


def is_ours(address: str, data_dir: Path) -> bool | None:
    """True: our registry answers; False: something else does; None: nothing does.

    Reads the marker without making one, so ``inv doctor`` changes nothing.
    """
    headers = _headers(address)
    if headers is None:
        return None
    if headers.get(API_HEADER.lower()) != "registry/2.0":
        return False
    try:
        token = (data_dir / "marker").read_text(encoding="utf-8").strip()
    except OSError:
        token = ""
    if token and headers.get(MARKER_HEADER.lower()) == token:
        return True
    return _started_before_markers(data_dir)


def _started_before_markers(data_dir: Path) -> bool:
    """A registry an earlier version started from this data folder (no marker yet): its
    ``registry.pid`` names a live process of this user serving this folder's config.yml."""
    try:
        pid = int((data_dir / "registry.pid").read_text(encoding="utf-8"))
        proc = Path(f"/proc/{pid}")
        argv = (proc / "cmdline").read_bytes().split(b"\0")
        owner = proc.stat().st_uid
    except (OSError, ValueError):
        return False
    return owner == os.getuid() and str(data_dir / "config.yml").encode() in argv


def config_text(host: str, port: int, storage: Path, token: str = "") -> str:
    """A minimal Distribution configuration: filesystem storage, deletes allowed, our marker."""
    headers = f"  headers:\n    {MARKER_HEADER}: [{token}]\n" if token else ""
    return (
        "version: 0.1\n"
        "log:\n  level: warn\n"
        "storage:\n"
        f"  filesystem:\n    rootdirectory: {storage}\n"
        "  delete:\n    enabled: true\n"
        f"http:\n  addr: {host}:{port}\n" + headers
    )


def default_data_dir(port: int) -> Path:
    """``~/.cache/dlc-tasks/registry-PORT``."""
    return Path.home() / ".cache" / "dlc-tasks" / f"registry-{port}"


def ensure_running(host: str, port: int, data_dir: Path | None = None) -> tuple[str, bool]:
    """Make sure our registry answers at host:port; return (address, started_now)."""
    if not is_loopback(host):
        raise ConfigError(
            f"local_registry.host {host} is not a loopback address: the local registry has "
            "no authentication and listens on loopback only",
            hint="set dlc.local_registry.host to 127.0.0.1, or dlc.registry to a real registry",
        )
    address = f"{host}:{port}"
    data = data_dir or default_data_dir(port)
    data.mkdir(parents=True, exist_ok=True)
    with locked(data / "registry.pid"):  # one start at a time, per data folder
        ours = is_ours(address, data)
        if ours:
            return address, False
        if ours is False:
            raise _foreign(address)
        return address, _start(host, port, data)


def _start(host: str, port: int, data: Path) -> bool:
    address = f"{host}:{port}"
    binary = shutil.which("docker-registry") or shutil.which("registry")
    if binary is None:
        raise ToolError(
            "no registry configured and docker-registry is not installed",
            hint="set dlc.registry, or install it (apt-get install docker-registry; ./dev does)",
        )
    from plumbum import local  # noqa: PLC0415

    (data / "storage").mkdir(parents=True, exist_ok=True)
    config = data / "config.yml"
    atomic_write_text(config, config_text(host, port, data / "storage", marker(data)), mode=0o600)
    log = (data / "registry.log").open("ab")
    process = local[binary]["serve", str(config)].popen(
        stdout=log, stderr=log, stdin=None, start_new_session=True
    )
    log.close()
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ToolError(
                f"the local registry exited with code {process.returncode}",
                hint=f"see {data / 'registry.log'}; is {address} taken by another program?",
            )
        if is_ours(address, data):
            atomic_write_text(data / "registry.pid", f"{process.pid}\n")
            return True
        time.sleep(0.1)  # polling the registry's own readiness, not guessing a delay
    process.terminate()
    raise ToolError(f"the local registry did not answer on {address} within {READY_TIMEOUT:.0f} s")


def pid_alive(data_dir: Path) -> bool:
    """True when ``registry.pid`` names a live process."""
    try:
        os.kill(int((data_dir / "registry.pid").read_text(encoding="utf-8")), 0)
    except (OSError, ValueError):
        return False
    return True
