"""Dependencies from a local module proxy, verified against go.sum; a tampered go.sum fails."""

from __future__ import annotations

import json
import shutil
import subprocess
import urllib.request
from pathlib import Path

import pytest

from tests.integration.conftest import REPO, Registry, inv, ok
from tests.support.goproxy import DEP, VERSION, write_module

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
    out = ok(inv("test", project=module, registry=registry.address, env=ENV))
    assert "all modules verified" in out
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
