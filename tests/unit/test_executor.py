"""dlc_tasks.cli.executor: one run per invocation, and a run that always ends with its report."""

from __future__ import annotations

import io
import json
import os
import signal
from pathlib import Path
from typing import Any

import pytest
from invoke.collection import Collection
from invoke.config import Config, merge_dicts
from invoke.exceptions import Exit
from invoke.parser import ParseResult
from invoke.tasks import task

from dlc_tasks.cli import chain
from dlc_tasks.cli.collection import namespace
from dlc_tasks.cli.executor import DlcExecutor, holder_of
from dlc_tasks.config import DEFAULTS, Settings
from dlc_tasks.reporting.console import Console
from dlc_tasks.run import Run
from tests.support.fakes import World, failing, make_project, raising, settings_for
from tests.unit.conftest import invoke_tasks


@pytest.fixture
def world(tmp_path: Path) -> World:
    return World(make_project(tmp_path / "module"))


def executor_for(world: World) -> type[DlcExecutor]:
    """A DlcExecutor whose runs use the world's fake engine and registry."""

    def make_run(settings: Settings, out: Console, options: dict[str, Any]) -> Run:
        values = {k: v for k, v in options.items() if k != "force"}
        run = world.run(force=bool(options.get("force")), **values)
        run.out = Console(stream=io.StringIO())
        return run

    class Fake(DlcExecutor):
        pass

    Fake.make_run = staticmethod(make_run)  # type: ignore[assignment]
    return Fake


def report(world: World) -> dict[str, Any]:
    return dict(json.loads((world.project / ".dlc" / "report.json").read_text()))


