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
