"""Make the local Docker engine trust a registry's private CA (``dlc.ca_file``).

The engine reads ``/etc/docker/certs.d/HOST:PORT/ca.crt`` on every connection (no
restart needed). When ``ca_file`` is set and the engine runs on this machine, the
file is installed there (only if it differs) and the tool says so; when it cannot
be (not root, or a remote engine), the error says what to do. Nothing here turns
verification off: without the CA, TLS fails closed in the engine and in the
tool's own registry calls alike.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

from dlc_tasks.clients.engine import engine_is_local
from dlc_tasks.config import is_loopback
from dlc_tasks.errors import RegistryTLSError

CERTS_D = Path("/etc/docker/certs.d")


def install_ca(
    registry: str, ca_file: Path, say: Callable[[str], None], certs_d: Path = CERTS_D
) -> bool:
    """Install ``ca_file`` for ``registry`` into the engine's certs.d; True when it was written."""
    if is_loopback(registry):
        return False  # the engine does not verify loopback registries; nothing to install
    if not ca_file.is_file():
        raise RegistryTLSError(f"dlc.ca_file {ca_file} does not exist")
    target = certs_d / registry / "ca.crt"
    if target.is_file() and target.read_bytes() == ca_file.read_bytes():
        return False
    if not engine_is_local():
        raise RegistryTLSError(
            f"the engine at {os.environ['DOCKER_HOST']} must trust {ca_file} for {registry}",
            hint=f"copy it to {target} on the engine's machine",
        )
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ca_file, target)
    except OSError as err:
        raise RegistryTLSError(
            f"cannot install {ca_file} as {target}: {err.strerror}",
            hint=f"copy it there as root: cp {ca_file} {target}",
        ) from None
    say(f"the engine now trusts {ca_file} for {registry} ({target})")
    return True
