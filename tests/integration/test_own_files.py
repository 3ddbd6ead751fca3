"""The tool's own files with real ``inv`` runs: a ``.dlc`` that is a link or read-only, and
ignored files the build reads (issue 11, items 3, 6 and 7)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.conftest import Registry, commit, git_sha, inv, ok

pytestmark = pytest.mark.integration


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in result.stdout + result.stderr, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("dlc: "), result.stderr
    return lines[0]


def test_a_state_folder_that_links_out_of_the_project_is_refused(
    service: Path, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (service / ".dlc").symlink_to(elsewhere)
    result = inv("hash", project=service, registry=None)
    assert result.returncode == 2
    line = one_error_line(result)
    assert ".dlc is a symlink" in line and "rm .dlc" in line
    assert list(elsewhere.iterdir()) == []  # no state, report or history landed there
    assert not (service / "deps_hash.env").exists()  # refused before any step


@pytest.fixture
def read_only_state(service: Path) -> Iterator[Path]:
    """``.dlc`` as a read-only bind mount (root is not stopped by modes, a mount is)."""
    state = service / ".dlc"
    state.mkdir()
    subprocess.run(["mount", "--bind", str(state), str(state)], check=True)
    try:
        subprocess.run(["mount", "-o", "remount,bind,ro", str(state)], check=True)
        yield state
    finally:
        subprocess.run(["umount", str(state)], check=True)


def test_a_read_only_state_folder_is_one_line_naming_it(
    service: Path, registry: Registry, read_only_state: Path
) -> None:
    """That was a raw OSError traceback. The first write under ``.dlc`` is the build log of
    the cache step's build, made as the build starts: the run stops there, before building
    or pushing anything, in one line naming the file."""
    result = inv("cache", project=service, registry=registry.address)
    assert result.returncode == 1, result.stdout + result.stderr
    line = one_error_line(result)
    assert f"cannot create {read_only_state}/logs/" in line, line
    assert ": Read-only file system" in line, line
    assert "writable checkout" in line
    assert "dlc: also: " in result.stdout  # the report could not be written either, and says so
    assert list(read_only_state.iterdir()) == []


def test_an_ignored_file_the_build_reads_means_sha_dirty_tags(
    service: Path, registry: Registry
) -> None:
    ignored = ["deps_hash.env", "coverage.out", "docker/Dockerfile.prod", "pkg/server/local.txt"]
    (service / ".gitignore").write_text("\n".join(ignored) + "\n")
    commit(service, "ignore a local file")
    sha = git_sha(service)
    clean = ok(inv("push", "--dry-run", project=service, registry=registry.address))
    assert f"dance-lessons-coach:{sha}\n" in clean and ":latest" in clean  # release tags
    (service / "pkg" / "server" / "local.txt").write_text("go:embed could read this\n")
    dirty = ok(inv("push", "--dry-run", project=service, registry=registry.address))
    assert f"dance-lessons-coach:{sha}-dirty" in dirty
    assert ":latest" not in dirty and ":1.0.0" not in dirty
    result = inv("push", "--dry-run", project=service, registry=registry.address, env={"CI": "1"})
    assert result.returncode == 1
    assert "uncommitted changes under CI: pkg/server/local.txt" in one_error_line(result)
