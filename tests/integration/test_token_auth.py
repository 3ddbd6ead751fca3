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
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest
import requests

from dlc_tasks.clients.credentials import Credentials
from dlc_tasks.clients.registry import RegistryClient, TokenError
from tests.integration.conftest import Registry, inv, ok, start_registry
from tests.integration.test_failures import one_error_line
from tests.support.certs import make_ca, make_cert
from tests.support.credhelper import fake_helper
from tests.support.recorder import requests_seen
from tests.support.tokenserver import Request, TokenServer

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


def token_registry(
    tmp: Path, tokens: TokenServer, realm: str | None = None, seed: Path | None = None
) -> Registry:
    return start_registry(tmp / "registry", tokens.registry_config(SERVICE, realm), seed=seed)


@pytest.fixture
def registry_t(tmp_path: Path, tokens: TokenServer) -> Iterator[Registry]:
    """An empty registry in token mode."""
    reg = token_registry(tmp_path, tokens)
    yield reg
    reg.process.terminate()
    reg.process.wait(10)


@pytest.fixture
def warm_registry_t(
    tmp_path: Path, tokens: TokenServer, service_cache_seed: Path
) -> Iterator[Registry]:
    """A registry in token mode that already holds the service's cache image: for the tests
    about logging in, whose pushes (the production image's, by the engine) and manifest
    checks (the tool's) go through the token flow whether the cache step hits or not."""
    reg = token_registry(tmp_path, tokens, seed=service_cache_seed)
    yield reg
    reg.process.terminate()
    reg.process.wait(10)


def tool_requests(tokens: TokenServer, since: int = 0) -> list[str]:
    """The scopes the tool (python-requests) asked for, in order, from log entry ``since``."""
    return [
        s for r in tokens.log[since:] if r.agent.startswith("python-requests") for s in r.scopes
    ]


def print_log(title: str, log: list[Request]) -> None:
    """The token server's log, one line per request (shown with ``pytest -s``): no secret."""
    print(f"\ntoken server log: {title}")
    for r in log:
        client = "tool  " if r.agent.startswith("python-requests") else "engine"
        print(f"  {r.method:4} {client} {r.grant:13} {r.who:10} {r.status} {' '.join(r.scopes)}")


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
    print_log("one cold inv push against the token registry", first)  # for the closing note

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


