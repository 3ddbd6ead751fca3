"""A Go binary's build information, as ``go version -m BINARY`` prints it.

::

    bin/server: go1.27.3
    →path→example.com/svc/cmd/server
    →mod→example.com/svc→(devel)→
    →dep→golang.org/x/text→v0.14.0→h1:ScX5w1eTa3QqT8oi6+ziP7dTV1S2+ALU0bI+0zXKWiQ=
    →dep→example.com/old→v1.0.0
    →=>→example.com/new→v1.1.0→h1:…
    →build→-ldflags="-s -w"
    →build→CGO_ENABLED=0

(→ is a tab: ``debug/buildinfo``'s ``String``, each line after a tab. A sum is missing
for vendored and replaced modules; a build setting's key or value holding a space, tab,
quote or newline is a Go-quoted string.)
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field

from dlc_tasks.errors import InvalidValue

_QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"')


@dataclass(frozen=True)
class Module:
    """A module the binary was built from: path, version, ``h1:`` sum (may be empty), and the
    module that replaced it."""

    path: str
    version: str
    sum: str = ""
    replace: Module | None = None

    @property
    def effective(self) -> Module:
        """The module whose code is in the binary (the replacement, if any)."""
        return self.replace or self


@dataclass(frozen=True)
class BuildInfo:
    """What ``go version -m`` says about one binary."""

    go_version: str  # go1.27.3
    path: str = ""  # the main package
    main: Module | None = None
    deps: tuple[Module, ...] = ()
    settings: tuple[tuple[str, str], ...] = field(default_factory=tuple)

    def setting(self, key: str) -> str:
        """One build setting's value (``GOOS``, ``-trimpath``…), or ``""``."""
        return next((v for k, v in self.settings if k == key), "")


def _unquote(text: str) -> str:
    """A Go-quoted string's value (Go's escapes are a subset of Python's)."""
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError) as err:
        raise InvalidValue(f"a malformed quoted build setting: {text[:60]}") from err
    if not isinstance(value, str):
        raise InvalidValue(f"a malformed quoted build setting: {text[:60]}")
    return value


def _setting(text: str) -> tuple[str, str]:
    if text.startswith('"'):
        match = _QUOTED.match(text)
        if not match or text[match.end() : match.end() + 1] != "=":
            raise InvalidValue(f"a malformed build setting: {text[:60]}")
        key, value = _unquote(match.group()), text[match.end() + 1 :]
    else:
        key, sep, value = text.partition("=")
        if not sep:
            raise InvalidValue(f"a malformed build setting: {text[:60]}")
    return key, (_unquote(value) if value.startswith('"') else value)


def _module(fields: list[str], line: str) -> Module:
    if len(fields) < 2:
        raise InvalidValue(f"a malformed module line: {line[:80]}")
    return Module(fields[0], fields[1], fields[2] if len(fields) > 2 else "")


def parse(text: str) -> BuildInfo:
    """The build information in ``go version -m``'s output for one binary."""
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines or ": go" not in lines[0]:
        raise InvalidValue("not the output of go version -m: its first line names no Go version")
    go_version = lines[0].rsplit(": ", 1)[1].strip()
    path, main = "", None
    deps: list[Module] = []
    settings: list[tuple[str, str]] = []
    for line in lines[1:]:
        word, _, rest = line.strip("\t\r").partition("\t")
        fields = rest.split("\t")
        if word == "path":
            path = rest
        elif word == "mod":
            main = _module(fields, line)
        elif word == "dep":
            deps.append(_module(fields, line))
        elif word == "=>":
            replaced = deps[-1] if deps else main
            if replaced is None:
                raise InvalidValue(f"a replacement for no module: {line[:80]}")
            fixed = Module(replaced.path, replaced.version, "", _module(fields, line))
            if deps:
                deps[-1] = fixed
            else:
                main = fixed
        elif word == "build":
            settings.append(_setting(rest))
        else:
            raise InvalidValue(f"an unknown line in go version -m's output: {line[:80]}")
    return BuildInfo(go_version, path, main, tuple(deps), tuple(settings))
