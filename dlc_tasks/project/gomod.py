"""Parsing ``go.mod``: the few directives the chain needs, by Go's own lexical rules.

Only ``module``, ``go``, ``require`` (the module paths) and ``tool`` are read; everything
else (replace, exclude…) is left to Go. Comments (``//``) and block forms (``tool ( … )``) are
understood.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from dlc_tasks.errors import ConfigError, NotFoundError

_COMMENT = re.compile(r"//.*$")


@dataclass(frozen=True)
class GoMod:
    """The directives of one ``go.mod`` the chain uses."""

    module: str
    go: str | None = None
    tools: list[str] = field(default_factory=list)
    requires: list[str] = field(default_factory=list)

    @property
    def elements(self) -> list[str]:
        """The module path's elements, without a trailing major version (``/v2``)."""
        parts = [p for p in self.module.split("/") if p]
        if len(parts) > 1 and re.fullmatch(r"v[0-9]+", parts[-1]):
            parts = parts[:-1]
        return parts


def _unquote(token: str) -> str:
    if len(token) >= 2 and token[0] == token[-1] and token[0] in '"`':
        return token[1:-1]
    return token


def parse(text: str, source: str = "go.mod") -> GoMod:
    """The ``module``, ``go``, ``require`` and ``tool`` directives of a ``go.mod`` text."""
    module: str | None = None
    go: str | None = None
    tools: list[str] = []
    requires: list[str] = []
    block: str | None = None
    for raw in text.splitlines():
        line = _COMMENT.sub("", raw).strip()
        if not line:
            continue
        if block is not None:
            if line == ")":
                block = None
            elif block == "tool":
                tools.append(_unquote(line.split()[0]))
            elif block == "require":
                requires.append(_unquote(line.split()[0]))
            continue
        words = line.split()
        verb, args = words[0], words[1:]
        if args == ["("]:
            block = verb
        elif verb == "module" and args:
            module = _unquote(args[0])
        elif verb == "go" and args:
            go = args[0]
        elif verb == "tool" and args:
            tools.append(_unquote(args[0]))
        elif verb == "require" and args:
            requires.append(_unquote(args[0]))
    if not module:
        raise ConfigError(f"{source} has no module directive", hint="run go mod init")
    return GoMod(module=module, go=go, tools=tools, requires=requires)


def read(project_dir: Path) -> GoMod:
    """The parsed ``project_dir/go.mod``; a one-line error when there is none."""
    path = project_dir / "go.mod"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as err:
        raise NotFoundError(
            f"{path} not found: dlc.project_dir must be a Go module",
            hint="run go mod init, or set dlc.project_dir",
        ) from err
    return parse(text, str(path))
