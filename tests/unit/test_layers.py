"""The package layout is the architecture: each layer imports only the layers below it.

The order is the one ``dlc_tasks/__init__.py`` and ``docs/design.md`` state; a new import
that goes up (or sideways between two packages of one level) fails here, so the layout
cannot drift from what the documents say. Imports under ``if TYPE_CHECKING:`` count as
well (types only, they still say what a module depends on), except a step naming ``Run``:
the runner hands the run down to the steps it runs.
"""

from __future__ import annotations

import ast
from pathlib import Path

import dlc_tasks

PACKAGE = Path(dlc_tasks.__file__).parent
# Top to bottom; the members of one level do not import each other.
LAYERS: list[set[str]] = [
    {"__init__", "nox_sessions"},
    {"cli"},
    {"checks"},
    {"steps", "housekeeping"},
    {"run"},
    {"facts"},
    {"clients", "reporting"},
    {"config"},
    {"model", "project"},
    {"_files"},
    {"errors"},
    {"secrets"},
]
# (layer, imported layer) that may go up, types only, and why.
TYPES_ONLY_UPWARD = {("steps", "run")}  # Step.decide(run) / execute(run): the runner's object


def layer_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def level(name: str) -> int:
    return next(i for i, members in enumerate(LAYERS) if name in members)


def imports(path: Path) -> list[tuple[str, bool]]:
    """(imported dlc_tasks module, whether only under TYPE_CHECKING) for every import."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    typing_only = {
        id(node)
        for block in ast.walk(tree)
        if isinstance(block, ast.If) and "TYPE_CHECKING" in ast.unparse(block.test)
        for node in ast.walk(block)
    }
    found = []
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("dlc_tasks"):
            names = [node.module or ""]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names if a.name.startswith("dlc_tasks")]
        found += [(name, id(node) in typing_only) for name in names]
    return found


def test_every_module_belongs_to_a_layer() -> None:
    named = set().union(*LAYERS)
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        assert layer_of(".".join(rel.parts)) in named, path


def test_each_layer_imports_only_the_layers_below_it() -> None:
    wrong = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        source = layer_of(".".join(rel.parts))
        for module, typing_only in imports(path):
            target = layer_of(module)
            if target == source or level(target) > level(source):
                continue
            if typing_only and (source, target) in TYPES_ONLY_UPWARD:
                continue
            wrong.append(f"{rel}: imports {module} ({source} -> {target})")
    assert wrong == []
