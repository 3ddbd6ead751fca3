"""What people see and pipelines read: dry runs, reports, doctor, prune, explain, completion."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
import urllib.request
import uuid
from pathlib import Path

import docker
import pytest

from tests.integration.conftest import (
    INV,
    REPO,
    Registry,
    commit,
    free_port,
    git_sha,
    inv,
    ok,
    start_registry,
)
from tests.support.transcript import structure

pytestmark = pytest.mark.integration
TIMESTAMP = re.compile(r"^\[\s*[0-9.]+s\] ")
# What docs/regenerate.py appends to go.mod too: a cache image the registry does not hold.
GO_MOD_CHANGE = "\n// a dependency change: the cache image of this go.mod is not in the registry\n"


def catalog(registry: Registry) -> list[str]:
    with urllib.request.urlopen(f"http://{registry.address}/v2/_catalog") as response:
        return list(json.loads(response.read())["repositories"])


def engine_snapshot(engine: docker.DockerClient, repo: str) -> tuple[set[str], set[str], set[str]]:
    """What of the engine names ``repo`` (other workers' tests change the rest meanwhile)."""
    return (
        {t for i in engine.images.list(all=True) for t in i.tags if repo in t},
        {c.id for c in engine.containers.list(all=True) if repo in str(c.attrs["Config"])},
        {v.name for v in engine.volumes.list() if repo in (v.name or "")},
    )


def test_dry_run_prints_the_plan_and_touches_nothing(
    service: Path, registry: Registry, engine: docker.DockerClient
) -> None:
    repo = f"dry-{uuid.uuid4().hex[:8]}"  # what a run would make names it, and nothing else does
    env = {"INVOKE_DLC_REPO": repo}
    before = engine_snapshot(engine, repo)
    out = ok(inv("push", "--dry-run", project=service, registry=registry.address, env=env))
    assert engine_snapshot(engine, repo) == before
    assert catalog(registry) == []
    assert not (service / ".dlc").exists()
    assert not (service / "deps_hash.env").exists()
    assert not (service / "docker" / "Dockerfile.prod").exists()
    sha = git_sha(service)
    cache = f"{registry.address}/arcodange/{repo}-build-cache"
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


def test_a_first_push_reads_as_documented_and_its_report_matches_the_run(
    service: Path, warm_registry: Registry, engine: docker.DockerClient, tmp_path: Path
) -> None:
    """A cold first push (a new go.mod: a cache miss, then everything else from a cold Go
    cache), as docs/regenerate.py captures it: at most 60 lines in plain mode, the structure
    of docs/inv-push-terminal.txt, no engine noise; its report feeds CI and `inv report`."""
    registry = warm_registry  # the std layer is there already: the miss pushes only the rest
    with (service / "go.mod").open("a") as go_mod:
        go_mod.write(GO_MOD_CHANGE)
    commit(service, "a dependency change")
    summary, outputs = tmp_path / "summary.md", tmp_path / "outputs"
    env = {"GITHUB_STEP_SUMMARY": str(summary), "GITHUB_OUTPUT": str(outputs)}
    out = ok(inv("push", project=service, registry=registry.address, env=env))
    lines = out.splitlines()
    assert len(lines) <= 60, out
    for noise in ("Step ", "--->", "Running in", "Removing intermediate", "Successfully", "\x1b"):
        assert noise not in out, noise
    assert not any(line.split("] ", 1)[1].startswith("$ ") for line in lines)  # in the plan
    documented = (REPO / "docs" / "inv-push-terminal.txt").read_text(encoding="utf-8")
    assert structure(out) == structure(documented), "run docs/regenerate.py"
    logs = list((service / ".dlc" / "logs").glob("*/*.log"))
    assert sorted(log.name for log in logs) == ["cache.log", "prod.log"]
    assert all("Step 1/" in log.read_text() for log in logs)  # the engine's whole log
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
    assert [line.split()[0] for line in lines] == ["ok"] * len(lines), healthy.stdout
    names = [line.split(":")[0].split(None, 1)[1] for line in lines]
    assert names[:6] == ["go module", "configuration", "git", "VERSION", "files", "engine"]
    assert names[6:] == ["base images", "registry"], names
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
    service: Path, warm_registry: Registry
) -> None:
    registry = warm_registry  # holds the oldest cache image: its std layer is not pushed again
    repo = "arcodange/dance-lessons-coach-build-cache"
    [seeded] = registry.tags(repo)
    go_mod = service / "go.mod"
    original = go_mod.read_text()
    hashes = []
    for n in range(3):
        go_mod.write_text(original + f"\n// dependency change {n}\n")
        ok(inv("cache", project=service, registry=registry.address))
        hashes.append((service / "deps_hash.env").read_text().strip().split("=")[1])
    assert registry.tags(repo) == sorted([seeded, *hashes])

    out = ok(
        inv("cache.prune", "--keep", "1", "--dry-run", project=service, registry=registry.address)
    )
    for deleted in (seeded, hashes[0]):
        assert f"would delete {registry.address}/{repo}:{deleted[:16]}" in out
    assert registry.tags(repo) == sorted([seeded, *hashes])

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


