"""Reading a run's printed decisions, so a dry run and a real run can be compared step by step."""

from __future__ import annotations

import re

_HEADER = re.compile(r"^\[\s*[0-9.]+s\] ==> (\w+)")
_DECISION = re.compile(r"^\[\s*[0-9.]+s\] {5}(would run|may run|run|skip): (.*)$")
_ACTION = re.compile(r"^\[\s*[0-9.]+s\] {7}(.*)$")


def decisions(text: str) -> dict[str, list[str]]:
    """step → its decision line (``would run`` read as ``run``; ``may run`` kept) and its
    action lines."""
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


def matches(planned: list[str], done: list[str]) -> bool:
    """True when a step's plan is what the run did: the same lines, or (``may run``) a run
    or a skip, whichever the earlier step's output made it; the actions, if it ran."""
    if planned[0].startswith("may run:"):
        return done[0].startswith("skip:") or done[1:] == planned[1:]
    return planned == done
