"""The module's ``//go:generate`` directives, and which of them can run in the cache image.

``go generate ./...`` runs every directive of the module's own packages, each in its
package's directory with ``$GOFILE`` and friends set. In the cache image only Go runs, and
offline (``GOPROXY=off``): a directive whose command is not ``go`` (``./gen.py``, ``sh -c …``,
``stringer`` from the developer's ``PATH``), or whose ``go run``/``go tool`` needs a module the
image lacks, fails there. ``dlc init`` reads the directives as ``go generate`` does (lines
starting ``//go:generate``, ``-command`` aliases per file, the files the build constraints
keep, with the tag ``generate``) and writes a ``dlc.generate`` that runs the others and skips
those (``go generate -skip REGEX ./...``, Go 1.20+): :meth:`GenerateChoice.argv`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from dlc_tasks.project import constraints, gomod, layout

PREFIXES = ("//go:generate ", "//go:generate\t")
# `go tool NAME` that every toolchain has
GO_TOOLS = frozenset(
    (
        "addr2line",
        "asm",
        "buildid",
        "cgo",
        "compile",
        "covdata",
        "cover",
        "dist",
        "distpack",
        "doc",
        "fix",
        "link",
        "nm",
        "objdump",
        "pack",
        "pprof",
        "preprofile",
        "test2json",
        "trace",
        "vet",
    )
)
# `go run` flags that take a value (`-tags x`); `-flag=value` and boolean flags take none
_VALUE_FLAGS = frozenset(
    (
        "C",
        "exec",
        "tags",
        "mod",
        "modfile",
        "overlay",
        "pgo",
        "gcflags",
        "ldflags",
        "asmflags",
        "toolexec",
        "p",
        "buildmode",
        "compiler",
        "gccgoflags",
        "installsuffix",
        "pkgdir",
        "coverpkg",
        "covermode",
        "o",
    )
)
_MAJOR = re.compile(r"v[0-9]+")
_QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"')


@dataclass(frozen=True)
class Directive:
    """One ``//go:generate`` line: where it is, its text as ``-skip`` matches it, its words
    (``-command`` aliases substituted, variables not expanded)."""

    file: str  # relative to the module, e.g. internal/tz/tz.go
    line: int
    text: str
    words: tuple[str, ...]

    @property
    def where(self) -> str:
        """``file:line``."""
        return f"{self.file}:{self.line}"


@dataclass(frozen=True)
class Verdict:
    """A directive and whether it can run in the cache image (``why`` when it cannot)."""

    directive: Directive
    runs: bool
    why: str = ""


@dataclass(frozen=True)
class GenerateChoice:
    """Every directive of the module's own packages, sorted into kept and left out."""

    verdicts: tuple[Verdict, ...]

    @property
    def kept(self) -> list[Directive]:
        """The directives ``dlc.generate`` runs."""
        return [v.directive for v in self.verdicts if v.runs]

    @property
    def left_out(self) -> list[Verdict]:
        """The directives it skips, each with the reason."""
        return [v for v in self.verdicts if not v.runs]

    def argv(self) -> list[list[str]]:
        """``dlc.generate``: nothing when no directive can run, else ``go generate ./...``,
        with ``-skip`` naming every directive left out."""
        if not self.kept:
            return []
        if not self.left_out:
            return [["go", "generate", "./..."]]
        return [["go", "generate", "-skip", skip_pattern(self.left_out), "./..."]]


def skip_pattern(left_out: list[Verdict]) -> str:
    """A Go regular expression matching exactly the left-out directives' texts (``go generate``
    matches ``-skip`` against the whole line, ``//go:generate`` included, trimmed)."""
    texts = sorted({v.directive.text for v in left_out})
    return "^(?:" + "|".join(_escape(t) for t in texts) + ")$"


def _escape(text: str) -> str:
    """``text`` as a literal in Go's (RE2) syntax: every metacharacter escaped."""
    return "".join("\\" + ch if ch in "\\.+*?()|[]{}^$" else ch for ch in text)


def split_words(rest: str) -> list[str]:
    """A directive's words, as ``go generate`` splits them: spaces, or double-quoted Go
    strings (unquoted as JSON strings, which share Go's common escapes; else kept as written:
    the words only decide, ``go generate`` itself runs the line)."""
    words: list[str] = []
    rest = rest.strip(" \t")
    while rest:
        if rest.startswith('"'):
            match = _QUOTED.match(rest)
            if match is None:
                words.append(rest)  # a mismatched quote: go generate reports it when it runs
                break
            try:
                words.append(str(json.loads(match.group(0))))
            except ValueError:
                words.append(match.group(0)[1:-1])
            rest = rest[match.end() :]
        else:
            word = re.split(r"[ \t]", rest, maxsplit=1)[0]
            words.append(word)
            rest = rest[len(word) :]
        rest = rest.lstrip(" \t")
    return words


