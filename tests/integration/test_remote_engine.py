"""A second Docker engine, reached over TCP with mutual TLS, as a remote machine's would be.

The fixture starts another ``dockerd`` (``tests/support/dockerd.py``) with its own data
root, its own bridge (10.213.78.1/24, made here) and ``--tlsverify`` on 127.0.0.1, with a CA, a
server and a client certificate made by openssl, and loads the local base images
into it. The client side is the standard ``DOCKER_HOST`` / ``DOCKER_TLS_VERIFY`` /
``DOCKER_CERT_PATH``: the tool reaches it through the SDK like the docker CLI does,
and because a remote engine cannot bind-mount this machine's files, the Go steps
copy the tree in and the results back.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.conftest import Registry, free_port, git_sha, inv, inv_background, ok
from tests.support.certs import make_ca, make_cert
from tests.support.dockerd import SecondEngine

pytestmark = pytest.mark.integration
BRIDGE, BRIDGE_CIDR = "dlcbr0", "10.213.78.1/24"


def sh(*argv: str, **kwargs: object) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(list(argv), check=True, capture_output=True, **kwargs)  # type: ignore[call-overload]


def certificates(folder: Path) -> tuple[Path, Path]:
    """(server folder, client DOCKER_CERT_PATH) with ca.pem, cert.pem, key.pem in each."""
    ca = make_ca(folder, "dlc-engine-ca")
    server, client = folder / "server", folder / "client"
    make_cert(
        server, ca, "/CN=127.0.0.1", "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n"
    )
    make_cert(client, ca, "/CN=dlc-client", "extendedKeyUsage=clientAuth\n")
    for where in (server, client):
        shutil.copy(ca[0], where / "ca.pem")
    return server, client


@pytest.fixture(scope="module")
def remote_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    root = tmp_path_factory.mktemp("engine")
    server, client = certificates(root)
    engine = SecondEngine(root, BRIDGE, BRIDGE_CIDR, tcp=(free_port(), server), client_certs=client)
    try:
        engine.start()
        env = engine.client_env()
        saved = sh("docker", "save", "dlc-local/golang:1.27.3", "dlc-local/runtime:1").stdout
        sh("docker", "load", input=saved, env={**os.environ, **env})
        yield env
    finally:
        engine.stop()


def test_push_through_a_remote_engine_over_tls(
    service: Path, warm_registry: Registry, remote_engine: dict[str, str]
) -> None:
    out = ok(inv("push", project=service, registry=warm_registry.address, env=remote_engine))
    assert "copied back from the engine" in out
    assert (service / "coverage.out").read_text().startswith("mode: atomic")
    assert (service / "pkg" / "server" / "openapi.json").is_file()
    # copied back with normalised modes (the container runs as root with its own umask),
    # through a staging folder that is gone afterwards
    modes = {
        rel: stat.S_IMODE((service / rel).stat().st_mode)
        for rel in ("coverage.out", "pkg/server/openapi.json", ".dlc/bin/dance-lessons-coach")
    }
    assert modes == {
        "coverage.out": 0o644,
        "pkg/server/openapi.json": 0o644,
        ".dlc/bin/dance-lessons-coach": 0o755,
    }
    assert not list((service / ".dlc").glob("copy-back-*"))
    sha = git_sha(service)
    assert warm_registry.tags("arcodange/dance-lessons-coach") == sorted(["1.0.0", "latest", sha])
    digests = {warm_registry.digest("arcodange/dance-lessons-coach", t) for t in ("1.0.0", sha)}
    assert len(digests) == 1
    images = sh(
        "docker", "images", "--format", "{{.Repository}}", env={**os.environ, **remote_engine}
    ).stdout.decode()
    assert f"{warm_registry.address}/arcodange/dance-lessons-coach" in images  # built there
    local = sh("docker", "images", "--format", "{{.Repository}}:{{.Tag}}").stdout.decode()
    assert f"{warm_registry.address}/arcodange/dance-lessons-coach:{sha}" not in local  # not here
    state = json.loads((service / ".dlc" / "state.json").read_text())
    assert state["push"]["digest"] in digests

    # A second run after an edit, reusing this one's engine, cache image and Go cache: the
    # binary the first run left in .dlc/bin (never sent in) is replaced by the new one.
    binary = service / ".dlc" / "bin" / "dance-lessons-coach"
    first = binary.read_bytes()
    main = service / "cmd" / "server" / "main.go"
    main.write_text(main.read_text().replace('"server failed"', '"the server failed"'))
    out = ok(inv("test", project=service, registry=warm_registry.address, env=remote_engine))
    assert "copied back from the engine" in out
    assert binary.read_bytes() != first
    state = json.loads((service / ".dlc" / "state.json").read_text())
    digest = hashlib.sha256(binary.read_bytes()).hexdigest()
    assert state["test"]["binaries"]["dance-lessons-coach"] == digest
    assert not list((service / ".dlc").glob("copy-back-*"))


def test_without_tls_verification_material_the_remote_engine_is_refused(
    service: Path, registry: Registry, remote_engine: dict[str, str]
) -> None:
    env = {**remote_engine, "DOCKER_CERT_PATH": str(service)}  # no client certificate there
    result = inv("cache", "--force", project=service, registry=registry.address, env=env)
    assert result.returncode == 1
    assert "cannot reach the Docker engine" in result.stderr


def test_a_file_edited_here_during_a_remote_run_is_kept_and_named(
    service: Path, warm_registry: Registry, remote_engine: dict[str, str]
) -> None:
    """The generate step signals that it runs (the tree is in the container), waits for the
    test to edit ``notes.txt`` here, then changes its own copy: the copy-back must refuse."""
    notes = service / "notes.txt"
    notes.write_text("sent\n")
    step = (
        "touch /tmp/dlc-step-running; "
        "until [ -f /tmp/dlc-go-on ]; do sleep 0.1; done; "  # waits for the test's signal
        "echo from-the-container >> notes.txt; "
        "echo generated > generated.txt"
    )
    config = service / "edit-during-run.yaml"
    config.write_text(f"dlc:\n  generate: [[sh, -c, {json.dumps(step)}]]\n")
    env = {**os.environ, **remote_engine}
    run = inv_background(
        "-f",
        str(config),
        "generate",
        project=service,
        registry=warm_registry.address,
        env=remote_engine,
    )
    try:
        deadline = time.monotonic() + 600
        while True:
            found = subprocess.run(
                ["docker", "ps", "-q", "--filter", "label=dlc-tasks.role=go-step"],
                env=env,
                capture_output=True,
                text=True,
                check=True,
            ).stdout.split()
            running = (
                found
                and subprocess.run(
                    ["docker", "exec", found[0], "test", "-f", "/tmp/dlc-step-running"],
                    env=env,
                    capture_output=True,
                    check=False,
                ).returncode
                == 0
            )
            if running:
                break
            assert run.poll() is None, run.communicate()
            assert time.monotonic() < deadline, "the generate step never started"
            time.sleep(0.2)  # polling for the step's own signal, not guessing a delay
        notes.write_text("my edit\n")
        sh("docker", "exec", found[0], "touch", "/tmp/dlc-go-on", env=env)
        _, err = run.communicate(timeout=300)
    finally:
        if run.poll() is None:
            run.kill()
            run.communicate()
    assert run.returncode == 1, err
    assert "notes.txt" in err and "changed here while the Go steps ran" in err
    assert len(err.strip().splitlines()) == 1, err
    assert notes.read_text() == "my edit\n"
    assert not (service / "generated.txt").exists()  # all or nothing
    assert not list((service / ".dlc").glob("copy-back-*"))
