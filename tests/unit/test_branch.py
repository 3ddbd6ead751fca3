"""dlc_tasks.model.branch: which branch CI runs on, and how far ``inv ci`` goes there."""

from __future__ import annotations

import pytest

from dlc_tasks.model.branch import ci_steps, current_branch


def test_ci_steps_go_through_push_on_a_push_branch() -> None:
    assert ci_steps("main", ["main"]) == ["hash", "cache", "generate", "test", "prod", "push"]
    assert ci_steps("release", ["main", "release"])[-2:] == ["prod", "push"]


@pytest.mark.parametrize("branch", ["feature/x", "", "mainline", "Main"])
def test_ci_steps_stop_at_test_elsewhere(branch: str) -> None:
    assert ci_steps(branch, ["main"]) == ["hash", "cache", "generate", "test"]


def test_github_ref_name_wins() -> None:
    env = {"GITHUB_REF_NAME": "gh", "CI_COMMIT_BRANCH": "gitlab", "BRANCH_NAME": "jenkins"}
    assert current_branch(env) == "gh"


def test_falls_through_the_ci_variables_in_order() -> None:
    assert current_branch({"CI_COMMIT_BRANCH": "gitlab", "BRANCH_NAME": "jenkins"}) == "gitlab"
    assert current_branch({"BRANCH_NAME": "jenkins"}) == "jenkins"
    assert current_branch({"GITHUB_REF_NAME": "", "BRANCH_NAME": "jenkins"}) == "jenkins"


def test_reads_os_environ_when_no_mapping_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BRANCH_NAME", "from-env")
    assert current_branch() == "from-env"
