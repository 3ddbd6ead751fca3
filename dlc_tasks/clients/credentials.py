"""Registry credentials, found as the docker CLI finds them; never from arguments.

Order: ``DLC_REGISTRY_USERNAME`` / ``DLC_REGISTRY_PASSWORD`` (what a CI secret
sets), then ``~/.docker/config.json`` (``DOCKER_CONFIG`` honoured) through the
docker SDK's own resolution (:mod:`docker.auth`, :mod:`docker.credentials`):
``credHelpers[registry]``, then ``credsStore``, then ``auths`` (keys ``host``,
``https://host``, and Docker Hub's ``https://index.docker.io/v1/``), where an
entry holds ``auth`` (user:password) or an ``identitytoken`` (an OAuth2 refresh
token). Else none: anonymous.

A credential helper is run by :mod:`.credhelper` (a deadline, ``dlc.timeouts.helper``,
and a strict reading of its answer), not by the SDK. Every password, identity token and
helper secret found is registered with :func:`dlc_tasks.secrets.register`, so no line
the tool writes can hold it.

A :class:`Credentials` keeps its *source* (``environment``, ``credential helper
NAME``, ``config.json``) for error messages and ``inv doctor``; its ``repr``
hides the secrets, so they cannot leak through a log line or an exception.
"""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dlc_tasks.clients import credhelper
from dlc_tasks.errors import ConfigError, CredentialHelperError
from dlc_tasks.secrets import register

__all__ = ["CredentialHelperError", "Credentials", "docker_config_file", "lookup"]

ENV_SOURCE = "environment (DLC_REGISTRY_USERNAME)"
TOKEN_USERNAME = "<token>"  # noqa: S105 — what docker login stores as the user of an identity token


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
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        return None
    except OSError as err:
        raise ConfigError(
            f"cannot read {path}: {err.strerror}", hint="fix its permissions"
        ) from err
    except UnicodeDecodeError as err:
        raise ConfigError(
            f"{path} is not UTF-8 (byte {err.start})", hint="fix it or run docker login again"
        ) from err
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as err:
        raise ConfigError(
            f"{path} is not valid JSON (line {getattr(err, 'lineno', '?')})",
            hint="fix it or run docker login again",
        ) from err
    if not isinstance(data, dict):
        raise ConfigError(f"{path} is not a JSON object", hint="fix it or run docker login again")
    return data


HELPER_DEADLINE = 30.0


def lookup(registry: str, *, helper_deadline: float = HELPER_DEADLINE) -> Credentials | None:
    """Credentials for ``registry`` (host[:port]), or None for anonymous access.

    A credential helper gets ``helper_deadline`` seconds to answer (``dlc.timeouts.helper``).
    """
    user = os.environ.get("DLC_REGISTRY_USERNAME")
    password = os.environ.get("DLC_REGISTRY_PASSWORD")
    if user and password is not None:
        register(password)
        return Credentials(user, password, source=ENV_SOURCE)
    path = docker_config_file()
    data = _read_config(path)
    if data is None:
        return None
    import docker.auth  # noqa: PLC0415  (kept out of `inv --list`'s start-up)
    import docker.errors  # noqa: PLC0415

    _check_helpers(data, path)
    auths = data.get("auths")
    for entry in auths.values() if isinstance(auths, dict) else ():
        if isinstance(entry, dict):  # every secret the file holds, before anything can fail
            for key in ("auth", "identitytoken", "password"):
                _register_found(entry.get(key), decode=key == "auth")
    try:
        config = docker.auth.load_config(config_dict=data)
    except (ValueError, TypeError, AttributeError, docker.errors.DockerException) as err:
        raise ConfigError(
            f"{path} has a malformed auths entry", hint="fix it or run docker login again"
        ) from err
    found = _from_helper(config, registry, path, helper_deadline)
    if found is not None:
        return found
    # No helper, or the helper has no login for it: the auths entry, as the SDK resolves it.
    entry = docker.auth.AuthConfig({"auths": config.auths}).resolve_authconfig(registry)
    return _from_auths(entry, registry, path) if entry else None


def _from_helper(config: Any, registry: str, path: Path, deadline: float) -> Credentials | None:
    """The login the credential helper ``config`` names for ``registry`` holds, if any."""
    import docker.auth  # noqa: PLC0415

    if not (config.creds_store or config.cred_helpers):
        return None
    store = config.get_credential_store(registry)
    if store is None:
        return None
    # The SDK's key rule: Docker Hub is asked as https://index.docker.io/v1/.
    server = docker.auth.INDEX_URL if registry in ("", docker.auth.INDEX_NAME) else registry
    found = credhelper.get(str(store), server, deadline=deadline, config=path)
    if found is None:
        return None
    per_registry = docker.auth.AuthConfig({"credHelpers": dict(config.cred_helpers)})
    kind = "credHelpers" if per_registry.get_credential_store(registry) else "credsStore"
    source = f"credential helper {store} ({kind} in {path})"
    name, secret = found
    if name == TOKEN_USERNAME:
        return Credentials(TOKEN_USERNAME, identity_token=secret, source=source)
    return Credentials(name, secret, source=source)


def _from_auths(entry: dict[str, Any], registry: str, path: Path) -> Credentials | None:
    """The credentials of an ``auths`` entry (as the SDK parsed it)."""
    source = f"auths in {path}"
    token = entry.get("IdentityToken") or entry.get("identitytoken")
    if token:
        if not isinstance(token, str):
            raise ConfigError(
                f"{path}: the identitytoken for {registry} is not a string",
                hint="fix it or run docker login again",
            )
        return Credentials(TOKEN_USERNAME, identity_token=token, source=source)
    name = entry.get("Username") or entry.get("username")
    secret = entry.get("Password") or entry.get("password")
    if not name:
        return None
    return Credentials(str(name), str(secret or ""), source=source)


def _register_found(value: object, *, decode: bool) -> None:
    """Register a secret found in config.json (an ``auth`` blob: itself and its password)."""
    if not isinstance(value, str) or not value:
        return
    register(value)
    if decode:
        try:
            _, _, secret = base64.b64decode(value).decode("utf-8").partition(":")
        except (ValueError, UnicodeDecodeError):
            return
        register(secret)


def _check_helpers(data: dict[str, Any], path: Path) -> None:
    """``credsStore`` a string, ``credHelpers`` an object of strings: else one line."""
    store, helpers = data.get("credsStore"), data.get("credHelpers")
    good_store = store is None or isinstance(store, str)
    good_helpers = helpers is None or (
        isinstance(helpers, dict)
        and all(isinstance(k, str) and isinstance(v, str) for k, v in helpers.items())
    )
    if not (good_store and good_helpers):
        raise ConfigError(
            f"{path}: credsStore must be a helper name and credHelpers an object of "
            "registry: helper name",
            hint="fix it or run docker login again",
        )
