"""The build chain as steps: hash, cache, generate, test, prod, push and dev.

Each step knows its inputs, its up-to-date check, what it would do and how to do it
(:mod:`dlc_tasks.steps.base`); the chain, ``--dry-run``, ``inv ci`` and ``check.cache-env``
iterate the same steps through :mod:`dlc_tasks.steps.runner`.
"""

from __future__ import annotations

from typing import Any

from dlc_tasks.steps.base import Decision, Done, Status, Step
from dlc_tasks.steps.cache import CacheStep
from dlc_tasks.steps.dev import DevStep
from dlc_tasks.steps.generate import GenerateStep
from dlc_tasks.steps.hash import HashStep
from dlc_tasks.steps.prod import ProdStep
from dlc_tasks.steps.push import PushStep
from dlc_tasks.steps.test import TestStep

CHAIN: tuple[str, ...] = ("hash", "cache", "generate", "test", "prod", "push")


def make_step(name: str, *, force: bool = False) -> Step[Any]:
    """The step called ``name`` (``force`` applies to ``cache``)."""
    makers: dict[str, type[Step[Any]]] = {
        "hash": HashStep,
        "generate": GenerateStep,
        "test": TestStep,
        "prod": ProdStep,
        "push": PushStep,
        "dev": DevStep,
    }
    if name == "cache":
        return CacheStep(force=force)
    return makers[name]()


__all__ = ["CHAIN", "Decision", "Done", "Status", "Step", "make_step"]
