"""What a rendered production Dockerfile says, read as data: the recipe an image is assembled from.

A ``Dockerfile.prod`` made from the packaged template (and any template like it) has no
``RUN``: it names a base, copies files, and sets configuration. :func:`parse` reads
exactly that much of the Dockerfile language (``ARG``, ``FROM [AS]``, ``WORKDIR``,
``COPY [--from]``, ``ENV``, ``USER``, ``EXPOSE``, ``HEALTHCHECK``, ``ENTRYPOINT``,
``CMD``, ``LABEL``, ``STOPSIGNAL``) with the legacy builder's rules (an ``ENTRYPOINT``
without a ``CMD`` clears the base's ``CMD``; shell forms run ``/bin/sh -c``; ``EXPOSE 8080``
is ``8080/tcp``), so the image assembled from the recipe has the configuration
``docker build`` gives the same file. Anything else is :class:`NotAssemblable`, naming the
line: the caller builds that Dockerfile with the engine.
"""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from dlc_tasks.errors import NotAssemblable

SCRATCH = "scratch"
_VARIABLE = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))")
_DURATION = re.compile(r"([0-9]+(?:\.[0-9]*)?)(ns|us|µs|ms|s|m|h)")
_UNITS = {"ns": 1, "us": 1_000, "µs": 1_000, "ms": 1_000_000, "s": 10**9, "m": 60 * 10**9}
_UNITS["h"] = 60 * _UNITS["m"]
_HEALTH_FLAGS = {"interval": "Interval", "timeout": "Timeout", "start-period": "StartPeriod"}


@dataclass(frozen=True)
class Copy:
    """``COPY`` of files from the build context (``stage`` empty) or another image's files."""

    sources: tuple[str, ...]
    dest: str  # absolute
    stage: str = ""  # the image of the ``FROM … AS`` stage (or the image) it copies from

    def targets(self) -> list[tuple[str, str]]:
        """(source, absolute path in the image) for each source, as the builder places them."""
        into_folder = self.dest.endswith("/") or len(self.sources) > 1
        return [
            (src, posixpath.join(self.dest, posixpath.basename(src)) if into_folder else self.dest)
            for src in self.sources
        ]


@dataclass(frozen=True)
class Healthcheck:
    """``HEALTHCHECK``: the test and its timings (nanoseconds; 0 = the engine's default)."""

    test: tuple[str, ...]
    timings: Mapping[str, int] = field(default_factory=dict)  # Interval, Timeout, StartPeriod
    retries: int = 0

    def to_config(self) -> dict[str, object]:
        """The image configuration's ``Healthcheck`` (zero values left out, as Docker does)."""
        out: dict[str, object] = {"Test": list(self.test)}
        out.update({k: v for k, v in self.timings.items() if v})
        if self.retries:
            out["Retries"] = self.retries
        return out


@dataclass(frozen=True)
class Recipe:
    """The final stage of a production Dockerfile: its base, its copies and its settings."""

    base: str  # an image reference, or "scratch"
    copies: tuple[Copy, ...] = ()
    folders: tuple[str, ...] = ()  # WORKDIR folders, made if the base lacks them
    workdir: str | None = None
    env: tuple[tuple[str, str], ...] = ()
    user: str | None = None
    ports: tuple[str, ...] = ()
    healthcheck: Healthcheck | None = None
    entrypoint: tuple[str, ...] | None = None
    cmd: tuple[str, ...] | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    stop_signal: str | None = None

    def _env(self, base: list[str]) -> list[str]:
        """The base's ``Env`` with this recipe's: replaced where the base has a variable, else
        appended (as the builder does)."""
        env = [str(e) for e in base]
        for key, value in self.env:
            names = [e.split("=", 1)[0] for e in env]
            if key in names:
                env[names.index(key)] = f"{key}={value}"
            else:
                env.append(f"{key}={value}")
        return env

    def apply(self, config: Mapping[str, Any]) -> dict[str, Any]:
        """The base's container configuration (``config`` of its image configuration) with
        this recipe's settings, as the legacy builder leaves it."""
        out = dict(config)
        if self.env:
            out["Env"] = self._env(config.get("Env") or [])
        if self.workdir is not None:
            out["WorkingDir"] = self.workdir
        if self.user is not None:
            out["User"] = self.user
        if self.ports:
            ports = dict(config.get("ExposedPorts") or {})
            ports.update({p: {} for p in self.ports})
            out["ExposedPorts"] = dict(sorted(ports.items()))
        if self.healthcheck is not None:
            out["Healthcheck"] = self.healthcheck.to_config()
        if self.entrypoint is not None:
            out["Entrypoint"] = list(self.entrypoint)
            if self.cmd is None:
                out["Cmd"] = None  # an ENTRYPOINT set here drops the base's CMD
        if self.cmd is not None:
            out["Cmd"] = list(self.cmd)
        if self.labels:
            labels = dict(config.get("Labels") or {})
            labels.update(self.labels)
            out["Labels"] = dict(sorted(labels.items()))
        if self.stop_signal is not None:
            out["StopSignal"] = self.stop_signal
        return out


