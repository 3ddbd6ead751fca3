"""The CI workflow file `inv ci.workflow` writes, parsed back as YAML."""

from __future__ import annotations

import io
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from dlc_tasks.config import Settings
from dlc_tasks.errors import ConfigError, InvalidValue
from dlc_tasks.housekeeping.workflow import workflow, write_workflow
from dlc_tasks.reporting.console import Console


@pytest.mark.parametrize("provider", ["github", "gitea"])
def test_workflow_is_the_adrs_two_jobs_running_nox(provider: str) -> None:
    text = yaml.safe_dump(workflow(provider, None, ["main"]), sort_keys=False)
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
        workflow("gitlab", None, ["main"])


@pytest.mark.parametrize("provider", ["github", "gitea"])
def test_no_job_needs_a_cache_action_or_a_go_setup(provider: str) -> None:
    """The registry's cache image brings Go, the modules and a warm Go build cache."""
    for job in workflow(provider, None, ["main"])["jobs"].values():
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
