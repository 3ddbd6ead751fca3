"""The whole chain on a real engine and a real registry: `inv push` of the service and more."""

from __future__ import annotations

import json
import os
from pathlib import Path

import docker
import pytest

from dlc_tasks.checks.smoke import probe
from dlc_tasks.clients.engine import Engine
from tests.integration.conftest import REPO, Registry, commit, copy_module, git_sha, inv, ok
from tests.support.containers import go_step_containers

pytestmark = pytest.mark.integration
PROD = "arcodange/dance-lessons-coach"
CACHE = "arcodange/dance-lessons-coach-build-cache"


def state(project: Path) -> dict[str, dict[str, str]]:
    return dict(json.loads((project / ".dlc" / "state.json").read_text()))


def test_push_builds_tests_and_pushes_three_tags_of_one_digest(
    service: Path, registry: Registry, engine: docker.DockerClient
) -> None:
    out = ok(inv("push", project=service, registry=registry.address))
    sha = git_sha(service)

    # every step ran once, in order, and the cache was a miss on an empty registry
    order = [line.split("==> ")[1] for line in out.splitlines() if "==> " in line]
    assert order == ["hash", "cache", "generate", "test", "prod", "push"]
    assert "cache: miss" in out

    # an independent client sees the three tags naming one digest
    assert registry.tags(PROD) == sorted(["1.0.0", "latest", sha])
    digests = {tag: registry.digest(PROD, tag) for tag in ("1.0.0", "latest", sha)}
    assert len(set(digests.values())) == 1
    assert state(service)["push"]["digest"] == digests["latest"]

    # the one cache image is tagged with the hash `inv hash` wrote
    deps_hash = (service / "deps_hash.env").read_text().strip().removeprefix("DEPS_HASH=")
    assert registry.tags(CACHE) == [deps_hash]

    # the production image carries the OCI labels and pins the cache image by digest
    image = engine.images.get(f"{registry.address}/{PROD}:1.0.0")
    labels = image.labels
    assert labels["org.opencontainers.image.revision"] == sha
    assert labels["org.opencontainers.image.version"] == "1.0.0"
    assert labels["org.opencontainers.image.created"].endswith("Z")
    assert labels["org.opencontainers.image.source"]
    assert labels["io.dlc-tasks.deps-hash"] == deps_hash
    cache_digest = registry.digest(CACHE, deps_hash)
    pinned = f"{registry.address}/{CACHE}@{cache_digest}"
    assert labels["io.dlc-tasks.build-cache"] == pinned
    assert pinned in (service / "docker" / "Dockerfile.prod").read_text()

    # generation and coverage left their files in the tree, owned by the invoking user
    generated = service / "pkg" / "server" / "openapi.json"
    assert generated.stat().st_uid == os.getuid()
    assert (service / "coverage.out").read_text().startswith("mode: atomic")
    assert "total coverage:" in out
    assert "ok  \tgithub.com/arcodange/dance-lessons-coach/pkg/server" in out

    # the image runs, and its health endpoint answers with the version it was built from
    answer = probe(Engine(engine.api), image.id)
    assert answer["status"] == "ok"
    assert answer["version"] == "1.0.0"
    # no Go step container is left behind
    assert go_step_containers(engine, registry.address) == []


def test_second_push_is_a_cache_hit_that_rebuilds_nothing(
    service: Path, registry: Registry, engine: docker.DockerClient
) -> None:
    ok(inv("push", project=service, registry=registry.address))
    first = state(service)
    cache_image = engine.images.get(f"{registry.address}/{CACHE}:{first['cache']['inputs']}").id

    out = ok(inv("push", project=service, registry=registry.address))
    assert "cache: hit" in out
    assert "building" not in out
    for step in ("generate", "test", "prod", "push"):
        assert f"{step}: skipped" in out
    again = state(service)
    assert again["cache"]["digest"] == first["cache"]["digest"]
    assert again["prod"]["image"] == first["prod"]["image"]
    assert (
        engine.images.get(f"{registry.address}/{CACHE}:{first['cache']['inputs']}").id
        == cache_image
    )