def history(world: World) -> list[dict[str, Any]]:
    lines = (world.project / ".dlc" / "history.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines]


def test_a_successful_push_ends_with_report_and_history(world: World) -> None:
    invoke_tasks("push", dlc={"project_dir": str(world.project)}, executor=executor_for(world))
    written = report(world)
    assert written["ok"] is True
    assert written["failed"] is None
    assert [t["task"] for t in written["tasks"]] == [
        "hash", "cache", "generate", "test", "prod", "push"
    ]  # fmt: skip
    assert written["cache_hit"] is False
    total = sum(t["seconds"] for t in written["tasks"])
    assert written["total_seconds"] == pytest.approx(total, abs=0.01)  # each step counted once
    assert len(history(world)) == 1


def test_a_failing_step_under_ci_is_named_in_the_report(world: World) -> None:
    world.engine.go_hook = failing("go test", lines=["--- FAIL: TestX (0.00s)"])
    with pytest.raises(Exit) as caught:
        invoke_tasks(
            ("ci", {"branch": "main"}),
            dlc={"project_dir": str(world.project)},
            executor=executor_for(world),
        )
    assert caught.value.code == 1
    written = report(world)
    assert written["ok"] is False
    assert written["failed"] == "test"
    assert [(t["task"], t["status"]) for t in written["tasks"]][-1] == ("test", "failed")
    # each step counted once: ci runs the steps itself, with no pre chain
    assert [t["task"] for t in written["tasks"]] == ["hash", "cache", "generate", "test"]


def test_ctrl_c_is_recorded_as_an_interruption_not_a_success(world: World) -> None:
    world.engine.go_hook = raising("go vet", KeyboardInterrupt())
    with pytest.raises(Exit) as caught:
        invoke_tasks("push", dlc={"project_dir": str(world.project)}, executor=executor_for(world))
    assert caught.value.code == 130
    written = report(world)
    assert written["ok"] is False
    assert written["failed"] == "test"
    assert written["tasks"][-1]["status"] == "interrupted"


def test_an_unexpected_exception_is_recorded_as_a_failure(world: World) -> None:
    world.engine.go_hook = raising("go generate", RuntimeError("boom"))
    with pytest.raises(RuntimeError):
        invoke_tasks("push", dlc={"project_dir": str(world.project)}, executor=executor_for(world))
    written = report(world)
    assert written["ok"] is False
    assert written["failed"] == "generate"


def test_sigterm_between_tasks_ends_the_run_with_its_report(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = chain.run_chain_steps

    def steps_then_sigterm(ctx: Any, *names: str) -> None:
        original(ctx, *names)
        if names == ("cache",):
            os.kill(os.getpid(), signal.SIGTERM)  # arrives after cache, before generate

    monkeypatch.setattr(chain, "run_chain_steps", steps_then_sigterm)
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(Exit) as caught:
        invoke_tasks("push", dlc={"project_dir": str(world.project)}, executor=executor_for(world))
    assert caught.value.code == 130
    written = report(world)
    assert [(t["task"], t["status"]) for t in written["tasks"]] == [
        ("hash", "ran"),
        ("cache", "miss"),
        ("generate", "interrupted"),  # the task that was next: the run was not a success
    ]
    assert written["ok"] is False
    assert signal.getsignal(signal.SIGTERM) is before
    assert world.engine.containers == {}


def test_a_report_that_cannot_be_written_fails_the_run(world: World) -> None:
    (world.project / ".dlc").mkdir()
    (world.project / ".dlc" / "report.json").mkdir()  # a folder where the file should go
    with pytest.raises(Exit) as caught:
        invoke_tasks("hash", dlc={"project_dir": str(world.project)}, executor=executor_for(world))
    assert caught.value.code == 1
    assert "cannot write" in str(caught.value.message)


def test_a_dry_run_writes_no_report(world: World) -> None:
    invoke_tasks(
        ("push", {"dry_run": True}),
        dlc={"project_dir": str(world.project)},
        executor=executor_for(world),
    )
    assert not (world.project / ".dlc" / "report.json").exists()
    assert not (world.project / "deps_hash.env").exists()


def test_settings_for_are_valid(world: World) -> None:
    assert settings_for(world.project).repo == "fake"


def test_a_task_that_fails_after_the_steps_makes_the_report_a_failure(world: World) -> None:
    # No step failed: `hash` ran, then `version.bump bogus` raised. The run still failed.
    with pytest.raises(Exit) as caught:
        invoke_tasks(
            "hash",
            ("version.bump", {"part": "bogus"}),
            dlc={"project_dir": str(world.project)},
            executor=executor_for(world),
        )
    assert caught.value.code != 0
    written = report(world)
    assert written["ok"] is False
    assert written["failed"] == "bump"
    assert [(t["task"], t["status"]) for t in written["tasks"]] == [
        ("hash", "ran"), ("bump", "failed")
    ]  # fmt: skip
    assert history(world)[-1]["ok"] is False


def _own_namespace() -> Any:
    """The library's namespace plus a task of Invoke's own features: autoprint, remainder."""

    @task(autoprint=True)
    def answer(c: Any) -> str:
        return f"remainder={c.remainder!r} holder={holder_of(c) is not None}"

    ns: Collection = namespace()
    ns.add_task(answer)
    return ns


def test_invokes_own_loop_runs_the_tasks_autoprint_and_remainder_included(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Invoke's loop (super().execute()) is the one that runs: autoprint prints a directly
    # named task's result, and Call.make_context hands the task `inv … -- REMAINDER`. The
    # executor that rewrote the loop printed nothing and dropped the remainder.

    config = Config(defaults=merge_dicts(Config.global_defaults(), {"dlc": DEFAULTS}))
    core = ParseResult()
    core.remainder = "go test -run X"
    DlcExecutor(_own_namespace(), config, core).execute("answer")
    assert capsys.readouterr().out == "remainder='go test -run X' holder=True\n"


def test_invokes_no_dedupe_is_honoured_and_dedupe_is_by_task(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    ran: list[str] = []
    monkeypatch.setattr(chain, "run_chain_steps", lambda c, *names: ran.extend(names))
    invoke_tasks(("cache", {"force": True}), "cache", executor=executor_for(world))
    assert ran == ["hash", "cache"]  # by task: the flags are the run's
    ran.clear()
    config = Config(
        defaults=merge_dicts(Config.global_defaults(), {"dlc": DEFAULTS}),
        overrides={"tasks": {"dedupe": False}},  # `inv --no-dedupe`
    )
    executor_for(world)(namespace(), config).execute("hash", "hash")
    assert ran == ["hash", "hash"]
