"""The standard-library layer's key and the proof that a previous cache image holds it
(model/stdlayer.py): what decides, before any pull, that a dependency bump may reuse it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dlc_tasks.config.defaults import PACKAGE_TEMPLATES
from dlc_tasks.errors import RegistryError
from dlc_tasks.model.stdlayer import (
    LABEL_STD_KEY,
    STD_END,
    base_reference,
    choose_previous,
    std_key,
    std_layer,
    std_part,
)
from dlc_tasks.run import Run
from dlc_tasks.steps import make_step
from dlc_tasks.steps.runner import run_steps
from tests.support.fakes import World, make_project, printed

PACKAGED = (PACKAGE_TEMPLATES / "Dockerfile.build").read_text()
ARGS = {"GO_IMAGE": "dlc-local/golang:1.27.3", "CGO_ENABLED": "0", "GOFLAGS": "-mod=readonly"}
BASE = ["sha256:base1", "sha256:base2"]


def config(key: str | None, layers: list[str], created: str) -> dict[str, Any]:
    labels = {LABEL_STD_KEY: key} if key else {}
    return {"created": created, "config": {"Labels": labels}, "rootfs": {"diff_ids": layers}}


def test_the_packaged_dockerfile_marks_its_std_part_and_nothing_of_the_module_is_in_it() -> None:
    part = std_part(PACKAGED)
    assert part is not None and part.rstrip().endswith(STD_END)
    instructions = "\n".join(x for x in part.splitlines() if not x.startswith("#"))
    for module_only in ("COPY", "WORKDIR", "GOFLAGS=${GOFLAGS}", "go mod download"):
        assert module_only not in instructions
    assert std_part("FROM golang\nRUN go build std\n") is None  # a project's own: no key
    assert std_key("FROM golang\nRUN go build std\n", ARGS) is None


def test_the_key_changes_with_the_std_part_and_its_arguments_only() -> None:
    key = std_key(PACKAGED, ARGS)
    assert key is not None
    # the module's part and arguments it alone declares do not move it
    assert std_key(PACKAGED + "RUN echo module\n", ARGS) == key
    assert std_key(PACKAGED, {**ARGS, "GOFLAGS": "-mod=vendor", "GOPROXY": "off"}) == key
    # a new Go image (a new toolchain) or cgo, or another std part, does
    assert std_key(PACKAGED, {**ARGS, "GO_IMAGE": "dlc-local/golang:1.28.0"}) != key
    assert std_key(PACKAGED, {**ARGS, "CGO_ENABLED": "1"}) != key
    assert std_key(PACKAGED.replace("go build std", "go build -a std"), ARGS) != key


def test_the_base_reference_expands_arguments_then_defaults() -> None:
    assert base_reference(PACKAGED, ARGS) == "dlc-local/golang:1.27.3"
    assert base_reference(PACKAGED, {}) == "golang:1.26.1-alpine"
    assert base_reference("ARG X\nFROM ${X}\n", {}) is None
    assert base_reference("FROM --platform=linux/amd64 golang:1\n", {}) == "golang:1"


def test_the_newest_proved_previous_image_is_chosen() -> None:
    key = "k" * 64
    configs = [
        ("a" * 64, config(key, [*BASE, "sha256:std", "sha256:mod-a"], "2026-12-01T10:00:00Z")),
        ("b" * 64, config(key, [*BASE, "sha256:std", "sha256:mod-b"], "2026-12-02T10:00:00Z")),
        # newer, but: another key (another toolchain), no key, another base, the current tag
        ("c" * 64, config("x" * 64, [*BASE, "sha256:o", "sha256:m"], "2026-12-03T10:00:00Z")),
        ("d" * 64, config(None, [*BASE, "sha256:std", "sha256:m"], "2026-12-03T10:00:00Z")),
        ("e" * 64, config(key, ["sha256:other", "sha256:std"], "2026-12-03T10:00:00Z")),
        ("f" * 64, config(key, [*BASE, "sha256:std", "sha256:m"], "2026-12-04T10:00:00Z")),
    ]
    chosen = choose_previous(configs, key, BASE, current="f" * 64)
    assert chosen is not None
    assert (chosen.tag, chosen.std_layer) == ("b" * 64, "sha256:std")
    assert choose_previous(configs[2:5], key, BASE, current="f" * 64) is None


def test_the_std_layer_is_the_one_right_after_the_base() -> None:
    engine_view = {"RootFS": {"Layers": [*BASE, "sha256:std", "sha256:mod"]}}
    assert std_layer(engine_view, BASE) == "sha256:std"
    assert std_layer({"RootFS": {"Layers": BASE}}, BASE) is None
    assert std_layer({"RootFS": {"Layers": ["sha256:x", *BASE[1:], "s"]}}, BASE) is None


# -- the cache step on the fakes (steps/cachefrom.py) ----------------------------------------

CACHE_REPO = "acme/fake-build-cache"


def bump_world(tmp_path: Path) -> World:
    """The fake module with the packaged Dockerfile.build and its Go image in the engine."""
    world = World(make_project(tmp_path / "module"))
    (world.project / "docker" / "Dockerfile.build").write_text(PACKAGED)
    world.engine.images["sha256:go"] = {"Id": "sha256:go", "RootFS": {"Layers": BASE}}
    world.engine.refs["golang:fake"] = "sha256:go"
    return world


def cache(world: World, **values: Any) -> Run:
    run = world.run(**values)
    run_steps(run, [make_step("hash"), make_step("cache", force=run.force)])
    return run


def pushed_with_layers(world: World) -> str:
    """The tag just pushed; its configuration gets the layers a real build would have."""
    [(tag, digest)] = [
        (t, d) for (repo, t), d in world.registry.manifests.items() if repo == CACHE_REPO
    ][-1:]
    world.registry.configs[digest]["rootfs"] = {"diff_ids": [*BASE, "sha256:std", "sha256:m"]}
    return tag


def test_a_bump_builds_from_the_previous_image_pulled_when_missing(tmp_path: Path) -> None:
    world = bump_world(tmp_path)
    cache(world)
    previous = pushed_with_layers(world)
    assert world.engine.cache_from == [[]]  # nothing before: a cold build
    (world.project / "go.mod").write_text("module example.com/fake\n\ngo 1.23\n")
    world.engine.forget_images()  # a fresh runner: the base image only
    world.engine.images["sha256:go"] = {"Id": "sha256:go", "RootFS": {"Layers": BASE}}
    world.engine.refs["golang:fake"] = "sha256:go"
    run = cache(world)
    digest = world.registry.manifests[(CACHE_REPO, previous)]
    ref = f"registry.test:5000/{CACHE_REPO}@{digest}"
    assert world.engine.cache_from[-1] == [ref]
    assert ("pull", ref) in world.engine.calls
    assert "sha256:std" in printed(run) and "pulling it for cache_from" in printed(run)


def test_force_and_an_unproved_previous_image_build_from_nothing(tmp_path: Path) -> None:
    world = bump_world(tmp_path)
    cache(world)
    pushed_with_layers(world)
    cache(world, force=True)
    assert world.engine.cache_from[-1] == []
    # another Go image (a new toolchain): the previous image's key differs, nothing pulled
    (world.project / "go.mod").write_text("module example.com/fake\n\ngo 1.23\n")
    run = cache(world, go={"cgo": True})
    assert world.engine.cache_from[-1] == []
    assert not [c for c in world.engine.calls if c[0] == "pull"]
    assert "no previous cache image holds this build's std layer" in printed(run)


def test_a_registry_failing_on_the_way_leaves_a_cold_build(tmp_path: Path) -> None:
    world = bump_world(tmp_path)
    cache(world)
    pushed_with_layers(world)
    (world.project / "go.mod").write_text("module example.com/fake\n\ngo 1.23\n")

    def refuse(repository: str, reference: str) -> dict[str, Any]:
        raise RegistryError(f"GET {repository}:{reference} answered 500")

    world.registry.image_config = refuse  # type: ignore[method-assign]
    run = cache(world)
    assert world.engine.cache_from[-1] == []
    assert "previous cache image not used (GET acme/fake-build-cache:" in printed(run)
    assert {o.task: o.status for o in run.outcomes}["cache"] == "miss"
