"""Remote-engine copy-back loses nothing and writes nowhere else (issue 11, item 1)."""

from __future__ import annotations

import io
import os
import shutil
import stat
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import pytest

from dlc_tasks.clients import workspace
from dlc_tasks.clients.workspace import CopyBackRefused, copy_in, copy_out


class Container:
    """put_archive/get_archive over a folder standing for the container's /workspace."""

    def __init__(self, root: Path) -> None:
        self.root = root / "container"
        self.root.mkdir()
        self.received: Any = None
        self.fail_after: int | None = None

    def put_archive(self, _cid: str, _path: str, data: IO[bytes] | bytes) -> None:
        self.received = data
        assert not isinstance(data, bytes | bytearray), "the tar must be streamed"
        with tarfile.open(fileobj=data, mode="r|") as tar:
            tar.extractall(self.root, filter="tar")

    def get_archive(self, _cid: str, _path: str) -> tuple[Iterator[bytes], dict[str, Any]]:
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w") as tar:
            tar.add(str(self.root), arcname="workspace")
        data = buffer.getvalue()

        def chunks() -> Iterator[bytes]:
            for n, start in enumerate(range(0, len(data), 512)):
                if self.fail_after is not None and n >= self.fail_after:
                    raise ConnectionError("the engine went away")
                yield data[start : start + 512]

        return chunks(), {}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    (root / "main.go").write_text("package main\n")
    (root / "api.go").write_text("package main // v1\n")
    return root


def send(project: Path, tmp_path: Path) -> tuple[Container, dict[str, str]]:
    box = Container(tmp_path)
    return box, copy_in(box, "c", project, "/workspace")


def test_a_file_edited_here_while_the_steps_ran_is_kept_and_named(
    project: Path, tmp_path: Path
) -> None:
    box, sent = send(project, tmp_path)
    (box.root / "api.go").write_text("package main // regenerated from v1\n")
    (box.root / "new_gen.go").write_text("package main // generated\n")
    (project / "api.go").write_text("package main // my edit\n")
    with pytest.raises(CopyBackRefused, match=r"api\.go") as caught:
        copy_out(box, "c", project, "/workspace", sent)
    assert "\n" not in caught.value.one_line()
    assert (project / "api.go").read_text() == "package main // my edit\n"
    assert not (project / "new_gen.go").exists()  # all or nothing


def test_a_file_the_steps_did_not_touch_keeps_the_edit_made_here(
    project: Path, tmp_path: Path
) -> None:
    box, sent = send(project, tmp_path)
    (project / "main.go").write_text("package main // edited\n")
    (box.root / "gen.go").write_text("package main\n")
    assert copy_out(box, "c", project, "/workspace", sent) == ["gen.go"]
    assert (project / "main.go").read_text() == "package main // edited\n"


