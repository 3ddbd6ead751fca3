"""The CI workflow file `inv ci.workflow` writes, parsed back as YAML."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import shutil
import subprocess
import sys
import zipfile
from importlib.metadata import Distribution
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml
from invoke.config import Config

from dlc_tasks.config import DEFAULTS, Settings, ci_install, install
from dlc_tasks.errors import ConfigError, InvalidValue
from dlc_tasks.housekeeping import wheel
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
    # this library is installed from a path (editable): a runner gets the committed wheel
    assert default == ["nox", "./.dlc-tasks/dlc_tasks-0.1.0-py3-none-any.whl"]
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
    assert not (world.project / ".dlc-tasks").exists()  # no wheel when it is not installed


class Installed(Distribution):
    """An installed dlc-tasks as pip recorded it (``direct_url.json``, PEP 610)."""

    def __init__(self, direct_url: dict[str, Any] | None) -> None:
        self.files_ = {"INSTALLER": "pip\n", "METADATA": "Name: dlc-tasks\nVersion: 0.3.1\n"}
        if direct_url is not None:
            self.files_["direct_url.json"] = json.dumps(direct_url)

    def read_text(self, filename: str) -> str | None:
        return self.files_.get(filename)

    def locate_file(self, path: Any) -> Any:
        raise NotImplementedError


@pytest.mark.parametrize(
    ("direct_url", "expected"),
    [
        (None, "dlc-tasks==0.3.1"),  # from an index: that index has it
        (
            {
                "url": "https://gitea.example.com/team/dlc-tasks.git",
                "vcs_info": {"vcs": "git", "commit_id": "a" * 40, "requested_revision": "v0.3.1"},
            },
            f"dlc-tasks @ git+https://gitea.example.com/team/dlc-tasks.git@{'a' * 40}",
        ),
        (
            {"url": "https://x.example.com/dlc_tasks-0.3.1-py3-none-any.whl", "archive_info": {}},
            "dlc-tasks @ https://x.example.com/dlc_tasks-0.3.1-py3-none-any.whl",
        ),
        # paths no runner reaches, or a URL holding credentials: the committed wheel
        ({"url": "file:///home/me/dlc-tasks", "dir_info": {}}, "./.dlc-tasks/"),
        ({"url": "file:///home/me/dlc-tasks", "dir_info": {"editable": True}}, "./.dlc-tasks/"),
        ({"url": "file:///tmp/dlc_tasks-0.3.1-py3-none-any.whl", "archive_info": {}}, "./.dlc"),
        (
            {"url": "https://bot:tok@gitea.example.com/t/d.git", "vcs_info": {"vcs": "git"}},
            "./.dlc-tasks/dlc_tasks-0.3.1-py3-none-any.whl",
        ),
    ],
)
def test_the_default_install_is_how_this_dlc_tasks_was_installed(
    direct_url: dict[str, Any] | None, expected: str
) -> None:
    """Before: ``dlc-tasks==VERSION`` from PyPI, which has no dlc-tasks, whatever the install."""
    assert install.requirement(Installed(direct_url)).startswith(expected)


def test_the_bundled_wheel_is_a_wheel_of_this_library(tmp_path: Path) -> None:
    dist = install.installed()
    assert dist is not None
    ((rel, data),) = wheel.wheel_files(ci_install(None)).items()
    assert rel == ".dlc-tasks/dlc_tasks-0.1.0-py3-none-any.whl"
    assert wheel.build_wheel(dist) == data  # the same bytes every time
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = archive.namelist()
        record = archive.read("dlc_tasks-0.1.0.dist-info/RECORD").decode()
        for line in record.splitlines()[:-1]:  # every file's hash and size, as pip checks them
            name, digest, size = line.split(",")
            content = archive.read(name)
            assert int(size) == len(content)
            assert (
                digest
                == "sha256="
                + base64.urlsafe_b64encode(hashlib.sha256(content).digest()).rstrip(b"=").decode()
            )
        assert (
            "dlc = dlc_tasks.cli.program:main"
            in archive.read("dlc_tasks-0.1.0.dist-info/entry_points.txt").decode()
        )
    assert "dlc_tasks/templates/Dockerfile.build" in names
    assert "dlc_tasks/cli/program.py" in names and "dlc_tasks/py.typed" in names
    assert not any("__pycache__" in n or n.endswith(".pyc") for n in names)


def ca_step(provider: str) -> dict[str, Any]:
    steps = workflow(provider, None, ["main"], ["nox"])["jobs"]["ci-pipeline"]["steps"]
    (step,) = [s for s in steps if "REGISTRY_CA" in s.get("env", {})]
    return dict(step)


@pytest.mark.parametrize("provider", ["github", "gitea"])
def test_the_registry_ca_comes_from_registry_ca_and_becomes_dlc_ca_file(
    tmp_path: Path, provider: str
) -> None:
    """The step's script as a runner runs it (bash), with a user that is not root and a sudo
    that records what it is asked; then the environment the next steps get sets dlc.ca_file."""
    step = ca_step(provider)
    assert step["env"]["REGISTRY_CA"] == "${{ secrets.REGISTRY_CA || vars.REGISTRY_CA }}"
    for job in workflow(provider, None, ["main"], ["nox"])["jobs"].values():
        assert step in job["steps"]  # each job trusts the registry before nox runs
        assert job["steps"].index(step) < len(job["steps"]) - 1
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    (fake_bin / "id").write_text("#!/bin/sh\necho 1001\n")
    (fake_bin / "sudo").write_text(f"#!/bin/sh\nprintf '%s\\n' \"$*\" >> {tmp_path}/sudo.log\n")
    for tool in ("id", "sudo"):
        (fake_bin / tool).chmod(0o755)
    pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----"
    github_env = tmp_path / "github_env"
    github_env.touch()
    env = {
        "PATH": f"{fake_bin}:/usr/bin:/bin",
        "RUNNER_TEMP": str(tmp_path),
        "GITHUB_ENV": str(github_env),
        "INVOKE_DLC_REGISTRY": "gitea.example.lab:443",
    }
    script = tmp_path / "step.sh"
    script.write_text(step["run"])
    ran = subprocess.run(["bash", "-e", str(script)], env=env, capture_output=True, check=False)
    assert ran.returncode == 0 and github_env.read_text() == "", "without REGISTRY_CA: nothing"
    env["REGISTRY_CA"] = pem
    ran = subprocess.run(["bash", "-e", str(script)], env=env, capture_output=True, check=False)
    assert ran.returncode == 0, ran.stderr
    ca = tmp_path / "dlc-registry-ca.pem"
    assert ca.read_text() == pem + "\n"
    assert github_env.read_text() == f"INVOKE_DLC_CA_FILE={ca}\n"
    certs = "/etc/docker/certs.d/gitea.example.lab:443"
    assert (tmp_path / "sudo.log").read_text().splitlines() == [
        "-n true",
        f"mkdir -p {certs}",
        f"cp {ca} {certs}/ca.crt",
    ]
    # what the next steps' dlc reads: INVOKE_DLC_CA_FILE is dlc.ca_file
    config = Config(defaults={"dlc": DEFAULTS}, lazy=True)
    name, _, value = github_env.read_text().strip().partition("=")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(name, value)
        config.load_shell_env()
    ca_file = config.dlc.ca_file
    assert Settings.from_mapping({"ca_file": ca_file, "project_dir": str(tmp_path)}).ca_file == ca


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
