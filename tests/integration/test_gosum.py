"""Dependencies from a local module proxy, verified against go.sum; a tampered go.sum fails;
the cache image's warm Go build cache leaves a fresh runner only the module's own packages."""

from __future__ import annotations

import gc
import json
import re
import shutil
import subprocess
import urllib.request
from pathlib import Path

import docker
import pytest

from dlc_tasks.clients.engine import Engine
from dlc_tasks.clients.gocontainer import GoContainer
from dlc_tasks.model.gocommands import binary_command, check_commands
from tests.integration.conftest import REPO, Registry, inv, ok
from tests.support.goproxy import DEP, VERSION, write_module
from tests.support.plans import decisions, matches

pytestmark = pytest.mark.integration
ENV = {"INVOKE_DLC_GOPROXY_DIR": "goproxy", "INVOKE_DLC_REPO": "withdep"}


@pytest.fixture
def module(tmp_path: Path) -> Path:
    root = write_module(tmp_path / "withdep")
    shutil.copytree(
        REPO / "docker", root / "docker", ignore=shutil.ignore_patterns("Dockerfile.prod")
    )
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q", "-b", "main"], cwd=root, check=True)
    subprocess.run([*git, "add", "-A"], cwd=root, check=True)
    subprocess.run([*git, "commit", "-qm", "fixture"], cwd=root, check=True)
    return root


def test_a_module_with_a_dependency_builds_from_the_local_proxy(
    module: Path, registry: Registry
) -> None:
    # The plan first (with dlc.goproxy_dir set), then the run: the same decisions step by
    # step, the build argument and the proxy's files included.
    planned = decisions(
        ok(inv("test", "--dry-run", project=module, registry=registry.address, env=ENV))
    )
    out = ok(inv("test", project=module, registry=registry.address, env=ENV))
    done = decisions(out)
    assert list(planned) == list(done) == ["hash", "cache", "generate", "test"]
    for step in planned:
        assert matches(planned[step], done[step]), (step, planned[step], done[step])
    assert "--build-arg GOPROXY=file:///goproxy" in "\n".join(planned["cache"])
    [cache_log] = (module / ".dlc" / "logs").glob("*/cache.log")  # the build's whole log
    assert "all modules verified" in cache_log.read_text()
    assert "test: ran" in out


def test_a_tampered_go_sum_fails_the_cache_build_and_says_why(
    module: Path, registry: Registry
) -> None:
    go_sum = module / "go.sum"
    lines = go_sum.read_text().splitlines()
    first = lines[0]
    tampered = first[:-5] + ("AAAA=" if not first.endswith("AAAA=") else "BBBB=")
    go_sum.write_text("\n".join([tampered, *lines[1:]]) + "\n")
    result = inv("cache", project=module, registry=registry.address, env=ENV)
    assert result.returncode == 1
    line = result.stderr.strip()
    assert line.startswith("dlc: go.sum does not match the module's content")
    assert f"{DEP}@{VERSION}: checksum mismatch" in line
    assert "git checkout go.sum" in line
    with urllib.request.urlopen(f"http://{registry.address}/v2/_catalog") as answer:
        assert json.loads(answer.read())["repositories"] == []  # nothing was pushed


MAIN_TEST = (
    'package main\n\nimport (\n\t"testing"\n\n\t"example.com/dep"\n)\n\n'
    'func TestName(t *testing.T) {\n\tif dep.Name() != "dep" {\n\t\tt.Fatal(dep.Name())\n\t}\n}\n'
)
COMPILED = re.compile(r"/compile .* -p (\S+) ")


def with_x(argv: list[str]) -> list[str]:
    """``go SUBCOMMAND -x ARGS``: the same build, printing every tool it runs."""
    return [argv[0], argv[1], "-x", *argv[2:]]


