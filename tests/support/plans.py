"""Reading a run's printed decisions, so a dry run and a real run can be compared step by step."""

from __future__ import annotations

import re

_HEADER = re.compile(r"^\[\s*[0-9.]+s\] ==> (\w+)")
_DECISION = re.compile(r"^\[\s*[0-9.]+s\] {5}(would run|run|skip): (.*)$")
_ACTION = re.compile(r"^\[\s*[0-9.]+s\] {7}(.*)$")


def decisions(text: str) -> dict[str, list[str]]:
    """step → its decision line (``would run`` read as ``run``) and its action lines."""
    found: dict[str, list[str]] = {}
    current = None
    for line in text.splitlines():
        if m := _HEADER.match(line):
            current = m.group(1)
            found[current] = []
        elif current and (m := _DECISION.match(line)):
            verb = "run" if m.group(1) == "would run" else m.group(1)
            found[current].append(f"{verb}: {m.group(2)}")
        elif current and found[current] and (m := _ACTION.match(line)):
            found[current].append(m.group(1))
    return found
