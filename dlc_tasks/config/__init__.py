"""The ``dlc`` section of Invoke's configuration: its defaults, declared once, and a typed view.

The defaults (:mod:`.defaults`) are registered with ``Collection.configure`` so Invoke's
documented order applies: these defaults, then ``/etc/invoke.yaml``, ``~/.invoke.yaml``,
the project's ``invoke.yaml``, ``INVOKE_DLC_*`` environment variables, a runtime ``-f``
file, and finally task flags. :class:`Settings` (:mod:`.settings`) reads the merged tree
once per run and validates it with the checks of :mod:`.values` (paths confined to the
project, hosts, build arguments without credentials).
"""

from dlc_tasks.config.defaults import DEFAULTS, FLAG_KEYS, PACKAGE_TEMPLATES
from dlc_tasks.config.settings import Retries, Settings, Timeouts, settings
from dlc_tasks.config.values import (
    NotAGoModule,
    ci_install,
    confined,
    is_loopback,
    require_go_module,
)

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
