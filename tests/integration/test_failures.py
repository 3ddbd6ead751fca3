"""Failures the chain meets, on the real engine and real registries: each ends in one clear line."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import bcrypt
import docker
import pytest

from dlc_tasks.clients.registry import RegistryClient
from tests.integration.conftest import (
    INV,
    REPO,
    SERVICE_FILES,
    Registry,
    copy_module,
    free_port,
    inv,
    inv_background,
    ok,
    start_registry,
)
from tests.support.containers import go_step_containers, running_commands

pytestmark = pytest.mark.integration
FAST_RETRIES = {
    "INVOKE_DLC_RETRIES_ATTEMPTS": "2",
    "INVOKE_DLC_RETRIES_BASE_DELAY": "0.01",
    "INVOKE_DLC_TIMEOUTS_REQUEST": "3",
}
SENTINEL = "s3ntinel-Pa55word-7f1c"


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("dlc: ")
    assert "Traceback" not in result.stderr
    return lines[0]


def test_registry_down_is_an_error_not_a_cache_miss(service: Path) -> None:
    result = inv("cache", project=service, registry=f"127.0.0.1:{free_port()}", env=FAST_RETRIES)
    assert result.returncode == 1
    line = one_error_line(result)
    assert "unreachable" in line
    assert "after 2 tries" in line
    assert "building" not in result.stdout


def test_engine_unreachable_gives_a_clear_message(service: Path, registry: Registry) -> None:
    result = inv(
        "cache",
        "--force",
        project=service,
        registry=registry.address,
        env={"DOCKER_HOST": f"tcp://127.0.0.1:{free_port()}"},
    )
    assert result.returncode == 1
    assert "cannot reach the Docker engine" in one_error_line(result)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("INVOKE_DLC_ORG", "$(touch {marker})"),
        ("INVOKE_DLC_REPO", "a;touch {marker}"),
        ("INVOKE_DLC_REPO", "-rf"),
        ("INVOKE_DLC_ORG", "Upper\nCase"),
        ("INVOKE_DLC_REGISTRY", "host:5000/$(touch {marker})"),
        ("INVOKE_DLC_REVISION", "1.2.3+meta"),
        ("INVOKE_DLC_REPO", "caf\u00e9"),
        ("INVOKE_DLC_REPO", "a" * 129 + "-" + "b" * 129),
    ],
)
def test_hostile_values_are_refused_without_side_effects(
    service: Path, tmp_path: Path, variable: str, value: str
) -> None:
    marker = tmp_path / "pwned"
    env = {variable: value.format(marker=marker)}
    result = inv("push", project=service, registry=None, env=env)
    assert result.returncode == 2
    line = one_error_line(result)
    assert "invalid" in line
    assert not marker.exists()
    assert not (service / ".dlc").exists()


def test_a_hostile_version_file_is_refused(service: Path, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    (service / "VERSION").write_text(f"MAJOR=1\nMINOR=0\nPATCH=$(touch {marker})\n")
    result = subprocess.run(
        [INV, "--search-root", str(REPO), "push"],
        cwd=service,
        env={**os.environ, "INVOKE_DLC_PROJECT_DIR": str(service), "INVOKE_DLC_REVISION": "abc"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "PATCH=" in one_error_line(result)
    assert not marker.exists()


@pytest.fixture
def auth_registry(tmp_path: Path) -> Registry:
    htpasswd = tmp_path / "htpasswd"
    hashed = bcrypt.hashpw(SENTINEL.encode(), bcrypt.gensalt(rounds=5)).decode()
    htpasswd.write_text(f"ci:{hashed}\n")
    extra = f"auth:\n  htpasswd:\n    realm: dlc-test\n    path: {htpasswd}\n"
    reg = start_registry(tmp_path / "auth-registry", extra)
    yield reg
    reg.process.terminate()
    reg.process.wait(10)


def test_wrong_password_fails_before_anything_is_built(
    service: Path, auth_registry: Registry, engine: docker.DockerClient
) -> None:
    env = {"DLC_REGISTRY_USERNAME": "ci", "DLC_REGISTRY_PASSWORD": "wrong-" + SENTINEL}
    result = inv("push", project=service, registry=auth_registry.address, env=env)
    assert result.returncode == 1
    line = one_error_line(result)
    assert "401" in line
    assert "DLC_REGISTRY_PASSWORD" in line  # the hint names the fix
    assert SENTINEL not in result.stdout + result.stderr
    assert "building" not in result.stdout
    built = [t for i in engine.images.list() for t in i.tags if auth_registry.address in t]
    assert built == []


def command_lines_seen_while(process: subprocess.Popen[str]) -> tuple[list[bytes], str, str]:
    """Every process's command line on this machine, sampled until ``process`` exits."""
    seen: list[bytes] = []
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
                try:
                    seen.append(cmdline.read_bytes())
                except OSError:
                    continue  # the process ended while we looked
            stop.wait(0.005)  # the sampling interval, not a synchronisation

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        out, err = process.communicate(timeout=600)
    finally:
        stop.set()
        watcher.join()
    return seen, out, err


