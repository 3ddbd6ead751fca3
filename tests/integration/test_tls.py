"""A registry with a certificate from a private CA, on an address of its own.

The engine skips certificate checks for every registry on 127.0.0.0/8, so a TLS
test on loopback proves nothing. This one runs the registry inside a network
namespace the test makes (a veth pair, 10.213.77.1 on this side, 10.213.77.2 in
the namespace), with a CA and a server certificate made by openssl. Without
``dlc.ca_file`` the tool fails closed and says so; with it, the tool's own
registry calls and the engine (through certs.d) both trust the registry.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from dlc_tasks.clients.trust import CERTS_D
from tests.integration.conftest import Registry, inv, ok, start_registry
from tests.support.certs import make_ca, make_cert

pytestmark = pytest.mark.integration
HOST_IP, REGISTRY_IP, PORT = "10.213.77.1", "10.213.77.2", 5443
ADDRESS = f"{REGISTRY_IP}:{PORT}"


def sh(*argv: str) -> None:
    subprocess.run(list(argv), check=True, capture_output=True)


def make_certificates(folder: Path) -> tuple[Path, Path, Path]:
    """A CA, and a server certificate for REGISTRY_IP signed by it."""
    ca = make_ca(folder, "dlc-test-ca")
    crt, key = make_cert(
        folder / "server", ca, f"/CN={REGISTRY_IP}", f"subjectAltName=IP:{REGISTRY_IP}\n"
    )
    return ca[0], crt, key


@pytest.fixture
def tls_registry(tmp_path: Path) -> Iterator[tuple[Registry, Path]]:
    namespace = f"dlcreg{os.getpid()}"
    host_if, ns_if = f"dlch{os.getpid() % 100000}", f"dlcr{os.getpid() % 100000}"
    sh("ip", "netns", "add", namespace)
    try:
        sh("ip", "link", "add", host_if, "type", "veth", "peer", "name", ns_if)
        sh("ip", "link", "set", ns_if, "netns", namespace)
        sh("ip", "addr", "add", f"{HOST_IP}/30", "dev", host_if)
        sh("ip", "link", "set", host_if, "up")
        inside = ["ip", "netns", "exec", namespace]
        sh(*inside, "ip", "addr", "add", f"{REGISTRY_IP}/30", "dev", ns_if)
        sh(*inside, "ip", "link", "set", ns_if, "up")
        sh(*inside, "ip", "link", "set", "lo", "up")
        ca, crt, key = make_certificates(tmp_path)
        extra = f"  tls:\n    certificate: {crt}\n    key: {key}\n"
        registry = start_registry(
            tmp_path / "registry", extra, host=REGISTRY_IP, port=PORT, prefix=inside
        )
        yield registry, ca
        registry.process.terminate()
        registry.process.wait(10)
    finally:
        subprocess.run(["ip", "netns", "delete", namespace], check=False)
        subprocess.run(["ip", "link", "delete", host_if], check=False, capture_output=True)
        shutil.rmtree(CERTS_D / ADDRESS, ignore_errors=True)


def test_private_ca(service: Path, tls_registry: tuple[Registry, Path]) -> None:
    registry, ca = tls_registry
    shutil.rmtree(CERTS_D / ADDRESS, ignore_errors=True)

    # without the CA: fails closed, before anything is built, naming the fix
    refused = inv(
        "cache",
        project=service,
        registry=registry.address,
        env={"INVOKE_DLC_RETRIES_ATTEMPTS": "1"},
    )
    assert refused.returncode == 1
    line = refused.stderr.strip()
    assert "cannot verify the TLS certificate" in line
    assert "ca_file" in line
    assert "building" not in refused.stdout
    # and the engine, on its own, refuses the registry too (no silent insecure fallback)
    pulled = subprocess.run(
        ["docker", "pull", f"{ADDRESS}/x/y:z"], check=False, capture_output=True, text=True
    )
    assert "x509" in pulled.stderr or "certificate" in pulled.stderr

    # with the CA: the tool trusts it, installs it for the engine, builds and pushes
    out = ok(
        inv(
            "cache", project=service, registry=registry.address, env={"INVOKE_DLC_CA_FILE": str(ca)}
        )
    )
    assert "cache: miss" in out
    assert f"the engine now trusts {ca}" in out
    assert (CERTS_D / ADDRESS / "ca.crt").read_bytes() == ca.read_bytes()
    cert_dir = ca.parent / "skopeo-certs"
    cert_dir.mkdir()
    shutil.copy(ca, cert_dir / "ca.crt")
    tags = subprocess.run(
        [
            "skopeo",
            "list-tags",
            "--cert-dir",
            str(cert_dir),
            f"docker://{ADDRESS}/arcodange/dance-lessons-coach-build-cache",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert (service / "deps_hash.env").read_text().split("=")[1].strip() in tags
