"""One run per invocation, on real parts: command-wide flags reach every step, and the plan
printed by ``--dry-run`` is what the real run then does, step by step."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import pytest

from tests.integration.conftest import REPO, Registry, copy_module, inv, ok, start_registry
from tests.support.plans import decisions, matches

pytestmark = pytest.mark.integration
CHAIN = ("hash", "cache", "generate", "test", "prod", "push")
HELLO_ENV = {
    "INVOKE_DLC_REPO": "hello",
    "INVOKE_DLC_ORG": "examples",
    "INVOKE_DLC_MAIN_PACKAGE": "./cmd/hello",
    "INVOKE_DLC_VERSION_VAR": "main.version",
}


def catalog(registry: Registry) -> list[str]:
    with urllib.request.urlopen(f"http://{registry.address}/v2/_catalog") as response:
        return sorted(json.loads(response.read())["repositories"])


def test_a_registry_flag_on_push_reaches_every_step(
    service: Path, warm_registry: Registry, tmp_path: Path
) -> None:
    registry = warm_registry  # the flag's registry; it holds the cache image already
    # The configured registry (INVOKE_DLC_REGISTRY) is `other`; the flag names `registry`.
    other = start_registry(tmp_path / "other")
    try:
        out = ok(
            inv("push", "--registry", registry.address, project=service, registry=other.address)
        )
        assert catalog(other) == []  # no step, pre task or not, went to the configured one
        assert catalog(registry) == [
            "arcodange/dance-lessons-coach",
            "arcodange/dance-lessons-coach-build-cache",
        ]
        assert other.address not in out
    finally:
        other.process.terminate()
        other.process.wait(10)


def plan_and_run(module: Path, registry: Registry) -> dict[str, list[str]]:
    """``inv push --dry-run`` then ``inv push``; assert the plan is what the run did."""
    dry = inv("push", "--dry-run", project=module, registry=registry.address, env=HELLO_ENV)
    planned = decisions(ok(dry))
    done = decisions(ok(inv("push", project=module, registry=registry.address, env=HELLO_ENV)))
    assert list(planned) == list(done) == list(CHAIN)
    for step in CHAIN:
        assert matches(planned[step], done[step]), (step, planned[step], done[step])
    return planned


def test_the_plan_is_what_the_run_does_cold_edited_and_unchanged(
    tmp_path: Path, registry: Registry
) -> None:
    module = copy_module(REPO / "tests" / "fixtures" / "hello", tmp_path / "hello")  # no docker/

    cold = plan_and_run(module, registry)
    assert cold["cache"][0].startswith("run: cache miss")
    # hello has no //go:generate directive: go generate ./... has nothing to run, no container
    assert cold["generate"] == ["skip: no //go:generate directive in the module"]

    main = module / "cmd" / "hello" / "main.go"  # an edit that changes the binary
    main.write_text(main.read_text().replace("hello listening on", "hello serving on"))
    edited = plan_and_run(module, registry)
    assert edited["cache"][0].startswith("skip: the registry has")
    assert edited["generate"] == ["skip: no //go:generate directive in the module"]

    unchanged = plan_and_run(module, registry)
    assert [lines[0].split(":")[0] for lines in unchanged.values()] == ["skip"] * len(CHAIN)
