"""dlc-tasks: ADR 0020's two-stage Docker build for a Go module, as Invoke tasks.

The package reads as its architecture, each layer importing only the ones below it
(``tests/unit/test_layers.py`` holds the order):

* ``cli``: the Invoke surface (tasks, their collection, the executor that gives an
  invocation one run and one configuration object, the ``dlc`` program);
* ``checks``: tasks around the chain that use its steps (doctor, cache-env, explain);
* ``steps``: the chain as :class:`~dlc_tasks.steps.base.Step` objects and the runner
  that the chain, ``--dry-run``, ``inv ci`` and ``check.cache-env`` share; beside it,
  ``housekeeping`` (base images, prune, workflows, init's files);
* ``run``: one invocation's settings, facts, console, clients and outcomes, and its one
  preparation (``Run.prepare``: the local registry, the CA), before a real run's first step;
* ``facts``: what a run reads from the world, each value computed once;
* ``clients`` (the engine, the Go container, registries, credentials, trust, git, the
  local registry) and
  ``reporting`` (console, report.json and history, ``inv report``);
* ``config``: the ``dlc`` defaults and the validated settings;
* ``model`` (values: hash, source tree, references, VERSION, rendering, stamps, images)
  and ``project`` (what a Go module says about itself); ``_files``, ``errors`` and
  ``secrets`` (the one redaction point).

What another project's ``tasks.py`` needs is named in ``__all__`` and imported lazily,
so ``inv --list`` and tab completion stay as fast as a bare ``tasks.py``.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_PUBLIC = {
    "namespace": "dlc_tasks.cli.collection",
    "DlcExecutor": "dlc_tasks.cli.executor",
    "run_of": "dlc_tasks.cli.executor",
    "Run": "dlc_tasks.run",
    "Settings": "dlc_tasks.config",
    "DEFAULTS": "dlc_tasks.config",
    "DlcError": "dlc_tasks.errors",
    "Step": "dlc_tasks.steps.base",
    "Status": "dlc_tasks.steps.base",
    "make_step": "dlc_tasks.steps",
}

__all__ = [
    "DEFAULTS",
    "DlcError",
    "DlcExecutor",
    "Run",
    "Settings",
    "Status",
    "Step",
    "make_step",
    "namespace",
    "run_of",
]
assert sorted(__all__) == sorted(_PUBLIC)  # noqa: S101  (one list, checked at import)


def __getattr__(name: str) -> Any:
    if name in _PUBLIC:
        return getattr(importlib.import_module(_PUBLIC[name]), name)
    raise AttributeError(f"module 'dlc_tasks' has no attribute {name!r}")
