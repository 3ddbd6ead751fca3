"""The CI workflow file `inv ci.workflow` writes, parsed back as YAML."""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from dlc_tasks.config import Settings, ci_install
from dlc_tasks.errors import ConfigError, InvalidValue
from dlc_tasks.housekeeping.workflow import render_workflow, workflow, write_workflow
from dlc_tasks.reporting.console import Console
from tests.support.fakes import World, make_project
from tests.unit.conftest import invoke_tasks


@pytest.mark.parametrize("provider", ["github", "gitea"])
def test_workflow_is_the_adrs_two_jobs_running_nox(provider: str) -> None:
    text = yaml.safe_dump(workflow(provider, None, ["main"], ["nox"]), sort_keys=False)
    data = yaml.safe_load(text)
    jobs = data["jobs"]
    assert list(jobs) == ["build-cache", "ci-pipeline"]
    assert jobs["ci-pipeline"]["needs"] == "build-cache"
    assert jobs["build-cache"]["steps"][-1]["run"] == "nox -s ci -- cache"
    assert jobs["ci-pipeline"]["steps"][-1]["run"] == "nox -s ci"
    assert data["env"]["DLC_REGISTRY_PASSWORD"] == "${{ secrets.REGISTRY_PASSWORD }}"
    assert "on" in data  # quoted by the dumper, so YAML 1.1 readers do not turn it into True
    for job in jobs.values():
        for step in job["steps"]:
            assert "REGISTRY_PASSWORD" not in step.get("run", "")


def test_unknown_provider_is_refused() -> None:
    with pytest.raises(ConfigError, match="gitlab"):
        workflow("gitlab", None, ["main"], ["nox"])


@pytest.mark.parametrize("provider", ["github", "gitea"])
def test_no_job_needs_a_cache_action_or_a_go_setup(provider: str) -> None:
    """The registry's cache image brings Go, the modules and a warm Go build cache."""
    for job in workflow(provider, None, ["main"], ["nox"])["jobs"].values():
        uses = [step["uses"] for step in job["steps"] if "uses" in step]
        assert uses == ["actions/checkout@v4", "actions/setup-python@v5"]


def test_the_default_workflow_path_through_a_symlink_out_of_the_project_is_refused(
    tmp_path: Path,
) -> None:
    project, elsewhere = tmp_path / "project", tmp_path / "elsewhere"
    project.mkdir()
    elsewhere.mkdir()
    (project / ".github").symlink_to(elsewhere)
    settings = Settings.from_mapping({"project_dir": str(project)})
    rt = SimpleNamespace(settings=settings, out=Console(stream=io.StringIO()))
    with pytest.raises(InvalidValue, match=r"outside project_dir"):
        write_workflow(rt, "github", None)  # type: ignore[arg-type]
    assert list(elsewhere.iterdir()) == []


def check_jsonschema(path: Path) -> subprocess.CompletedProcess[str]:
    """The GitHub workflow schema check-jsonschema carries (Gitea Actions reads the same)."""
    tool = shutil.which("check-jsonschema", path=str(Path(sys.executable).parent))
    assert tool, "check-jsonschema is in the test dependency group"
    return subprocess.run(
        [tool, "--builtin-schema", "vendor.github-workflows", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.parametrize("provider", ["github", "gitea"])
def test_written_workflows_validate_against_the_workflow_schema(
    tmp_path: Path, provider: str
) -> None:
    world = World(make_project(tmp_path / "module"))
    dlc = {"project_dir": str(world.project)}
    invoke_tasks(("ci.workflow", {"provider": provider}), dlc=dlc)
    invoke_tasks(("init", {"workflow": provider, "force": True}), dlc=dlc)
    written = world.project / f".{provider}" / "workflows" / "dlc.yml"
    result = check_jsonschema(written)
    assert result.returncode == 0, result.stdout + result.stderr
    # the check is real: a workflow with a typo in a key fails it
    broken = tmp_path / "broken.yml"
    broken.write_text(written.read_text().replace("runs-on:", "run-on:", 1))
    assert check_jsonschema(broken).returncode == 1


def test_what_the_workflow_installs_is_dlc_ci_install_quoted(tmp_path: Path) -> None:
    default = ci_install(None)
    assert default[0] == "nox" and default[1].startswith("dlc-tasks")
    text = render_workflow(
        "gitea", None, ["main"], ["nox", "dlc-tasks @ git+https://gitea.example.com/t/dlc@v0.2"]
    )
    run = yaml.safe_load(text)["jobs"]["ci-pipeline"]["steps"][2]["run"]
    assert run == "python -m pip install nox 'dlc-tasks @ git+https://gitea.example.com/t/dlc@v0.2'"
    assert "dlc.ci.install" in text.splitlines()[0]
    world = World(make_project(tmp_path / "module"))
    dlc = {"project_dir": str(world.project), "ci": {"install": ["nox", "./wheels/dlc.whl"]}}
    invoke_tasks(("init", {"workflow": "github", "force": True}), dlc=dlc)
    written = yaml.safe_load((world.project / ".github/workflows/dlc.yml").read_text())
    assert written["jobs"]["build-cache"]["steps"][2]["run"] == (
        "python -m pip install nox ./wheels/dlc.whl"
    )


@pytest.mark.parametrize(
    ("value", "match"),
    [
        (["nox", "https://u:tok@pypi.example.com/simple"], "credentials"),
        (["nox\nrm -rf /"], "control character"),
        ([], "list of pip arguments"),
    ],
)
def test_bad_ci_install_values_are_refused(value: list[str], match: str) -> None:
    with pytest.raises((InvalidValue, ConfigError), match=match):
        ci_install(value)
