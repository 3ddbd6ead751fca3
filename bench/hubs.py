"""How far one value travels: the modules ``inv push --registry R --image NAME`` enters.

Runs the whole chain in-process on the test suite's fakes (no engine, no registry), under
``sys.setprofile``, and counts, among the package's own modules:

* the modules entered (a function of theirs was called);
* the switches between modules (each call from a function of one module into a function
  of another; frames of other packages in between are looked through), and how many of
  them go between ``steps/`` and the run object (``run.py``, or the facts that replace it).

The counts are deterministic for a given code base (no timing), so two commits can be
compared: ``python -m bench.hubs`` prints them. Used for issue 17's before/after figures:
on c1062ec 49 modules, 876 switches, 108 between steps/ and the run; with the facts, the
typed plans and ``Run.prepare`` 54 modules (the Go container, its commands, the facts
and the labels are modules of their own), 823 switches, 75 between steps/ and run/facts.
"""

from __future__ import annotations

import io
import sys
import tempfile
from collections import Counter
from pathlib import Path
from types import FrameType
from typing import Any

from invoke.config import Config, merge_dicts

from dlc_tasks.cli.collection import namespace
from dlc_tasks.cli.executor import DlcExecutor
from dlc_tasks.config import DEFAULTS, FLAG_KEYS, Settings
from dlc_tasks.reporting.console import Console
from dlc_tasks.run import Run
from tests.support.fakes import World, commit_all, make_project

IMAGES = {
    "api": {"main_package": "./cmd/api", "ports": [8080]},
    "worker": {"main_package": "./cmd/worker", "binary_name": "work"},
}


def _world(root: Path) -> World:
    project = make_project(root / "module")
    (project / "main.go").unlink()
    for name in IMAGES:
        (project / "cmd" / name).mkdir(parents=True)
        (project / "cmd" / name / "main.go").write_text(
            f'package main\n\nfunc main() {{ println("{name}") }}\n'
        )
    commit_all(project)
    return World(project)


def _executor(world: World) -> type[DlcExecutor]:
    def make_run(settings: Settings, out: Console, options: dict[str, Any]) -> Run:
        values = {FLAG_KEYS.get(k, k): v for k, v in options.items() if k != "force"}
        values.pop("revision", None)
        run = world.run(images=IMAGES, **values)
        run.out = Console(stream=io.StringIO())
        return run

    class Fake(DlcExecutor):
        pass

    Fake.make_run = staticmethod(make_run)  # type: ignore[assignment]
    return Fake


def _module(frame: FrameType) -> str | None:
    name = frame.f_globals.get("__name__", "")
    return name if isinstance(name, str) and name.startswith("dlc_tasks") else None


def measure() -> dict[str, Any]:
    """Run the chain once under the profiler; return the counts."""
    with tempfile.TemporaryDirectory() as tmp:
        world = _world(Path(tmp))
        config = Config(
            defaults=merge_dicts(Config.global_defaults(), {"dlc": DEFAULTS}),
            overrides={"dlc": {"project_dir": str(world.project), "images": IMAGES}},
            lazy=True,
        )
        executor = _executor(world)(collection=namespace(), config=config)
        entered: Counter[str] = Counter()
        switches: Counter[tuple[str, str]] = Counter()

        def profile(frame: FrameType, event: str, arg: object) -> None:
            if event != "call":
                return
            module = _module(frame)
            if module is None:
                return
            entered[module] += 1
            caller = frame.f_back
            while caller is not None and _module(caller) is None:
                caller = caller.f_back  # through the standard library and Invoke
            came_from = _module(caller) if caller is not None else None
            if came_from is not None and came_from != module:
                switches[(came_from, module)] += 1

        sys.setprofile(profile)
        try:
            executor.execute(("push", {"registry": "registry.test:5000", "image": "api"}))
        finally:
            sys.setprofile(None)

    def is_step(m: str) -> bool:
        return m.startswith("dlc_tasks.steps")

    def is_run(m: str) -> bool:
        return m in ("dlc_tasks.run", "dlc_tasks.core.facts", "dlc_tasks.facts")

    between = sum(
        n
        for (a, b), n in switches.items()
        if (is_step(a) and is_run(b)) or (is_run(a) and is_step(b))
    )
    return {
        "modules_entered": len(entered),
        "switches": sum(switches.values()),
        "steps_run_switches": between,
        "top_pairs": switches.most_common(8),
        "all_pairs": dict(switches),
    }


def main() -> None:
    """Print the counts."""
    counts = measure()
    print(f"modules entered: {counts['modules_entered']}")
    print(f"switches between modules: {counts['switches']}")
    print(f"  of which between steps/ and the run/facts: {counts['steps_run_switches']}")
    for (a, b), n in counts["top_pairs"]:
        print(f"  {n:4d}  {a} -> {b}")


if __name__ == "__main__":
    main()
