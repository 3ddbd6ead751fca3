"""git, as the tool asks it: the commit checked out, and whether the tree has changes it lacks.

Argument lists, never a shell; ``-z`` output, so no file name can be misread. File names
go to git and come back as bytes (``os.fsencode``/``os.fsdecode``): a name that is not
UTF-8 is a name like any other. Every call has a hard deadline (``dlc.timeouts.git``): a
git waiting on a lock, a hook or a network file system ends in one line.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Iterable
from pathlib import Path

from dlc_tasks.clients.bounded import run
from dlc_tasks.errors import ToolError
from dlc_tasks.model.refs import check_tag

GIT_DEADLINE = 60.0


def _git(cwd: Path, *args: str, stdin: bytes | None = None, deadline: float = GIT_DEADLINE) -> str:
    """git's output (file names decoded with ``os.fsdecode``: undecodable bytes kept as
    surrogates, which ``os.fsencode`` turns back into the same bytes)."""
    try:
        done = run(
            ["git", *args],
            what=f"git {args[0]} in {cwd}",
            deadline=deadline,
            setting="git",
            stdin=stdin or b"",
            cwd=cwd,
        )
    except OSError as err:
        raise ToolError(
            f"cannot run git in {cwd}: {err.strerror or err}",
            hint="install git (./dev does), or set dlc.revision",
        ) from err
    # git check-ignore exits 1 when no path is ignored
    if done.code != 0 and not (stdin is not None and done.code == 1):
        text = done.err.decode("utf-8", "replace").strip() or f"git exited {done.code}"
        raise ToolError(
            f"cannot read the git state of {cwd}: {text.splitlines()[-1]}",
            hint="run inside a git repository with a commit, or set dlc.revision",
        )
    return os.fsdecode(done.out)


def head(cwd: Path, *, deadline: float = GIT_DEADLINE) -> str:
    """The commit checked out in ``cwd``."""
    return check_tag(_git(cwd, "rev-parse", "HEAD", deadline=deadline).strip())


def uncommitted(
    cwd: Path,
    covered: Iterable[Path],
    generated: Collection[str] = frozenset(),
    *,
    deadline: float = GIT_DEADLINE,
) -> list[str]:
    """Paths (relative to ``cwd``) whose content differs from HEAD and that the build reads.

    A change counts when git reports it (modified, added, untracked, deleted, renamed) and
    the path is one of ``covered`` (the files the source digest covers), or was deleted:
    a new untracked README in a dot-folder does not make the tree dirty, an untracked
    ``.go`` file does. A covered file that git ignores counts too: Go does not read
    ``.gitignore``, so the binary may hold it (``go:embed``) and no commit does, unless it
    is one of ``generated`` (relative paths): what ``generate`` wrote from this tree, which
    the commit and the generators make again. Commit other generated files (the Go
    convention), or keep local files out of the module or in a folder whose name starts
    with ``.`` or ``_``.
    """
    top = Path(_git(cwd, "rev-parse", "--show-toplevel", deadline=deadline).strip())
    status = _git(
        cwd,
        "status",
        "--porcelain=v1",
        "-z",
        "--untracked-files=all",
        "--",
        ".",
        deadline=deadline,
    )
    covered = list(covered)
    wanted = {path.resolve() for path in covered}
    entries = status.split("\0")
    found: list[str] = []
    index = 0
    while index < len(entries):
        entry = entries[index]
        index += 1
        if len(entry) < 4:
            continue
        code, name = entry[:2], entry[3:]
        if "R" in code or "C" in code:
            index += 1  # the rename's source path follows
        path = (top / name).resolve()
        if "D" in code or path in wanted:
            try:
                found.append(path.relative_to(cwd.resolve()).as_posix())
            except ValueError:
                found.append(name)
    ignored = {name for name in _ignored(cwd, covered, deadline) if name not in generated}
    return sorted({*found, *ignored})


def _ignored(cwd: Path, covered: list[Path], deadline: float) -> list[str]:
    """The ``covered`` paths git ignores (never a tracked file), relative to ``cwd``."""
    if not covered:
        return []
    names = [
        (path.relative_to(cwd) if path.is_relative_to(cwd) else path).as_posix() for path in covered
    ]
    listing = b"".join(os.fsencode(name) + b"\0" for name in names)
    out = _git(cwd, "check-ignore", "-z", "--stdin", stdin=listing, deadline=deadline)
    return [name for name in out.split("\0") if name]
