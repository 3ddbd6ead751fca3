"""dlc_tasks.cli.collection: the pre chain as Invoke's Executor runs it, and every task's help."""

from __future__ import annotations

import inspect
from typing import Any

import pytest
from invoke.collection import Collection
from invoke.config import Config, merge_dicts
from invoke.executor import Executor
from invoke.tasks import Task

from dlc_tasks.cli import collection
from dlc_tasks.config import DEFAULTS

CHAIN = ["hash", "cache", "generate", "test", "prod", "push"]


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str, dict[str, Any]]]:
    """Replace the task runner with a recorder of (name, step, kwargs)."""
    recorded: list[tuple[str, str, dict[str, Any]]] = []

    def fake_run(ctx: Any, name: str, step: str, **kwargs: Any) -> None:
        assert ctx.config.dlc.org == DEFAULTS["org"]
        recorded.append((name, step, kwargs))

    monkeypatch.setattr(collection, "_run", fake_run)
    return recorded


def execute(*tasks: Any) -> None:
    ns = collection.namespace()
    config = Config(defaults=merge_dicts(Config.global_defaults(), {"dlc": DEFAULTS}), lazy=True)
    Executor(collection=ns, config=config).execute(*tasks)


def names(calls: list[tuple[str, str, dict[str, Any]]]) -> list[str]:
    return [name for name, _, _ in calls]


def test_push_runs_the_whole_chain_once_in_order(calls: list[Any]) -> None:
    execute("push")
    assert names(calls) == CHAIN
    assert [step for _, step, _ in calls] == [f"run_{name}" for name in CHAIN]


def test_test_runs_the_chain_up_to_test(calls: list[Any]) -> None:
    execute("test")
    assert names(calls) == ["hash", "cache", "generate", "test"]


def test_hash_alone(calls: list[Any]) -> None:
    execute("hash")
    assert names(calls) == ["hash"]


def test_cache_then_push_still_runs_each_task_once(calls: list[Any]) -> None:
    execute("cache", "push")
    assert names(calls) == CHAIN


def test_flags_reach_the_runner_as_overrides(calls: list[Any]) -> None:
    execute(("push", {"registry": "r.example.com:5000", "latest": "releases"}))
    assert names(calls) == CHAIN
    assert calls[-1][2] == {
        "overrides": {"registry": "r.example.com:5000", "dry_run": None, "latest": "releases"}
    }
    # The pre tasks run with their own defaults, not the direct task's flags.
    assert calls[1][2] == {"force": False, "overrides": {"registry": None, "dry_run": None}}


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
    assert ns.configuration()["dlc"]["org"] == DEFAULTS["org"]


def test_every_task_has_a_docstring_and_help_for_each_parameter() -> None:
    tasks = all_tasks(collection.namespace())
    assert len(tasks) == 15
    for task in tasks:
        assert task.__doc__ and task.__doc__.strip(), task.name
        params = list(task.argspec(task.body).parameters)
        assert params == list(inspect.signature(task.body).parameters)[1:], task.name
        assert set(task.help) == set(params), task.name
        assert all(text.strip() for text in task.help.values()), task.name
