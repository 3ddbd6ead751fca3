"""A real Distribution registry in token mode, with the suite's token server (RS256 JWTs, x5c).

The registry (``auth: token`` with ``realm``, ``service``, ``issuer``,
``rootcertbundle``) accepts only tokens the token server signed, for exactly
the scopes they carry: one token per repository scope, as GHCR, Docker Hub,
Harbor and GitLab issue them. The engine pushes with the same credentials the
tool resolved; the token server's log tells the engine's requests from the tool's.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

from dlc_tasks.clients.credentials import Credentials
from dlc_tasks.clients.registry import RegistryClient, TokenError
from tests.integration.conftest import Registry, inv, ok, start_registry
from tests.integration.test_failures import one_error_line
from tests.support.certs import make_ca, make_cert
from tests.support.credhelper import fake_helper
from tests.support.tokenserver import TokenServer

pytestmark = pytest.mark.integration
PASSWORD = "tok3n-sentinel-pw"
ENV = {"DLC_REGISTRY_USERNAME": "ci", "DLC_REGISTRY_PASSWORD": PASSWORD}
CACHE = "arcodange/dance-lessons-coach-build-cache"
PROD = "arcodange/dance-lessons-coach"
SERVICE = "dlc-test-registry"


@pytest.fixture
def tokens(tmp_path: Path) -> Iterator[TokenServer]:
    server = TokenServer(tmp_path / "tokens", users={"ci": PASSWORD}).start()
    yield server
    server.stop()


def token_registry(tmp: Path, tokens: TokenServer, realm: str | None = None) -> Registry:
    return start_registry(tmp / "registry", tokens.registry_config(SERVICE, realm))


@pytest.fixture
def registry_t(tmp_path: Path, tokens: TokenServer) -> Iterator[Registry]:
    reg = token_registry(tmp_path, tokens)
    yield reg
    reg.process.terminate()
    reg.process.wait(10)


def tool_requests(tokens: TokenServer, since: int = 0) -> list[str]:
    """The scopes the tool (python-requests) asked for, in order, from log entry ``since``."""
    return [
        s for r in tokens.log[since:] if r.agent.startswith("python-requests") for s in r.scopes
    ]


def test_inv_push_twice_doctor_and_prune_against_a_token_registry(
    service: Path, registry_t: Registry, tokens: TokenServer, engine: docker.DockerClient
) -> None:
    out = ok(inv("push", project=service, registry=registry_t.address, env=ENV))
    assert "push: ran" in out
    first = list(tokens.log)
    assert first and all(r.status == 200 and r.who == "ci" for r in first)
    scopes = {s for r in first for s in r.scopes}
    assert f"repository:{CACHE}:pull" in scopes
    assert any(s.startswith(f"repository:{PROD}:") and "push" in s for s in scopes), scopes
    mine = tool_requests(tokens)
    assert len(mine) == len(set(mine)), mine  # the tool: one token per scope, reused in the run
    (service / ".dlc" / "token-log.json").write_text(
        json.dumps([r.__dict__ for r in first], indent=1)  # for the closing note
    )

    second = len(tokens.log)
    out = ok(inv("push", project=service, registry=registry_t.address, env=ENV))
    assert "cache: hit" in out
    assert PASSWORD not in out

    doctor = ok(inv("doctor", project=service, registry=registry_t.address, env=ENV))
    line = next(x for x in doctor.splitlines() if "registry" in x and "answers /v2/" in x)
    assert "credentials: environment" in line
    assert f"cache {CACHE}: pull,push" in line and f"service {PROD}: pull,push" in line
    assert PASSWORD not in doctor
    assert len(tokens.log) > second

    # A second tag on the current cache image's digest, and an older hash tag on it too.
    creds = Credentials("ci", PASSWORD, source="test")
    client = RegistryClient(registry_t.address, credentials=creds)
    current = (service / "deps_hash.env").read_text().strip().split("=")[1]
    image = engine.images.get(f"{registry_t.address}/{CACHE}:{current}")
    for tag in ("stable", "1" * 64):
        image.tag(f"{registry_t.address}/{CACHE}", tag)
        engine.images.push(
            f"{registry_t.address}/{CACHE}",
            tag,
            auth_config={"username": "ci", "password": PASSWORD},
        )
    digest = client.manifest_digest(CACHE, current)
    assert client.manifest_digest(CACHE, "stable") == digest
    pruned = ok(
        inv("cache.prune", "--keep", "0", project=service, registry=registry_t.address, env=ENV)
    )
    assert "deleted 0 cache tag(s)" in pruned
    assert "(same digest as kept tag" in pruned and "(not a cache hash)" in pruned
    assert client.tags(CACHE) == sorted([current, "stable", "1" * 64])
    assert client.manifest_digest(CACHE, current) == digest

    # An image nothing else names (the service image, under an old hash tag) is deleted:
    # the DELETE gets its own token for the delete scope the registry asks for.
    prod = engine.images.get(f"{registry_t.address}/{PROD}:latest")
    prod.tag(f"{registry_t.address}/{CACHE}", "2" * 64)
    engine.images.push(
        f"{registry_t.address}/{CACHE}",
        "2" * 64,
        auth_config={"username": "ci", "password": PASSWORD},
    )
    since = len(tokens.log)
    pruned = ok(
        inv("cache.prune", "--keep", "0", project=service, registry=registry_t.address, env=ENV)
    )
    assert "deleted 1 cache tag(s)" in pruned
    assert client.tags(CACHE) == sorted([current, "stable", "1" * 64])
    assert any("delete" in s for s in tool_requests(tokens, since)), tokens.log[since:]


def test_a_wrong_password_at_the_token_endpoint_is_one_line_before_any_build(
    service: Path, registry_t: Registry, tokens: TokenServer
) -> None:
    env = {**ENV, "DLC_REGISTRY_PASSWORD": "wrong-" + PASSWORD}
    result = inv("push", project=service, registry=registry_t.address, env=env)
    assert result.returncode == 1
    line = one_error_line(result)
    assert registry_t.address in line and tokens.realm in line
    assert "credentials: environment" in line and "401" in line
    assert PASSWORD not in result.stdout + result.stderr
    assert "building" not in result.stdout


def test_a_token_server_that_is_down_is_one_line(
    service: Path, registry_t: Registry, tokens: TokenServer
) -> None:
    tokens.stop()
    env = {**ENV, "INVOKE_DLC_RETRIES_ATTEMPTS": "2", "INVOKE_DLC_RETRIES_BASE_DELAY": "0"}
    result = inv("push", project=service, registry=registry_t.address, env=env)
    assert result.returncode == 1
    line = one_error_line(result)
    assert tokens.realm in line and "unreachable" in line and "credentials: environment" in line


def test_a_plain_http_realm_on_another_host_is_refused_without_sending_credentials(
    service: Path, tmp_path: Path, tokens: TokenServer
) -> None:
    realm = "http://192.0.2.10:8080/token"  # TEST-NET-1: nothing answers, nothing may be sent
    reg = token_registry(tmp_path, tokens, realm)
    try:
        result = inv("push", project=service, registry=reg.address, env=ENV)
    finally:
        reg.process.terminate()
        reg.process.wait(10)
    assert result.returncode == 1
    line = one_error_line(result)
    assert f"refused to send credentials to the token realm {realm}" in line
    assert "building" not in result.stdout


def test_an_https_realm_with_a_private_ca(tmp_path: Path, tokens: TokenServer) -> None:
    ca = make_ca(tmp_path, "dlc token test CA")
    cert = make_cert(tmp_path / "tls", ca, "/CN=127.0.0.1", "subjectAltName=IP:127.0.0.1\n")
    secure = TokenServer(tmp_path / "secure", users={"ci": PASSWORD}, tls=cert).start()
    reg = token_registry(tmp_path, secure)
    try:
        creds = Credentials("ci", PASSWORD, source="test")
        with pytest.raises(TokenError) as caught:  # without the CA: fails closed, one line
            RegistryClient(reg.address, credentials=creds).tags(CACHE)
        assert "TLS certificate" in caught.value.one_line()
        assert secure.log == []
        client = RegistryClient(reg.address, credentials=creds, ca_file=ca[0])
        assert client.tags(CACHE) == []
        assert [(r.scopes, r.status) for r in secure.log] == [([f"repository:{CACHE}:pull"], 200)]
    finally:
        reg.process.terminate()
        reg.process.wait(10)
        secure.stop()


@pytest.mark.parametrize("kind", ["credHelpers", "credsStore"])
def test_a_credential_helper_on_path_logs_in_and_doctor_names_it(
    service: Path, registry_t: Registry, tmp_path: Path, kind: str
) -> None:
    bin_dir, config_dir = tmp_path / "bin", tmp_path / "docker-config"
    config_dir.mkdir()
    calls = fake_helper(bin_dir, "dlctest", {registry_t.address: ("ci", PASSWORD)})
    config = (
        {"credHelpers": {registry_t.address: "dlctest"}}
        if kind == "credHelpers"
        else {"credsStore": "dlctest", "auths": {registry_t.address: {}}}
    )
    (config_dir / "config.json").write_text(json.dumps(config))
    env = {"DOCKER_CONFIG": str(config_dir), "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    doctor = ok(inv("doctor", project=service, registry=registry_t.address, env=env))
    line = next(x for x in doctor.splitlines() if "answers /v2/" in x)
    assert f"credential helper dlctest ({kind} in" in line
    assert f"cache {CACHE}: pull,push" in line
    assert PASSWORD not in doctor
    assert f"get {registry_t.address}" in calls.read_text()


def test_a_token_lifetime_shorter_than_the_run_is_refreshed(
    service: Path, registry_t: Registry, tokens: TokenServer
) -> None:
    # Every token arrives already spent (issued an hour ago, for 300 s; the JWT itself is valid):
    # a client that counts the lifetime from issued_at asks again for each request.
    tokens.issued_ago = 3600
    out = ok(inv("push", project=service, registry=registry_t.address, env=ENV))
    assert "push: ran" in out
    mine = tool_requests(tokens)
    assert len(mine) > len(set(mine)), mine  # a scope asked for again once its token expired
    assert all(r.status == 200 for r in tokens.log)


def test_inv_push_with_an_https_realm_and_a_private_ca(service: Path, tmp_path: Path) -> None:
    ca = make_ca(tmp_path, "dlc token test CA")
    cert = make_cert(tmp_path / "tls", ca, "/CN=127.0.0.1", "subjectAltName=IP:127.0.0.1\n")
    secure = TokenServer(tmp_path / "secure", users={"ci": PASSWORD}, tls=cert).start()
    reg = token_registry(tmp_path, secure)
    try:
        env = {**ENV, "INVOKE_DLC_CA_FILE": str(ca[0])}
        out = ok(inv("push", project=service, registry=reg.address, env=env))
        assert "push: ran" in out
        assert PASSWORD not in out
    finally:
        reg.process.terminate()
        reg.process.wait(10)
        secure.stop()
    assert secure.log and all(r.status == 200 for r in secure.log)
    agents = {r.agent.split("/")[0] for r in secure.log}
    assert agents == {"python-requests", "docker"}  # the tool and the engine both used it
