"""`inv hash --explain`'s comparison of inputs."""

from __future__ import annotations

from dlc_tasks.checks.explain import compare


def test_compare_names_each_change() -> None:
    current = {"go.mod": "1" * 64, "go.sum": "2" * 64, "Dockerfile.build": "3" * 64}
    previous = {"go.mod": "1" * 64, "Dockerfile.build": "4" * 64, "build-arg:X": "5" * 64}
    rows = {name: status for name, _, status in compare(current, previous)}
    assert rows == {
        "go.mod": "same",
        "go.sum": "new",
        "Dockerfile.build": "changed",
        "build-arg:X": "removed",
    }
