"""nox sessions a project imports instead of copying: ``from dlc_tasks.nox_sessions import *``.

``ci`` runs the pipeline (``inv ci``; ``nox -s ci -- TASK…`` runs those tasks instead) with
the interpreter nox runs under, where dlc-tasks is installed (the workflow's ``pip install``),
so a project's ``noxfile.py`` is two lines and ``nox -s ci`` works there as here.
"""

from __future__ import annotations

import sys

import nox

__all__ = ["ci"]


@nox.session(venv_backend="none", default=False)
def ci(session: nox.Session) -> None:
    """The pipeline (`inv ci`); `nox -s ci -- TASK…` runs those tasks instead, e.g. `-- cache`."""
    session.run(sys.executable, "-m", "invoke", *(session.posargs or ["ci"]), external=True)
