"""Reading an image build's log: the engine's lines as instructions, their output and noise.

The engine streams a build as text: Docker's legacy builder as ``Step N/M : INSTRUCTION``
followed by ``---> Using cache``, ``---> Running in ID``, the command's output,
``Removing intermediate container ID`` and ``---> ID``; Buildah (Podman's builder) as
``STEP N/M: INSTRUCTION``, ``--> Using cache ID``, ``--> ID``, ``COMMIT TAG``. Both end with
``Successfully tagged``. :func:`clean` removes the engine's control characters (the colour
codes Docker wraps around a command's stderr, carriage-return progress), :func:`classify`
names what a line is, and :class:`BuildSteps` turns the lines into the steps a person
reads: one per instruction that makes a layer (``FROM``, ``RUN``, ``COPY``, ``ADD``,
``WORKDIR``, the ones buildx shows), with its duration and whether the engine's cache
served it. The settings between them (``ARG``, ``ENV``, ``LABEL``, ``USER``…) add no
line: their time counts in the step before them.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum

# CSI sequences (colours, cursor moves), other two-byte escapes, then every C0 control
# character but the tab, and DEL.
_CONTROL = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b[@-_]?|[\x00-\x08\x0a-\x1f\x7f]")
_STEP = re.compile(r"^(?:Step (\d+)/(\d+) :|STEP (\d+)/(\d+):) ?(.*)$")
_CACHED = re.compile(r"^ ?-{2,3}> Using cache\b")
_NOISE = re.compile(
    r"^(?: ?-{2,3}> (?:Running in )?[0-9a-f]{10,64}$"  # ---> 1f2dc35f7774, --> 5e27eca7c92
    r"|Removing intermediate container [0-9a-f]+$"
    r"|Successfully (?:built|tagged) \S+$"
    r"|COMMIT\b.*$"
    r"|[0-9a-f]{64}$)"  # Buildah's last line: the image id
)
LAYER_KEYWORDS = frozenset({"FROM", "RUN", "COPY", "ADD", "WORKDIR"})


def clean(text: str) -> str:
    """One line of engine output without control characters; a carriage return keeps what
    was written after it last (a progress line redrawn in place), trailing blanks go."""
    last = text.rstrip("\r\n").rsplit("\r", 1)[-1]
    return _CONTROL.sub("", last).rstrip()


@dataclass(frozen=True)
class Instruction:
    """A ``Step N/M`` line: the instruction's number, the build's count and its text."""

    number: int
    total: int
    text: str

    @property
    def keyword(self) -> str:
        """``RUN``, ``COPY``… (upper case)."""
        return self.text.split(" ", 1)[0].upper()

    @property
    def makes_layer(self) -> bool:
        """True for the instructions buildx shows as steps; False for settings (ARG, ENV…)."""
        return self.keyword in LAYER_KEYWORDS


class Mark(Enum):
    """What a line that is not an instruction or output says."""

    CACHED = "cached"  # the instruction before it came from the engine's cache
    NOISE = "noise"  # container and image ids, "Successfully built": nothing for a person


def classify(line: str) -> Instruction | Mark | str:
    """An instruction, a mark, or output (the text itself) for one :func:`clean` line."""
    if m := _STEP.match(line):
        number, total = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
        return Instruction(int(number), int(total), " ".join(m.group(5).split()))
    if _CACHED.match(line):
        return Mark.CACHED
    if _NOISE.match(line):
        return Mark.NOISE
    return line


@dataclass(frozen=True)
class Finished:
    """A step that ended: its instruction, how long it took (with the settings after it),
    and whether the engine's cache served it."""

    instruction: Instruction
    seconds: float
    cached: bool


@dataclass
class BuildSteps:
    """Follows a build's lines; says when a step starts and ends, and what is its output.

    :meth:`feed` returns the steps that ended with this line (at most one), :attr:`current`
    is the step running now. Output is whatever the engine printed that is neither an
    instruction nor noise.
    """

    clock: Callable[[], float] = time.monotonic
    current: Instruction | None = None
    started: float = 0.0
    cached: bool = False
    _last: Instruction | None = field(default=None, repr=False)

    def feed(self, line: str) -> tuple[list[Finished], str | None]:
        """The steps ``line`` ended, and the output it carries (None for none)."""
        kind = classify(line)
        if isinstance(kind, Instruction):
            self._last = kind
            if not kind.makes_layer:
                return [], None
            ended = self._end()
            self.current, self.started, self.cached = kind, self.clock(), False
            return ended, None
        if kind is Mark.CACHED:
            if self._last is not None and self._last == self.current:
                self.cached = True
            return [], None
        if kind is Mark.NOISE or not isinstance(kind, str) or not kind.strip():
            return [], None
        return [], kind

    def close(self) -> list[Finished]:
        """The build ended: the step still running ends with it."""
        return self._end()

    def _end(self) -> list[Finished]:
        if self.current is None:
            return []
        done = Finished(self.current, self.clock() - self.started, self.cached)
        self.current = None
        return [done]


def step_line(step: Instruction, width: int = 72) -> str:
    """``[ 6/17] RUN set -eu; …``: the instruction, shortened to ``width`` characters."""
    text = step.text if len(step.text) <= width else step.text[: width - 1] + "…"
    return f"[{step.number:>{len(str(step.total))}}/{step.total}] {text}"


def finished_line(done: Finished, width: int = 72) -> str:
    """A finished step as both displays print it: instruction, duration, ``cached``."""
    mark = "  cached" if done.cached else ""
    return f"{step_line(done.instruction, width):<{width + 8}} {done.seconds:6.1f}s{mark}"
