"""The ``dlc`` values a project leaves unset, derived from its ``go.mod`` and its tree."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from dlc_tasks.project import gomod, layout, remote

_INVALID = re.compile(r"[^a-z0-9._-]+")


def path_component(text: str) -> str:
    """``text`` made into one lowercase image path component (``My_Tool`` → ``my_tool``)."""
    value = _INVALID.sub("-", text.lower())
    value = re.sub(r"[._-]*([._-])[._-]*", r"\1", value).strip("._-")
    return value or "app"


def names(mod: gomod.GoMod) -> tuple[str, str]:
    """(org, repo) from a module path: ``host/org/repo[/vN]`` → (org, repo).

    ``example.com/tool`` → (example, tool); a one-element path ``tool`` → (tool, tool).
    """
    parts = mod.elements
    repo = path_component(parts[-1])
    if len(parts) >= 3 or (len(parts) == 2 and "." not in parts[0]):
        org = parts[-2]
    elif len(parts) == 2:
        org = parts[0].split(".")[0]
    else:
        org = parts[0]
    return path_component(org), repo


def org_and_repo(project_dir: Path) -> tuple[str, str, str]:
    """(org, repo, where from): the git remote ``origin``, else go.mod, else the directory.

    The remote first: images go to a registry, and the forge hosting the code names its
    packages after the repository's owner and name; a module path may be a vanity one.
    """
    url = remote.origin_url(project_dir)
    found = remote.owner_and_name(url) if url else None
    if found:
        return path_component(found[0]), path_component(found[1]), "the git remote origin"
    if (project_dir / "go.mod").is_file():
        org, repo = names(gomod.read(project_dir))
        return org, repo, "go.mod's module path"
    name = path_component(project_dir.name)
    return name, name, "the directory's name"


def binary_name(main_package: str, repo: str) -> str:
    """The binary's name: the main package's directory (``./cmd/tool`` → ``tool``), else repo."""
    last = main_package.rstrip("/").rsplit("/", 1)[-1]
    return path_component(last) if last not in ("", ".") else repo


def fill(project_dir: Path, merged: dict[str, Any]) -> dict[str, Any]:
    """``merged`` with org, repo, main_package and binary_name derived where unset (None).

    The main package is the module's only product (a main package outside ``scripts/``,
    ``tools/``, ``hack/``, ``internal/``, ``examples/`` and ``test*/``), else its only main
    package (:func:`layout.candidates`).

    org and repo, when unset, come from :func:`org_and_repo` (the git remote, go.mod, or the
    directory: a task such as ``version.bump`` needs no module). A main package
    that cannot be found (none, or several) stays None here: the error is raised by the
    step that builds it (:meth:`Settings.require_main_package`), not by every task.
    A ``go.work`` at the root is refused first.
    """
    out = dict(merged)
    layout.refuse_workspace(project_dir)
    if not out.get("org") or not out.get("repo"):
        org, repo, _ = org_and_repo(project_dir)
        out["org"] = out.get("org") or org
        out["repo"] = out.get("repo") or repo
    if not out.get("main_package"):
        found = layout.candidates(project_dir)
        out["main_package"] = found[0] if len(found) == 1 else None
    if not out.get("binary_name"):
        out["binary_name"] = binary_name(str(out["main_package"] or "./"), str(out["repo"]))
    return out
