"""Make the local Docker engine trust a registry's private CA (``dlc.ca_file``).

The engine reads ``/etc/docker/certs.d/HOST:PORT/ca.crt`` on every connection (no
restart needed); so does a rootful Podman, and a rootless one reads the user's
``~/.config/containers/certs.d`` too (:func:`certs_dirs`). When ``ca_file`` is set and
the engine runs on this machine, the file is installed there (only if it differs) and
the tool says so; when it cannot be (not root, or a remote engine), the error says what
to do. Nothing here turns
verification off: without the CA, TLS fails closed in the engine and in the
tool's own registry calls alike.

Only certificates are installed: a file holding a private key is refused (naming
the key's PEM label, never its content), a file without a PEM certificate is
refused, and the file written holds the certificate blocks alone, mode 0644,
through a temporary file and a rename. A different CA already installed for the
host is kept: both go into the bundle, and the tool says so.
"""

from __future__ import annotations

import os
import re
import ssl
from collections.abc import Callable
from pathlib import Path

from dlc_tasks._files import atomic_write_bytes
from dlc_tasks.clients.engine import engine_is_local
from dlc_tasks.clients.podman import EngineIdentity
from dlc_tasks.config import is_loopback
from dlc_tasks.errors import RegistryTLSError

CERTS_D = Path("/etc/docker/certs.d")
# Where Podman reads a registry's CA (containers-certs.d(5)); it reads Docker's folder too.
PODMAN_CERTS_D = Path("/etc/containers/certs.d")
_PEM = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----\r?\n(.*?)-----END \1-----", re.DOTALL)
FIX = "set dlc.ca_file to a PEM file holding only the CA certificate(s)"


def certificates(data: bytes, source: object) -> list[bytes]:
    """The PEM certificate blocks of ``data``, normalised; refuse keys and non-certificates."""
    blocks = _PEM.findall(data)
    for label, _ in blocks:
        if b"PRIVATE KEY" in label:
            raise RegistryTLSError(
                f"{source} holds a private key ({label.decode()}) beside the certificate: "
                "it would be readable by every user of the machine",
                hint=FIX,
            )
    certs = []
    for label, body in blocks:
        if label != b"CERTIFICATE":
            continue
        pem = b"-----BEGIN CERTIFICATE-----\n" + body.strip() + b"\n-----END CERTIFICATE-----\n"
        try:
            ssl.create_default_context(cadata=pem.decode("ascii"))
        except (ssl.SSLError, ValueError, UnicodeDecodeError) as err:
            raise RegistryTLSError(f"{source} holds a malformed certificate", hint=FIX) from err
        certs.append(pem)
    if not certs:
        raise RegistryTLSError(f"{source} is not a PEM certificate", hint=FIX)
    return certs


def certs_dirs(identity: EngineIdentity) -> list[Path]:
    """The folders the engine reads registry CAs from, the one :func:`install_ca` writes first.

    Docker and rootful Podman both read ``/etc/docker/certs.d``; a rootless Podman also reads
    the user's ``~/.config/containers/certs.d``, the one such a user can write.
    """
    if identity.maps_root_to_caller:
        user = Path(os.path.expanduser("~/.config/containers/certs.d"))
        return [user, PODMAN_CERTS_D, CERTS_D]
    if identity.is_podman:
        return [CERTS_D, PODMAN_CERTS_D]
    return [CERTS_D]


def install_ca(
    registry: str, ca_file: Path, say: Callable[[str], None], certs_d: Path = CERTS_D
) -> bool:
    """Install ``ca_file`` for ``registry`` into the engine's certs.d; True when it was written."""
    if is_loopback(registry):
        return False  # the engine does not verify loopback registries; nothing to install
    if not ca_file.is_file():
        raise RegistryTLSError(f"dlc.ca_file {ca_file} does not exist")
    new = certificates(ca_file.read_bytes(), f"dlc.ca_file {ca_file}")
    target = certs_d / registry / "ca.crt"
    try:
        existing = certificates(target.read_bytes(), target) if target.is_file() else []
    except RegistryTLSError:
        existing = []  # not ours to keep: a key or garbage there is replaced by certificates
    added = [c for c in new if c not in existing]
    if not added:
        return False
    if not engine_is_local():
        raise RegistryTLSError(
            f"the engine at {os.environ['DOCKER_HOST']} must trust {ca_file} for {registry}",
            hint=f"copy it to {target} on the engine's machine",
        )
    try:
        atomic_write_bytes(target, b"".join(existing + added), mode=0o644)
    except OSError as err:
        raise RegistryTLSError(
            f"cannot install {ca_file} as {target}: {err.strerror}",
            hint=f"copy it there as root: cp {ca_file} {target}",
        ) from err
    if existing:
        say(
            f"the engine now trusts {ca_file} for {registry} beside the {len(existing)} "
            f"certificate(s) already in {target} (kept)"
        )
    else:
        say(f"the engine now trusts {ca_file} for {registry} ({target})")
    return True
