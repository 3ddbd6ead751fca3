"""A dependency bump on a fresh runner reuses the previous cache image's standard-library
layer (issue 19, item 2; dlc_tasks/model/stdlayer.py, steps/cachefrom.py).

The runner is a second ``dockerd`` of the test's own (``tests/support/dockerd.py``) holding
nothing but the Go base image (saved from the shared engine and loaded, as a runner pulls it);
the registry holds the service's cache image (``warm_registry``). After the bump (``go.mod``
changed: a new dependency hash), ``inv cache`` on that runner must prove the previous image's
layer from the registry, pull it, and build the new image on it: the new image's layer right
after the base is the previous image's, digest for digest, not a second compile of std.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml

from dlc_tasks.model.stdlayer import LABEL_STD_KEY, layers_of, std_layer
from tests.integration.conftest import Registry, inv, ok
from tests.support.dockerd import SecondEngine

pytestmark = pytest.mark.integration
CACHE_REPO = "arcodange/dance-lessons-coach-build-cache"


def go_image() -> str:
    """The Go base image the machine's configuration names (``./dev`` writes it)."""
    path = Path.home() / ".invoke.yaml"
    data = yaml.safe_load(path.read_text()) if path.is_file() else {}
    return str(((data or {}).get("dlc") or {}).get("build_args", {}).get("GO_IMAGE"))


def cache_config(registry: Registry, tag: str) -> dict[str, Any]:
    """The image configuration (labels, rootfs.diff_ids), as skopeo reads it from the registry."""
    ref = f"docker://{registry.address}/{CACHE_REPO}:{tag}"
    argv = ["skopeo", "inspect", "--tls-verify=false", "--config", "--raw", ref]
    return dict(json.loads(subprocess.run(argv, capture_output=True, check=True).stdout))


def test_a_dependency_bump_on_a_fresh_runner_reuses_the_std_layer(
    service: Path, warm_registry: Registry
) -> None:
    [previous] = warm_registry.tags(CACHE_REPO)
    before = cache_config(warm_registry, previous)
    base = go_image()
    layers = ["docker", "image", "inspect", "-f", "{{range .RootFS.Layers}}{{.}} {{end}}", base]
    base_layers = subprocess.run(layers, capture_output=True, text=True, check=True).stdout.split()
    std = std_layer(before, base_layers)
    assert std is not None and LABEL_STD_KEY in before["config"]["Labels"]

    with (service / "go.mod").open("a") as go_mod:
        go_mod.write("\n// a dependency bump: a new dependency hash\n")

    root = Path(tempfile.mkdtemp(prefix="dlc-bump-"))  # short: containerd's socket paths
    runner = SecondEngine(root, bridge="dlcbump0", cidr="10.215.79.1/24")
    try:
        runner.start()
        env = runner.client_env()
        saved = subprocess.run(["docker", "save", base], capture_output=True, check=True).stdout
        subprocess.run(
            ["docker", "load", "-q"], input=saved, env={**os.environ, **env}, check=True,
            capture_output=True,
        )  # fmt: skip
        out = ok(inv("cache", project=service, registry=warm_registry.address, env=env))
    finally:
        runner.stop()
        shutil.rmtree(root, ignore_errors=True)

    assert "cache: miss" in out, out
    assert "pulling it for cache_from" in out, out
    assert "std layer reused from" in out, out
    tags = warm_registry.tags(CACHE_REPO)
    [bumped] = [t for t in tags if t != previous]
    after = cache_config(warm_registry, bumped)
    assert std_layer(after, base_layers) == std  # the very layer, not a second compile
    assert after["config"]["Labels"][LABEL_STD_KEY] == before["config"]["Labels"][LABEL_STD_KEY]
    assert layers_of(after) != layers_of(before)  # the module's part is the new image's own
