"""What Podman needs that Docker does not, behind the Docker API both serve.

``podman system service`` speaks the Docker API, so :class:`~dlc_tasks.clients.engine.Engine`
drives it through the same SDK calls. Where the two differ, the engine asks this module:

* **which engine it is**: :func:`identify` reads the version document (Podman names a
  ``Podman Engine`` component) and ``/info`` (rootless, cgroup manager and version);
* **plain-http loopback registries**: dockerd trusts 127.0.0.0/8 by itself, Podman does not
  (``http: server gave HTTP response to HTTPS client``). The tool talks plain http to a
  loopback registry (and only to one), so it asks Podman for the same: ``tlsVerify=false``
  on the compat push and on the libpod pull (the compat pull ignores it), for a loopback
  registry only (:func:`registry_params`); every other registry keeps TLS verification;
* **no init binary**: a container created with ``init`` fails at creation when Podman's
  ``init_path`` (``/usr/libexec/podman/catatonit``, Debian's ``catatonit``) is missing
  (:func:`init_missing`); the engine then creates containers without one and says so once;
* **rlimits**: rootful Podman raises every container's ``nofile`` and ``nproc`` to 1048576,
  which fails where the engine lacks ``CAP_SYS_RESOURCE`` above its own hard limits
  (:func:`rlimit_refused`); the engine then passes the service's own limits
  (:func:`service_limits`, through the socket's peer process) or :data:`FALLBACK_LIMIT`;
* **ownership under a rootless user namespace**: a rootless service maps the container's
  root to the user who runs it, so the Go steps run as ``0:0`` there to write files owned
  by that user (:attr:`EngineIdentity.maps_root_to_caller`);
* what ``inv doctor`` checks for Podman: :func:`init_path`, :func:`tun_usable`,
  :func:`systemd_running`.
"""

from __future__ import annotations

import os
import re
import socket
import struct
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dlc_tasks.config import is_loopback

PODMAN_COMPONENT = "Podman Engine"
DEFAULT_INIT_PATH = Path("/usr/libexec/podman/catatonit")
INIT_PACKAGE = "catatonit"
# containers.conf, lowest precedence first (containers-common's order; the user's last).
CONTAINERS_CONF = (
    Path("/usr/share/containers/containers.conf"),
    Path("/etc/containers/containers.conf"),
)
TUN = Path("/dev/net/tun")
# Open files and processes a container gets when Podman cannot give its own defaults and
# the service's limits cannot be read (a remote service): the kernel's default hard limit
# of open files, ample for go build and go test.
FALLBACK_LIMIT = 4096
_LIMITS = {"nofile": "Max open files", "nproc": "Max processes"}


@dataclass(frozen=True)
class EngineIdentity:
    """Which engine answers on DOCKER_HOST, as ``doctor`` and the engine's choices need it."""

    name: str  # "Docker" or "Podman"
    version: str
    api_version: str
    rootless: bool = False
    cgroup_driver: str = ""
    cgroup_version: str = ""
    storage_driver: str = ""

    @property
    def is_podman(self) -> bool:
        """True for ``podman system service``."""
        return self.name == "Podman"

    @property
    def maps_root_to_caller(self) -> bool:
        """True when the container's root is the user who runs the engine (rootless Podman):
        files a container's root writes into a bind mount land owned by that user."""
        return self.is_podman and self.rootless

    def describe(self) -> str:
        """``Podman 4.3.1 (API 1.41, rootless, cgroup manager cgroupfs, cgroup v1)``."""
        details = [f"API {self.api_version}"]
        if self.is_podman:
            details.append("rootless" if self.rootless else "rootful")
        if self.cgroup_driver:
            details.append(f"cgroup manager {self.cgroup_driver}")
        if self.cgroup_version:
            details.append(f"cgroup v{self.cgroup_version}")
        return f"{self.name} {self.version} ({', '.join(details)})"


