"""The files ``generate``'s generators read: its up-to-date key covers these, not the tree.

``generate`` used to rerun whenever any file of the module changed. Its generators read far
less: ``go generate`` runs each ``//go:generate`` directive in its package's directory, and a
directive reads that directory (``stringer`` parses the package, a generator its templates),
the files its arguments name, and, for ``go run`` or ``go tool`` of the module's own code, that
program's package and the module's packages it imports. So the inputs are:

* observed, for steps that are ``go generate …`` (every directive of the module's packages,
  whatever ``-run``/``-skip`` or patterns say: more inputs, never fewer) and ``go run`` of a
  local package: the directive packages' files (each directory's, not its subdirectories'),
  every existing file or directory a directive's word names relative to its directory, and the
  local generator packages with their module-local imports, followed transitively;
* ``go.mod``, ``go.sum`` and ``vendor/modules.txt`` (the generators' dependencies; the cache
  image's digest, in the key too, covers the toolchain);
* declared: ``dlc.generate_inputs``, glob patterns relative to the module (``**`` recurses),
  for what a generator reads that the rules above cannot see (a file it opens by a name built
  at run time, a package its generator imports from outside the module's own code);
* the files the last run wrote (its stamp's outputs): a generated file edited by hand reruns
  the generators, which write it back.

A step that is neither (``sh -c …`` is refused by ``dlc init``, but ``dlc.generate`` may say
anything) makes the inputs the whole source tree, as before, unless ``dlc.generate_inputs``
declares them. ``go generate`` with no directive anywhere has nothing to run: no container.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from dlc_tasks._files import file_sha256
from dlc_tasks.errors import DlcError
from dlc_tasks.project import gomod, layout
from dlc_tasks.project.directives import Directive, go_run_target, read_directives

# go.mod's neighbours every generator's build reads
_MODULE_FILES = ("go.mod", "go.sum", "vendor/modules.txt")
_IMPORT_BLOCK = re.compile(r"^import\s*\((.*?)\)", re.MULTILINE | re.DOTALL)
_IMPORT_LINE = re.compile(r'^import\s+(?:[A-Za-z_.][A-Za-z0-9_]*\s+)?"([^"]+)"', re.MULTILINE)
_QUOTED_PATH = re.compile(r'"([^"]+)"')


@dataclass(frozen=True)
class GenerateInputs:
    """What ``generate`` reads: ``files`` relative to the module (``None``: the whole source
    tree), the directives found, and whether there is anything to run at all."""

    files: tuple[str, ...] | None
    directives: tuple[Directive, ...] = ()
    nothing_to_run: bool = False

    def digest(self, root: Path) -> str:
        """sha256 over each input's relative path, executable bit and content; a missing
        input counts as missing (so its appearing changes the digest)."""
        outer = hashlib.sha256()
        for rel in self.files or ():
            path = root / rel
            try:
                content = file_sha256(path)
                executable = os.access(path, os.X_OK)
            except OSError:
                content, executable = "missing", False
            outer.update(f"{rel}\0{int(executable)}\0{content}\n".encode())
        return outer.hexdigest()


def observe(
    project_dir: Path,
    steps: list[list[str]],
    declared: list[str],
    previous_outputs: Iterable[str] = (),
    exclude: Iterable[Path] = (),
) -> GenerateInputs:
    """The inputs of ``steps`` in ``project_dir`` (see the module's docstring)."""
    root = project_dir.resolve()
    module = _module_path(root)
    files: set[str] = set()
    directives: tuple[Directive, ...] = ()
    packages: set[Path] = set()  # local generator packages, imports to follow
    unknown = False
    only_go_generate = True
    for step in steps:
        if step[:2] == ["go", "generate"]:
            if not directives:
                directives = tuple(read_directives(root))
            continue
        only_go_generate = False
        target = _go_run_target(step)
        if target is not None and target.startswith("."):
            packages |= _local_packages(root, module, root, target)
        else:
            unknown = True
    if only_go_generate and not directives:
        return GenerateInputs((), (), nothing_to_run=True)
    if unknown and not declared:
        return GenerateInputs(None, directives)
    for directive in directives:
        here = root / Path(directive.file).parent
        files |= _files_of(root, here)
        files |= _named_by(root, here, directive.words[1:])
        packages |= _generator_packages(root, module, here, directive.words)
    files |= _package_closure(root, module, packages)
    files |= {name for name in _MODULE_FILES if (root / name).is_file()}
    files |= _globbed(root, declared)
    files |= set(previous_outputs)
    skip = {p.resolve() for p in exclude}
    kept = tuple(sorted(f for f in files if (root / f).resolve() not in skip))
    return GenerateInputs(kept, directives)


def nothing_to_run(project_dir: Path, steps: list[list[str]]) -> bool:
    """True when every step is ``go generate`` and the module has no directive to run."""
    if not all(step[:2] == ["go", "generate"] for step in steps):
        return False
    return not any(read_directives(project_dir.resolve()))


def _go_run_target(argv: list[str]) -> str | None:
    """``go run [flags] TARGET …``: the target, else None."""
    return go_run_target(tuple(argv[2:])) if argv[:2] == ["go", "run"] else None


def _generator_packages(root: Path, module: str, here: Path, words: tuple[str, ...]) -> set[Path]:
    """The module's own packages a directive builds: ``go run ./x`` (or a module import path,
    or a ``.go`` file), ``go tool NAME`` of a ``tool`` of the module itself."""
    if words[:2] == ("go", "run"):
        target = _go_run_target(list(words))
        if target is not None:
            return _local_packages(root, module, here, target)
    if words[:2] == ("go", "tool") and len(words) > 2 and module:
        for tool in gomod.read(root).tools:
            if words[2] in (tool, tool.rsplit("/", 1)[-1]):
                return _local_packages(root, module, here, tool)
    return set()


def _local_packages(root: Path, module: str, here: Path, target: str) -> set[Path]:
    """The directory of ``target`` when it is the module's own code, else nothing."""
    if target.startswith("."):
        path = (here / target).resolve()
    elif module and (target == module or target.startswith(module + "/")):
        path = (root / target[len(module) :].lstrip("/")).resolve()
    else:
        return set()  # std or another module's: go.mod, go.sum and the cache image cover it
    if path.suffix == ".go":
        path = path.parent
    return {path} if path.is_dir() and path.is_relative_to(root) else set()


def _package_closure(root: Path, module: str, start: set[Path]) -> set[str]:
    """The files of ``start``'s packages and of every module package they import."""
    seen: set[Path] = set()
    todo = list(start)
    files: set[str] = set()
    while todo:
        package = todo.pop()
        if package in seen:
            continue
        seen.add(package)
        files |= _files_of(root, package)
        for source in package.glob("*.go"):
            for imported in _imports(layout.read_go(source)):
                if module and (imported == module or imported.startswith(module + "/")):
                    todo += _local_packages(root, module, root, imported)
    return files


def _imports(text: str) -> set[str]:
    """The import paths of a Go file (comments stripped first)."""
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.DOTALL)
    text = re.sub(r"//[^\n]*", "", text)
    found = set(_IMPORT_LINE.findall(text))
    for block in _IMPORT_BLOCK.findall(text):
        found |= set(_QUOTED_PATH.findall(block))
    return found


