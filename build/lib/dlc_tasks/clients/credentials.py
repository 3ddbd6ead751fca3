"""Registry credentials: from the environment or Docker's own config, never from arguments.

Order: ``DLC_REGISTRY_USERNAME`` / ``DLC_REGISTRY_PASSWORD`` (what a CI secret
sets), then the ``auths`` entry for the registry in ``~/.docker/config.json``
(what ``docker login`` writes), else none. Credentials are held in a
:class:`Credentials` object whose ``repr`` hides the password, so they cannot
leak through a log line or an exception message.
"""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Credentials:
    """A username and a password that never prints."""

    username: str
    password: str = field(repr=False)

    def auth_config(self) -> dict[str, str]:
        """The docker SDK's ``auth_config`` for push and pull."""
        return {"username": self.username, "password": self.password}


def _docker_config_dir() -> Path:
    return Path(os.environ.get("DOCKER_CONFIG") or Path.home() / ".docker")


def lookup(registry: str) -> Credentials | None:
    """Credentials for ``registry`` (host[:port]), or None for anonymous access."""
    user = os.environ.get("DLC_REGISTRY_USERNAME")
    password = os.environ.get("DLC_REGISTRY_PASSWORD")
    if user and password is not None:
        return Credentials(user, password)
    try:
        data = json.loads((_docker_config_dir() / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    auths = data.get("auths", {}) if isinstance(data, dict) else {}
    for key in (registry, f"https://{registry}", f"http://{registry}"):
        entry = auths.get(key)
        if isinstance(entry, dict) and entry.get("auth"):
            try:
                decoded = base64.b64decode(entry["auth"]).decode("utf-8")
            except (ValueError, UnicodeDecodeError):
                return None
            name, _, secret = decoded.partition(":")
            return Credentials(name, secret)
    return None
