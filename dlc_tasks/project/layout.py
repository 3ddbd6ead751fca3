"""The shape of a module on disk: its main packages, ``vendor/`` and a ``go.work`` workspace."""

from __future__ import annotations

import os
import re
from pathlib import Path

from dlc_tasks.errors import ConfigError
from dlc_tasks.project import gomod

_PACKAGE = re.compile(r"^\s*package\s+([A-Za-z_][A-Za-z0-9_]*)", re.MULTILINE)
_SKIP_LINE = re.compile(r"^\s*(//.*)?$")


class WorkspaceRefused(ConfigError):
    """The project is a ``go.work`` workspace, which the chain does not build."""

    hint = (
        "run dlc in one module of the workspace, or set dlc.project_dir to it: each module is "
        "built alone (GOWORK=off), its dependencies from go.mod"
    )


class MainPackageAmbiguous(ConfigError):
    """The module has no ``package main``, or more than one."""

    hint = "set dlc.main_package (or dlc.images, one per main package)"


def package_clause(path: Path) -> str | None:
    """The package name a Go file declares, or None when the file has no clause."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    found = _PACKAGE.search(_strip_comments(text))
    return found.group(1) if found else None


def _strip_comments(text: str) -> str:
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.DOTALL)
    return re.sub(r"//[^\n]*", "", text)


def main_packages(project_dir: Path) -> list[str]:
    """Every directory of the module (as ``./rel`` or ``./``) holding a ``package main``.

    Go's own rules for ``./...`` are followed: ``vendor``, ``testdata`` and directories
    starting with ``.`` or ``_`` are skipped, and so are nested modules (a ``go.mod``).
    ``_test.go`` files do not count, nor do the module's own tools (``tool`` directives in
    ``go.mod``: a generator run by ``go tool NAME`` is not a product).
    """
    tools = tool_packages(project_dir)
    found: list[str] = []
    for current, dirs, files in os.walk(project_dir):
        here = Path(current)
        dirs[:] = sorted(
            d
            for d in dirs
            if d not in ("vendor", "testdata")
            and not d.startswith((".", "_"))
            and not (here / d / "go.mod").exists()
        )
        sources = [f for f in sorted(files) if f.endswith(".go") and not f.endswith("_test.go")]
        if any(package_clause(here / f) == "main" for f in sources):
            rel = here.relative_to(project_dir).as_posix()
            package = "./" if rel == "." else f"./{rel}"
            if package not in tools:
                found.append(package)
    return found


def tool_packages(project_dir: Path) -> set[str]:
    """The module's own packages that ``go.mod`` names as tools, as ``./rel`` paths."""
    if not (project_dir / "go.mod").is_file():
        return set()
    mod = gomod.read(project_dir)
    out = set()
    for tool in mod.tools:
        if tool == mod.module:
            out.add("./")
        elif tool.startswith(mod.module + "/"):
            out.add("./" + tool[len(mod.module) + 1 :])
    return out


def the_main_package(project_dir: Path) -> str:
    """The module's one main package; a one-line error listing the candidates otherwise."""
    candidates = main_packages(project_dir)
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        raise MainPackageAmbiguous(f"no package main found under {project_dir}")
    raise MainPackageAmbiguous(
        f"{len(candidates)} main packages, pick one: {', '.join(candidates)}"
    )


def vendored(project_dir: Path) -> bool:
    """True when the module vendors its dependencies (``vendor/modules.txt`` exists)."""
    return (project_dir / "vendor" / "modules.txt").is_file()


def refuse_workspace(project_dir: Path) -> None:
    """Refuse a ``go.work`` at the project root: one module per chain."""
    if (project_dir / "go.work").is_file():
        raise WorkspaceRefused(f"{project_dir / 'go.work'}: go.work workspaces are not built")