# docker-py's exec streams leave a closed socket object for the collector, which warns about it
@pytest.mark.filterwarnings("ignore::ResourceWarning")
def test_a_fresh_runner_compiles_only_the_modules_own_packages(
    module: Path, registry: Registry, engine: docker.DockerClient
) -> None:
    """Cache image pulled from the registry into an engine without it, a new Go cache volume:
    vet, test with coverage and the binary compile (and vet) nothing but cmd/server."""
    (module / "cmd" / "server" / "main_test.go").write_text(MAIN_TEST)
    # a package without tests: go test -cover reports it through `go tool covdata`, a tool the
    # toolchain does not ship and the go command builds on first use unless the image has it
    (module / "untested").mkdir()
    (module / "untested" / "untested.go").write_text(
        "package untested\n\nfunc N() int { return 1 }\n"
    )
    ok(inv("cache", project=module, registry=registry.address, env=ENV))
    with urllib.request.urlopen(f"http://{registry.address}/v2/_catalog") as answer:
        [repo] = json.loads(answer.read())["repositories"]
    [tag] = registry.tags(repo)
    image = f"{registry.address}/{repo}"
    pinned = f"{image}@{registry.digest(repo, tag)}"
    # the engine of a fresh runner; noprune: the parent layers stay in the build cache, where
    # every other module on this engine finds the shared std layer of Dockerfile.build
    engine.images.remove(f"{image}:{tag}", force=True, noprune=True)
    engine.images.pull(pinned)
    # the module's warm-up layer holds its own entries, not a second copy of the shared std
    # layer's (touching a shared entry's date, or Go re-dating an old one, copies it whole)
    sizes = {step["CreatedBy"]: step["Size"] for step in engine.api.history(pinned)}
    [std_layer] = [size for by, size in sizes.items() if "go build std" in by]
    [module_layer] = [size for by, size in sizes.items() if 'mods=""' in by]
    assert module_layer < std_layer / 4, (module_layer, std_layer)
    volume = f"dlc-test-fresh-{registry.address.rsplit(':', 1)[1]}"
    lines: list[str] = []
    try:
        with GoContainer(Engine(engine.api), pinned, module, volume, lines.append) as go:
            tools = ["find", "/cache/go-build", "-type", "f", "-name", "covdata"]
            shipped = go.run(tools, quiet=True).lines
            # every warm entry is dated in 2100, so Go never rewrites its mtime (a rewrite
            # copies the file into the module's layer when the shared std layer is old)
            go.run(["touch", "-d", "2099-12-31 00:00:00", "/tmp/2099"])
            undated = ["find", "/cache/go-build", "-type", "f", "!", "-name", "trim.txt"]
            dated_before = go.run([*undated, "!", "-newer", "/tmp/2099"], quiet=True).lines
            for what, argv in check_commands("coverage.out"):
                go.run(with_x(argv), what=what)
            go.run(with_x(binary_command("./cmd/server", ".dlc/bin/server")))
            used = go.run(tools, quiet=True).lines
    finally:
        engine.volumes.get(volume).remove(force=True)
        engine.images.remove(pinned, force=True, noprune=True)
        gc.collect()  # those sockets, while this test ignores their warning
    compiled = [m.group(1) for line in lines if (m := COMPILED.search(line))]
    # cmd/server under test (with coverage), its test main, the binary, the untested package
    # (for its 0%): nothing from std or dep
    assert sorted(compiled) == [
        "example.com/withdep/cmd/server",
        "example.com/withdep/untested",
        "main",
        "main",
    ], compiled
    # covdata came built in the image's cache, and the one go test ran was that one
    assert len(shipped) == 1 and used == shipped, (shipped, used)
    assert dated_before == [], dated_before[:5]
    vetted = [line for line in lines if "/vet " in line and "vet.cfg" in line]
    assert len(vetted) == 4, vetted  # the two packages, each by go vet and by go test
    assert any(line.startswith("ok ") and "cmd/server" in line for line in lines)