def test_credentials_never_leak_into_output_process_arguments_files_or_images(
    service: Path, auth_registry: Registry, engine: docker.DockerClient
) -> None:
    env = {"DLC_REGISTRY_USERNAME": "ci", "DLC_REGISTRY_PASSWORD": SENTINEL}
    process = inv_background("push", project=service, registry=auth_registry.address, env=env)
    command_lines, out, err = command_lines_seen_while(process)
    result = subprocess.CompletedProcess(process.args, process.returncode, out, err)
    assert len(command_lines) > 100  # the watcher really sampled during the run
    assert not [c for c in command_lines if SENTINEL.encode() in c]
    out = ok(result)
    assert "push: ran" in out
    assert SENTINEL not in out + result.stderr
    for path in service.rglob("*"):
        if path.is_file() and ".git" not in path.parts:
            assert SENTINEL.encode() not in path.read_bytes(), path
    for ref in (
        f"{auth_registry.address}/arcodange/dance-lessons-coach:latest",
        f"{auth_registry.address}/arcodange/dance-lessons-coach-build-cache:"
        + (service / "deps_hash.env").read_text().strip().split("=")[1],
    ):
        image = engine.images.get(ref)
        assert SENTINEL not in str(image.attrs)
        assert SENTINEL not in str(image.history())


def test_sigterm_during_test_leaves_no_container(
    service: Path, warm_registry: Registry, engine: docker.DockerClient
) -> None:
    ok(inv("cache", project=service, registry=warm_registry.address))
    (service / "pkg" / "server" / "slow_test.go").write_text(
        'package server\n\nimport (\n\t"testing"\n\t"time"\n)\n\n'
        "func TestSlow(t *testing.T) { time.Sleep(10 * time.Minute) }\n"
    )
    process = inv_background("test", project=service, registry=warm_registry.address)
    deadline = time.monotonic() + 300
    try:
        # wait for the event (go test running in the step's container), not a guessed delay
        while not any("go test" in cmd for cmd in running_commands(engine, warm_registry.address)):
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "go test did not start in 300 s"
            time.sleep(0.2)  # polling the engine for the process
    finally:
        process.send_signal(signal.SIGTERM)  # failing or not: no 10-minute test left behind
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130
    assert "interrupted" in err
    assert go_step_containers(engine, warm_registry.address) == []


def test_two_concurrent_cache_runs_on_one_hash_both_succeed_and_build_on_their_own_digest(
    tmp_path: Path, registry: Registry, engine: docker.DockerClient
) -> None:
    projects = [copy_module(REPO, tmp_path / name, SERVICE_FILES) for name in ("a", "b")]
    runs = [
        inv_background("cache", "--force", project=project, registry=registry.address)
        for project in projects
    ]
    for run in runs:
        out, err = run.communicate(timeout=600)
        assert run.returncode == 0, out + err
    client = RegistryClient(registry.address)
    repo = "arcodange/dance-lessons-coach-build-cache"
    stamps = [json.loads((p / ".dlc" / "state.json").read_text())["cache"] for p in projects]
    assert stamps[0]["inputs"] == stamps[1]["inputs"]  # one hash, raced on
    for stamp in stamps:  # whichever push won the tag, each run's own image stays addressable
        assert client.manifest_digest(repo, stamp["digest"]) == stamp["digest"]
    for project, stamp in zip(projects, stamps, strict=True):
        ok(inv("prod", project=project, registry=registry.address))
        image = json.loads((project / ".dlc" / "state.json").read_text())["prod"]["image"]
        label = engine.images.get(image).labels["io.dlc-tasks.build-cache"]
        assert label == f"{registry.address}/{repo}@{stamp['digest']}"
