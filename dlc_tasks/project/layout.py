"""The shape of a module on disk: its packages and main packages (products and helpers),
``vendor/`` and a ``go.work`` workspace."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

from dlc_tasks.errors import MainPackageAmbiguous, WorkspaceRefused
from dlc_tasks.project import constraints, gomod

_PACKAGE = re.compile(r"^\s*package\s+([A-Za-z_][A-Za-z0-9_]*)", re.MULTILINE)
# Main packages under these top-level folders (or `test*/`) are a module's helpers (release
# scripts, code generators, examples), not what it ships: `init` proposes no image for them.
HELPER_DIRS = ("scripts", "tools", "hack", "internal", "examples")


def package_clause(path: Path) -> str | None:
    """The package name a Go file declares, or None when the file has no clause."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    return _clause(text)


def _clause(text: str) -> str | None:
    found = _PACKAGE.search(_strip_comments(text))
    return found.group(1) if found else None


def _strip_comments(text: str) -> str:
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.DOTALL)
    return re.sub(r"//[^\n]*", "", text)


def package_dirs(project_dir: Path) -> Iterator[tuple[str, Path, list[Path]]]:
    """Each directory of the module holding Go files: (``./rel`` or ``./``, path, its files).

    Go's own rules for ``./...`` are followed: ``vendor``, ``testdata`` and directories
    starting with ``.`` or ``_`` are skipped, and so are nested modules (a ``go.mod``).
    The files are every ``.go`` file (tests included), sorted; see :func:`builds`.
    """
    for current, dirs, files in os.walk(project_dir):
        here = Path(current)
        dirs[:] = sorted(
            d
            for d in dirs
            if d not in ("vendor", "testdata")
            and not d.startswith((".", "_"))
            and not (here / d / "go.mod").exists()
        )
        sources = [here / f for f in sorted(files) if f.endswith(".go")]
        if sources:
            rel = here.relative_to(project_dir).as_posix()
            yield ("./" if rel == "." else f"./{rel}"), here, sources


def read_go(path: Path) -> str:
    """A Go file's text ('' when it cannot be read)."""
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def builds(path: Path, text: str, tags: frozenset[str] | None = None) -> bool:
    """True when the file is compiled in the cache image (see :mod:`.constraints`)."""
    return constraints.file_builds(path, text, tags or constraints.default_tags())


def main_packages(project_dir: Path) -> list[str]:
    """Every directory of the module (as ``./rel`` or ``./``) holding a ``package main``.

    Directories as :func:`package_dirs` walks them; ``_test.go`` files and files the build
    constraints leave out (a ``//go:build ignore`` generator) do not count, nor do the
    module's own tools (``tool`` directives in ``go.mod``: a generator run by
    ``go tool NAME`` is not a product).
    """
    tools = tool_packages(project_dir)
    found: list[str] = []
    for package, _, sources in package_dirs(project_dir):
        for path in sources:
            if path.name.endswith("_test.go"):
                continue
            text = read_go(path)
            if _clause(text) == "main" and builds(path, text):
                if package not in tools:
                    found.append(package)
                break
    return found


def is_helper(package: str) -> bool:
    """True for a main package under ``scripts/``, ``tools/``, ``hack/``, ``internal/``,
    ``examples/`` or ``test*/``, at any depth (``pkg/api/internal/gen``): a helper of the
    module, not a product to ship. The root and everything under ``cmd/`` are products."""
    parts = package.removeprefix("./").strip("/").split("/")
    if parts[0] in ("", "cmd"):
        return False
    return any(part in HELPER_DIRS or part.startswith("test") for part in parts)


def products(mains: list[str]) -> list[str]:
    """The main packages a module ships: the others than :func:`is_helper`'s."""
    return [m for m in mains if not is_helper(m)]


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


def candidates(project_dir: Path) -> list[str]:
    """The main packages that could be *the* module's: its products, else every main package
    (a module whose only main is a helper, ``internal/app`` say, still builds that one)."""
    mains = main_packages(project_dir)
    return products(mains) or mains


def the_main_package(project_dir: Path) -> str:
    """The module's one main package (:func:`candidates`); a one-line error listing them."""
    found = candidates(project_dir)
    if len(found) == 1:
        return found[0]
    if not found:
        raise MainPackageAmbiguous(f"no package main found under {project_dir}")
    raise MainPackageAmbiguous(f"{len(found)} main packages, pick one: {', '.join(found)}")


def vendored(project_dir: Path) -> bool:
    """True when the module vendors its dependencies (``vendor/modules.txt`` exists)."""
    return (project_dir / "vendor" / "modules.txt").is_file()


def refuse_workspace(project_dir: Path) -> None:
    """Refuse a ``go.work`` at the project root: one module per chain."""
    if (project_dir / "go.work").is_file():
        raise WorkspaceRefused(f"{project_dir / 'go.work'}: go.work workspaces are not built")
