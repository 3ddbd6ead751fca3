"""What people see and pipelines read: dry runs, reports, doctor, prune, explain, completion."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path

import docker
import pytest

from tests.integration.conftest import INV, REPO, Registry, free_port, git_sha, inv, ok

pytestmark = pytest.mark.integration
TIMESTAMP = re.compile(r"^\[\s*[0-9.]+s\] ")


def catalog(registry: Registry) -> list[str]:
    with urllib.request.urlopen(f"http://{registry.address}/v2/_catalog") as response:
        return list(json.loads(response.read())["repositories"])


def engine_snapshot(engine: docker.DockerClient) -> tuple[set[str], set[str], set[str]]:
    return (
        {i.id for i in engine.images.list(all=True)},
        {c.id for c in engine.containers.list(all=True)},
        {v.name for v in engine.volumes.list()},
    )


def test_dry_run_prints_the_plan_and_touches_nothing(
    service: Path, registry: Registry, engine: docker.DockerClient
) -> None:
    before = engine_snapshot(engine)
    out = ok(inv("push", "--dry-run", project=service, registry=registry.address))
    assert engine_snapshot(engine) == before
    assert catalog(registry) == []
    assert not (service / ".dlc").exists()
    assert not (service / "deps_hash.env").exists()
    assert not (service / "docker" / "Dockerfile.prod").exists()
    sha = git_sha(service)
    cache = f"{registry.address}/arcodange/dance-lessons-coach-build-cache"
    assert f"would run: cache miss: the registry has no {cache}:" in out
    packaged = "dlc_tasks/templates/Dockerfile.build (packaged)"  # the service uses the library's
    assert (
        f"docker build -f {packaged} --build-arg CGO_ENABLED=0"
        " --build-arg 'GOFLAGS=-mod=readonly -trimpath -buildvcs=false' --build-arg GOPROXY=off"
    ) in out
    assert "go vet ./... & go test -covermode=atomic -coverprofile=coverage.out ./..." in out
    pushes = [line for line in out.splitlines() if "docker tag + push" in line]
    assert [p.rsplit(":", 1)[1] for p in pushes] == ["1.0.0", sha, "latest"]
    for step in ("hash", "cache", "generate", "test", "prod", "push"):
        assert f"{step}: planned" in out


def test_report_matches_the_run_and_feeds_ci_and_inv_report(
    service: Path, registry: Registry, engine: docker.DockerClient, tmp_path: Path
) -> None:
    summary, outputs = tmp_path / "summary.md", tmp_path / "outputs"
    env = {"GITHUB_STEP_SUMMARY": str(summary), "GITHUB_OUTPUT": str(outputs)}
    ok(inv("push", project=service, registry=registry.address, env=env))
    report = json.loads((service / ".dlc" / "report.json").read_text())
    deps_hash = (service / "deps_hash.env").read_text().strip().split("=")[1]
    digest = registry.digest("arcodange/dance-lessons-coach", "latest")
    image = engine.images.get(f"{registry.address}/arcodange/dance-lessons-coach:latest")
    assert report["ok"] is True
    assert report["deps_hash"] == deps_hash
    assert report["cache_hit"] is False
    assert report["revision"] == git_sha(service)
    assert report["version"] == "1.0.0"
    assert report["pushed"]["digest"] == digest
    assert sorted(report["pushed"]["tags"]) == registry.tags("arcodange/dance-lessons-coach")
    assert report["image"] == {"id": image.id, "size": image.attrs["Size"]}
    assert [t["task"] for t in report["tasks"]] == [
        "hash",
        "cache",
        "generate",
        "test",
        "prod",
        "push",
    ]
    assert f"deps_hash={deps_hash}" in outputs.read_text()
    assert f"image_digest={digest}" in outputs.read_text()
    assert "| push | ran |" in summary.read_text()

    ok(inv("push", project=service, registry=registry.address))  # a cache hit, for the metrics
    out = ok(inv("report", project=service, registry=registry.address))
    assert "cache-hit rate                     50%" in out
    assert "failure rate                       0%" in out
    chart = service / ".dlc" / "report.png"
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_doctor_with_a_healthy_and_a_broken_registry(service: Path, registry: Registry) -> None:
    healthy = inv("doctor", project=service, registry=registry.address)
    assert healthy.returncode == 0, healthy.stdout + healthy.stderr
    lines = [TIMESTAMP.sub("", line) for line in healthy.stdout.splitlines()]
    assert [line.split()[0] for line in lines] == ["ok"] * 7
    assert any(line.startswith(f"ok   registry: {registry.address} answers") for line in lines)

    broken = inv(
        "doctor",
        project=service,
        registry=f"127.0.0.1:{free_port()}",
        env={"INVOKE_DLC_RETRIES_ATTEMPTS": "1"},
    )
    assert broken.returncode == 1
    fails = [line for line in broken.stdout.splitlines() if "] FAIL " in line]
    assert len(fails) == 1
    assert "FAIL registry:" in fails[0]
    assert "unreachable" in fails[0]
    assert broken.stderr.strip() == (
        "dlc: 1 check(s) failed: registry (fix the lines marked FAIL above)"
    )


def test_prune_keeps_the_current_and_newest_cache_tags_and_explain_names_the_change(
    service: Path, registry: Registry
) -> None:
    go_mod = service / "go.mod"
    original = go_mod.read_text()
    hashes = []
    for n in range(3):
        go_mod.write_text(original + f"\n// dependency change {n}\n")
        ok(inv("cache", project=service, registry=registry.address))
        hashes.append((service / "deps_hash.env").read_text().strip().split("=")[1])
    repo = "arcodange/dance-lessons-coach-build-cache"
    assert registry.tags(repo) == sorted(hashes)

    out = ok(
        inv("cache.prune", "--keep", "1", "--dry-run", project=service, registry=registry.address)
    )
    assert f"would delete {registry.address}/{repo}:{hashes[0][:16]}" in out
    assert registry.tags(repo) == sorted(hashes)

    ok(inv("cache.prune", "--keep", "1", project=service, registry=registry.address))
    assert registry.tags(repo) == sorted(hashes[1:])

    go_mod.write_text(original + "\n// yet another change\n")
    explained = ok(inv("hash", "--explain", project=service, registry=registry.address))
    assert f"newest cache image in the registry: {hashes[2][:16]} (a different hash)" in explained
    rows = {}
    for line in explained.splitlines():
        words = TIMESTAMP.sub("", line).split()
        if len(words) == 3 and words[2] in ("same", "changed", "new", "removed"):
            rows[words[0]] = words[2]
    assert rows.get("go.mod") == "changed", explained
    assert rows["Dockerfile.build"] == "same"


def test_tab_completion_in_a_real_interactive_bash(tmp_path: Path) -> None:
    tmux = shutil.which("tmux")
    assert tmux, "tmux is installed by ./dev"
    session = f"dlc{os.getpid()}"
    rc = tmp_path / "bashrc"
    rc.write_text(
        f"export PATH={Path(INV).parent}:$PATH\ncd {REPO}\n"
        "source <(inv --print-completion-script bash)\nPS1='$ '\n"
    )
    subprocess.run(
        [
            tmux,
            "new-session",
            "-d",
            "-s",
            session,
            "-x",
            "120",
            "-y",
            "20",
            "bash",
            "--rcfile",
            str(rc),
            "-i",
        ],
        check=True,
    )
    try:
        subprocess.run([tmux, "send-keys", "-t", session, "inv pu", "Tab"], check=True)
        screen = ""
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and "inv push" not in screen:
            screen = subprocess.run(
                [tmux, "capture-pane", "-p", "-t", session],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            time.sleep(0.1)  # polling the screen for the completed word
        assert "$ inv push" in screen
    finally:
        subprocess.run([tmux, "kill-session", "-t", session], check=False)
