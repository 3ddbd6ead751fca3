"""A dirty check that sees everything the build sees (issue 16, item 2), with real git.

Status entries naming a folder (an untracked nested repository, a submodule, an untracked
folder) count when a file the build reads lies under them; a submodule's files are files of
the tree; every input is judged by what it resolves to; ``dlc.revision`` names the tag
only; outside git ``dlc.revision`` is required; a repository with no commit is one line.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from dlc_tasks.clients.git import NoCommit
from dlc_tasks.errors import DlcError
from dlc_tasks.run import DirtyTree, NoRepository, Run
from dlc_tasks.steps import CHAIN, make_step
from dlc_tasks.steps.runner import run_steps
from tests.support.fakes import World, commit_all, make_project

PROD = "acme/fake"
GIT = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
REV = "0123456789abcdef0123456789abcdef01234567"


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> World:
    monkeypatch.delenv("CI", raising=False)
    project = make_project(tmp_path / "module")
    (project / ".gitignore").write_text(".dlc/\ndeps_hash.env\ncoverage.out\n")
    (project / "generated.txt").write_text("generated\n")
    commit_all(project)
    return World(project)


def push(world: World, **values: object) -> Run:
    values.setdefault("revision", None)
    run = world.run(**values)
    run_steps(run, [make_step(name) for name in CHAIN])
    return run


def head(path: Path) -> str:
    return subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=path, capture_output=True, text=True, check=True
    ).stdout.strip()


def released(world: World) -> bool:
    return "latest" in world.registry.tags(PROD)


def nested_repo(folder: Path, files: dict[str, str]) -> Path:
    """A git repository of its own in ``folder`` (a theme cloned into the module, say)."""
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    commit_all(folder)
    return folder


def with_submodule(world: World, tmp_path: Path) -> Path:
    """``assets`` as a submodule of the module (its own ``.gitignore`` ignores ``*.local``)."""
    library = nested_repo(
        tmp_path / "assets-lib", {"greeting.txt": "hello\n", ".gitignore": "*.local\n"}
    )
    subprocess.run(
        [
            *GIT,
            "-c",
            "protocol.file.allow=always",
            "submodule",
            "add",
            "-q",
            str(library),
            "assets",
        ],
        cwd=world.project,
        check=True,
        capture_output=True,
    )
    commit_all(world.project, "assets as a submodule")
    return world.project / "assets"


def test_an_untracked_nested_repository_the_build_reads_makes_the_tree_dirty(
    world: World,
) -> None:
    """``git status`` says ``?? web/theme/``: one entry for the folder, never its files."""
    nested_repo(world.project / "web" / "theme", {"theme.css": "body {}\n"})
    push(world)
    assert world.registry.tags(PROD) == [f"{head(world.project)}-dirty"]


def test_a_go_package_in_a_nested_repository_is_dirty_under_ci(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    nested_repo(world.project / "internal" / "extra", {"extra.go": "package extra\n"})
    monkeypatch.setenv("CI", "1")
    with pytest.raises(DirtyTree, match=r"internal/extra"):
        push(world)
    assert world.registry.tags(PROD) == []


def test_a_clean_submodule_is_pushed_with_release_tags(world: World, tmp_path: Path) -> None:
    """Reproduction 3: check-ignore died on the submodule's files; now they are asked of the
    submodule, and a submodule at its recorded commit with no changes is clean."""
    assets = with_submodule(world, tmp_path)
    (assets / ".notes").write_text("a dot file the build never reads\n")
    push(world)
    assert released(world)


def test_a_submodule_with_changed_content_is_dirty(world: World, tmp_path: Path) -> None:
    assets = with_submodule(world, tmp_path)
    (assets / "greeting.txt").write_text("changed\n")
    push(world)
    assert world.registry.tags(PROD) == [f"{head(world.project)}-dirty"]


def test_a_submodule_at_another_commit_is_dirty(world: World, tmp_path: Path) -> None:
    assets = with_submodule(world, tmp_path)
    (assets / "greeting.txt").write_text("committed in the submodule only\n")
    commit_all(assets, "not recorded by the superproject")
    run = world.run(revision=None)
    assert run.facts.tree().changed == ("assets",)


def test_a_file_the_submodule_ignores_is_dirty(world: World, tmp_path: Path) -> None:
    assets = with_submodule(world, tmp_path)
    (assets / "secret.local").write_text("never committed anywhere\n")
    run = world.run(revision=None)
    assert run.facts.tree().changed == ("assets/secret.local",)


def test_a_committed_link_to_an_ignored_file_is_dirty_prod_files_too(world: World) -> None:
    """Reproduction 10: ``app.env`` (committed) links to ``.env`` (ignored, never committed)."""
    (world.project / ".gitignore").write_text(".dlc/\ndeps_hash.env\ncoverage.out\n.env\n")
    (world.project / ".env").write_text("PASSWORD=never-committed\n")
    (world.project / "app.env").symlink_to(".env")
    commit_all(world.project)
    run = world.run(revision=None, prod_files=["app.env"])
    assert run.facts.tree().changed == (".env",)
    push(world, prod_files=["app.env"])
    assert world.registry.tags(PROD) == [f"{head(world.project)}-dirty"]


def test_a_committed_link_to_an_untracked_file_is_dirty(world: World) -> None:
    (world.project / "data").mkdir()
    (world.project / "data" / "link.txt").symlink_to("../_local/real.txt")
    commit_all(world.project)
    (world.project / "_local").mkdir()  # a folder the digest skips, so only the link leads here
    (world.project / "_local" / "real.txt").write_text("local\n")
    assert world.run(revision=None).facts.tree().changed == ("_local/real.txt",)


def test_a_link_out_of_the_repository_is_dirty(world: World, tmp_path: Path) -> None:
    (tmp_path / "elsewhere.txt").write_text("in no commit\n")
    (world.project / "outside.txt").symlink_to(tmp_path / "elsewhere.txt")
    commit_all(world.project)
    assert world.run(revision=None).facts.tree().changed == ("outside.txt",)


def test_dlc_revision_names_the_tag_and_the_git_check_still_runs(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reproduction 4: pipelines set the revision from $GITHUB_SHA; an untracked .go file
    still makes the tree dirty, and under CI an error."""
    (world.project / "extra.go").write_text("package main\n")
    push(world, revision=REV)
    assert world.registry.tags(PROD) == [f"{REV}-dirty"]
    monkeypatch.setenv("CI", "true")
    with pytest.raises(DirtyTree, match=r"extra\.go"):
        push(world, revision=REV)