@pytest.fixture
def other_host(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A recording HTTP server on another host: its own network namespace, reached over a
    veth pair (names and a /30 unique to this process, so parallel runs do not collide).
    Yields (the server's address:port, its request log)."""
    pid = os.getpid()
    namespace, host_if, ns_if = f"dlcauth{pid}", f"dlcah{pid % 100000}", f"dlcan{pid % 100000}"
    base = 4 * ((pid // 250) % 60)
    subnet = f"10.214.{pid % 250}"
    host_ip, other_ip = f"{subnet}.{base + 1}", f"{subnet}.{base + 2}"
    inside = ["ip", "netns", "exec", namespace]
    log = tmp_path / "other-host.jsonl"
    subprocess.run(["ip", "netns", "add", namespace], check=True)
    server: subprocess.Popen[str] | None = None
    try:
        for argv in (
            ["ip", "link", "add", host_if, "type", "veth", "peer", "name", ns_if],
            ["ip", "link", "set", ns_if, "netns", namespace],
            ["ip", "addr", "add", f"{host_ip}/30", "dev", host_if],
            ["ip", "link", "set", host_if, "up"],
            [*inside, "ip", "addr", "add", f"{other_ip}/30", "dev", ns_if],
            [*inside, "ip", "link", "set", ns_if, "up"],
        ):
            subprocess.run(argv, check=True)
        recorder = Path(__file__).resolve().parents[1] / "support" / "recorder.py"
        server = subprocess.Popen(
            [*inside, sys.executable, str(recorder), other_ip, "8080", str(log)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert server.stdout is not None and server.stdout.readline().strip() == "listening"
        yield f"{other_ip}:8080", log
    finally:
        if server is not None:
            server.terminate()
            server.wait(10)
            assert server.stdout is not None
            server.stdout.close()
        subprocess.run(["ip", "netns", "delete", namespace], check=False)
        subprocess.run(["ip", "link", "delete", host_if], check=False, capture_output=True)


def test_a_plain_http_realm_on_another_host_is_refused_without_sending_credentials(
    service: Path, tmp_path: Path, tokens: TokenServer, other_host: tuple[str, Path]
) -> None:
    address, log = other_host
    realm = f"http://{address}/token"
    # The listener is reachable from here: a request to it is seen (so "nothing seen" later
    # means nothing was sent, not that nothing could arrive).
    assert requests.get(realm, timeout=10).status_code == 401
    assert [r["authorization"] for r in requests_seen(log)] == [False]
    reg = token_registry(tmp_path, tokens, realm)
    try:
        result = inv("push", project=service, registry=reg.address, env=ENV)
    finally:
        reg.process.terminate()
        reg.process.wait(10)
    assert len(requests_seen(log)) == 1, requests_seen(log)  # the probe only: nothing sent
    assert result.returncode == 1
    line = one_error_line(result)
    assert f"at {realm} (credentials: environment" in line
    assert "refused to send credentials to the token realm over plain http" in line
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


def helper_env(tmp_path: Path, config: dict[str, object]) -> dict[str, str]:
    """DOCKER_CONFIG holding ``config``, and the helpers' folder first on PATH."""
    config_dir = tmp_path / "docker-config"
    config_dir.mkdir(exist_ok=True)
    (config_dir / "config.json").write_text(json.dumps(config))
    return {"DOCKER_CONFIG": str(config_dir), "PATH": f"{tmp_path / 'bin'}:{os.environ['PATH']}"}


@pytest.mark.parametrize("kind", ["credHelpers", "credsStore"])
def test_a_credential_helper_on_path_logs_in_pushes_and_doctor_names_it(
    service: Path, warm_registry_t: Registry, tokens: TokenServer, tmp_path: Path, kind: str
) -> None:
    """The registry refuses anonymous tokens: the push (the engine's and the tool's requests)
    works only with the helper's credentials."""
    calls = fake_helper(tmp_path / "bin", "dlctest", {warm_registry_t.address: ("ci", PASSWORD)})
    config: dict[str, object] = (
        {"credHelpers": {warm_registry_t.address: "dlctest"}}
        if kind == "credHelpers"
        else {"credsStore": "dlctest", "auths": {warm_registry_t.address: {}}}
    )
    env = helper_env(tmp_path, config)
    doctor = ok(inv("doctor", project=service, registry=warm_registry_t.address, env=env))
    line = next(x for x in doctor.splitlines() if "answers /v2/" in x)
    assert f"credential helper dlctest ({kind} in" in line
    assert f"cache {CACHE}: pull,push" in line
    assert f"get {warm_registry_t.address}" in calls.read_text()

    since = len(tokens.log)
    out = ok(inv("push", project=service, registry=warm_registry_t.address, env=env))
    assert "push: ran" in out
    assert PASSWORD not in out + doctor
    pushed = tokens.log[since:]
    assert {r.agent.split("/")[0] for r in pushed} == {"python-requests", "docker"}
    assert all(r.who == "ci" and r.status == 200 for r in pushed), pushed
    assert any("push" in s for r in pushed if r.agent.startswith("docker") for s in r.scopes)


@pytest.mark.parametrize("where", ["helper", "config"])
def test_an_identitytoken_pushes_through_the_refresh_token_grant(
    service: Path, warm_registry_t: Registry, tokens: TokenServer, tmp_path: Path, where: str
) -> None:
    """An OAuth2 refresh token (docker login's identitytoken), from a credential helper
    (Username "<token>") or from auths: both the tool and the engine trade it for tokens
    with POST grant_type=refresh_token; nothing anonymous, no password anywhere."""
    refresh = "rt-" + PASSWORD
    tokens.refresh_tokens[refresh] = "ci"
    if where == "helper":
        fake_helper(tmp_path / "bin", "dlcid", {warm_registry_t.address: ("<token>", refresh)})
        config: dict[str, object] = {"credHelpers": {warm_registry_t.address: "dlcid"}}
    else:
        config = {"auths": {warm_registry_t.address: {"identitytoken": refresh}}}
    env = helper_env(tmp_path, config)
    out = ok(inv("push", project=service, registry=warm_registry_t.address, env=env))
    assert "push: ran" in out and refresh not in out
    assert {r.agent.split("/")[0] for r in tokens.log} == {"python-requests", "docker"}
    assert all(r.status == 200 for r in tokens.log), tokens.log
    mine = [r for r in tokens.log if r.agent.startswith("python-requests")]
    assert {(r.method, r.grant, r.who) for r in mine} == {("POST", "refresh_token", "refresh:ci")}
    engines = {(r.method, r.who) for r in tokens.log if r.agent.startswith("docker")}
    assert engines == {("POST", "refresh:ci")}, engines
    doctor = ok(inv("doctor", project=service, registry=warm_registry_t.address, env=env))
    assert f"cache {CACHE}: pull,push" in doctor and refresh not in doctor


def test_a_token_lifetime_shorter_than_the_run_is_refreshed(
    service: Path, warm_registry_t: Registry, tokens: TokenServer
) -> None:
    # Every token arrives already spent (issued an hour ago, for 300 s; the JWT itself is valid):
    # a client that counts the lifetime from issued_at asks again for each request.
    tokens.issued_ago = 3600
    out = ok(inv("push", project=service, registry=warm_registry_t.address, env=ENV))
    assert "push: ran" in out
    mine = tool_requests(tokens)
    assert len(mine) > len(set(mine)), mine  # a scope asked for again once its token expired
    assert all(r.status == 200 for r in tokens.log)


def test_a_token_the_registry_finds_expired_is_fetched_again_on_its_401(
    service: Path, warm_registry_t: Registry, tokens: TokenServer
) -> None:
    """The first token for each of the tool's scopes is a JWT whose exp is an hour past
    (while expires_in says 300 s): the real registry refuses it (401, invalid_token), and
    the tool fetches a new one for that scope and goes on. No clock is waited for."""
    tokens.expired_first = {f"repository:{CACHE}:pull", f"repository:{PROD}:pull"}
    out = ok(inv("push", project=service, registry=warm_registry_t.address, env=ENV))
    assert "push: ran" in out
    mine = [r for r in tokens.log if r.agent.startswith("python-requests")]
    for scope in sorted(tokens.expired_first):
        asked = [r.expired for r in mine if r.scopes == [scope]]
        assert asked[:2] == [True, False], (scope, asked)  # expired, refused, asked again
        assert asked.count(True) == 1
    print_log("inv push whose first token per tool scope is expired", tokens.log)


def test_inv_push_with_an_https_realm_and_a_private_ca(
    service: Path, tmp_path: Path, service_cache_seed: Path
) -> None:
    ca = make_ca(tmp_path, "dlc token test CA")
    cert = make_cert(tmp_path / "tls", ca, "/CN=127.0.0.1", "subjectAltName=IP:127.0.0.1\n")
    secure = TokenServer(tmp_path / "secure", users={"ci": PASSWORD}, tls=cert).start()
    reg = token_registry(tmp_path, secure, seed=service_cache_seed)
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


def test_a_netrc_in_home_never_replaces_the_token_nor_reaches_the_realm(
    registry_t: Registry, tokens: TokenServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A HOME whose .netrc names 127.0.0.1 (the registry's and the realm's host): the real
    registry still gets our bearer token, and the realm only our credentials or none."""
    home = tmp_path / "home"
    home.mkdir()
    (home / ".netrc").write_text("machine 127.0.0.1 login netrc-user password netrc-pw\n")
    (home / ".netrc").chmod(0o600)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("NETRC", raising=False)
    creds = Credentials("ci", PASSWORD, source="test")
    assert RegistryClient(registry_t.address, credentials=creds).tags(CACHE) == []
    tokens.anonymous_pull = True
    assert RegistryClient(registry_t.address).tags(CACHE) == []
    assert [(r.basic_user, r.who, r.status) for r in tokens.log] == [
        ("ci", "ci", 200),
        ("", "anonymous", 200),
    ]
