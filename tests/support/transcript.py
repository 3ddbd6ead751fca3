"""The structure of what a run printed, so a capture in docs/ can be compared with a run now.

A terminal capture (tmux, no timestamps, ``$`` command echoes) and a plain run (timestamps)
of the same scenario have one structure: the task headers, each step's decision and its
actions (the Docker and Go commands), the build steps, each step's status; with times,
digests, hashes, registry addresses and absolute paths masked, and "cached" marks left
out (whether the engine's layer cache served a step depends on the machine).
"""

from __future__ import annotations

import re

_PLAIN_PREFIX = re.compile(r"^\[\s*[0-9.]+s\] ")
_HEADER = re.compile(r"^==> \S+")
_DECISION = re.compile(r"^ {4}(run|skip|would run|may run): ")
_ACTION = re.compile(r"^ {6,}\S")
_BUILD_STEP = re.compile(r"^ {4}\[\s*\d+/\d+\] ")
_STATUS = re.compile(r"^ {4}[\w.-]+: (ran|hit|miss|skipped|failed|planned|interrupted) in ")
_MASKS = [
    (re.compile(r"\b(?:127\.0\.0\.1|localhost):\d+\b"), "REGISTRY"),
    (re.compile(r"(?<![\w.\]])(?:/[\w.@+-]+)+/(?=[\w.-])"), "/PATH/"),  # absolute paths
    (re.compile(r"\b[0-9a-f]{12,64}\b"), "HEX"),
    (re.compile(r"\b\d+\.\d+s\b"), "T"),
    (re.compile(r"\s+cached$"), ""),
    (re.compile(r"\s{2,}"), " "),
]


def _masked(line: str) -> str:
    for pattern, replacement in _MASKS:
        line = pattern.sub(replacement, line)
    return line.strip()


def structure(text: str) -> list[str]:
    """The structural lines of a run's output, masked; the same for terminal and plain."""
    found: list[str] = []
    in_decision = False
    for raw in text.splitlines():
        line = _PLAIN_PREFIX.sub("", raw.rstrip())
        if _HEADER.match(line) or _BUILD_STEP.match(line):
            in_decision = False
            found.append(_masked(line))
        elif _DECISION.match(line):
            in_decision = True
            found.append(_masked(line))
        elif in_decision and _ACTION.match(line):
            found.append("  " + _masked(line))
        elif _STATUS.match(line):
            in_decision = False
            found.append(_masked(line.split(" in ", 1)[0]))
        else:
            in_decision = False
    return found
