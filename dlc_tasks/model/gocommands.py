"""Go's command lines as the steps run them, and what they print: values, no process.

vet and test together (:func:`check_commands`), the coverage total
(:func:`coverage_command`, :func:`total_coverage`), one binary's ``go build``
(:func:`binary_command`), and the names of failed tests in ``go test``'s output.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_FAILED_TEST = re.compile(r"^\s*--- FAIL: (\S+)")
_FAILED_PKG = re.compile(r"^FAIL\s+(\S+)")
_TOTAL = re.compile(r"^total:\s+\(statements\)\s+([0-9.]+%)")


def failed_tests(lines: Sequence[str]) -> list[str]:
    """The names of failed tests (``--- FAIL: TestX``), else of failed packages."""
    tests = [m.group(1) for line in lines if (m := _FAILED_TEST.match(line))]
    if tests:
        return list(dict.fromkeys(tests))
    return list(dict.fromkeys(m.group(1) for line in lines if (m := _FAILED_PKG.match(line))))


def total_coverage(lines: Sequence[str]) -> str | None:
    """The ``total:`` figure from ``go tool cover -func``."""
    for line in reversed(lines):
        if m := _TOTAL.match(line):
            return m.group(1)
    return None


def check_commands(coverage_file: str) -> list[tuple[str, list[str]]]:
    """vet and test with coverage, as (name, argv) pairs: independent, so they run together.

    No separate ``go build ./...``: vet type-checks every package and test compiles every
    package it tests, so a build of its own would only compile the same code a third time.
    """
    return [
        ("go vet", ["go", "vet", "./..."]),
        (
            "go test",
            ["go", "test", "-covermode=atomic", f"-coverprofile={coverage_file}", "./..."],
        ),
    ]


def coverage_command(coverage_file: str) -> list[str]:
    """``go tool cover -func`` over the profile ``go test`` wrote."""
    return ["go", "tool", "cover", f"-func={coverage_file}"]


def binary_command(main_package: str, out: str, ldflags: str = "-s -w") -> list[str]:
    """``go build`` of one binary with its ``-ldflags`` (:meth:`GoBuild.link_flags`)."""
    return ["go", "build", f"-ldflags={ldflags}", "-o", out, main_package]
