"""Registry faults injected on cue by the project's own proxy, between engine/tool and registry."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.conftest import Registry, commit, inv, ok
from tests.support.faultproxy import FaultProxy

pytestmark = pytest.mark.integration
PROD = "arcodange/dance-lessons-coach"
CACHE = "arcodange/dance-lessons-coach-build-cache"


@pytest.fixture
def proxy(registry: Registry) -> Iterator[FaultProxy]:
    proxied = FaultProxy(upstream=registry.address).start()
    yield proxied
    proxied.stop()


@pytest.fixture
def warm_proxy(warm_registry: Registry) -> Iterator[FaultProxy]:
    """A fault proxy in front of a registry that holds the service's cache image."""
    proxied = FaultProxy(upstream=warm_registry.address).start()
    yield proxied
    proxied.stop()


def state(project: Path) -> dict[str, dict[str, str]]:
    return dict(json.loads((project / ".dlc" / "state.json").read_text()))


# The two retry tests are about the manifest lookup: a dry run asks the same question through
# the same client (and so the same retries) without building and pushing the cache image.
def test_500_twice_then_fine_is_retried(service: Path, proxy: FaultProxy) -> None:
    proxy.add("HEAD", rf"/v2/{CACHE}/manifests/", status=500, times=2)
    out = ok(inv("cache", "--dry-run", project=service, registry=proxy.address))
    assert proxy.count("HEAD", rf"/v2/{CACHE}/manifests/", "500") == 2
    assert proxy.count("HEAD", rf"/v2/{CACHE}/manifests/", "forwarded") >= 1
    assert "registry: retry 1" in out
    assert "registry: retry 2" in out
    assert "would run: cache miss" in out  # after the retries, the real answer (404) decided


def test_429_with_retry_after_waits_at_least_that_long(service: Path, proxy: FaultProxy) -> None:
    proxy.add("HEAD", rf"/v2/{CACHE}/manifests/", status=429, retry_after="3", times=1)
    out = ok(inv("cache", "--dry-run", project=service, registry=proxy.address))
    delays = [float(d) for d in re.findall(r"registry: retry 1 in ([0-9.]+)s", out)]
    assert delays and delays[0] >= 3.0
    assert proxy.count("HEAD", rf"/v2/{CACHE}/manifests/", "429") == 1


def test_connection_reset_mid_blob_push_still_pushes_the_same_digest(
    service: Path, proxy: FaultProxy, registry: Registry
) -> None:
    proxy.add("PATCH", r"/blobs/uploads/", reset=True, times=1)
    proxy.add("PUT", r"/blobs/uploads/", reset=True, times=1)
    ok(inv("cache", project=service, registry=proxy.address))
    assert (
        proxy.count("PATCH", r"/blobs/uploads/", "reset")
        + proxy.count("PUT", r"/blobs/uploads/", "reset")
        >= 1
    )
    recorded = state(service)["cache"]["digest"]
    assert registry.digest(CACHE, state(service)["cache"]["inputs"]) == recorded


def test_403_on_the_manifest_put_fails_and_leaves_latest_untouched(
    service: Path, warm_proxy: FaultProxy, warm_registry: Registry
) -> None:
    proxy, registry = warm_proxy, warm_registry
    ok(inv("push", project=service, registry=proxy.address))
    before = {tag: registry.digest(PROD, tag) for tag in ("latest", "1.0.0")}

    main = service / "cmd" / "server" / "main.go"
    main.write_text(main.read_text().replace('logger.Info("stopped")', 'logger.Info("halted")'))
    commit(service)  # committed: release tags are pushed (an uncommitted tree gets SHA-dirty)
    proxy.add("PUT", rf"/v2/{PROD}/manifests/", status=403, times=100)
    result = inv("push", project=service, registry=proxy.address)
    assert result.returncode == 1
    assert "prod: ran" in result.stdout  # a new image was built, then refused
    line = result.stderr.strip()
    assert line.startswith("dlc: push of ")
    assert ":1.0.0 refused" in line  # the immutable tag goes first and fails first
    assert proxy.count("PUT", rf"/v2/{PROD}/manifests/latest", "403") == 0
    assert {tag: registry.digest(PROD, tag) for tag in ("latest", "1.0.0")} == before
