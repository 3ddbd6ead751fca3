"""dlc_tasks.config.options and .environment: each option declared once; INVOKE_DLC_* as JSON."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from invoke.config import Config, merge_dicts
from invoke.exceptions import Exit

from dlc_tasks.cli import chain
from dlc_tasks.cli.collection import namespace
from dlc_tasks.cli.executor import DlcExecutor, run_of
from dlc_tasks.config import DEFAULTS, FLAG_KEYS, Settings
from dlc_tasks.config.environment import DlcConfig, dlc_environment
from dlc_tasks.config.options import BY_KEY, COMMAND_WIDE, OPTIONS, markdown_table, with_table
from dlc_tasks.config.settings import early
from dlc_tasks.errors import EnvironmentValue, InvalidValue
from dlc_tasks.model.versionfile import LATEST_POLICIES
from dlc_tasks.run import Run
from tests.support.fakes import make_project

README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_readme_configuration_table_is_the_table_of_options() -> None:
    # `python docs/options_table.py` writes it; a new option, or a
    # changed default or text, without that fails here
    text = README.read_text(encoding="utf-8")
    assert with_table(text) == text, "run: python docs/options_table.py"
    for option in OPTIONS:
        assert option.key.rpartition(".")[2] in markdown_table(), option.key


def test_defaults_flags_and_choices_come_from_the_table() -> None:
    assert DEFAULTS["go"]["flags"] == [] and DEFAULTS["local_registry"]["port"] == 5000
    assert DEFAULTS["force"] is False  # force is a setting like the others
    assert set(COMMAND_WIDE) == {"registry", "dry_run", "latest", "force", "allow_dirty", "image"}
    assert COMMAND_WIDE["dry_run"][0] is False and COMMAND_WIDE["latest"][0] is None
    assert FLAG_KEYS == {"image": "selected_image"}
    assert BY_KEY["latest"].choices == LATEST_POLICIES  # the model's own check agrees
    # every option the table declares reaches Settings (local_registry.* flattened, ci.* as
    # push_branches and ci_install)
    fields = set(Settings.__dataclass_fields__) | {"local_registry", "ci"}
    for option in OPTIONS:
        assert option.key.split(".")[0] in fields, option.key


def run_with_environment(
    monkeypatch: pytest.MonkeyPatch, project: Path, env: dict[str, str], *tasks: Any
) -> Run:
    """Run ``tasks`` through the executor as `inv` does (Invoke's own Config, cloned) with
    ``env`` set; the chain's steps are replaced by a recorder of the run."""
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    seen: list[Run] = []
    monkeypatch.setattr(chain, "run_chain_steps", lambda c, *names: seen.append(run_of(c)))
    config = Config(defaults=merge_dicts(Config.global_defaults(), {"dlc": DEFAULTS}), lazy=True)
    monkeypatch.setenv("INVOKE_DLC_PROJECT_DIR", str(project))
    monkeypatch.setenv("INVOKE_DLC_REGISTRY", "registry.test:5000")
    DlcExecutor(namespace(), config).execute(*(tasks or ("hash",)))
    return seen[0]


def test_lists_and_mappings_from_the_environment_are_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # before: UncastableEnvVar's traceback for a list, the mapping silently dropped
    project = make_project(tmp_path / "module")
    (project / "config.yaml").write_text("listen: 8080\n")
    run = run_with_environment(
        monkeypatch,
        project,
        {
            "INVOKE_DLC_PROD_FILES": '["config.yaml"]',
            "INVOKE_DLC_BUILD_ARGS": '{"GOPROXY": "off"}',
            "INVOKE_DLC_GO_FLAGS": '["-p=1"]',
            "INVOKE_DLC_IMAGE_PORTS": '["8080", "53/udp"]',
            "INVOKE_DLC_GENERATE": "[]",
            "INVOKE_DLC_CI_INSTALL": "nox dlc-tasks==1.0",  # words, as before
            "INVOKE_DLC_RETRIES_ATTEMPTS": "2",
            "INVOKE_DLC_FORCE": "1",  # --force from the environment, as every setting
            "INVOKE_DLC_DRY_RUN": "false",  # Invoke made "false" True
        },
    )
    s = run.settings
    assert s.prod_files == ["config.yaml"]
    assert s.build_args == {"GOPROXY": "off"}
    assert s.go.flags == ("-p=1",) or list(s.go.flags) == ["-p=1"]
    assert [str(p) for p in s.image.ports] == ["8080", "53/udp"]
    assert s.generate == []
    assert s.ci_install == ["nox", "dlc-tasks==1.0"]
    assert s.retries.attempts == 2
    assert run.force and s.force
    assert s.dry_run is False


def test_a_mapping_from_the_environment_is_merged_over_the_files() -> None:
    config = DlcConfig(defaults=merge_dicts(Config.global_defaults(), {"dlc": DEFAULTS}), lazy=True)
    config.load_collection({"dlc": {"build_args": {"GO_IMAGE": "g:1"}}})  # a level below
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("INVOKE_DLC_BUILD_ARGS", '{"GOPROXY": "off"}')
        mp.setenv("INVOKE_RUN_ECHO", "1")  # Invoke's own sections are still Invoke's
        config.load_shell_env()
    assert dict(config.dlc.build_args) == {"GO_IMAGE": "g:1", "GOPROXY": "off"}
    assert config.run.echo is True


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("INVOKE_DLC_PROD_FILES", "[config.yaml", "is not valid JSON (line 1 column 2)"),
        ("INVOKE_DLC_PROD_FILES", '"config.yaml"', "must be a JSON array, not a JSON string"),
        ("INVOKE_DLC_BUILD_ARGS", '["GOPROXY=off"]', "must be a JSON object, not a JSON array"),
        ("INVOKE_DLC_BUILD_ARGS", "GOPROXY=https://u:s3cret@p", "is not valid JSON"),
        ("INVOKE_DLC_GENERATE", "go generate ./...", "is not valid JSON"),
        ("INVOKE_DLC_IMAGE_HEALTHCHECK", "{}", "must be a JSON array, not a JSON object"),
        ("INVOKE_DLC_LOCAL_REGISTRY_PORT", "5ooo", "must be an integer"),
        ("INVOKE_DLC_TIMEOUTS_GIT", "soon", "must be a number"),
        ("INVOKE_DLC_ALLOW_DIRTY", "maybe", "must be 1, true or yes"),
    ],
)
def test_a_wrong_value_from_the_environment_is_one_line_naming_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, variable: str, value: str, says: str
) -> None:
    project = make_project(tmp_path / "module")
    with pytest.raises(Exit) as caught:
        run_with_environment(monkeypatch, project, {variable: value})
    message = str(caught.value.message)
    assert caught.value.code == 2
    assert message.startswith(f"dlc: {variable} {says}") and "\n" not in message, message
    assert "s3cret" not in message  # the value is never repeated: a mapping may hold a secret
    assert not (project / ".dlc").exists() and not (project / "deps_hash.env").exists()


