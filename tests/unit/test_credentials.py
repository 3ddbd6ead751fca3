"""dlc_tasks.clients.credentials: environment first, then config.json; passwords never print."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import pytest

from dlc_tasks.clients.credentials import CredentialHelperError, Credentials, lookup
from dlc_tasks.errors import ConfigError
from tests.support.credhelper import fake_helper

REGISTRY = "registry.example.com:5000"


@pytest.fixture
def docker_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "docker-config"
    directory.mkdir()
    monkeypatch.setenv("DOCKER_CONFIG", str(directory))
    return directory / "config.json"


def write_auths(path: Path, auths: dict[str, str]) -> None:
    entries = {
        key: {"auth": base64.b64encode(value.encode()).decode()} for key, value in auths.items()
    }
    path.write_text(json.dumps({"auths": entries}))


def test_environment_wins(docker_config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_auths(docker_config, {REGISTRY: "fromfile:filepass"})
    monkeypatch.setenv("DLC_REGISTRY_USERNAME", "ci")
    monkeypatch.setenv("DLC_REGISTRY_PASSWORD", "envpass")
    assert lookup(REGISTRY) == Credentials("ci", "envpass")


def test_username_without_password_falls_back_to_the_file(
    docker_config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_auths(docker_config, {REGISTRY: "fromfile:filepass"})
    monkeypatch.setenv("DLC_REGISTRY_USERNAME", "ci")
    assert lookup(REGISTRY) == Credentials("fromfile", "filepass")


@pytest.mark.parametrize("key", [REGISTRY, f"https://{REGISTRY}", f"http://{REGISTRY}"])
def test_docker_config_auths_are_decoded(docker_config: Path, key: str) -> None:
    write_auths(docker_config, {key: "alice:pa:ss", "other.example.com": "bob:x"})
    assert lookup(REGISTRY) == Credentials("alice", "pa:ss")


def test_no_entry_or_no_file_is_anonymous(docker_config: Path) -> None:
    assert lookup(REGISTRY) is None
    write_auths(docker_config, {"other.example.com": "bob:x"})
    assert lookup(REGISTRY) is None


def test_a_malformed_config_json_is_one_config_error_line(docker_config: Path) -> None:
    docker_config.write_text("{not json")
    with pytest.raises(ConfigError) as caught:
        lookup(REGISTRY)
    line = caught.value.one_line()
    assert str(docker_config) in line and "not valid JSON" in line and "\n" not in line


def test_sources_are_recorded_and_never_the_secret(
    docker_config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_auths(docker_config, {f"https://{REGISTRY}": "alice:s3cret"})
    creds = lookup(REGISTRY)
    assert creds == Credentials("alice", "s3cret")
    assert creds is not None and creds.source == f"auths in {docker_config}"
    assert "s3cret" not in creds.source + repr(creds)
    monkeypatch.setenv("DLC_REGISTRY_USERNAME", "ci")
    monkeypatch.setenv("DLC_REGISTRY_PASSWORD", "envpass")
    env = lookup(REGISTRY)
    assert env is not None and env.source.startswith("environment")


def test_an_identitytoken_entry_becomes_an_oauth2_refresh_token(docker_config: Path) -> None:
    docker_config.write_text(json.dumps({"auths": {REGISTRY: {"identitytoken": "rt-123"}}}))
    creds = lookup(REGISTRY)
    assert creds is not None and creds.identity_token == "rt-123"
    assert creds.auth_config() == {"identitytoken": "rt-123"}
    assert "rt-123" not in repr(creds)


def test_docker_hub_key_is_found_for_docker_io(docker_config: Path) -> None:
    write_auths(docker_config, {"https://index.docker.io/v1/": "hubuser:hubpass"})
    assert lookup("index.docker.io") == Credentials("hubuser", "hubpass")


@pytest.fixture
def helpers_on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "bin"
    folder.mkdir()
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")
    return folder


def test_cred_helpers_per_registry_win_over_creds_store_and_auths(
    docker_config: Path, helpers_on_path: Path
) -> None:
    per_registry = fake_helper(helpers_on_path, "perreg", {REGISTRY: ("helper-user", "helper-pw")})
    fake_helper(helpers_on_path, "store", {REGISTRY: ("store-user", "store-pw")})
    docker_config.write_text(
        json.dumps(
            {
                "credHelpers": {REGISTRY: "perreg"},
                "credsStore": "store",
                "auths": {REGISTRY: {"auth": base64.b64encode(b"file:pw").decode()}},
            }
        )
    )
    creds = lookup(REGISTRY)
    assert creds == Credentials("helper-user", "helper-pw")
    assert creds is not None and creds.source.startswith("credential helper perreg (credHelpers")
    assert per_registry.read_text() == f"get {REGISTRY}\n"  # the helper protocol: server on stdin


def test_creds_store_is_used_when_auths_is_empty(
    docker_config: Path, helpers_on_path: Path
) -> None:
    fake_helper(helpers_on_path, "desktop", {REGISTRY: ("<token>", "refresh-abc")})
    docker_config.write_text(json.dumps({"credsStore": "desktop", "auths": {REGISTRY: {}}}))
    creds = lookup(REGISTRY)
    assert creds is not None and creds.identity_token == "refresh-abc"
    assert creds.source.startswith("credential helper desktop (credsStore")


def test_a_missing_helper_program_is_one_line(docker_config: Path, helpers_on_path: Path) -> None:
    docker_config.write_text(json.dumps({"credsStore": "nosuchhelper"}))
    with pytest.raises(CredentialHelperError) as caught:
        lookup(REGISTRY)
    assert "docker-credential-nosuchhelper" in caught.value.one_line()


def test_repr_hides_the_password() -> None:
    creds = Credentials("alice", "hunter2-secret")
    assert "hunter2-secret" not in repr(creds)
    assert "hunter2-secret" not in str(creds)
    assert "alice" in repr(creds)
    assert creds.auth_config() == {"username": "alice", "password": "hunter2-secret"}


def test_a_docker_hub_cred_helpers_entry_is_labelled_cred_helpers(
    docker_config: Path, helpers_on_path: Path
) -> None:
    """The SDK looks docker.io up under credHelpers["https://index.docker.io/v1/"]: the source
    must say credHelpers, not credsStore."""
    hub = "https://index.docker.io/v1/"
    fake_helper(helpers_on_path, "hubhelper", {hub: ("hubuser", "hubpass")})
    docker_config.write_text(json.dumps({"credHelpers": {hub: "hubhelper"}}))
    creds = lookup("docker.io")
    assert creds == Credentials("hubuser", "hubpass")
    assert creds is not None and creds.source.startswith("credential helper hubhelper (credHelpers")
