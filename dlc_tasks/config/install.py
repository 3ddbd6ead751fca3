"""How a CI runner installs this dlc-tasks: the way it was installed here (PEP 610).

dlc-tasks is not on PyPI, so the written workflow cannot ``pip install dlc-tasks``. The
default ``dlc.ci.install`` follows what pip recorded in ``direct_url.json`` when it
installed the running library:

* from git (``pip install "dlc-tasks @ git+URL"``): the same URL at the same commit;
* from a wheel or archive on an http(s) server: that URL;
* from an index (no ``direct_url.json``): ``dlc-tasks==VERSION`` from that index (a private
  one is given to pip through a secret, ``PIP_INDEX_URL``);
* from a path (a checkout, a local wheel, an editable install), which no runner can reach:
  a wheel of this library committed with the workflow, in :data:`WHEEL_DIR`
  (:mod:`dlc_tasks.housekeeping.wheel` writes it).

Always with ``nox``, which runs the pipeline.
"""

from __future__ import annotations

import json
import re
from importlib.metadata import Distribution, distributions
from urllib.parse import urlsplit

NAME = "dlc-tasks"
WHEEL_DIR = ".dlc-tasks"  # a folder Go and the source digest skip (its name starts with .)


def installed() -> Distribution | None:
    """The installed dlc-tasks (one an installer recorded: not a source tree's egg-info)."""
    for dist in distributions(name=NAME):
        if dist.read_text("INSTALLER") is not None:
            return dist
    return None


def wheel_name(version: str) -> str:
    """The file name of this library's pure-Python wheel."""
    return f"dlc_tasks-{re.sub(r'[^A-Za-z0-9.]+', '_', version)}-py3-none-any.whl"


def bundled_wheel(version: str) -> str:
    """pip's argument for the wheel committed in the project, from its root."""
    return f"./{WHEEL_DIR}/{wheel_name(version)}"


def _has_userinfo(url: str) -> bool:
    return "@" in (urlsplit(url).netloc or "")


def requirement(dist: Distribution) -> str:
    """How pip on a runner gets this distribution (see the module's docstring)."""
    version = dist.version
    text = dist.read_text("direct_url.json")
    if text is None:
        return f"{NAME}=={version}"  # from an index
    try:
        direct = json.loads(text)
    except ValueError:
        return bundled_wheel(version)
    url = str(direct.get("url") or "")
    vcs = direct.get("vcs_info")
    if isinstance(vcs, dict) and url and not _has_userinfo(url):
        commit = vcs.get("commit_id") or vcs.get("requested_revision")
        return f"{NAME} @ {vcs.get('vcs', 'git')}+{url}" + (f"@{commit}" if commit else "")
    web = url.startswith(("https://", "http://")) and not _has_userinfo(url)
    if "archive_info" in direct and web:
        return f"{NAME} @ {url}"
    return bundled_wheel(version)  # a path no runner can reach (or a URL with credentials)


def default_ci_install() -> list[str]:
    """``dlc.ci.install`` when unset: nox and this library, as a runner can install it."""
    dist = installed()
    if dist is None:  # a source tree that was never installed: nothing to point at
        return ["nox", NAME]
    return ["nox", requirement(dist)]
