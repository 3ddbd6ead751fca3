"""Shared fixtures for the unit tests: no Docker, no network, no ambient configuration."""

from __future__ import annotations

import io
import os

import pytest

from dlc_tasks.reporting import console as ui

_AMBIENT = (
    "DLC_DEBUG",
    "DLC_REGISTRY_USERNAME",
    "DLC_REGISTRY_PASSWORD",
    "DOCKER_CONFIG",
    "GITHUB_REF_NAME",
    "CI_COMMIT_BRANCH",
    "BRANCH_NAME",
)


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Drop variables from the developer's shell or the CI that would change behaviour."""
    for name in _AMBIENT:
        monkeypatch.delenv(name, raising=False)
    for name in list(os.environ):
        if name.startswith("INVOKE_"):
            monkeypatch.delenv(name)


@pytest.fixture
def quiet_console(monkeypatch: pytest.MonkeyPatch) -> ui.Console:
    """The process console, writing to a buffer instead of the captured stdout."""
    console = ui.Console(stream=io.StringIO())
    monkeypatch.setattr(ui, "_CONSOLE", console)
    return console
