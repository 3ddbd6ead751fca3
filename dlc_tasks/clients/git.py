"""git, as the tool asks it: the commit checked out, and whether the tree has changes it lacks.

Argument lists, never a shell; ``-z`` output and file names as bytes, so no file name can be
misread, whatever its encoding. Every call has a hard deadline (``dlc.timeouts.git``): a git
waiting on a lock, a hook or a network file system ends in one line.

The dirty check (:func:`uncommitted`) judges exactly the files the build reads:

* a ``git status`` entry counts when it names one of them or a folder holding one (an
  untracked folder, an untracked nested repository ``?? web/theme/``, a submodule);
* one of them that git ignores counts too (Go does not read ``.gitignore``);
* a symlink is judged with what it resolves to: a committed link to an ignored or
  untracked file is dirty, and so is a link out of the repository;
* a submodule's files are files of the tree: the submodule is clean when its checked-out
  commit is the one the superproject records and it has none of these changes itself
  (checked inside it, recursively; ``git check-ignore`` is asked by the repository that
  owns each path, never the superproject for a submodule's path).
"""

from __future__ import annotations

import os
from collections.abc import Collection, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

from dlc_tasks.clients.bounded import run
from dlc_tasks.errors import NoCommit, ToolError
from dlc_tasks.model.refs import check_tag

GITLINK = "160000"  # the index mode of a submodule
MAX_LINKS = 40  # symlink hops followed, as the kernel's limit
GIT_DEADLINE = 60.0  # seconds, dlc.timeouts.git's default

_deadline: ContextVar[float] = ContextVar("git_deadline", default=GIT_DEADLINE)


@contextmanager
def _within(deadline: float) -> Iterator[None]:
    """Every git call made inside has ``deadline`` seconds (each call, not the sum)."""
    token = _deadline.set(deadline)
    try:
        yield
    finally:
        _deadline.reset(token)


def _run(cwd: Path, *args: str, stdin: bytes | None = None) -> tuple[int, bytes, bytes]:
    """``git ARGS`` in ``cwd``: (exit code, stdout, stderr) as bytes, within the deadline of
    the public call under way; a git that cannot be started is one line."""
    try:
        done = run(
            ["git", *args],
            what=f"git {args[0] if args[0] != '--literal-pathspecs' else args[1]} in {cwd}",
            deadline=_deadline.get(),
            setting="git",
            stdin=stdin or b"",
            cwd=cwd,
        )
    except OSError as err:
        raise ToolError(
            f"cannot run git in {cwd}: {err.strerror or err}", hint="install git (./dev does)"
        ) from err
    return done.code, done.out, done.err


def _git(cwd: Path, *args: str, stdin: bytes | None = None, codes: Collection[int] = (0,)) -> bytes:
    """``git ARGS``'s output; an exit code outside ``codes`` is one line with git's last line."""
    code, out, err = _run(cwd, *args, stdin=stdin)
    if code not in codes:
        raise ToolError(
            f"cannot read the git state of {cwd}: {_last_line(err) or f'git exited {code}'}",
            hint="run inside a git repository with a commit, or set dlc.revision",
        )
    return out


def _last_line(err: bytes) -> str:
    """git's message: its last line that is not usage text (``usage: …``, ``   or: …``)."""
    lines = [line.strip() for line in os.fsdecode(err).splitlines() if line.strip()]
    meant = [line for line in lines if line.startswith(("fatal:", "error:"))]
    return (meant or lines or [""])[-1]


def toplevel(cwd: Path, *, deadline: float = GIT_DEADLINE) -> Path | None:
    """The root of the git work tree holding ``cwd``, or None when ``cwd`` is in none."""
    with _within(deadline):
        code, out, err = _run(cwd, "rev-parse", "--show-toplevel")
    if code == 0:
        return Path(os.fsdecode(out.rstrip(b"\n")))
    if b"not a git repository" in err:
        return None
    raise ToolError(
        f"cannot read the git state of {cwd}: {_last_line(err) or f'git exited {code}'}",
        hint="fix the repository (git status says how), or run outside one with dlc.revision",
    )


def head(cwd: Path, *, deadline: float = GIT_DEADLINE) -> str:
    """The commit checked out in ``cwd``; one line when the repository has none yet."""
    with _within(deadline):
        out = _git(cwd, "rev-parse", "--verify", "--quiet", "HEAD^{commit}", codes=(0, 1))
    sha = os.fsdecode(out).strip()
    if not sha:
        raise NoCommit(f"the git repository at {cwd} has no commit yet")
    return check_tag(sha)


def commit_time(cwd: Path, *, deadline: float = GIT_DEADLINE) -> int:
    """The committer time of ``HEAD`` (seconds since the epoch): an image's every time."""
    with _within(deadline):
        out = _git(cwd, "log", "-1", "--format=%ct", "HEAD")
    return int(os.fsdecode(out).strip() or 0)


