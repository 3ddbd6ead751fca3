"""``inv doctor``'s checks for a Podman engine: what it needs that Docker does not.

Each returns its ``ok`` line, raises :class:`~dlc_tasks.errors.DoctorWarning` for
something the tool works around, or a :class:`~dlc_tasks.errors.DlcError` with the fix.
Like the rest of the doctor, they change nothing. What is read on this machine (the init
binary, ``/dev/net/tun``, systemd) is the engine's machine only when ``DOCKER_HOST`` is a
unix socket; a remote engine's is said to be unknown.
"""

from __future__ import annotations

import os
from pathlib import Path

from dlc_tasks.clients import podman
from dlc_tasks.clients.engine import engine_is_local
from dlc_tasks.clients.podman import EngineIdentity
from dlc_tasks.clients.trust import certs_dirs
from dlc_tasks.config import Settings, is_loopback
from dlc_tasks.errors import DlcError, DoctorWarning, EngineError, RegistryTLSError


def registry_trust(s: Settings, identity: EngineIdentity) -> str:
    """How Podman will trust the registry: loopback plain http, a private CA, or system CAs."""
    address = s.registry_or_local()
    if is_loopback(address):
        return (
            f"{address} is plain http on loopback: pushes and pulls ask Podman for it "
            "(tlsVerify=false), as dockerd allows there by itself"
        )
    if s.ca_file is None:
        return f"{address} over https, verified against the system's CA certificates"
    dirs = certs_dirs(identity)
    found = [d / address / "ca.crt" for d in dirs if (d / address / "ca.crt").is_file()]
    if not found:
        raise RegistryTLSError(
            f"Podman does not trust dlc.ca_file for {address} yet "
            f"(it reads {', '.join(str(d) for d in dirs)})",
            hint="run inv push once (it installs the CA), "
            f"or copy {s.ca_file} to {dirs[0] / address / 'ca.crt'}",
        )
    return f"{address} over https, dlc.ca_file installed as {found[0]}"


def init_binary() -> str:
    """The container init binary Podman's ``init`` asks for, which Debian's podman lacks."""
    if not engine_is_local():
        return "not visible on a remote engine: containers run without one if it lacks it"
    path = podman.init_path()
    if path.is_file():
        return f"{path}"
    raise DoctorWarning(
        f"no container init binary at {path}: containers run without one "
        f"(apt-get install {podman.INIT_PACKAGE} to add it)"
    )


def cgroup_manager(identity: EngineIdentity) -> str:
    """Podman's cgroup manager: ``systemd`` needs systemd running, ``cgroupfs`` does not."""
    shown = f"{identity.cgroup_driver or '?'} on cgroup v{identity.cgroup_version or '?'}"
    if identity.cgroup_driver == "systemd" and engine_is_local() and not podman.systemd_running():
        raise EngineError(
            f"Podman's cgroup manager is systemd ({shown}) but systemd is not running here",
            hint='set cgroup_manager = "cgroupfs" under [engine] in containers.conf',
        )
    return shown


def rootless_network(tun: Path = podman.TUN) -> str:
    """Rootless containers' network (slirp4netns) opens /dev/net/tun as the user."""
    if not engine_is_local():
        return "a remote engine's /dev/net/tun cannot be seen from here"
    if podman.tun_usable(tun):
        return f"{tun} usable by uid {os.getuid()} (slirp4netns)"
    raise DlcError(
        f"uid {os.getuid()} cannot open {tun}: rootless containers get no network and "
        "published ports fail (check.cache-env)",
        hint=f"as root: chmod 0666 {tun} (Debian's own mode for it)",
    )


def storage_driver(identity: EngineIdentity) -> str:
    """A rootless store on ``vfs`` copies every layer whole (gigabytes for one cache image)."""
    if identity.storage_driver == "vfs":
        raise DoctorWarning(
            'the storage driver is vfs: every layer is a whole copy (set driver = "overlay" '
            "under [storage] in ~/.config/containers/storage.conf: native overlay in a user "
            "namespace needs kernel 5.13 or later)"
        )
    return identity.storage_driver or "?"
