"""dlc_tasks.cli.task.dlc_task: a DlcError becomes one ``dlc:`` line and an exit code."""

from __future__ import annotations

import errno
from typing import Any

import pytest
from invoke.context import Context
from invoke.exceptions import Exit

from dlc_tasks.cli.task import dlc_task
from dlc_tasks.errors import DlcError, PushError, VersionFileError
from dlc_tasks.reporting.console import Console


class Odd(DlcError):
    exit_code = 7
    hint = "try the other thing"


@dlc_task(help={"kind": "which error to raise"})
def explode(c: Any, kind: str = "odd") -> str:
    """Raise the error named by kind."""
    if kind == "odd":
        raise Odd("it went\n  wrong\ttwice")
    if kind == "version":
        raise VersionFileError("VERSION:3: MAJOR is set twice")
    if kind == "push":
        raise PushError("push of x failed", hint="check the registry")
    if kind == "interrupt":
        raise KeyboardInterrupt
    if kind == "read-only":
        raise OSError(errno.EROFS, "Read-only file system", "/p/.dlc/bin/app")
    if kind == "oserror-without-a-path":
        raise OSError(errno.EIO, "Input/output error")
    return "fine"


def test_dlc_error_becomes_a_one_line_exit(quiet_console: Console) -> None:
    with pytest.raises(Exit) as caught:
        explode(Context(), kind="odd")
    message = str(caught.value.message)
    assert message == "dlc: it went wrong twice (try the other thing)"
    assert "\n" not in message
    assert caught.value.code == 7


@pytest.mark.parametrize(
    ("kind", "code", "hint"),
    [
        ("version", 2, VersionFileError.hint),
        ("push", 1, "check the registry"),
        # an unexpected OSError (a read-only or root-owned .dlc) was a raw traceback
        ("read-only", 1, "cannot use /p/.dlc/bin/app: Read-only file system (the file system"),
        ("oserror-without-a-path", 1, "unexpected OSError: [Errno 5] Input/output error (DLC_"),
    ],
)
def test_exit_carries_the_hint_and_the_error_code(
    quiet_console: Console, kind: str, code: int, hint: str
) -> None:
    with pytest.raises(Exit) as caught:
        explode(Context(), kind=kind)
    message = str(caught.value.message)
    assert message.startswith("dlc: ")
    assert hint in message
    assert "\n" not in message
    assert caught.value.code == code


def test_dlc_debug_lets_the_original_error_through(
    quiet_console: Console, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DLC_DEBUG", "1")
    with pytest.raises(Odd, match="it went"):
        explode(Context(), kind="odd")


def test_interrupt_exits_130(quiet_console: Console) -> None:
    with pytest.raises(Exit) as caught:
        explode(Context(), kind="interrupt")
    assert caught.value.code == 130


def test_success_returns_the_value(quiet_console: Console) -> None:
    assert explode(Context(), kind="none") == "fine"


def test_the_task_keeps_its_name_doc_and_help() -> None:
    assert explode.name == "explode"
    assert explode.__doc__ == "Raise the error named by kind."
    assert explode.help == {"kind": "which error to raise"}
    assert list(explode.argspec(explode.body).parameters) == ["kind"]


def test_dlc_debug_keeps_the_traceback_of_an_oserror(
    quiet_console: Console, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DLC_DEBUG", "1")
    with pytest.raises(OSError, match="Read-only"):
        explode(Context(), kind="read-only")
