"""Bad paths and values from configuration, through a real ``inv``: one ``dlc:`` line, exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.conftest import inv

pytestmark = pytest.mark.integration


@pytest.mark.parametrize(
    ("variable", "value", "key"),
    [
        ("INVOKE_DLC_COVERAGE_FILE", "../../../etc/cron.d/x", "coverage_file"),
        ("INVOKE_DLC_HASH_FILE", "../outside.env", "hash_file"),
        ("INVOKE_DLC_LOCAL_REGISTRY_HOST", "127.0.0.1\nstorage: x", "local_registry.host"),
        # before: Invoke's UncastableEnvVar traceback (a list), a mapping dropped silently
        ("INVOKE_DLC_PROD_FILES", "[config.yaml", "INVOKE_DLC_PROD_FILES is not valid JSON"),
        ("INVOKE_DLC_BUILD_ARGS", '["GOPROXY=off"]', "INVOKE_DLC_BUILD_ARGS must be a JSON object"),
    ],
)
def test_a_refused_configuration_value_is_one_line_and_writes_nothing(
    service: Path, variable: str, value: str, key: str
) -> None:
    before = sorted(p.name for p in service.parent.iterdir())
    result = inv("hash", project=service, registry=None, env={variable: value})
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("dlc: ") and key in lines[0], result.stderr
    assert "Traceback" not in result.stderr
    assert sorted(p.name for p in service.parent.iterdir()) == before
    assert not (service / "deps_hash.env").exists()


def test_lists_and_mappings_from_the_environment_reach_the_plan(service: Path) -> None:
    # JSON from INVOKE_DLC_*: the production context takes both files, the cache image's
    # build the argument (merged over the configured ones); a dry run, so nothing is made
    result = inv(
        "--dry",
        "prod",
        project=service,
        registry=None,
        env={
            "INVOKE_DLC_PROD_FILES": '["config.yaml", "VERSION"]',
            "INVOKE_DLC_BUILD_ARGS": '{"GOPROXY": "off"}',
        },
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "--build-arg GOPROXY=off" in result.stdout
    assert "config.yaml, VERSION)" in result.stdout, result.stdout
