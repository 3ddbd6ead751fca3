"""`inv --list` and tab completion import only what listing needs (bench/startup.py times it)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
INV = str(Path(sys.executable).parent / "inv")
# The task definitions, the package roots and the `dlc` defaults: nothing that checks or runs.
LISTING = {
    "dlc_tasks",
    "dlc_tasks.cli",
    "dlc_tasks.cli.chain",
    "dlc_tasks.cli.collection",
    "dlc_tasks.cli.maintenance",
    "dlc_tasks.cli.project",
    "dlc_tasks.cli.task",
    "dlc_tasks.config",
    "dlc_tasks.config.defaults",
    "dlc_tasks.config.options",  # the one table of options the defaults and flags come from
    "dlc_tasks.errors",
    "dlc_tasks.secrets",  # errors mask secrets in every line they make
}
HEAVY = ("docker", "plumbum", "rich", "requests", "watchfiles", "matplotlib")


def imported_by(*argv: str) -> set[str]:
    """The modules ``inv ARGV`` imports in this repository (Python's own import profile)."""
    env = {**os.environ, "PYTHONPROFILEIMPORTTIME": "1"}
    done = subprocess.run(
        [INV, *argv], cwd=REPO, env=env, capture_output=True, text=True, check=True, timeout=60
    )
    return {
        line.rsplit("|", 1)[1].strip()
        for line in done.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }


@pytest.mark.parametrize("argv", [["--list"], ["--complete", "--", "inv", "pu"]])
def test_listing_and_completion_import_only_the_task_definitions(argv: list[str]) -> None:
    modules = imported_by(*argv)
    assert {m for m in modules if m.startswith("dlc_tasks")} <= LISTING
    assert not [m for m in modules if m.split(".")[0] in HEAVY]


def test_config_settings_stays_the_function_whatever_was_imported_first() -> None:
    code = (
        "import dlc_tasks.config.settings\n"
        "from dlc_tasks.config import settings, Settings\n"
        "assert callable(settings) and not isinstance(settings, type(dlc_tasks)), settings\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True, timeout=60)


def test_loading_the_namespace_copies_no_task() -> None:
    """Invoke deep-copies the namespace of a tasks.py; the library's tasks are copied by
    reference, or every task's pre chain is copied again for each task standing on it."""
    import types  # noqa: PLC0415

    from invoke.collection import Collection  # noqa: PLC0415

    from dlc_tasks.cli.collection import namespace  # noqa: PLC0415

    module = types.ModuleType("tasks")
    module.ns = namespace()  # type: ignore[attr-defined]
    loaded = Collection.from_module(module)
    assert loaded.tasks["push"] is module.ns.tasks["push"]  # type: ignore[attr-defined]
    assert loaded.collections["cache"].tasks["cache"].pre[0] is module.ns.tasks["hash"]  # type: ignore[attr-defined]
