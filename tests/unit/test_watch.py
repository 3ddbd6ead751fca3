"""dlc watch: a cycle per change of the source digest, never two at once, one line each,
each cycle a run of its own (on fakes; test_experience.py drives the real one under tmux)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from invoke.config import Config, merge_dicts

from dlc_tasks.cli.watch import Cycle, CycleExecutor, Watcher, failure_lines, run_cycle
from dlc_tasks.config import DEFAULTS, Settings
from dlc_tasks.errors import ConfigError
from dlc_tasks.model.status import Status
from dlc_tasks.reporting.console import Console, Outcome
from dlc_tasks.run import Run
from tests.support.fakes import World, failing, make_project

GO_TEST_FAILURE = [
    "ok  \texample.com/fake/pkg/a\t0.01s\tcoverage: 90.0% of statements",
    "--- FAIL: TestGreeting (0.00s)",
    "    greet_test.go:12: got hello, want hi",
    "FAIL",
    "coverage: 50.0% of statements",
    "FAIL\texample.com/fake/pkg/b\t0.02s",
]
COMPILE_ERROR = [
    "# example.com/fake/pkg/b",
    "pkg/b/broken.go:3:14: syntax error: unexpected {, expected )",
    "# [example.com/fake/pkg/b]",
    "# example.com/fake/pkg/b",
    "pkg/b/broken.go:3:14: syntax error: unexpected {, expected )",
    "FAIL\texample.com/fake/pkg/b [build failed]",
]


def ok_cycle() -> Cycle:
    return Cycle([Outcome("test", Status.RAN, 1.0, "coverage 50.0%")], 1.0)


class Tree:
    """A source digest that changes when the test says, and cycles that record themselves."""

    def __init__(self) -> None:
        self.digest = "d0"
        self.ran: list[str] = []  # the digest each cycle started from
        self.during: dict[int, str] = {}  # cycle number → the digest an edit made meanwhile
        self.results: list[Cycle] = []

    def cycle(self) -> Cycle:
        self.ran.append(self.digest)
        if len(self.ran) in self.during:
            self.digest = self.during[len(self.ran)]
        return self.results.pop(0) if self.results else ok_cycle()


def test_a_cycle_at_start_then_one_per_batch_that_changed_the_source() -> None:
    tree, said = Tree(), []
    watcher = Watcher(lambda: tree.digest, tree.cycle, said.append)

    def batches() -> Iterator[object]:
        yield {"the tool's own outputs: deps_hash.env, coverage.out"}  # digest unchanged
        tree.digest = "d1"
        yield {"three saves in one burst"}
        tree.digest = "d2"
        yield {"a save"}

    watcher.run(batches())
    assert tree.ran == ["d0", "d1", "d2"]
    assert [line.split(" ", 2)[1:] for line in said] == [
        [f"#{n}", "ok in 1.0s: test ran (coverage 50.0%)"] for n in (1, 2, 3)
    ]


def test_an_edit_during_a_cycle_is_built_right_after_it() -> None:
    tree, said = Tree(), []
    tree.during = {1: "d1"}  # saved while the first cycle ran
    Watcher(lambda: tree.digest, tree.cycle, said.append).run([])
    assert tree.ran == ["d0", "d1"]
    assert len(said) == 2


def test_a_failure_shows_the_failing_tests_lines_then_the_cycle_line() -> None:
    tree, said = Tree(), []
    failed = Outcome("test", Status.FAILED, 2.0, "go test failed with exit code 1: TestGreeting")
    tree.results = [
        Cycle([Outcome("hash", Status.SKIPPED, 0.0), failed], 2.5, "dlc: …", GO_TEST_FAILURE)
    ]
    Watcher(lambda: tree.digest, tree.cycle, said.append).run([])
    assert said[:-1] == [
        "    | --- FAIL: TestGreeting (0.00s)",
        "    |     greet_test.go:12: got hello, want hi",
        "    | FAIL",
        "    | FAIL\texample.com/fake/pkg/b\t0.02s",
    ]
    assert said[-1].split(" ", 1)[1] == (
        "#1 FAILED at test in 2.5s: go test failed with exit code 1: TestGreeting"
    )


def test_compiler_errors_are_shown_once() -> None:
    assert failure_lines(COMPILE_ERROR) == [
        "# example.com/fake/pkg/b",
        "pkg/b/broken.go:3:14: syntax error: unexpected {, expected )",
        "FAIL\texample.com/fake/pkg/b [build failed]",
    ]


def test_ctrl_c_in_a_cycle_stops_the_loop() -> None:
    def interrupted() -> Cycle:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        Watcher(lambda: "d0", interrupted, print).run([])


@pytest.fixture
def world(tmp_path: Path) -> World:
    return World(make_project(tmp_path / "module"))


def cycle_executor(world: World, runs: list[Run]) -> type[CycleExecutor]:
    """A CycleExecutor whose runs use the world's fakes and print to the cycle's console."""

    def make_run(settings: Settings, out: Console, options: dict[str, Any]) -> Run:
        run = world.run(**{k: v for k, v in options.items() if k != "force"})
        run.out = out
        runs.append(run)
        return run

    class Fake(CycleExecutor):
        pass

    Fake.make_run = staticmethod(make_run)  # type: ignore[assignment]
    return Fake


def test_each_cycle_is_a_run_of_its_own_with_its_report_and_history(world: World) -> None:
    config = Config(
        defaults=merge_dicts(Config.global_defaults(), {"dlc": DEFAULTS}),
        overrides={"dlc": {"project_dir": str(world.project)}},
        lazy=True,
    )
    runs: list[Run] = []
    executor = cycle_executor(world, runs)
    first = run_cycle(config, "test", executor)
    main = world.project / "main.go"
    main.write_text(main.read_text().replace("v1", "v2"))
    world.engine.go_hook = failing("go test", lines=GO_TEST_FAILURE)
    second = run_cycle(config, "test", executor)
    assert len(runs) == 2 and runs[0] is not runs[1]
    assert first.ok and [o.task for o in first.outcomes] == ["hash", "cache", "generate", "test"]
    assert not second.ok
    assert [(o.task, o.status) for o in second.outcomes][-1] == ("test", Status.FAILED)
    assert "--- FAIL: TestGreeting (0.00s)" in second.output
    history = (world.project / ".dlc" / "history.jsonl").read_text().splitlines()
    assert [json.loads(line)["ok"] for line in history] == [True, False]


def test_watch_refuses_an_unknown_last_task(world: World) -> None:
    from dlc_tasks.cli.watch import watch  # noqa: PLC0415

    config = Config(overrides={"dlc": {**DEFAULTS, "project_dir": str(world.project)}})
    with pytest.raises(ConfigError, match="--to deploy"):
        watch(config, "deploy", Console())
