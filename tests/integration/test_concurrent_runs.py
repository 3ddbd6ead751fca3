"""Several real ``inv`` processes in one checkout at once (issue 11, item 2)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.integration.conftest import inv, inv_background, ok

pytestmark = pytest.mark.integration
RUNS = 6


def test_concurrent_inv_processes_in_one_checkout_keep_every_record(service: Path) -> None:
    runs = [inv_background("hash", project=service, registry=None) for _ in range(RUNS)]
    outputs = [run.communicate(timeout=300) for run in runs]
    assert [run.returncode for run in runs] == [0] * RUNS, [err for _, err in outputs]
    history = (service / ".dlc" / "history.jsonl").read_text().splitlines()
    records = [json.loads(line) for line in history]  # every line whole
    assert len(records) == RUNS
    assert all(r["ok"] and [t["task"] for t in r["tasks"]] == ["hash"] for r in records)
    json.loads((service / ".dlc" / "report.json").read_text())
    assert not list((service / ".dlc").glob("*.tmp"))
    report = ok(inv("report", project=service, registry=None))
    assert re.search(rf"\bruns\s+{RUNS}\b", report), report
    assert "skipped history lines" not in report
