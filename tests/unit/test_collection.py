"""dlc_tasks.cli: the pre chain, command-wide flags on one run, and every task's help."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

import pytest
from invoke.collection import Collection
from invoke.exceptions import Exit
from invoke.tasks import Task

from dlc_tasks.cli import chain, collection
from dlc_tasks.cli.executor import DlcExecutor, command_wide_options, run_of
from dlc_tasks.config import DEFAULTS
from dlc_tasks.config.options import COMMAND_WIDE
from dlc_tasks.run import Run
from tests.support.fakes import make_project
from tests.unit.conftest import invoke_tasks

CHAIN = ["hash", "cache", "generate", "test", "prod", "push"]


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, Run]]:
    """Replace the step runner with a recorder of (step, the run it was given)."""
    recorded: list[tuple[str, Run]] = []

    def fake_steps(ctx: Any, *names: str) -> None:
        recorded.extend((name, run_of(ctx)) for name in names)

    monkeypatch.setattr(chain, "run_chain_steps", fake_steps)
    return recorded


def names(calls: list[tuple[str, Run]]) -> list[str]:
    return [name for name, _ in calls]


def test_push_runs_the_whole_chain_once_in_order(calls: list[Any]) -> None:
    invoke_tasks("push")
    assert names(calls) == CHAIN


def test_test_runs_the_chain_up_to_test(calls: list[Any]) -> None:
    invoke_tasks("test")
    assert names(calls) == ["hash", "cache", "generate", "test"]


def test_hash_alone(calls: list[Any]) -> None:
    invoke_tasks("hash")
    assert names(calls) == ["hash"]


def test_cache_then_push_still_runs_each_task_once(calls: list[Any]) -> None:
    invoke_tasks("cache", "push")
    assert names(calls) == CHAIN


def test_the_same_task_with_other_flags_runs_once(calls: list[Any]) -> None:
    invoke_tasks(("cache", {"force": True}), "push")
    assert names(calls) == CHAIN
    assert all(run.force for _, run in calls)


def test_flags_given_to_one_task_reach_every_step_through_one_run(calls: list[Any]) -> None:
    invoke_tasks(("push", {"registry": "r.example.com:5000", "latest": "releases"}))
    assert names(calls) == CHAIN
    runs = {id(run) for _, run in calls}
    assert len(runs) == 1  # one run, one configuration object, for every step
    run = calls[0][1]
    assert run.settings.registry == "r.example.com:5000"
    assert run.settings.latest == "releases"
    assert not run.dry_run


def test_dry_run_on_the_last_task_makes_the_whole_invocation_dry(calls: list[Any]) -> None:
    invoke_tasks("hash", ("push", {"dry_run": True}))
    assert all(run.dry_run for _, run in calls)


def test_conflicting_command_wide_flags_are_refused(calls: list[Any]) -> None:
    with pytest.raises(Exit) as caught:
        invoke_tasks(("cache", {"registry": "a.example:5000"}), ("push", {"registry": "b.example"}))
    assert "--registry is given twice" in str(caught.value.message)
    assert calls == []


def test_a_task_under_invokes_own_executor_says_how_to_fix_it() -> None:
    from invoke.executor import Executor  # noqa: PLC0415

    with pytest.raises(Exit) as caught:
        invoke_tasks("hash", executor=Executor)  # type: ignore[arg-type]
    assert "executor_class: dlc_tasks.cli.executor.DlcExecutor" in str(caught.value.message)


def all_tasks(ns: Collection) -> list[Task[Any]]:
    found = list(ns.tasks.values())
    for sub in ns.collections.values():
        found.extend(all_tasks(sub))
    return found


def test_namespace_holds_the_documented_tasks() -> None:
    ns = collection.namespace()
    assert {"hash", "generate", "test", "prod", "push", "dev", "doctor", "report"} <= set(ns.tasks)
    assert set(ns.collections) == {"cache", "ci", "setup", "check", "version"}
    assert ns.collections["cache"].default == "cache"
    assert set(ns.collections["cache"].tasks) == {"cache", "prune"}
    assert ns.collections["ci"].default == "ci"
    assert set(ns.collections["ci"].tasks) == {"ci", "workflow"}
    assert ns.configuration()["dlc"] == DEFAULTS


def test_every_task_has_a_docstring_and_help_for_each_parameter() -> None:
    tasks = all_tasks(collection.namespace())
    assert len(tasks) == 19  # the chain, the tasks around it, init, watch, sbom, verify
    for task in tasks:
        assert task.__doc__ and task.__doc__.strip(), task.name
        params = list(task.argspec(task.body).parameters)
        assert params == list(inspect.signature(task.body).parameters)[1:], task.name
        assert set(task.help) == set(params), task.name
        assert all(text.strip() for text in task.help.values()), task.name


def test_every_chain_task_takes_every_command_wide_flag_on_the_command_line(
    calls: list[Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Through Invoke's parser, as typed: `inv push --allow-dirty` used to be "No idea what
    # '--allow-dirty' is!" (only cache took --force, only push --latest, none --allow-dirty).
    from dlc_tasks.cli.program import program  # noqa: PLC0415

    monkeypatch.chdir(make_project(tmp_path / "module"))
    program().run(
        ["dlc", "push", "--force", "--allow-dirty", "--latest", "releases", "-r", "r.test:1"],
        exit=False,
    )
    assert names(calls) == CHAIN
    run = calls[0][1]
    assert run.force and run.settings.allow_dirty
    assert (run.settings.latest, run.settings.registry) == ("releases", "r.test:1")
    for task in (chain.hash_, chain.cache, chain.generate, chain.test, chain.prod, chain.push):
        assert set(COMMAND_WIDE) <= set(task.argspec(task.body).parameters), task.name


def test_a_tasks_own_force_is_not_command_wide() -> None:
    # `init --force` replaces files and `setup.base-images --force` re-imports base images:
    # neither may make the cache step of the same command line rebuild.
    executor = DlcExecutor(collection=collection.namespace())
    for task in ("init", "setup.base-images"):
        options = command_wide_options(executor.normalize([(task, {"force": True}), "push"]))
        assert "force" not in options, task
    options = command_wide_options(executor.normalize([("cache", {"force": True}), "push"]))
    assert options == {"force": True}
