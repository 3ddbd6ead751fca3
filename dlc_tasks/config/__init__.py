"""The ``dlc`` section of Invoke's configuration: its options, declared once, and a typed view.

Every option is one row of :mod:`.options` (type, default, help, choices, command-wide flag);
``INVOKE_DLC_*`` variables are read by that table (:mod:`.environment`: lists and mappings as
JSON). The defaults (:mod:`.defaults`, from the table) are registered with
``Collection.configure`` so Invoke's documented order applies: these defaults, then
``/etc/invoke.yaml``, ``~/.invoke.yaml``, the project's ``invoke.yaml``, ``INVOKE_DLC_*``
environment variables, a runtime ``-f`` file, and finally task flags. :class:`Settings`
(:mod:`.settings`) reads the merged tree once per run and validates it with the checks of
:mod:`.values` (paths confined to the project, hosts, build arguments without credentials).

Only the defaults are imported with the package: ``inv --list`` and tab completion need
nothing else, and the settings (with the models they check values against) are imported
when a task first asks for them.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

from dlc_tasks.config.defaults import DEFAULTS, FLAG_KEYS, PACKAGE_TEMPLATES

if TYPE_CHECKING:
    from dlc_tasks.config.settings import Retries, Settings, Timeouts, settings
    from dlc_tasks.config.values import (
        ci_install,
        confined,
        is_loopback,
        require_go_module,
    )
    from dlc_tasks.errors import NotAGoModule

_LAZY = {
    "Retries": "dlc_tasks.config.settings",
    "Settings": "dlc_tasks.config.settings",
    "Timeouts": "dlc_tasks.config.settings",
    "settings": "dlc_tasks.config.settings",
    "NotAGoModule": "dlc_tasks.errors",
    "ci_install": "dlc_tasks.config.values",
    "confined": "dlc_tasks.config.values",
    "is_loopback": "dlc_tasks.config.values",
    "require_go_module": "dlc_tasks.config.values",
}

__all__ = [
    "DEFAULTS",
    "FLAG_KEYS",
    "PACKAGE_TEMPLATES",
    "NotAGoModule",
    "Retries",
    "Settings",
    "Timeouts",
    "ci_install",
    "confined",
    "is_loopback",
    "require_go_module",
    "settings",
]


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'dlc_tasks.config' has no attribute {name!r}")
    module = importlib.import_module(_LAZY[name])
    globals().update({n: getattr(module, n) for n, where in _LAZY.items() if where == _LAZY[name]})
    return globals()[name]


class _ConfigPackage(types.ModuleType):
    """This package, keeping ``settings`` the function: importing the submodule of that name
    (from here, or anywhere) makes the import system bind the package's ``settings`` to the
    submodule, which would hide the function once the imports are lazy."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "settings" and isinstance(value, types.ModuleType):
            return  # __getattr__ gives the function
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _ConfigPackage
