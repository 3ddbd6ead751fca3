"""dlc_tasks.model.gobuild and its use: dlc.go reaches the Go steps, the cache image's build
arguments and the dependency hash; a vendored module builds with -mod=vendor."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from dlc_tasks.config import PACKAGE_TEMPLATES
from dlc_tasks.errors import ConfigError, InvalidValue
from dlc_tasks.model import depshash
from dlc_tasks.model.depshash import declared_args
from dlc_tasks.model.gobuild import REPRODUCIBLE, GoBuild
from dlc_tasks.steps import make_step
from dlc_tasks.steps.runner import run_steps
from tests.support.fakes import World, make_project, settings_for


def test_defaults_are_readonly_reproducible_and_without_cgo() -> None:
    go = GoBuild.from_mapping(None)
    assert go.env(vendored=False) == {
        "GOFLAGS": "-mod=readonly -trimpath -buildvcs=false",
        "CGO_ENABLED": "0",
    }
    assert go.env(vendored=True)["GOFLAGS"] == "-mod=vendor -trimpath -buildvcs=false"
    assert go.link_flags(None, "1.2.3", None) == "-s -w"


def test_every_setting_reaches_the_environment_and_the_link_flags() -> None:
    go = GoBuild.from_mapping(
        {
            "private": "gitea.example.com/team/*,example.com/x",
            "nosumdb": ["gitea.example.com/team/*"],
            "flags": ["-p=1", "-race"],
            "tags": ["netgo", "osusergo"],
            "ldflags": ["-X main.commit={{ revision }}", "-X main.built={{version}}"],
            "cgo": True,
        }
    )
    assert go.env(vendored=False) == {
        "GOFLAGS": "-mod=readonly -trimpath -buildvcs=false -tags=netgo,osusergo -p=1 -race",
        "CGO_ENABLED": "1",
        "GOPRIVATE": "gitea.example.com/team/*,example.com/x",
        "GONOSUMDB": "gitea.example.com/team/*",
    }
    assert go.needs_revision
    assert go.link_flags("main.version", "1.2.3-rc.1", "abc123") == (
        "-s -w -X main.version=1.2.3-rc.1 -X main.commit=abc123 -X main.built=1.2.3-rc.1"
    )


@pytest.mark.parametrize(
    ("values", "error", "match"),
    [
        ({"flags": ["-tags=x"]}, InvalidValue, "-tags is set by dlc-tasks"),
        ({"flags": ["-mod=mod"]}, InvalidValue, "set by dlc-tasks"),
        ({"flags": ["-p 1"]}, InvalidValue, "one -flag"),
        ({"flags": ["-ldflags=$(id)"]}, InvalidValue, "one -flag"),
        ({"flags": "-race"}, ConfigError, "list of strings"),
        ({"tags": ["a b"]}, InvalidValue, "build tag"),
        ({"ldflags": ["-X main.v={{ nope }}"]}, ConfigError, "unknown placeholders: nope"),
        ({"ldflags": ['-X "main.v=1"']}, InvalidValue, "quotes"),
        ({"private": "a.com/x\nRUN id"}, InvalidValue, "module path patterns"),
        ({"private": "https://user:pw@a.com/x"}, InvalidValue, "module path patterns"),
        ({"cgo": "maybe"}, ConfigError, "true or false"),
        ({"gofalgs": []}, ConfigError, "unknown keys: gofalgs"),
    ],
)
def test_bad_values_are_one_line(values: dict[str, Any], error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        GoBuild.from_mapping(values)


def test_build_args_may_not_set_what_dlc_go_sets(tmp_path: Path) -> None:
    project = make_project(tmp_path / "m")
    with pytest.raises(InvalidValue, match=r"GOFLAGS is set by dlc-tasks from dlc.go.flags"):
        settings_for(project, build_args={"GOFLAGS": "-tags=x"})


def test_the_packaged_dockerfile_build_declares_every_go_setting() -> None:
    text = (PACKAGE_TEMPLATES / "Dockerfile.build").read_text()
    assert {"GOFLAGS", "CGO_ENABLED", "GOPRIVATE", "GONOSUMDB"} <= set(declared_args(text))
    # the std layer every module shares is warmed with the steps' reproducible flags
    assert f'export GOFLAGS="{" ".join(REPRODUCIBLE)}"' in text


def test_the_go_settings_are_cache_build_args_and_change_the_hash(tmp_path: Path) -> None:
    project = make_project(tmp_path / "m")
    plain = settings_for(project)
    assert plain.cache_build_args["GOFLAGS"] == "-mod=readonly -trimpath -buildvcs=false"

    def hash_with(**go: Any) -> str:
        s = settings_for(project, go=go)
        return depshash.compute(
            s.project_dir, PACKAGE_TEMPLATES / "Dockerfile.build", s.cache_build_args
        ).value

    base = hash_with()
    # the warm-up compiles with the tags and cgo setting: another value, another cache image
    assert hash_with(tags=["netgo"]) != base
    assert hash_with(cgo=True) != base
    assert hash_with(private="example.com/x") != base
    # -ldflags only link the binary: the cache image is the same
    assert hash_with(ldflags=["-X main.x={{ version }}"]) == base


def test_the_go_steps_run_with_the_settings_and_a_vendored_module_with_mod_vendor(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = World(make_project(tmp_path / "module"))
    environments: list[dict[str, str]] = []
    start = world.engine.start_container

    def recording(image: str, **kwargs: Any) -> str:
        environments.append(dict(kwargs.get("environment") or {}))
        return start(image, **kwargs)

    monkeypatch.setattr(world.engine, "start_container", recording)
    run = world.run(go={"tags": ["extra"], "ldflags": ["-X main.rev={{ revision }}"]})
    run_steps(run, [make_step(n) for n in ("hash", "cache", "test")])
    env = environments[-1]
    assert env["GOFLAGS"] == "-mod=readonly -trimpath -buildvcs=false -tags=extra"
    assert env["CGO_ENABLED"] == "0" and env["GOPROXY"] == "off" and env["GOWORK"] == "off"
    builds = [c[1] for c in world.engine.calls if c[0] == "exec" and c[1].startswith("go build")]
    assert [re.sub(r"build-\w+", "build-X", b) for b in builds] == [
        f"go build -ldflags=-s -w -X main.rev={run.facts.revision()} -o .dlc/build-X/fake ./"
    ]

    (world.project / "vendor").mkdir()
    (world.project / "vendor" / "modules.txt").write_text("# example.com/dep v1.0.0\n")
    run = world.run()
    run_steps(run, [make_step(n) for n in ("hash", "cache", "test")])
    assert environments[-1]["GOFLAGS"] == "-mod=vendor -trimpath -buildvcs=false"
    assert "vendor/modules.txt" in run.facts.deps().inputs
    assert run.settings.cache_build_args["GOFLAGS"].startswith("-mod=vendor ")