def test_dlc_revision_on_a_clean_tree_tags_the_release(world: World) -> None:
    push(world, revision=REV)
    assert world.registry.tags(PROD) == sorted(["1.2.3", REV, "latest"])


def test_outside_git_dlc_revision_is_required(tmp_path: Path) -> None:
    world = World(make_project(tmp_path / "plain"))
    with pytest.raises(NoRepository, match="is not in a git repository") as raised:
        world.run(revision=None).facts.revision()
    assert "set dlc.revision" in raised.value.one_line()
    assert "no dirty check is possible" in raised.value.one_line()
    push(world, revision=REV)
    assert world.registry.tags(PROD) == sorted(["1.2.3", REV, "latest"])


def test_a_repository_with_no_commit_is_one_line_not_gits_usage(tmp_path: Path) -> None:
    """Reproduction 11: ``git rev-parse HEAD`` prints a usage text after its error."""
    project = make_project(tmp_path / "new")
    subprocess.run(["git", "init", "-q"], cwd=project, check=True)
    with pytest.raises(NoCommit) as raised:
        World(project).run(revision=None).facts.revision()
    line = raised.value.one_line()
    assert line.startswith(f"the git repository at {project} has no commit yet")
    assert "usage" not in line and "--" not in line.split("(")[0]
    assert isinstance(raised.value, DlcError)