def read_directives(project_dir: Path) -> list[Directive]:
    """Every directive ``go generate ./...`` would read, in its order (package, file, line)."""
    tags = constraints.default_tags(["generate"])
    found: list[Directive] = []
    for _, _, sources in layout.package_dirs(project_dir):
        for path in sources:
            text = layout.read_go(path)
            if "//go:generate" not in text or not layout.builds(path, text, tags):
                continue
            if layout.package_clause(path) is None:
                continue  # go generate skips a file without a valid package clause
            aliases: dict[str, list[str]] = {}
            rel = path.relative_to(project_dir).as_posix()
            for number, raw in enumerate(text.splitlines(), start=1):
                if not raw.startswith(PREFIXES):
                    continue
                words = split_words(raw[len(PREFIXES[0]) :].rstrip("\r"))
                if not words:
                    continue
                if words[0] == "-command":
                    if len(words) > 2:
                        aliases[words[1]] = words[2:]
                    continue
                if words[0] in aliases:
                    words = aliases[words[0]] + words[1:]
                found.append(Directive(rel, number, raw.strip(), tuple(words)))
    return found


class _Module:
    """What decides whether a package can be had offline in the cache image."""

    def __init__(self, project_dir: Path) -> None:
        self.mod = gomod.read(project_dir)
        modules_txt = project_dir / "vendor" / "modules.txt"
        self.vendored: set[str] | None = None
        if modules_txt.is_file():
            lines = modules_txt.read_text(encoding="utf-8", errors="replace").splitlines()
            self.vendored = {line.strip() for line in lines if line and not line.startswith("#")}

    def own(self, package: str) -> bool:
        return package == self.mod.module or package.startswith(self.mod.module + "/")

    def missing(self, package: str) -> str | None:
        """Why ``package`` cannot be built offline, or None when it can."""
        first = package.split("/", 1)[0]
        if self.own(package) or "." not in first:  # this module, or the standard library
            return None
        if self.vendored is not None:
            if package in self.vendored:
                return None
            return f"{package} is not in vendor/modules.txt: it cannot be built offline"
        if any(package == m or package.startswith(m + "/") for m in self.mod.requires):
            return None  # the cache image downloaded every required module
        return f"{package} comes from no module go.mod requires: it cannot be built offline"

    def tool(self, name: str) -> str | None:
        """The package of ``go tool NAME`` among go.mod's tool directives, or None."""
        for path in self.mod.tools:
            parts = [p for p in path.split("/") if p]
            if len(parts) > 1 and _MAJOR.fullmatch(parts[-1]):
                parts = parts[:-1]
            if name in (path, parts[-1]):
                return path
        return None


def go_run_target(args: tuple[str, ...]) -> str | None:
    """The package or file ``go run ARGS`` builds: its first argument that is not a flag."""
    skip = False
    for arg in args:
        if skip:
            skip = False
        elif arg.startswith("-"):
            name = arg.lstrip("-")
            skip = "=" not in name and name in _VALUE_FLAGS
        else:
            return arg
    return None


def judge(directive: Directive, module: _Module) -> Verdict:
    """Whether the directive can run in the cache image, and why not."""
    words = directive.words
    command = words[0]
    if command != "go":
        kind = "a shell line" if command in ("sh", "bash") else "not a Go command"
        return Verdict(
            directive,
            False,
            f"{command} is {kind}: the cache image runs go only (run it yourself and commit "
            "what it writes)",
        )
    sub = words[1] if len(words) > 1 else ""
    why: str | None
    if sub == "run":
        why = _why_not_run(go_run_target(words[2:]), module)
    elif sub == "tool" and len(words) > 2:
        why = _why_not_tool(words[2], module)
    else:
        why = None  # go build, go env, go vet…: the toolchain alone
    return Verdict(directive, why is None, why or "")


def _why_not_run(target: str | None, module: _Module) -> str | None:
    """Why ``go run TARGET`` cannot run offline in the cache image, or None."""
    if target is None or target.startswith((".", "/", "$")) or target.endswith(".go"):
        return None  # files or a directory of the module
    if "@" in target:
        return (
            f"go run {target} fetches a module, and the Go steps reach no module proxy "
            "(GOPROXY=off)"
        )
    return module.missing(target)


def _why_not_tool(name: str, module: _Module) -> str | None:
    """Why ``go tool NAME`` cannot run offline in the cache image, or None."""
    if name in GO_TOOLS:
        return None
    path = module.tool(name)
    if path is None:
        return f"go tool {name}: neither a Go tool nor a tool of go.mod"
    return module.missing(path)


def choose(project_dir: Path) -> GenerateChoice:
    """Every directive of the module, judged (see :func:`judge`)."""
    directives = read_directives(project_dir)
    if not directives:
        return GenerateChoice(())
    module = _Module(project_dir)
    return GenerateChoice(tuple(judge(d, module) for d in directives))