def test_prune_on_a_registry_with_deletes_disabled_says_how_to_enable_them(
    service: Path, service_cache_seed: Path, tmp_path: Path
) -> None:
    """Distribution's default refuses deletes (405 UNSUPPORTED): the prune's one line says so
    and how to enable them, and the registry keeps every tag. Nothing is built: a changed
    go.mod makes the seeded cache image an old one, which ``--keep 0`` deletes."""
    registry = start_registry(tmp_path / "no-deletes", seed=service_cache_seed, deletes=False)
    try:
        repo = "arcodange/dance-lessons-coach-build-cache"
        before = registry.tags(repo)
        (service / "go.mod").write_text((service / "go.mod").read_text() + "\n// changed\n")
        refused = inv("cache.prune", "--keep", "0", project=service, registry=registry.address)
        assert refused.returncode == 1, refused.stdout + refused.stderr
        [line] = refused.stderr.strip().splitlines()
        assert line.startswith(f"dlc: DELETE {repo}@sha256:"), line
        assert "the registry answered 405 UNSUPPORTED" in line
        assert f"deletes are disabled on {registry.address}" in line
        assert "REGISTRY_STORAGE_DELETE_ENABLED=true" in line
        assert "check dlc.registry" not in line
        assert registry.tags(repo) == before
    finally:
        registry.process.terminate()
        registry.process.wait(10)


class Tmux:
    """An interactive bash under tmux, read from the screen as a person would."""

    def __init__(self, name: str, rc: Path) -> None:
        self.name = name
        tmux = shutil.which("tmux")
        assert tmux, "tmux is installed by ./dev"
        self.tmux = tmux
        start = [tmux, "new-session", "-d", "-s", name, "-x", "120", "-y", "40"]
        subprocess.run([*start, "bash", "--rcfile", str(rc), "-i"], check=True)

    def keys(self, *keys: str) -> None:
        subprocess.run([self.tmux, "send-keys", "-t", self.name, *keys], check=True)

    def screen(self) -> str:
        return subprocess.run(
            [self.tmux, "capture-pane", "-p", "-J", "-S", "-", "-t", self.name],
            capture_output=True,
            text=True,
            check=True,
        ).stdout

    def wait_for(self, pattern: str, timeout: float = 300) -> str:
        """The screen once ``pattern`` (a regular expression) is on it."""
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if re.search(pattern, screen, re.M):
                return screen
            time.sleep(0.2)  # polling the screen for the line
        raise AssertionError(f"no {pattern!r} on the screen after {timeout}s:\n{screen}")

    def close(self) -> None:
        subprocess.run([self.tmux, "kill-session", "-t", self.name], check=False)


def test_tab_completion_in_a_real_interactive_bash(tmp_path: Path) -> None:
    rc = tmp_path / "bashrc"
    rc.write_text(
        f"export PATH={Path(INV).parent}:$PATH\ncd {REPO}\n"
        "source <(inv --print-completion-script bash)\nPS1='$ '\n"
    )
    shell = Tmux(f"dlc{os.getpid()}", rc)
    try:
        shell.keys("inv pu", "Tab")
        shell.wait_for(r"\$ inv push", timeout=20)
    finally:
        shell.close()


WATCH_TEST = """package config

import "testing"

func TestWatch(t *testing.T) {
	if got := Default().Listen; got != LISTEN {
		t.Fatalf("listen is %s", got)
	}
}
"""


def test_watch_runs_a_cycle_per_save_and_shows_the_failing_test(
    service: Path, warm_registry: Registry, tmp_path: Path
) -> None:
    rc = tmp_path / "bashrc"
    rc.write_text(
        f"export PATH={Path(INV).parent}:$PATH\n"
        f"export INVOKE_DLC_PROJECT_DIR={service} INVOKE_DLC_REGISTRY={warm_registry.address}\n"
        f"unset CI NO_COLOR\ncd {service}\nPS1='$ '\n"
    )
    shell = Tmux(f"dlcwatch{os.getpid()}", rc)
    try:
        shell.keys(f"inv --search-root {REPO} watch", "Enter")
        shell.wait_for(r"^\d\d:\d\d:\d\d #1 ok in .*: hash ran, cache hit, generate ran, test ran")

        main = service / "cmd" / "server" / "main.go"  # a save: a cycle
        main.write_text(main.read_text() + "\n// saved once\n")
        shell.wait_for(r"#2 ok in .*: .*test ran \(coverage")

        broken = service / "pkg" / "config" / "watch_test.go"  # a failing test: its lines
        broken.write_text(WATCH_TEST.replace("LISTEN", '":1234"'))
        screen = shell.wait_for(r"#3 FAILED at test in .*go test failed .*TestWatch")
        assert "    | --- FAIL: TestWatch" in screen
        assert re.search(r"^    \|\s+watch_test\.go:7: listen is :8080$", screen, re.M), screen

        broken.write_text(WATCH_TEST.replace("LISTEN", "DefaultListen"))  # the fix
        shell.wait_for(r"#4 ok in .*test ran")

        shell.keys("C-c")
        screen = shell.wait_for(r"watch: stopped after 4 cycle\(s\)\n\$")
        assert "#5" not in screen  # one cycle per save, none while the tool wrote its files
        print(screen)  # the session as captured (pytest -rP), for the documentation
    finally:
        shell.close()
    history = (service / ".dlc" / "history.jsonl").read_text().splitlines()
    assert [json.loads(line)["ok"] for line in history] == [True, True, False, True]
