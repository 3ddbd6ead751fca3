"""Go build constraints, as far as the chain needs them: does a file build in the cache image?

The Go steps run on Linux (the cache image), so a file is part of its package when its name's
``_GOOS``/``_GOARCH`` suffixes and its ``//go:build`` line allow ``linux`` on the engine's
architecture. ``go generate`` adds the tag ``generate``. A ``//go:build ignore`` program (the
usual ``gen.go`` run by ``//go:generate go run gen.go``) is in no package: it is neither a main
package of the module nor a file whose directives ``go generate`` reads. An expression this
reader cannot parse counts as satisfied (Go would report it; the chain does not guess).
"""

from __future__ import annotations

import platform
import re
from collections.abc import Iterable
from pathlib import Path

GOOS = frozenset(
    (
        "aix",
        "android",
        "darwin",
        "dragonfly",
        "freebsd",
        "hurd",
        "illumos",
        "ios",
        "js",
        "linux",
        "nacl",
        "netbsd",
        "openbsd",
        "plan9",
        "solaris",
        "wasip1",
        "windows",
        "zos",
    )
)
GOARCH = frozenset(
    (
        "386",
        "amd64",
        "amd64p32",
        "arm",
        "armbe",
        "arm64",
        "arm64be",
        "loong64",
        "mips",
        "mipsle",
        "mips64",
        "mips64le",
        "mips64p32",
        "mips64p32le",
        "ppc",
        "ppc64",
        "ppc64le",
        "riscv",
        "riscv64",
        "s390",
        "s390x",
        "sparc",
        "sparc64",
        "wasm",
    )
)
_MACHINES = {"x86_64": "amd64", "aarch64": "arm64", "arm64": "arm64", "i686": "386"}
_TOKEN = re.compile(r"\s*(&&|\|\||!|\(|\)|[A-Za-z0-9_.]+)")
_BUILD_LINE = re.compile(r"^//go:build\s+(.*)$")


def host_arch() -> str:
    """The engine's GOARCH, taken as this machine's (a local engine runs its images natively)."""
    return _MACHINES.get(platform.machine(), "amd64")


def default_tags(extra: Iterable[str] = ()) -> frozenset[str]:
    """The tags true in the cache image: linux, unix, the architecture, gc, and ``extra``."""
    return frozenset({"linux", "unix", host_arch(), "gc", *extra})


def name_allows(file_name: str, tags: frozenset[str]) -> bool:
    """True unless the file name's ``_GOOS``/``_GOARCH`` suffix names another platform."""
    stem = file_name.removesuffix(".go").removesuffix("_test")
    parts = stem.split("_")[1:]  # a name that is only a suffix (linux.go) has no constraint
    if parts and parts[-1] in GOARCH:
        if parts[-1] not in tags:
            return False
        parts = parts[:-1]
    return not (parts and parts[-1] in GOOS and parts[-1] not in tags)


def _satisfied(tag: str, tags: frozenset[str]) -> bool:
    return tag in tags or re.fullmatch(r"go1\.[0-9]+", tag) is not None  # release tags


class _Parser:
    """Recursive descent over ``||``, ``&&``, ``!`` and parentheses (Go's grammar)."""

    def __init__(self, text: str, tags: frozenset[str]) -> None:
        self.tokens: list[str] = []
        pos = 0
        text = text.rstrip()
        while pos < len(text):
            match = _TOKEN.match(text, pos)
            if match is None:
                raise ValueError(text)
            self.tokens.append(match.group(1))
            pos = match.end()
        self.tags = tags
        self.pos = 0

    def parse(self) -> bool:
        value = self._or()
        if self.pos != len(self.tokens):
            raise ValueError("trailing tokens")
        return value

    def _peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def _take(self) -> str:
        if self.pos >= len(self.tokens):
            raise ValueError("unexpected end")
        self.pos += 1
        return self.tokens[self.pos - 1]

    def _or(self) -> bool:
        value = self._and()
        while self._peek() == "||":
            self._take()
            value = self._and() or value
        return value

    def _and(self) -> bool:
        value = self._not()
        while self._peek() == "&&":
            self._take()
            value = self._not() and value
        return value

    def _not(self) -> bool:
        word = self._take()
        if word == "!":
            return not self._not()
        if word == "(":
            value = self._or()
            if self._take() != ")":
                raise ValueError("missing )")
            return value
        if word in ("&&", "||", ")"):
            raise ValueError(word)
        return _satisfied(word, self.tags)


def expression_allows(expression: str, tags: frozenset[str]) -> bool:
    """The value of a ``//go:build`` expression; True when it cannot be parsed."""
    try:
        return _Parser(expression, tags).parse()
    except ValueError:
        return True


def build_line(text: str) -> str | None:
    """The ``//go:build`` expression of a Go file's header (before its package clause)."""
    in_block = False
    for raw in text.splitlines():
        line = raw.strip()
        if in_block:
            in_block = "*/" not in line
            continue
        if line.startswith("/*"):
            in_block = "*/" not in line[2:]
            continue
        if not line:
            continue
        if line.startswith("//"):
            if match := _BUILD_LINE.match(line):
                return match.group(1)
            continue
        return None  # the package clause (or anything else): no constraint after it
    return None


def file_builds(path: Path, text: str, tags: frozenset[str]) -> bool:
    """True when ``path`` (whose content is ``text``) is compiled under ``tags``."""
    if not name_allows(path.name, tags):
        return False
    expression = build_line(text)
    return expression is None or expression_allows(expression, tags)
