"""Deadlines and secrets on the real engine, a real token registry and real Go.

* A Go test that goes silent (sleeps forever) ends the ``test`` step after
  ``dlc.timeouts.inactivity`` seconds of silence, in one line naming the Go command and the
  setting; no container is left behind and no stamp says the step ran.
* A secret planted in each credential source (a credential helper giving an identity token,
  the environment, ``auths`` in config.json) and every token the token server issued never
  appears in anything the run writes: its output and error, ``.dlc/`` (report, history,
  state, logs, the binary), the project's other outputs, ``GITHUB_OUTPUT`` and the step
  summary, the images' labels and history. A token server answering a token with a line
  break in it ends the run in one line that does not hold the token.

Cheap by design: one full ``inv push`` (the cache image already in the registry), then runs
that skip everything but the registry lookups.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

from dlc_tasks.secrets import forms_of
from tests.integration.conftest import Registry, inv, ok
from tests.integration.test_failures import one_error_line
from tests.integration.test_token_auth import PROD, token_registry
from tests.support.containers import go_step_containers
from tests.support.credhelper import fake_helper
from tests.support.tokenserver import TokenServer

pytestmark = pytest.mark.integration

HANG_TEST = """package server

import (
\t"testing"
\t"time"
)

func TestWaitsForever(t *testing.T) { time.Sleep(time.Hour) }
"""


def test_a_go_test_that_goes_silent_ends_at_the_inactivity_deadline(
    service: Path, warm_registry: Registry, engine: docker.DockerClient
) -> None:
    """Before the fix the exec stream was read with no timeout at all (docker-py polls the
    socket with none): the run waited for the hour, printing nothing."""
    (service / "pkg" / "server" / "hang_test.go").write_text(HANG_TEST)
    env = {"INVOKE_DLC_TIMEOUTS_INACTIVITY": "15"}
    result = inv("test", project=service, registry=warm_registry.address, env=env)
    assert result.returncode == 1, result.stdout + result.stderr
    line = one_error_line(result)
    assert "go test" in line and "printed nothing and made no progress for 15 s" in line
    assert "dlc.timeouts.inactivity" in line
    assert "test: failed" in result.stdout
    assert go_step_containers(engine, warm_registry.address) == []
    state = json.loads((service / ".dlc" / "state.json").read_text())
    assert "test" not in state


# -- secrets ---------------------------------------------------------------------------------

IDENTITY = 'id-tök"en\\-sentinel-1f3a'
ENV_PASSWORD = 'env-pä$$"w\\ord-雪-sentinel-77c2'
AUTHS_PASSWORD = "auths-p@ss:word-ü-sentinel-9d0e"


@pytest.fixture
def secret_tokens(tmp_path: Path) -> Iterator[TokenServer]:
    server = TokenServer(
        tmp_path / "tokens",
        users={"envuser": ENV_PASSWORD, "authsuser": AUTHS_PASSWORD},
        refresh_tokens={IDENTITY: "ci"},
    ).start()
    yield server
    server.stop()


@pytest.fixture
def secret_registry(
    tmp_path: Path, secret_tokens: TokenServer, service_cache_seed: Path
) -> Iterator[Registry]:
    reg = token_registry(tmp_path, secret_tokens, seed=service_cache_seed)
    yield reg
    reg.process.terminate()
    reg.process.wait(10)


def written_by_the_run(
    result: subprocess.CompletedProcess[str],
    project: Path,
    ci_files: list[Path],
    engine: docker.DockerClient,
    images: list[str],
) -> dict[str, bytes]:
    """Everything a run writes, by where it is: its output, every file of the project that git
    does not hold (``.dlc/`` and all), the CI files, the images' inspect and history."""
    found = {"stdout": result.stdout.encode(), "stderr": result.stderr.encode()}
    for path in project.rglob("*"):
        if path.is_file() and ".git" not in path.relative_to(project).parts:
            found[str(path.relative_to(project))] = path.read_bytes()
    for path in ci_files:
        found[path.name] = path.read_bytes() if path.exists() else b""
    for image in images:
        found[f"inspect {image}"] = json.dumps(engine.api.inspect_image(image)).encode()
        found[f"history {image}"] = json.dumps(engine.api.history(image)).encode()
    return found


def holding(secret: str, written: dict[str, bytes]) -> list[str]:
    """Where any form of ``secret`` appears."""
    forms = [form.encode() for form in forms_of(secret)]
    return sorted(where for where, data in written.items() if any(f in data for f in forms))


def test_no_secret_from_any_credential_source_reaches_anything_a_run_writes(
    service: Path,
    secret_registry: Registry,
    secret_tokens: TokenServer,
    engine: docker.DockerClient,
    tmp_path: Path,
) -> None:
    address = secret_registry.address
    summary, outputs = tmp_path / "summary.md", tmp_path / "outputs"
    ci = {"GITHUB_STEP_SUMMARY": str(summary), "GITHUB_OUTPUT": str(outputs)}
    images = [f"{address}/{PROD}:latest"]

    def run(config: dict[str, object], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
        folder = tmp_path / f"docker-config-{len(config)}-{len(env)}"
        folder.mkdir(exist_ok=True)
        (folder / "config.json").write_text(json.dumps(config))
        path = f"{tmp_path / 'bin'}:{os.environ['PATH']}"
        full = {"DOCKER_CONFIG": str(folder), "PATH": path, **ci, **env}
        return inv("push", project=service, registry=address, env=full)

    # 1. A credential helper answering an identity token (helper secret + identity token):
    # the whole chain, the tool's and the engine's refresh-token grants.
    fake_helper(tmp_path / "bin", "planted", {address: ("<token>", IDENTITY)})
    first = run({"credHelpers": {address: "planted"}}, {})
    assert "push: ran" in ok(first)
    issued = list(secret_tokens.issued)
    assert issued
    written = written_by_the_run(first, service, [summary, outputs], engine, images)
    for secret in [IDENTITY, *issued]:
        assert holding(secret, written) == [], secret

    # 2. The environment; 3. auths in config.json: runs that skip the work but still log in.
    auth = base64.b64encode(f"authsuser:{AUTHS_PASSWORD}".encode()).decode()
    for secret, config, env in [
        (
            ENV_PASSWORD,
            {},
            {"DLC_REGISTRY_USERNAME": "envuser", "DLC_REGISTRY_PASSWORD": ENV_PASSWORD},
        ),
        (AUTHS_PASSWORD, {"auths": {address: {"auth": auth}}}, {}),
    ]:
        since = len(secret_tokens.log)
        again = run(config, env)
        ok(again)
        assert any(r.status == 200 for r in secret_tokens.log[since:])  # it did log in
        written = written_by_the_run(again, service, [summary, outputs], engine, images)
        new_tokens = [t for t in secret_tokens.issued if t not in issued]
        for planted in [secret, auth, *new_tokens]:
            assert holding(planted, written) == [], planted

    # 4. A token server answering a token that would inject a header line.
    hostile = "eyJhbGciOiJSUzI1NiJ9.e30.c2ln\r\nX-Injected: 1-sentinel-4b1d"
    secret_tokens.tamper = lambda answer: {**answer, "token": hostile, "access_token": hostile}
    failed = run({"credHelpers": {address: "planted"}}, {})
    line = one_error_line(failed)
    assert "b64token" in line and "it was not used" in line
    written = written_by_the_run(failed, service, [summary, outputs], engine, images)
    assert holding(hostile, written) == []