def instructions(text: str) -> list[tuple[int, str, str]]:
    """(line number, INSTRUCTION, rest) for each instruction: continuations joined, comments
    and blank lines dropped (also inside a continuation, as the builder does)."""
    out: list[tuple[int, str, str]] = []
    pending, start = "", 0
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            directive = line.lower().replace(" ", "")
            if not pending and directive.startswith("#escape=") and not directive.endswith("\\"):
                raise NotAssemblable(f"line {number}: an escape directive other than \\")
            continue
        if not pending:
            start = number
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        whole = (pending + line).strip()
        pending = ""
        word, _, rest = whole.partition(" ")
        out.append((start, word.upper(), rest.strip()))
    if pending:
        word, _, rest = pending.strip().partition(" ")
        out.append((start, word.upper(), rest.strip()))
    return out


def words(text: str) -> list[str]:
    """Whitespace-separated words with ``"…"``/``'…'`` quoting and ``\\`` escapes (inside
    double quotes only of ``"``, ``\\``, ``$`` and a backtick, as the builder reads them)."""
    out: list[str] = []
    current, quote, escaped, started = "", "", False, False
    for ch in text:
        if escaped:
            kept = "\\" if quote == '"' and ch not in '"\\$`' else ""
            current, escaped, started = current + kept + ch, False, True
        elif ch == "\\" and quote != "'":
            escaped = True
        elif quote:
            if ch == quote:
                quote = ""
            else:
                current += ch
        elif ch in "\"'":
            quote, started = ch, True
        elif ch.isspace():
            if started:
                out.append(current)
            current, started = "", False
        else:
            current, started = current + ch, True
    if quote or escaped:
        raise ValueError("an unterminated quote")
    if started:
        out.append(current)
    return out


def _no_variables(number: int, text: str) -> str:
    if _VARIABLE.search(text.replace("\\$", "")):
        raise NotAssemblable(f"line {number}: variables outside FROM are not expanded: {text[:60]}")
    return text


def _argv(number: int, rest: str, shell: list[str]) -> tuple[str, ...]:
    """An exec-form JSON list, or the shell form run by ``shell``."""
    if rest.startswith("["):
        try:
            value = json.loads(rest)
        except ValueError:
            value = None
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return tuple(value)
    return (*shell, _no_variables(number, rest))


def _pairs(number: int, what: str, rest: str) -> list[tuple[str, str]]:
    """``KEY=value …`` (or the old ``KEY value``) of ``ENV`` and ``LABEL``."""
    try:
        items = words(_no_variables(number, rest))
    except ValueError as err:
        raise NotAssemblable(f"line {number}: {what}: {err}") from err
    if items and "=" not in items[0]:
        return [(items[0], " ".join(items[1:]))]
    pairs = []
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise NotAssemblable(f"line {number}: {what}: {item!r} is not KEY=value")
        pairs.append((key, value))
    return pairs


def duration(text: str) -> int:
    """A Go duration (``30s``, ``1m30s``, ``500ms``) in nanoseconds."""
    position, total = 0, 0.0
    while position < len(text):
        match = _DURATION.match(text, position)
        if not match:
            raise ValueError(f"not a duration: {text!r}")
        total += float(match.group(1)) * _UNITS[match.group(2)]
        position = match.end()
    if not text:
        raise ValueError("an empty duration")
    return int(total)


def _healthcheck(number: int, rest: str) -> Healthcheck:
    parts = rest.split(None, 1)
    timings: dict[str, int] = {}
    retries = 0
    while parts and parts[0].startswith("--"):
        name, _, value = parts[0][2:].partition("=")
        try:
            if name in _HEALTH_FLAGS:
                timings[_HEALTH_FLAGS[name]] = duration(value)
            elif name == "retries":
                retries = int(value)
            else:
                raise ValueError(f"an unknown option --{name}")
        except ValueError as err:
            raise NotAssemblable(f"line {number}: HEALTHCHECK: {err}") from err
        parts = parts[1].split(None, 1) if len(parts) > 1 else []
    if parts and parts[0].upper() == "NONE":
        return Healthcheck(("NONE",))
    if not parts or parts[0].upper() != "CMD" or len(parts) < 2:
        raise NotAssemblable(f"line {number}: HEALTHCHECK needs CMD or NONE")
    test = _argv(number, parts[1].strip(), ["CMD-SHELL"])
    if test[0] != "CMD-SHELL":
        test = ("CMD", *test)
    return Healthcheck(test, timings, retries)


def _expand(number: int, text: str, args: Mapping[str, str]) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        if name not in args:
            raise NotAssemblable(f"line {number}: ${name} is not a declared ARG")
        return args[name]

    return _VARIABLE.sub(value, text)