def identify(version: Mapping[str, Any], info: Mapping[str, Any]) -> EngineIdentity:
    """The engine's identity from its ``/version`` and ``/info`` documents."""
    components = version.get("Components") or []
    podman = next(
        (c for c in components if isinstance(c, dict) and c.get("Name") == PODMAN_COMPONENT),
        None,
    )
    return EngineIdentity(
        name="Podman" if podman is not None else "Docker",
        version=str((podman or {}).get("Version") or version.get("Version") or "?"),
        api_version=str(version.get("ApiVersion") or "?"),
        rootless=bool(info.get("Rootless")) if podman is not None else False,
        cgroup_driver=str(info.get("CgroupDriver") or ""),
        cgroup_version=str(info.get("CgroupVersion") or ""),
        storage_driver=str(info.get("Driver") or ""),
    )


def registry_of(repository: str) -> str:
    """The registry host of ``HOST[:PORT]/path`` (a reference without one names Docker Hub)."""
    first, _, rest = repository.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        return first
    return "docker.io"


def registry_params(identity: EngineIdentity, repository: str) -> dict[str, str]:
    """Query parameters a push or pull of ``repository`` needs: ``tlsVerify=false`` for a
    loopback registry on Podman (plain http, as dockerd allows there by itself), else none."""
    if identity.is_podman and is_loopback(registry_of(repository)):
        return {"tlsVerify": "false"}
    return {}


def init_missing(message: str) -> bool:
    """True for Podman's refusal to create a container with ``init`` and no init binary."""
    return "container-init binary not found" in message


def rlimit_refused(message: str) -> bool:
    """True when the runtime could not set the rlimits Podman asked for (no CAP_SYS_RESOURCE)."""
    return "error setting rlimit" in message


def socket_path(docker_host: str) -> Path | None:
    """The unix socket of ``unix:///PATH``, else None (a TCP engine)."""
    return Path(docker_host.removeprefix("unix://")) if docker_host.startswith("unix://") else None


def service_limits(sock: Path | None) -> dict[str, int]:
    """``nofile`` and ``nproc`` for containers: the serving process's own hard limits (its pid
    from the socket's peer credentials, its limits from /proc), else :data:`FALLBACK_LIMIT`."""
    limits = dict.fromkeys(_LIMITS, FALLBACK_LIMIT)
    if sock is None:
        return limits
    try:
        with socket.socket(socket.AF_UNIX) as conn:
            conn.connect(str(sock))
            creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
        pid = struct.unpack("3i", creds)[0]
        text = Path(f"/proc/{pid}/limits").read_text(encoding="utf-8")
    except OSError:
        return limits
    for name, label in _LIMITS.items():
        match = re.search(rf"^{label}\s+\S+\s+(\d+)", text, re.M)
        if match:
            limits[name] = int(match.group(1))
    return limits


def init_path(files: Sequence[Path] = CONTAINERS_CONF) -> Path:
    """The init binary Podman uses: the last ``[engine] init_path`` set in containers.conf
    (the user's own file last), else :data:`DEFAULT_INIT_PATH`."""
    user = Path(os.path.expanduser("~/.config/containers/containers.conf"))
    found = DEFAULT_INIT_PATH
    for path in (*files, user):
        try:
            engine = tomllib.loads(path.read_text(encoding="utf-8")).get("engine", {})
        except (OSError, tomllib.TOMLDecodeError):
            continue
        if isinstance(engine, dict) and engine.get("init_path"):
            found = Path(str(engine["init_path"]))
    return found


def tun_usable(tun: Path = TUN) -> bool:
    """True when this user can open /dev/net/tun (rootless networking, slirp4netns)."""
    return os.access(tun, os.R_OK | os.W_OK)


def systemd_running() -> bool:
    """True when systemd is the init system (what Podman's ``systemd`` cgroup manager needs)."""
    return Path("/run/systemd/system").is_dir()
