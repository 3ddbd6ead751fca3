"""``inv check.cache-env``: the ADR's eight-step build-cache environment check, on real parts."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.integration.conftest import Registry, inv, ok

pytestmark = pytest.mark.integration


def test_the_eight_checks_pass_on_the_service_and_every_step_really_runs(
    service: Path, warm_registry: Registry
) -> None:
    ok(inv("push", project=service, registry=warm_registry.address))  # everything up to date
    out = ok(inv("check.cache-env", project=service, registry=warm_registry.address))
    passed = re.findall(r"\[(\d)/8\] ok +([^:]+):", out)
    assert [int(n) for n, _ in passed] == list(range(1, 9)), out
    assert passed[2][1] == "Go inside the cache image"
    assert "go version go1." in out
    # the chain's steps ran through the one runner, although the push left them up to date
    for step in ("generate", "test", "prod"):
        assert f"{step}: ran" in out, step
    # the service's own health check (dlc.image.healthcheck), run inside its container
    assert re.search(r"\[8/8\] ok +production container runs: the health check .* passed", out)


def test_a_failing_check_names_its_step_in_one_line(service: Path, warm_registry: Registry) -> None:
    (service / "pkg" / "server" / "broken_test.go").write_text(
        'package server\n\nimport "testing"\n\nfunc TestBroken(t *testing.T) { t.Fatal("no") }\n'
    )
    result = inv("check.cache-env", project=service, registry=warm_registry.address)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "dlc: step 5/8 (build and test) failed: go test failed with exit code 1: TestBroken"
        " (read the Go output above)"
    ]
    assert re.search(r"\[4/8\] ok +code generation", result.stdout)