def uncommitted(
    cwd: Path,
    covered: Iterable[Path],
    generated: Collection[str] = frozenset(),
    *,
    deadline: float = GIT_DEADLINE,
) -> list[str]:
    """Paths (relative to ``cwd``) whose content differs from HEAD and that the build reads.

    ``covered`` are the files the build reads (the source digest's and the configured
    inputs): see the module docstring for what counts. ``generated`` (paths relative to
    ``cwd``) are what ``generate`` wrote from this tree and still holds: the commit and the
    generators make them again, so git ignoring one of them keeps the tree clean. Commit
    other generated files (the Go convention), or keep local files out of the module or in
    a folder whose name starts with ``.`` or ``_``.
    """
    top = toplevel(cwd, deadline=deadline)
    if top is None:
        raise ToolError(f"{cwd} is not in a git repository", hint="set dlc.revision")
    base = _real(cwd)
    excused = {base / name for name in generated}
    files, outside = _with_link_targets(covered, top)
    with _within(deadline):
        found = {*outside, *_changes(top, base, files, excused)}
    return sorted(_shown(path, base, top) for path in found)


def _real(path: Path) -> Path:
    """``path`` with its folders' symlinks resolved, its own name kept (a link stays a link)."""
    return Path(os.path.realpath(path.parent)) / path.name


def _with_link_targets(covered: Iterable[Path], top: Path) -> tuple[list[Path], list[Path]]:
    """The covered files and every file their links lead to (each hop of a chain); and the
    links that lead out of the repository (their content is in no commit of it)."""
    files: dict[Path, None] = {}
    outside: list[Path] = []
    for path in covered:
        current = _real(path)
        files[current] = None
        for _ in range(MAX_LINKS):
            if not current.is_symlink():
                break
            current = _real(current.parent / os.readlink(current))
            if not current.is_relative_to(top):
                outside.append(_real(path))
                break
            files[current] = None
    return list(files), outside


def _changes(root: Path, scope: Path, files: list[Path], excused: set[Path]) -> set[Path]:
    """The changes of repository ``root`` (below ``scope``) that touch ``files``, its
    submodules' included."""
    # the scope, and the files outside it that links lead to, as literal pathspecs
    spec = [scope.relative_to(root).as_posix() if scope != root else "."]
    spec += [f.relative_to(root).as_posix() for f in files if not f.is_relative_to(scope)]
    links = _gitlinks(root, spec)
    inside = {link: [f for f in files if f.is_relative_to(link)] for link in links}
    own = [f for f in files if not any(f.is_relative_to(link) for link in links)]
    found = _status(root, spec, files, skip=set(links))
    found |= {path for path in _ignored(root, own) if path not in excused}
    for link, recorded in links.items():
        if not inside[link]:
            continue  # not checked out, or nothing of it is read: the build sees none of it
        if not (link / ".git").exists() or _head_or_none(link) != recorded:
            found.add(link)  # another commit checked out than the one recorded
            continue
        found |= _changes(link, link, inside[link], excused)
    return found


def _gitlinks(root: Path, spec: list[str]) -> dict[Path, str]:
    """The submodules of ``root`` within ``spec``: their folder and recorded commit."""
    out = _git(root, "--literal-pathspecs", "ls-files", "--stage", "-z", "--", *spec)
    links: dict[Path, str] = {}
    for entry in out.split(b"\0"):
        meta, _, name = entry.partition(b"\t")
        fields = meta.split()
        if len(fields) == 3 and fields[0] == GITLINK.encode():
            links[root / os.fsdecode(name)] = fields[1].decode()
    return links


def _head_or_none(repo: Path) -> str | None:
    code, out, _ = _run(repo, "rev-parse", "--verify", "--quiet", "HEAD^{commit}")
    return os.fsdecode(out).strip() if code == 0 else None


def _status(root: Path, spec: list[str], files: list[Path], skip: set[Path]) -> set[Path]:
    """Status entries of ``root`` that name one of ``files`` or a folder holding one, and
    every deletion; submodule entries (``skip``) are judged inside the submodule instead,
    unless the submodule was deleted."""
    out = _git(
        root,
        "--literal-pathspecs",
        "status",
        "--porcelain=v1",
        "-z",
        "--untracked-files=all",
        "--ignore-submodules=none",
        "--",
        *spec,
    )
    wanted = set(files)
    folders = {parent for f in files for parent in f.parents if parent.is_relative_to(root)}
    entries = out.split(b"\0")
    found: set[Path] = set()
    index = 0
    while index < len(entries):
        entry = entries[index]
        index += 1
        if len(entry) < 4:
            continue
        code, name = entry[:2].decode(errors="replace"), os.fsdecode(entry[3:])
        if "R" in code or "C" in code:
            index += 1  # the rename's source path follows
        path = root / name.rstrip("/")
        if path in skip and "D" not in code:
            continue
        if "D" in code or path in wanted or path in folders:
            found.add(path)
    return found


def _ignored(root: Path, files: list[Path]) -> list[Path]:
    """The ``files`` (all in ``root``'s own tree) that git ignores (never a tracked file)."""
    names = [f.relative_to(root) for f in files if f.is_relative_to(root)]
    if not names:
        return []
    stdin = b"".join(os.fsencode(name) + b"\0" for name in names)
    out = _git(root, "check-ignore", "-z", "--stdin", stdin=stdin, codes=(0, 1))
    return [root / os.fsdecode(name) for name in out.split(b"\0") if name]


def _shown(path: Path, base: Path, top: Path) -> str:
    """``path`` relative to the project, else to the repository's root."""
    for root in (base, top):
        if path.is_relative_to(root):
            return path.relative_to(root).as_posix()
    return path.as_posix()
