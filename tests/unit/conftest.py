"""Shared fixtures for the unit tests: no Docker, no network, no ambient configuration."""

from __future__ import annotations

import io
import os
from typing import Any

import pytest
from invoke.config import Config, merge_dicts

from dlc_tasks.cli.collection import namespace
from dlc_tasks.cli.executor import DlcExecutor
from dlc_tasks.config import DEFAULTS
from dlc_tasks.reporting.console import Console
from dlc_tasks.secrets import forget_all

_AMBIENT = (
    "DLC_DEBUG",
    "DLC_REGISTRY_USERNAME",
    "DLC_REGISTRY_PASSWORD",
    "DOCKER_CONFIG",
    "GITHUB_REF_NAME",
    "CI_COMMIT_BRANCH",
    "BRANCH_NAME",
    "GITHUB_STEP_SUMMARY",
    "GITHUB_OUTPUT",
)


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Drop variables from the developer's shell or the CI that would change behaviour."""
    for name in _AMBIENT:
        monkeypatch.delenv(name, raising=False)
    for name in list(os.environ):
        if name.startswith("INVOKE_"):
            monkeypatch.delenv(name)


@pytest.fixture(autouse=True)
def _no_secrets_across_tests() -> Any:
    """Each test starts with no registered secret (a run registers them for its lifetime)."""
    forget_all()
    yield
    forget_all()


@pytest.fixture
def quiet_console() -> Console:
    """A console writing to a buffer instead of the captured stdout."""
    return Console(stream=io.StringIO())


def invoke_tasks(
    *tasks: Any, dlc: dict[str, Any] | None = None, executor: type[DlcExecutor] = DlcExecutor
) -> dict[Any, Any]:
    """Run tasks as ``inv`` would (the library's namespace and executor), with ``dlc`` settings."""
    config = Config(
        defaults=merge_dicts(Config.global_defaults(), {"dlc": DEFAULTS}),
        overrides={"dlc": dict(dlc or {})},  # above the collection's defaults, as invoke.yaml is
        lazy=True,
    )
    return executor(collection=namespace(), config=config).execute(*tasks)