def test_the_loader_reads_only_what_the_table_declares() -> None:
    found = dlc_environment(
        {"INVOKE_DLC_GO_TAGS": '["a"]', "INVOKE_DLC_NOT_AN_OPTION": "x", "INVOKE_RUN_ECHO": "1"}
    )
    assert found == {"go": {"tags": ["a"]}}
    with pytest.raises(EnvironmentValue):
        dlc_environment({"INVOKE_DLC_GO_CGO": "2"})


def test_the_early_settings_are_read_and_checked_by_the_settings_module(tmp_path: Path) -> None:
    # init, setup.base-images and the go.mod check read these through config.settings (they
    # read the raw tree before); the rest of the section need not be valid for them
    config = Config(defaults=merge_dicts(Config.global_defaults(), {"dlc": DEFAULTS}), lazy=True)
    config.load_collection(
        {
            "dlc": {
                "project_dir": str(tmp_path),
                "latest": "bogus",  # not valid for Settings; init may be about to replace it
                "build_args": {"GO_IMAGE": "g:1"},
                "ci": {"install": "nox dlc-tasks==1.0"},
            }
        }
    )
    given = early(config)
    assert (given.project_dir, given.build_args) == (tmp_path.resolve(), {"GO_IMAGE": "g:1"})
    assert given.ci_install == ["nox", "dlc-tasks==1.0"]
    config.load_collection({"dlc": {"build_args": {"GOFLAGS": "-x"}}})
    with pytest.raises(InvalidValue, match="GOFLAGS is set by dlc-tasks"):
        early(config)
