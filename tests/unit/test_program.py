"""dlc_tasks.cli.program: the ``dlc`` command, Invoke's Program with the library's namespace."""

from __future__ import annotations

from pathlib import Path

import pytest

from dlc_tasks.cli.executor import DlcExecutor
from dlc_tasks.cli.program import program


def test_dlc_list_shows_the_library_tasks(capsys: pytest.CaptureFixture[str]) -> None:
    prog = program()
    prog.run(["dlc", "--list"], exit=False)
    out = capsys.readouterr().out
    for task in ("push", "prod", "hash", "doctor", "ci", "version.bump"):
        assert task in out
    assert prog.executor_class is DlcExecutor


def test_dlc_prints_a_bash_completion_script_naming_itself(
    capsys: pytest.CaptureFixture[str],
) -> None:
    program().run(["dlc", "--print-completion-script", "bash"], exit=False)
    out = capsys.readouterr().out
    assert "complete -F" in out
    assert "dlc" in out.split("complete -F", 1)[1]


def test_dlc_reads_the_project_invoke_yaml_and_invoke_dlc_variables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "invoke.yaml").write_text("dlc:\n  org: fromfile\n  repo: fromfile\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("INVOKE_DLC_REPO", "fromenv")
    prog = program()
    prog.run(["dlc", "--list"], exit=False)
    capsys.readouterr()
    assert prog.config.dlc.org == "fromfile"
    # --list stops before Invoke reads the environment; a task run reads it (update_config)
    prog.config.load_shell_env()
    assert prog.config.dlc.repo == "fromenv"