def test_a_changed_source_file_is_rebuilt_and_tagged_honestly(
    service: Path, warm_registry: Registry
) -> None:
    ok(inv("push", project=service, registry=warm_registry.address))
    before = state(service)
    sha = git_sha(service)
    main = service / "cmd" / "server" / "main.go"
    main.write_text(main.read_text().replace('logger.Info("stopped")', 'logger.Info("halted")'))

    # Uncommitted: rebuilt and pushed as SHA-dirty only; the release tags stay where they were.
    out = ok(inv("push", project=service, registry=warm_registry.address))
    assert "cache: hit" in out
    # cmd/server is nothing pkg/server's generator reads: no generate container
    assert "generate: skipped" in out
    assert "test: ran" in out
    assert "prod: ran" in out
    dirty = state(service)
    assert dirty["test"]["binaries"] != before["test"]["binaries"]
    assert dirty["push"]["digest"] != before["push"]["digest"]
    assert warm_registry.digest(PROD, f"{sha}-dirty") == dirty["push"]["digest"]
    assert warm_registry.digest(PROD, "latest") == before["push"]["digest"]
    assert warm_registry.digest(PROD, "1.0.0") == before["push"]["digest"]

    # Committed: rebuilt with the new revision label and released; 1.0.0 moves and the run
    # says from which image.
    commit(service)
    out = ok(inv("push", project=service, registry=warm_registry.address))
    after = state(service)
    assert warm_registry.digest(PROD, "latest") == after["push"]["digest"]
    assert warm_registry.digest(PROD, "1.0.0") == after["push"]["digest"]
    assert warm_registry.digest(PROD, git_sha(service)) == after["push"]["digest"]
    assert before["push"]["digest"][:19] in out  # the replaced digest is printed

    # Under dlc.version_tags: immutable, a new image may not take 1.0.0 (bump VERSION first).
    main.write_text(main.read_text().replace('logger.Info("halted")', 'logger.Info("ended")'))
    commit(service)
    immutable = service.parent / "immutable.yaml"  # outside the tree: it stays clean
    immutable.write_text("dlc:\n  version_tags: immutable\n")
    refused = inv("-f", str(immutable), "push", project=service, registry=warm_registry.address)
    assert refused.returncode == 1
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1 and "1.0.0 already names" in lines[0], refused.stderr
    assert "inv version.bump" in lines[0]
    assert warm_registry.digest(PROD, "1.0.0") == after["push"]["digest"]
    assert warm_registry.digest(PROD, "latest") == after["push"]["digest"]


def test_a_changed_go_mod_yields_a_new_cache_image(service: Path, registry: Registry) -> None:
    ok(inv("cache", project=service, registry=registry.address))
    first = state(service)["cache"]
    go_mod = service / "go.mod"
    go_mod.write_text(go_mod.read_text() + "\n// a dependency change\n")

    out = ok(inv("cache", project=service, registry=registry.address))
    assert "cache: miss" in out
    second = state(service)["cache"]
    assert second["inputs"] != first["inputs"]
    assert registry.tags(CACHE) == sorted([first["inputs"], second["inputs"]])


def test_a_failing_go_test_fails_the_task_and_names_the_test(
    service: Path, warm_registry: Registry
) -> None:
    (service / "pkg" / "server" / "broken_test.go").write_text(
        'package server\n\nimport "testing"\n\n'
        'func TestDeliberatelyBroken(t *testing.T) { t.Fatal("broken on purpose") }\n'
    )
    result = inv("test", project=service, registry=warm_registry.address)
    assert result.returncode == 1
    errors = result.stderr.strip().splitlines()
    assert errors == [
        "dlc: go test failed with exit code 1: TestDeliberatelyBroken (read the Go output above)"
    ]
    assert "Traceback" not in result.stderr
    assert "prod" not in result.stdout.split("==> test")[1]


def test_the_chain_works_on_a_second_go_module(
    tmp_path: Path, registry: Registry, engine: docker.DockerClient
) -> None:
    # no docker/: the library's own templates
    module = copy_module(REPO / "tests" / "fixtures" / "hello", tmp_path / "hello")
    env = {
        "INVOKE_DLC_REPO": "hello",
        "INVOKE_DLC_ORG": "examples",
        "INVOKE_DLC_MAIN_PACKAGE": "./cmd/hello",
        "INVOKE_DLC_VERSION_VAR": "main.version",
        "INVOKE_DLC_LATEST": "releases",
    }
    # no generate step: an empty list, as YAML would give it
    (module / "invoke.yaml").write_text("dlc:\n  generate: []\n")
    commit(module)  # a release is pushed from committed source
    out = ok(
        inv(
            "-f",
            str(module / "invoke.yaml"),
            "push",
            project=module,
            registry=registry.address,
            env=env,
        )
    )
    sha = git_sha(module)
    # a prerelease under the `releases` policy gets no latest tag
    assert registry.tags("examples/hello") == sorted(["0.3.1-rc.1", sha])
    assert "examples/hello-build-cache" in out
    answer = probe(Engine(engine.api), f"{registry.address}/examples/hello:0.3.1-rc.1")
    assert answer == {
        "status": "ok",
        "service": "hello",
        "version": "0.3.1-rc.1",
        "greeting": "hello, world",
    }


def test_the_development_image_builds(service: Path, engine: docker.DockerClient) -> None:
    out = ok(inv("dev", project=service, registry=None))
    assert "dev: ran" in out
    image = engine.images.get("dance-lessons-coach:dev")
    assert image.attrs["Config"]["Entrypoint"][0] == "/app/dance-lessons-coach"
