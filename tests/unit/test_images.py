"""Several images from one module (``dlc.images``, ``--image``), on the fakes: one cache image,
one test run building every binary, each image built and pushed with its three tags."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from invoke.exceptions import Exit

from dlc_tasks.config import FLAG_KEYS, Settings
from dlc_tasks.errors import ConfigError, InvalidValue
from dlc_tasks.reporting.console import Console
from dlc_tasks.run import Run
from dlc_tasks.steps import CHAIN, make_step
from dlc_tasks.steps.runner import run_steps
from tests.support.fakes import World, make_project, printed, settings_for
from tests.support.plans import decisions
from tests.unit.conftest import invoke_tasks

SHA = "0123456789abcdef0123456789abcdef01234567"
IMAGES = {
    "api": {"main_package": "./cmd/api", "ports": [8080]},
    "worker": {"main_package": "./cmd/worker", "binary_name": "work", "prod_files": ["w.yaml"]},
}


@pytest.fixture
def world(tmp_path: Path) -> World:
    root = make_project(tmp_path / "module")
    (root / "main.go").unlink()
    for name in ("api", "worker"):
        (root / "cmd" / name).mkdir(parents=True)
        (root / "cmd" / name / "main.go").write_text(
            f'package main\n\nfunc main() {{ println("{name}") }}\n'
        )
    (root / "w.yaml").write_text("w: 1\n")
    return World(root)


def chain(run: Run, names: tuple[str, ...] = CHAIN) -> dict[str, str]:
    run_steps(run, [make_step(name) for name in names])
    return {o.task: o.status for o in run.outcomes}


def two(world: World, **values: Any) -> Run:
    return world.run(images=IMAGES, image={"user": "1000:1000"}, **values)


def test_settings_inherit_dlc_image_and_derive_binaries(tmp_path: Path) -> None:
    s = settings_for(make_project(tmp_path / "m"), images=IMAGES, image={"user": "1000:1000"})
    api, worker = s.all_images()
    assert (api.name, api.main_package, api.binary_name) == ("api", "./cmd/api", "api")
    assert (worker.binary_name, worker.prod_files) == ("work", ["w.yaml"])
    assert api.image.ports == ["8080"] and api.image.user == "1000:1000"  # dlc.image's user
    assert worker.image.ports == [] and api.prod_files == []
    assert (api.stamp("prod"), worker.stamp("push")) == ("prod:api", "push:worker")
    assert str(s.prod_repository("r:1", worker)) == "r:1/acme/worker"
    # no dlc.images: the module's one image, named repo, with the plain stamps
    (only,) = settings_for(make_project(tmp_path / "n")).all_images()
    assert (only.name, only.stamp("prod"), only.configured) == ("fake", "prod", False)


@pytest.mark.parametrize(
    ("images", "selected", "error", "match"),
    [
        ({"api": {}}, None, ConfigError, "dlc.images.api has no main_package"),
        ({"api": {"main_package": "cmd/api"}}, None, InvalidValue, "./relative"),
        ({"api": {"main_package": "./a", "portz": [1]}}, None, ConfigError, "unknown keys: portz"),
        ({"api": {"main_package": "./a", "ports": ["x"]}}, None, InvalidValue, "images.api.ports"),
        (
            {"a": {"main_package": "./a"}, "b": {"main_package": "./b/a"}},
            None,
            ConfigError,
            "binary a",
        ),
        ({"Bad Name": {"main_package": "./a"}}, None, InvalidValue, "Bad Name"),
        ({"fake-build-cache": {"main_package": "./a"}}, None, InvalidValue, "build-cache"),
        ({"api": {"main_package": "./a", "prod_files": ["../x"]}}, None, ConfigError, "relative"),
        (IMAGES, "db", InvalidValue, "--image db: this module's images are api, worker"),
        ({}, "api", InvalidValue, "--image api: this module's images are fake"),
    ],
)
def test_bad_images_and_unknown_selections_are_one_line(
    tmp_path: Path, images: dict[str, Any], selected: str | None, error: type, match: str
) -> None:
    with pytest.raises(error, match=match):
        settings_for(make_project(tmp_path / "m"), images=images, selected_image=selected)


def test_one_cache_image_one_test_run_every_image_pushed_with_three_tags(world: World) -> None:
    statuses = chain(two(world))
    assert statuses == dict.fromkeys(CHAIN, "ran") | {"cache": "miss"}
    execs = [c[1] for c in world.engine.calls if c[0] == "exec"]
    assert sum(1 for e in execs if e.startswith("go test")) == 1
    builds = [e.split()[-3:] for e in execs if e.startswith("go build")]
    assert [(o, Path(out).name, main) for o, out, main in builds] == [
        ("-o", "api", "./cmd/api"),
        ("-o", "work", "./cmd/worker"),
    ]
    assert all(Path(out).parent.name.startswith("build-") for _, out, _ in builds)
    assert sorted(p.name for p in (world.project / ".dlc" / "bin").iterdir()) == ["api", "work"]
    assert len([t for r, t in world.registry.manifests if r == "acme/fake-build-cache"]) == 1
    for repo in ("acme/api", "acme/worker"):
        tags = world.registry.tags(repo)
        assert tags == sorted(["1.2.3", SHA, "latest"])
        assert len({world.registry.manifests[(repo, t)] for t in tags}) == 1
    api, worker = (world.registry.manifests[(r, "latest")] for r in ("acme/api", "acme/worker"))
    assert api != worker
    # each image's own Dockerfile, outside the source tree
    assert "COPY work /app/work" in (world.project / ".dlc" / "Dockerfile.prod.worker").read_text()
    assert not (world.project / "docker" / "Dockerfile.prod").exists()

    world.engine.calls.clear()
    again = chain(two(world))
    assert again == dict.fromkeys(CHAIN, "skipped") | {"cache": "hit"}
    assert [c for c in world.engine.calls if c[0] in ("build", "push", "exec")] == []


def test_image_selects_the_image_prod_and_push_make(world: World) -> None:
    chain(two(world, selected_image="worker"))
    assert world.registry.tags("acme/api") == []
    assert world.registry.tags("acme/worker") == sorted(["1.2.3", SHA, "latest"])
    assert (world.project / ".dlc" / "bin" / "api").is_file()  # test built every binary
    run = two(world)
    statuses = chain(run)
    assert statuses["test"] == "skipped"  # the selection is not an input of the test run
    text = printed(run)
    assert "worker: up to date (" in text and "api: never built here" in text
    assert world.registry.tags("acme/api") == sorted(["1.2.3", SHA, "latest"])


def test_the_plan_names_each_image_as_the_run_does(world: World) -> None:
    chain(two(world))
    (world.project / "w.yaml").write_text("w: 2\n")  # only the worker image's input
    plan = two(world, dry_run=True)
    chain(plan)
    real = two(world)
    chain(real)
    planned, ran = decisions(printed(plan)), decisions(printed(real))
    assert planned["prod"][0] == "may run: if test changes its inputs (known once test has run)"
    assert planned["prod"][1:] == [
        "api: render .dlc/Dockerfile.prod.api",
        f"api: docker build -t registry.test:5000/acme/api:{SHA} (context: api) with OCI labels",
        "worker: render .dlc/Dockerfile.prod.worker",
        f"worker: docker build -t registry.test:5000/acme/worker:{SHA} (context: work, w.yaml)"
        " with OCI labels",
    ]
    reason = ran["prod"][0]
    assert reason.startswith("run: api: up to date (image ")
    assert reason.endswith("; worker: inputs changed since the last build")
    assert ran["prod"][1:] == planned["prod"][3:]  # the worker's actions only
    assert ran["push"][0].startswith("run: api: up to date (1.2.3, ")


def test_the_image_flag_is_command_wide(world: World) -> None:
    def make_run(settings: Settings, out: Console, options: dict[str, Any]) -> Run:
        values = {FLAG_KEYS.get(k, k): v for k, v in options.items() if k != "force"}
        run = two(world, **values)
        run.out = Console(stream=io.StringIO())
        return run

    from dlc_tasks.cli.executor import DlcExecutor  # noqa: PLC0415

    class Fake(DlcExecutor):
        pass

    Fake.make_run = staticmethod(make_run)  # type: ignore[assignment]
    dlc = {"project_dir": str(world.project), "images": IMAGES}
    invoke_tasks(("push", {"image": "api"}), dlc=dlc, executor=Fake)
    assert world.registry.tags("acme/api") and not world.registry.tags("acme/worker")
    with pytest.raises(Exit, match="--image db: this module's images are api, worker"):
        invoke_tasks(("push", {"image": "db"}), dlc=dlc)
