"""The git remote's owner and repository, read from the repository's config file (pure: no git).

``org`` and ``repo`` default to the ``origin`` remote's last two path elements when the
project is in a git repository with one (``git@gitea.example.com:team/tool.git`` →
``team``, ``tool``): the forge that hosts the code usually hosts the images too, and names
them OWNER/REPO (Gitea, GitHub's GHCR, GitLab). Without such a remote, ``go.mod``'s
module path decides (:func:`dlc_tasks.project.derive.names`). Only the path is read: a URL's
user name or token is never kept, printed or written.

The repository is found as git finds it: the nearest ``.git`` above the project, a
directory, or a file (``gitdir: …``, a worktree or a submodule) whose ``commondir`` holds
the shared ``config``.
"""

from __future__ import annotations

import configparser
import re
from pathlib import Path

_SCP = re.compile(r"^(?:[^@/]+@)?[^:/]+:(?!//)(?P<path>.+)$")  # user@host:owner/repo.git
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://[^/]+/(?P<path>.+)$")


def git_config(start: Path) -> Path | None:
    """The ``config`` file of the git repository holding ``start``, or None."""
    for folder in (start, *start.parents):
        dot_git = folder / ".git"
        if dot_git.is_dir():
            return dot_git / "config"
        if dot_git.is_file():
            text = dot_git.read_text(encoding="utf-8", errors="replace").strip()
            if not text.startswith("gitdir:"):
                return None
            gitdir = (folder / text.removeprefix("gitdir:").strip()).resolve()
            common = gitdir / "commondir"
            if common.is_file():
                gitdir = (gitdir / common.read_text(encoding="utf-8").strip()).resolve()
            return gitdir / "config"
    return None


def origin_url(start: Path) -> str | None:
    """The ``url`` of ``[remote "origin"]``, or None."""
    path = git_config(start)
    if path is None or not path.is_file():
        return None
    parser = configparser.RawConfigParser(strict=False)
    try:
        parser.read(path, encoding="utf-8")
    except configparser.Error:
        return None
    section = 'remote "origin"'
    if not parser.has_option(section, "url"):
        return None
    return parser.get(section, "url").strip() or None


def owner_and_name(url: str) -> tuple[str, str] | None:
    """(owner, repository) from a remote URL's path; None when it has fewer than two elements."""
    match = _URL.match(url) or _SCP.match(url)
    if match is None:
        return None
    parts = [p for p in match.group("path").split("/") if p]
    if len(parts) < 2:
        return None
    return parts[-2], parts[-1].removesuffix(".git")
