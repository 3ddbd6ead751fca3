"""Outside a Go module the tasks that build or report on one stop in one line and write
nothing (before: ``dlc push`` left ``.dlc/report.json`` and a history in any directory, and
``report`` drew a chart there); ``doctor`` says so as a FAIL line."""

from __future__ import annotations

from pathlib import Path

import pytest
from invoke.exceptions import Exit

from dlc_tasks.checks.doctor import DoctorFailed, run_doctor
from dlc_tasks.cli.program import program
from tests.support.fakes import World, printed
from tests.unit.conftest import invoke_tasks
from tests.unit.test_doctor import Holder

TASKS = [
    "hash",
    "cache",
    "generate",
    "test",
    "prod",
    "push",
    "ci",
    "dev",
    "report",
    "check.cache-env",
    "cache.prune",
]


def listing(folder: Path) -> list[str]:
    """Every path under ``folder``, hidden ones included."""
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))


@pytest.fixture
def notes(tmp_path: Path) -> Path:
    """A folder of notes: no go.mod."""
    folder = tmp_path / "notes"
    (folder / "drafts").mkdir(parents=True)
    (folder / "todo.txt").write_text("buy milk\n")
    return folder


@pytest.mark.parametrize("task", TASKS)
def test_a_task_outside_a_go_module_is_one_line_and_writes_nothing(notes: Path, task: str) -> None:
    before = listing(notes)
    with pytest.raises(Exit) as stopped:
        invoke_tasks(task, dlc={"project_dir": str(notes)})
    assert stopped.value.code == 2
    message = str(stopped.value.message)
    assert "\n" not in message
    assert message.startswith(
        f"dlc: {notes} is not a Go module (no go.mod): nothing was run or written (run it in "
        "the module's root, where go.mod is, or set dlc.project_dir to it"
    )
    assert listing(notes) == before == ["drafts", "todo.txt"]


@pytest.mark.parametrize("task", ["push", "report"])
def test_the_dlc_command_in_a_folder_that_is_no_module(
    notes: Path, task: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """As a user types it: `dlc push` in a folder of notes."""
    monkeypatch.chdir(notes)
    with pytest.raises(SystemExit) as exited:
        program().run(["dlc", task])
    assert exited.value.code == 2
    said = capsys.readouterr()
    assert said.err.strip().startswith(f"dlc: {notes} is not a Go module (no go.mod)")
    assert said.out == ""
    assert listing(notes) == ["drafts", "todo.txt"]


def test_doctor_reports_a_folder_that_is_no_module_as_a_fail_line(notes: Path) -> None:
    run = World(notes).run()
    with pytest.raises(DoctorFailed, match="go module"):
        run_doctor(Holder(run))  # type: ignore[arg-type]
    expected = (
        f"FAIL go module: {notes} is not a Go module (no go.mod) (run it in the module's root, "
        "where go.mod is, or set dlc.project_dir to it; `dlc init` adopts a module)"
    )
    lines = printed(run).splitlines()
    assert any(line.endswith(expected) for line in lines), lines
    assert listing(notes) == ["drafts", "todo.txt"]
