"""The ``dlc`` command: Invoke's ``Program`` with the library's namespace, for projects
that want no ``tasks.py``.

``dlc push`` is ``inv push`` in a project whose ``tasks.py`` holds ``namespace()``: the
same :class:`~dlc_tasks.cli.executor.DlcExecutor`, the same configuration files
(``/etc/invoke.yaml``, ``~/.invoke.yaml``, the project's ``invoke.yaml`` — the project being
the current directory), the same ``INVOKE_DLC_*`` variables and the
library's own ``DLC_*`` ones. ``dlc --list`` and ``dlc --print-completion-script bash`` are
Invoke's.
"""

from __future__ import annotations

import os
from importlib.metadata import PackageNotFoundError, version

from invoke.program import Program

from dlc_tasks.cli.collection import namespace
from dlc_tasks.cli.executor import DlcExecutor


class DlcProgram(Program):
    """``Program`` that loads the project's ``invoke.yaml`` though it loads no ``tasks.py``."""

    def parse_collection(self) -> None:
        """The bundled namespace, then the project configuration of the current directory."""
        super().parse_collection()
        self.config.set_project_location(os.getcwd())
        self.config.load_project()


def _version() -> str:
    try:
        return version("dlc-tasks")
    except PackageNotFoundError:  # a source tree that was never installed
        return "unknown"


def program() -> DlcProgram:
    """The ``dlc`` program object (a function, not a module global, so tests make their own)."""
    return DlcProgram(
        namespace=namespace(),
        version=_version(),
        name="dlc",
        binary="dlc",
        executor_class=DlcExecutor,
    )


def main() -> None:
    """Console-script entry point."""
    program().run()
