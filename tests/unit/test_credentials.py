"""dlc_tasks.clients.credentials: environment first, then config.json; passwords never print."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from dlc_tasks.clients.credentials import Credentials, lookup

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


def test_no_entry_no_file_or_a_broken_file_is_anonymous(docker_config: Path) -> None:
    assert lookup(REGISTRY) is None
    write_auths(docker_config, {"other.example.com": "bob:x"})
    assert lookup(REGISTRY) is None
    docker_config.write_text("{not json")
    assert lookup(REGISTRY) is None


def test_repr_hides_the_password() -> None:
    creds = Credentials("alice", "hunter2-secret")
    assert "hunter2-secret" not in repr(creds)
    assert "hunter2-secret" not in str(creds)
    assert "alice" in repr(creds)
    assert creds.auth_config() == {"username": "alice", "password": "hunter2-secret"}
