"""dlc_tasks.model.sourcetree.digest: what makes generate/test/prod out of date."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from dlc_tasks.model.sourcetree import digest, iter_files


def make_tree(root: Path) -> Path:
    files = {
        "go.mod": "module example.com/hello\n",
        "main.go": "package main\n",
        "pkg/greet/greet.go": "package greet\n",
        "config.yaml": "port: 8080\n",
        "deps_hash.env": "DEPS_HASH=0\n",
        ".dlc/bin/hello": "binary",
        ".git/HEAD": "ref: refs/heads/main\n",
        "_scratch/notes.go": "package scratch\n",
        "tools/__pycache__/x.cpython-311.pyc": "bytecode",
    }
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    return make_tree(tmp_path / "src")


def excluded(root: Path) -> list[Path]:
    return [root / "deps_hash.env", root / "coverage.out"]


def test_digest_is_sha256_hex_and_independent_of_the_location(tmp_path: Path) -> None:
    first = make_tree(tmp_path / "one")
    second = make_tree(tmp_path / "deeper" / "two")
    value = digest(first, excluded(first))
    assert re.fullmatch(r"[0-9a-f]{64}", value)
    assert value == digest(second, excluded(second))


def test_changes_when_a_go_file_changes(tree: Path) -> None:
    before = digest(tree, excluded(tree))
    (tree / "pkg/greet/greet.go").write_text("package greet\n\nfunc Hi() {}\n")
    assert digest(tree, excluded(tree)) != before


def test_changes_when_a_go_file_is_added(tree: Path) -> None:
    before = digest(tree, excluded(tree))
    (tree / "pkg/greet/greet_test.go").write_text("package greet\n")
    assert digest(tree, excluded(tree)) != before


def test_changes_when_a_file_is_renamed(tree: Path) -> None:
    before = digest(tree, excluded(tree))
    (tree / "main.go").rename(tree / "app.go")
    assert digest(tree, excluded(tree)) != before


def test_changes_when_a_file_becomes_executable(tree: Path) -> None:
    before = digest(tree, excluded(tree))
    (tree / "main.go").chmod(0o755)
    assert digest(tree, excluded(tree)) != before


def test_ignores_dlc_state_dot_and_underscore_dirs_and_bytecode(tree: Path) -> None:
    before = digest(tree, excluded(tree))
    (tree / ".dlc/bin/hello").write_text("another binary")
    (tree / ".dlc/stamp").write_text("x")
    (tree / ".git/HEAD").write_text("ref: refs/heads/other\n")
    (tree / "_scratch/notes.go").write_text("package scratch // changed\n")
    (tree / "tools/__pycache__/x.cpython-311.pyc").write_text("other bytecode")
    assert digest(tree, excluded(tree)) == before


def test_ignores_excluded_paths(tree: Path) -> None:
    before = digest(tree, excluded(tree))
    (tree / "deps_hash.env").write_text("DEPS_HASH=1\n")
    (tree / "coverage.out").write_text("mode: atomic\n")
    assert digest(tree, excluded(tree)) == before
    # Without the exclusion the same change counts.
    assert digest(tree) != digest(tree, excluded(tree))


def test_iter_files_lists_relative_sorted_files(tree: Path) -> None:
    rels = [p.relative_to(tree).as_posix() for p in iter_files(tree, excluded(tree))]
    assert rels == ["config.yaml", "go.mod", "main.go", "pkg/greet/greet.go"]
    shutil.rmtree(tree / "pkg")
    assert [p.name for p in iter_files(tree, excluded(tree))] == [
        "config.yaml",
        "go.mod",
        "main.go",
    ]


def test_ignores_what_go_ignores_and_python_packaging_leftovers(tree: Path) -> None:
    """Go skips files whose names begin with . or _ as it skips such folders; pip's
    ``*.egg-info`` and coverage.py's ``.coverage.*`` sit in a Python+Go checkout's root (this
    repository's) and must neither rebuild the Go steps nor make the tree dirty."""
    before = digest(tree, excluded(tree))
    (tree / ".coverage.vm.pid1.x").write_text("coverage data")
    (tree / "_draft.go").write_text("package main\n")
    (tree / "dlc_tasks.egg-info").mkdir()
    (tree / "dlc_tasks.egg-info" / "PKG-INFO").write_text("Name: dlc-tasks\n")
    assert digest(tree, excluded(tree)) == before
    names = {p.name for p in iter_files(tree, excluded(tree), all_names=True)}
    assert {".coverage.vm.pid1.x", "_draft.go"} <= names  # what a remote engine is sent
    assert "PKG-INFO" not in names
