"""Which branch a pipeline runs on, and whether the chain goes through push there."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

# Gitea and GitHub Actions, GitLab CI, then anything exporting BRANCH_NAME (Jenkins).
_BRANCH_VARIABLES = ("GITHUB_REF_NAME", "CI_COMMIT_BRANCH", "BRANCH_NAME")


def current_branch(env: Mapping[str, str] | None = None, cwd: str = ".") -> str:
    """The CI's branch variable, else git's current branch (empty when detached)."""
    env = os.environ if env is None else env
    for name in _BRANCH_VARIABLES:
        if env.get(name):
            return env[name]
    from plumbum import local  # noqa: PLC0415
    from plumbum.commands.processes import ProcessExecutionError  # noqa: PLC0415

    try:
        with local.cwd(cwd):
            name = str(local["git"]("rev-parse", "--abbrev-ref", "HEAD")).strip()
    except ProcessExecutionError:
        return ""
    return "" if name == "HEAD" else name


def ci_steps(branch: str, push_branches: Sequence[str]) -> list[str]:
    """The chain ``inv ci`` runs: through push on a push branch, through test elsewhere."""
    steps = ["hash", "cache", "generate", "test"]
    return [*steps, "prod", "push"] if branch in push_branches else steps
