"""Registry credentials, found as the docker CLI finds them; never from arguments.

Order: ``DLC_REGISTRY_USERNAME`` / ``DLC_REGISTRY_PASSWORD`` (what a CI secret
sets), then ``~/.docker/config.json`` (``DOCKER_CONFIG`` honoured) through the
docker SDK's own resolution (:mod:`docker.auth`, :mod:`docker.credentials`):
``credHelpers[registry]``, then ``credsStore``, then ``auths`` (keys ``host``,
``https://host``, and Docker Hub's ``https://index.docker.io/v1/``), where an
entry holds ``auth`` (user:password) or an ``identitytoken`` (an OAuth2 refresh
token). Else none: anonymous.

A :class:`Credentials` keeps its *source* (``environment``, ``credential helper
NAME``, ``config.json``) for error messages and ``inv doctor``; its ``repr``
hides the secrets, so they cannot leak through a log line or an exception.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dlc_tasks.errors import ConfigError, RegistryAuthError

ENV_SOURCE = "environment (DLC_REGISTRY_USERNAME)"
TOKEN_USERNAME = "<token>"  # noqa: S105 — what docker login stores as the user of an identity token


class CredentialHelperError(RegistryAuthError):
    """A credential helper (credsStore / credHelpers) failed."""

    hint = "run docker login again, or check the helper named in ~/.docker/config.json"


@dataclass(frozen=True)
class Credentials:
    """A username with a password or an identity token, and where they came from."""

    username: str
    password: str = field(default="", repr=False)
    identity_token: str | None = field(default=None, repr=False)
    source: str = field(default="environment", compare=False)

    def auth_config(self) -> dict[str, str]:
        """The docker SDK's ``auth_config`` for push and pull (the engine's own field names)."""
        if self.identity_token:
            return {"identitytoken": self.identity_token}
        return {"username": self.username, "password": self.password}


def docker_config_file() -> Path:
    """``$DOCKER_CONFIG/config.json``, or ``~/.docker/config.json``."""
    return Path(os.environ.get("DOCKER_CONFIG") or Path.home() / ".docker") / "config.json"


def _read_config(path: Path) -> dict[str, Any] | None:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as err:
        raise ConfigError(
            f"cannot read {path}: {err.strerror}", hint="fix its permissions"
        ) from None
    try:
        data = json.loads(text)
    except ValueError as err:
        raise ConfigError(
            f"{path} is not valid JSON (line {getattr(err, 'lineno', '?')})",
            hint="fix it or run docker login again",
        ) from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path} is not a JSON object", hint="fix it or run docker login again")
    return data


def lookup(registry: str) -> Credentials | None:
    """Credentials for ``registry`` (host[:port]), or None for anonymous access."""
    user = os.environ.get("DLC_REGISTRY_USERNAME")
    password = os.environ.get("DLC_REGISTRY_PASSWORD")
    if user and password is not None:
        return Credentials(user, password, source=ENV_SOURCE)
    path = docker_config_file()
    data = _read_config(path)
    if data is None:
        return None
    import docker.auth  # noqa: PLC0415  (kept out of `inv --list`'s start-up)
    import docker.errors  # noqa: PLC0415

    try:
        config = docker.auth.load_config(config_dict=data)
    except (ValueError, TypeError, AttributeError, docker.errors.DockerException):
        raise ConfigError(
            f"{path} has a malformed auths entry", hint="fix it or run docker login again"
        ) from None
    helpers = config.creds_store or config.cred_helpers
    store = config.get_credential_store(registry) if helpers else None
    if store is not None and shutil.which(f"docker-credential-{store}") is None:
        raise CredentialHelperError(
            f"{path} names the credential helper docker-credential-{store} for {registry}, "
            "which is not on PATH",
            hint=f"install docker-credential-{store}, or remove it from {path}",
        )
    try:
        entry = config.resolve_authconfig(registry)
    except docker.errors.DockerException as err:
        raise CredentialHelperError(
            f"credential helper docker-credential-{store} failed for {registry}: "
            f"{' '.join(str(err).split())[:200]}"
        ) from None
    if not entry:
        return None
    if store is not None and "ServerAddress" in entry:
        # The SDK's own key rule (docker.io is looked up as https://index.docker.io/v1/), asked
        # of the credHelpers alone: did the helper come from there, or from credsStore?
        per_registry = docker.auth.AuthConfig({"credHelpers": dict(config.cred_helpers)})
        kind = "credHelpers" if per_registry.get_credential_store(registry) else "credsStore"
        source = f"credential helper {store} ({kind} in {path})"
    else:
        source = f"auths in {path}"
    token = entry.get("IdentityToken") or entry.get("identitytoken")
    if token:
        return Credentials(TOKEN_USERNAME, identity_token=str(token), source=source)
    name = entry.get("Username") or entry.get("username")
    secret = entry.get("Password") or entry.get("password")
    if not name:
        return None
    return Credentials(str(name), str(secret or ""), source=source)