def test_a_symlinked_directory_never_carries_files_out_of_the_project(
    project: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (project / "gen").symlink_to(Path("..") / "outside")
    box, sent = send(project, tmp_path)
    (box.root / "gen").mkdir()  # the link was not sent: the generator made a real folder
    (box.root / "gen" / "x.go").write_text("package gen\n")
    with pytest.raises(CopyBackRefused, match="outside project_dir"):
        copy_out(box, "c", project, "/workspace", sent)
    assert list(outside.iterdir()) == []


def test_modes_are_normalised(project: Path, tmp_path: Path) -> None:
    box, sent = send(project, tmp_path)
    (box.root / "data.txt").write_text("x\n")
    os.chmod(box.root / "data.txt", 0o666)  # noqa: S103 - what a container leaves
    (box.root / "tool").write_text("#!/bin/sh\n")
    os.chmod(box.root / "tool", 0o777)  # noqa: S103 - what a container leaves
    copy_out(box, "c", project, "/workspace", sent)
    assert stat.S_IMODE((project / "data.txt").stat().st_mode) == 0o644
    assert stat.S_IMODE((project / "tool").stat().st_mode) == 0o755


def test_an_interrupted_copy_back_changes_nothing_and_leaves_nothing(
    project: Path, tmp_path: Path
) -> None:
    box, sent = send(project, tmp_path)
    (box.root / "api.go").write_text("package main // v2\n")
    (box.root / "big.bin").write_bytes(os.urandom(64 * 1024))
    box.fail_after = 40
    with pytest.raises(ConnectionError):
        copy_out(box, "c", project, "/workspace", sent)
    assert (project / "api.go").read_text() == "package main // v1\n"
    assert not (project / "big.bin").exists()
    leftovers = [p for p in project.rglob("*") if "copy-back-" in p.name or "dlc-tmp" in p.name]
    assert leftovers == []


def test_leftovers_of_a_killed_copy_back_are_cleaned_on_the_next_run(
    project: Path, tmp_path: Path
) -> None:
    (project / ".dlc" / "copy-back-killed").mkdir(parents=True)
    (project / ".dlc" / "copy-back-killed" / "0").write_text("half")
    (project / ".api.go.dlc-tmp").write_text("half")  # what the previous version left
    box, sent = send(project, tmp_path)
    (box.root / "gen.go").write_text("package main\n")
    assert copy_out(box, "c", project, "/workspace", sent) == ["gen.go"]
    assert not (project / ".dlc" / "copy-back-killed").exists()
    assert not (project / ".api.go.dlc-tmp").exists()


def test_copy_in_streams_a_spooled_file_not_bytes(project: Path, tmp_path: Path) -> None:
    (project / "large.bin").write_bytes(b"\0" * (workspace.SPOOL + 1))
    box, sent = send(project, tmp_path)
    assert hasattr(box.received, "read")
    assert set(sent) == {"api.go", "main.go", "large.bin"}
    assert (box.root / "large.bin").stat().st_size == workspace.SPOOL + 1
    shutil.rmtree(box.root)


def an_earlier_binary_then_a_new_one(
    project: Path, tmp_path: Path
) -> tuple[Path, Container, dict[str, str]]:
    """An earlier run's binary here, the tree sent with it as owned, a new one built there."""
    binary = project / ".dlc" / "bin" / "app"
    binary.parent.mkdir(parents=True)
    binary.write_bytes(b"the first run's binary")
    box = Container(tmp_path)
    sent = copy_in(box, "c", project, "/workspace", owned=[binary])
    (box.root / ".dlc" / "bin").mkdir(parents=True)
    (box.root / ".dlc" / "bin" / "app").write_bytes(b"this run's binary")
    return binary, box, sent


def test_outputs_the_tool_owns_come_back_over_an_earlier_runs_copy(
    project: Path, tmp_path: Path
) -> None:
    """The binary lives in ``.dlc/`` (never sent); a copy an earlier run left is not an edit."""
    binary, box, sent = an_earlier_binary_then_a_new_one(project, tmp_path)
    assert copy_out(box, "c", project, "/workspace", sent) == [".dlc/bin/app"]
    assert binary.read_bytes() == b"this run's binary"


def test_an_owned_output_replaced_here_during_the_run_is_kept(
    project: Path, tmp_path: Path
) -> None:
    """The rule is the same for the tool's own outputs: what is here now must be what was
    here when the run started (another local run may have rebuilt it meanwhile)."""
    binary, box, sent = an_earlier_binary_then_a_new_one(project, tmp_path)
    binary.write_bytes(b"rebuilt here meanwhile")
    with pytest.raises(CopyBackRefused, match=r"\.dlc/bin/app"):
        copy_out(box, "c", project, "/workspace", sent)
    assert binary.read_bytes() == b"rebuilt here meanwhile"


def test_another_runs_live_copy_back_is_not_cleaned_up(project: Path, tmp_path: Path) -> None:
    """A second ``inv`` in this checkout starts (and cleans leftovers) mid copy-back."""
    box, sent = send(project, tmp_path)
    (box.root / "api.go").write_text("package main // v2\n")
    (box.root / "gen.go").write_text("package main\n")
    chunks, _ = box.get_archive("c", "/workspace")

    def with_a_second_run_starting() -> Iterator[bytes]:
        for n, chunk in enumerate(chunks):
            if n == 2:
                workspace.clean_leftovers(project)
                assert len(list((project / ".dlc").glob("copy-back-*"))) == 1  # still there
            yield chunk

    assert sorted(workspace.bring_back(with_a_second_run_starting(), project, sent)) == [
        "api.go",
        "gen.go",
    ]
    assert (project / "api.go").read_text() == "package main // v2\n"
    assert not list((project / ".dlc").glob("copy-back-*"))


def test_a_file_here_where_the_container_made_a_folder_is_refused_before_any_rename(
    project: Path, tmp_path: Path
) -> None:
    (project / "gen").write_text("a file here\n")
    box, sent = send(project, tmp_path)
    (box.root / "api.go").write_text("package main // v2\n")
    (box.root / "gen").unlink()
    (box.root / "gen").mkdir()
    (box.root / "gen" / "x.go").write_text("package gen\n")
    with pytest.raises(CopyBackRefused, match=r"gen") as caught:
        copy_out(box, "c", project, "/workspace", sent)
    assert "\n" not in caught.value.one_line()
    assert (project / "api.go").read_text() == "package main // v1\n"  # nothing renamed
    assert (project / "gen").read_text() == "a file here\n"
    assert not list((project / ".dlc").glob("copy-back-*"))


def test_a_folder_here_where_the_container_made_a_file_is_refused(
    project: Path, tmp_path: Path
) -> None:
    (project / "out").mkdir()
    (project / "out" / "keep.txt").write_text("mine\n")
    box, sent = send(project, tmp_path)
    shutil.rmtree(box.root / "out")
    (box.root / "out").write_text("a file in the container\n")
    with pytest.raises(CopyBackRefused, match=r"out is a folder here"):
        copy_out(box, "c", project, "/workspace", sent)
    assert (project / "out" / "keep.txt").read_text() == "mine\n"


def test_a_rename_that_fails_midway_rolls_back_what_was_renamed(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    box, sent = send(project, tmp_path)
    (box.root / "api.go").write_text("package main // v2\n")
    (box.root / "main.go").write_text("package main // v2\n")
    (box.root / "new").mkdir()
    (box.root / "new" / "gen.go").write_text("package new\n")
    real_replace = os.replace
    installed: list[str] = []

    def replace(src: Any, dst: Any) -> None:
        # the third file going into place fails (a full disk); later calls are the rollback's
        if len(installed) < 3 and ".dlc" not in Path(dst).parts:
            installed.append(Path(dst).name)
            if len(installed) == 3:
                raise OSError(28, "No space left on device", str(dst))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(CopyBackRefused, match="No space left on device") as caught:
        copy_out(box, "c", project, "/workspace", sent)
    monkeypatch.undo()
    assert len(installed) == 3  # two renamed, the third failed
    assert "\n" not in caught.value.one_line()
    assert (project / "api.go").read_text() == "package main // v1\n"
    assert (project / "main.go").read_text() == "package main\n"
    assert not (project / "new").exists()  # the folder made for it is gone too
    assert not list((project / ".dlc").glob("copy-back-*"))
