"""git, as the tool asks it: the commit checked out, and whether the tree has changes it lacks.

Argument lists through plumbum, never a shell; ``-z`` output, so no file name can be
misread.
"""

from __future__ import annotations

import subprocess
from collections.abc import Collection, Iterable
from pathlib import Path

from dlc_tasks.errors import ToolError
from dlc_tasks.model.refs import check_tag


def _git(cwd: Path, *args: str, stdin: str | None = None) -> str:
    from plumbum import local  # noqa: PLC0415
    from plumbum.commands.processes import ProcessExecutionError  # noqa: PLC0415

    try:
        with local.cwd(str(cwd)):
            if stdin is None:
                return str(local["git"](*args))
            # git check-ignore exits 1 when no path is ignored
            _, out, _ = (local["git"][args] << stdin).run(retcode=(0, 1))
            return str(out)
    except (ProcessExecutionError, subprocess.SubprocessError, OSError) as err:
        last = (str(err).strip().splitlines() or ["git failed"])[-1]
        raise ToolError(
            f"cannot read the git state of {cwd}: {last}",
            hint="run inside a git repository with a commit, or set dlc.revision",
        ) from None


def head(cwd: Path) -> str:
    """The commit checked out in ``cwd``."""
    return check_tag(_git(cwd, "rev-parse", "HEAD").strip())


def uncommitted(
    cwd: Path, covered: Iterable[Path], generated: Collection[str] = frozenset()
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
    top = Path(_git(cwd, "rev-parse", "--show-toplevel").strip())
    status = _git(cwd, "status", "--porcelain=v1", "-z", "--untracked-files=all", "--", ".")
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
    ignored = {name for name in _ignored(cwd, covered) if name not in generated}
    return sorted({*found, *ignored})


def _ignored(cwd: Path, covered: list[Path]) -> list[str]:
    """The ``covered`` paths git ignores (never a tracked file), relative to ``cwd``."""
    if not covered:
        return []
    names = [
        (path.relative_to(cwd) if path.is_relative_to(cwd) else path).as_posix() for path in covered
    ]
    out = _git(cwd, "check-ignore", "-z", "--stdin", stdin="\0".join(names) + "\0")
    return [name for name in out.split("\0") if name]
