"""dlc_tasks.config: the validated ``dlc`` section, and Invoke's configuration precedence."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from invoke.config import Config, merge_dicts
from invoke.context import Context

from dlc_tasks.config import DEFAULTS, PACKAGE_TEMPLATES, Retries, Settings, is_loopback, settings
from dlc_tasks.errors import ConfigError, InvalidValue


def invoke_config(project: Path | None = None) -> Config:
    """Invoke's defaults plus the dlc defaults; no /etc or ~ files (lazy)."""
    defaults = merge_dicts(Config.global_defaults(), {"dlc": DEFAULTS})
    return Config(defaults=defaults, project_location=project, lazy=True)


def from_mapping(tmp_path: Path, **values: Any) -> Settings:
    return Settings.from_mapping({"project_dir": str(tmp_path), **values})


def test_defaults_resolve_paths_against_project_dir(tmp_path: Path) -> None:
    (tmp_path / "go.mod").write_text("module github.com/acme/tool\n\ngo 1.22\n")
    (tmp_path / "cmd" / "tool").mkdir(parents=True)
    (tmp_path / "cmd" / "tool" / "main.go").write_text("package main\n\nfunc main() {}\n")
    s = from_mapping(tmp_path)
    root = tmp_path.resolve()
    assert s.project_dir == root
    assert s.registry is None
    assert s.registry_or_local() == "127.0.0.1:5000"
    # derived from go.mod and the one main package; no default names this repository's service
    assert (s.org, s.repo, s.main_package) == ("acme", "tool", "./cmd/tool")
    assert s.binary_name == "tool"
    assert s.prod_files == []
    # no docker/ here: the package's own templates
    assert s.dockerfile_build == PACKAGE_TEMPLATES / "Dockerfile.build"
    assert s.dockerfile_prod_template == PACKAGE_TEMPLATES / "Dockerfile.prod.template"
    assert s.dockerfile_dev.is_file()
    (tmp_path / "docker").mkdir()
    (tmp_path / "docker" / "Dockerfile.build").write_text("FROM x\n")
    own = from_mapping(tmp_path)
    assert own.dockerfile_build == root / "docker" / "Dockerfile.build"  # the project's wins
    assert own.dockerfile_dev == PACKAGE_TEMPLATES / "Dockerfile"
    assert s.hash_file == root / "deps_hash.env"
    assert s.state_dir == root / ".dlc"
    assert s.retries == Retries(5, 0.5, 8.0, 30.0)
    assert str(s.cache_repository("r:1")) == "r:1/acme/tool-build-cache"
    assert str(s.prod_repository("r:1")) == "r:1/acme/tool"


def test_explicit_values_are_kept(tmp_path: Path) -> None:
    s = from_mapping(
        tmp_path,
        registry="registry.example.com:5000",
        binary_name="svc",
        build_args={"GO_IMAGE": "golang:1.22", "N": 3},
        retries={"attempts": 0},
        local_registry={"port": "5001"},
        version_var="github.com/a/b/pkg/server.Version",
    )
    assert s.registry_or_local() == "registry.example.com:5000"
    assert s.binary_name == "svc"
    assert s.build_args == {"GO_IMAGE": "golang:1.22", "N": "3"}
    assert s.retries.attempts == 1  # at least one try
    assert s.retries.max_delay == 8.0  # the other retry limits keep their defaults
    assert s.local_registry_port == 5001
    assert s.local_registry_host == "127.0.0.1"
    assert s.version_var == "github.com/a/b/pkg/server.Version"


@pytest.mark.parametrize(
    ("values", "error"),
    [
        ({"org": "Arcodange"}, InvalidValue),
        ({"repo": "a b"}, InvalidValue),
        ({"registry": "http://registry"}, InvalidValue),
        ({"main_package": "cmd/server"}, InvalidValue),
        ({"main_package": "./cmd/../../etc"}, InvalidValue),
        ({"latest": "sometimes"}, ConfigError),
        ({"version_var": "a b"}, InvalidValue),
        ({"prod_files": ["../x"]}, ConfigError),
        ({"prod_files": ["/etc/passwd"]}, ConfigError),
        ({"prod_files": "config.yaml"}, ConfigError),
        ({"generate": ["go generate ./..."]}, ConfigError),
        ({"build_args": {"not valid": "x"}}, InvalidValue),
        ({"build_args": ["GO_IMAGE=x"]}, ConfigError),
        ({"local_registry": {"port": "five"}}, ConfigError),
    ],
)
def test_invalid_values_raise(tmp_path: Path, values: dict[str, Any], error: type) -> None:
    with pytest.raises(error):
        from_mapping(tmp_path, **values)


def test_project_dir_must_exist(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not a directory"):
        Settings.from_mapping({"project_dir": str(tmp_path / "missing")})


def test_flag_beats_env_beats_project_file_beats_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "go.mod").write_text("module example.com/team/svc\n")
    config = invoke_config(tmp_path)
    assert config.dlc.registry is None
    assert config.dlc.org is None  # derived from go.mod when the settings are read

    (tmp_path / "invoke.yaml").write_text(
        f"dlc:\n  registry: file.example.com:2\n  org: fromfile\n  project_dir: {tmp_path}\n"
    )
    config.load_project()
    assert config.dlc.registry == "file.example.com:2"

    monkeypatch.setenv("INVOKE_DLC_REGISTRY", "env.example.com:3")
    config.load_shell_env()
    assert config.dlc.registry == "env.example.com:3"

    ctx = Context(config=config)
    assert settings(ctx.config).registry == "env.example.com:3"
    assert settings(ctx.config, registry="flag:1").registry == "flag:1"
    # A flag left at None falls back to the configuration.
    assert settings(ctx.config, registry=None).registry == "env.example.com:3"
    # Keys only the file sets, and keys nobody sets, come through too.
    assert settings(ctx.config).org == "fromfile"
    assert settings(ctx.config).repo == "svc"
    assert settings(ctx.config).project_dir == tmp_path.resolve()


def test_default_when_nothing_overrides(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    config = invoke_config()
    config.load_shell_env()
    s = settings(config)
    assert s.registry is None
    assert s.project_dir == tmp_path.resolve()


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("127.0.0.1:5000", True),
        ("127.0.0.1", True),
        ("127.1.2.3:80", True),
        ("localhost:5000", True),
        ("localhost", True),
        ("[::1]", True),
        ("[::1]:5000", True),
        ("registry.example.com", False),
        ("registry.example.com:5000", False),
        ("10.0.0.1:5000", False),
        ("[2001:db8::1]:5000", False),
    ],
)
def test_is_loopback(host: str, expected: bool) -> None:
    """``[::1]:5000`` is a valid registry (refs accepts it) and is loopback.

    BUG: is_loopback("[::1]:5000") is False: with three colons the port is not
    split off, and strip("[]") leaves "::1]:5000", which is no IP address. The
    registry client then speaks HTTPS to the local plain-HTTP registry.
    """
    assert is_loopback(host) is expected