def _files_of(root: Path, folder: Path) -> set[str]:
    """The files directly in ``folder`` (relative to ``root``), as the source tree counts them."""
    try:
        names = os.listdir(folder)
    except OSError:
        return set()
    return {
        (folder / n).relative_to(root).as_posix()
        for n in names
        if not n.startswith((".", "_")) and not n.endswith(".pyc") and (folder / n).is_file()
    }


def _named_by(root: Path, here: Path, words: Iterable[str]) -> set[str]:
    """Existing files (or every file under existing directories) that a directive's words
    name relative to its directory, inside the module: a generator's input by its name."""
    found: set[str] = set()
    for word in words:
        value = word.split("=", 1)[1] if word.startswith("-") and "=" in word else word
        if not value or value.startswith("-") or value in (".", "./"):
            continue
        path = (here / value).resolve()
        if not path.is_relative_to(root) or path == root:
            continue
        if path.is_file():
            found.add(path.relative_to(root).as_posix())
        elif path.is_dir():
            found |= _tree(root, path)
    return found


def _tree(root: Path, folder: Path) -> set[str]:
    """Every file under ``folder``, skipping ``.``/``_`` names as the source tree does."""
    found: set[str] = set()
    for current, dirs, _ in os.walk(folder):
        dirs[:] = [d for d in dirs if not d.startswith((".", "_"))]
        found |= _files_of(root, Path(current))
    return found


def _globbed(root: Path, patterns: list[str]) -> set[str]:
    """The files ``dlc.generate_inputs`` names (patterns relative to the module)."""
    found: set[str] = set()
    for pattern in patterns:
        for path in root.glob(pattern):
            resolved = path.resolve()
            if resolved.is_relative_to(root) and path.is_file():
                found.add(path.relative_to(root).as_posix())
            elif resolved.is_relative_to(root) and path.is_dir():
                found |= _tree(root, path)
    return found


def _module_path(root: Path) -> str:
    """go.mod's module path ('' when it cannot be read)."""
    try:
        return gomod.read(root).module
    except DlcError:  # a broken go.mod: the hash and cache steps name it
        return ""