@dataclass
class _Stage:
    """What the instructions of one stage said so far."""

    base: str
    name: str = ""
    copies: list[Copy] = field(default_factory=list)
    folders: list[str] = field(default_factory=list)
    workdir: str | None = None
    env: list[tuple[str, str]] = field(default_factory=list)
    user: str | None = None
    ports: list[str] = field(default_factory=list)
    healthcheck: Healthcheck | None = None
    entrypoint: tuple[str, ...] | None = None
    cmd: tuple[str, ...] | None = None
    labels: dict[str, str] = field(default_factory=dict)
    stop_signal: str | None = None
    built: list[str] = field(default_factory=list)  # instructions other than FROM/ARG

    def recipe(self) -> Recipe:
        """The stage as a recipe."""
        return Recipe(
            base=self.base,
            copies=tuple(self.copies),
            folders=tuple(self.folders),
            workdir=self.workdir,
            env=tuple(self.env),
            user=self.user,
            ports=tuple(self.ports),
            healthcheck=self.healthcheck,
            entrypoint=self.entrypoint,
            cmd=self.cmd,
            labels=dict(self.labels),
            stop_signal=self.stop_signal,
        )

    def apply(self, number: int, word: str, rest: str, stages: Mapping[str, str]) -> None:
        """Take one instruction of this stage into account."""
        self.built.append(word)
        workdir = self.workdir or "/"
        if word == "WORKDIR":
            path = posixpath.normpath(posixpath.join(workdir, _no_variables(number, rest)))
            self.workdir = path
            self.folders.append(path)
        elif word == "COPY":
            self.copies.append(_copy(number, rest, workdir, stages))
        elif word == "ENV":
            self.env.extend(_pairs(number, "ENV", rest))
        elif word == "LABEL":
            self.labels.update(_pairs(number, "LABEL", rest))
        elif word == "USER":
            self.user = _no_variables(number, rest)
        elif word == "EXPOSE":
            for port in _no_variables(number, rest).split():
                self.ports.append(port if "/" in port else f"{port}/tcp")
        elif word == "HEALTHCHECK":
            self.healthcheck = _healthcheck(number, rest)
        elif word == "ENTRYPOINT":
            self.entrypoint = _argv(number, rest, ["/bin/sh", "-c"])
        elif word == "CMD":
            self.cmd = _argv(number, rest, ["/bin/sh", "-c"])
        elif word == "STOPSIGNAL":
            self.stop_signal = _no_variables(number, rest)
        else:
            raise NotAssemblable(f"line {number}: {word} needs a builder")


def parse(text: str, build_args: Mapping[str, str] | None = None) -> Recipe:
    """The recipe of the Dockerfile's last stage; NotAssemblable for anything a builder must run.

    ``build_args`` override the defaults of the ``ARG`` lines before the first ``FROM``,
    which is all a ``FROM`` may name (as the builder allows). An earlier stage may only
    name an image that a later ``COPY --from`` reads files of.
    """
    given = dict(build_args or {})
    global_args: dict[str, str] = {}
    stages: dict[str, str] = {}
    stage: _Stage | None = None
    for number, word, rest in instructions(text):
        if word == "ARG":
            name, _, default = rest.partition("=")
            if stage is None:
                global_args[name.strip()] = given.get(name.strip(), default.strip())
            continue
        if word == "FROM":
            if stage is not None and stage.built:
                raise NotAssemblable(f"line {number}: an earlier stage runs {stage.built[0]}")
            parts = rest.split()
            if len(parts) not in (1, 3) or (len(parts) == 3 and parts[1].upper() != "AS"):
                raise NotAssemblable(f"line {number}: FROM {rest[:60]}")
            stage = _Stage(_expand(number, parts[0], global_args))
            if len(parts) == 3:
                stages[parts[2].lower()] = stage.base
            continue
        if stage is None:
            raise NotAssemblable(f"line {number}: {word} before FROM")
        stage.apply(number, word, rest, stages)
    if stage is None:
        raise NotAssemblable("no FROM")
    return stage.recipe()


def _copy(number: int, rest: str, workdir: str, stages: Mapping[str, str]) -> Copy:
    stage = ""
    while rest.startswith("--"):
        flag, _, rest = rest.partition(" ")
        name, _, value = flag[2:].partition("=")
        if name != "from" or not value:
            raise NotAssemblable(f"line {number}: COPY {flag} needs a builder")
        stage = stages.get(value.lower(), value)
        rest = rest.strip()
    if rest.startswith("["):
        try:
            items = json.loads(rest)
        except ValueError:
            items = None
        if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
            raise NotAssemblable(f"line {number}: COPY {rest[:60]}")
    else:
        items = _no_variables(number, rest).split()
    if len(items) < 2 or any(any(c in i for c in "*?[") for i in items[:-1]):
        raise NotAssemblable(f"line {number}: COPY needs named sources and a destination")
    dest = items[-1]
    absolute = posixpath.join(workdir, dest)
    keep_slash = dest.endswith("/") or dest in (".", "./")
    absolute = posixpath.normpath(absolute) + ("/" if keep_slash else "")
    return Copy(tuple(items[:-1]), absolute.replace("//", "/"), stage)
