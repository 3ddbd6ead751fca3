"""Checks for single configuration values: argument lists, maps, ports, flags, paths confined
to the project, hosts, build arguments and pip arguments without credentials."""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from pathlib import Path

from dlc_tasks.config.defaults import GO_BUILD_ARGS, STATE_DIR
from dlc_tasks.errors import ConfigError, InvalidValue, NotAGoModule

# scheme://user[:password]@ anywhere in a value (GOPROXY may be a comma-separated list)
_USERINFO = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^/?#@\s,|]*@")


GO_SYMBOL = re.compile(r"[A-Za-z0-9_.~/-]*[A-Za-z0-9_]\.[A-Za-z_][A-Za-z0-9_]*")


def as_list_of_argv(value: object, what: str) -> list[list[str]]:
    if not isinstance(value, list) or not all(
        isinstance(step, list) and step and all(isinstance(a, str) for a in step) for step in value
    ):
        raise ConfigError(f"{what} must be a list of argument lists, got {value!r}")
    return [list(step) for step in value]


def globs_inside(value: object, key: str) -> list[str]:
    """Glob patterns relative to project_dir that cannot name anything outside it."""
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ConfigError(f"{key} must be a list of glob patterns, got {value!r}")
    for pattern in value:
        if pattern.startswith(("/", "~")) or ".." in Path(pattern).parts:
            raise InvalidValue(
                f"{key} pattern {pattern!r} reaches outside project_dir",
                hint=f"write dlc.{key} relative to the project, e.g. api/*.yaml",
            )
    return list(value)


def as_str_map(value: object, what: str) -> dict[str, str]:
    if not isinstance(value, Mapping):
        raise ConfigError(f"{what} must be a mapping, got {value!r}")
    out = {}
    for key, val in value.items():
        if not isinstance(key, str) or not key.isidentifier():
            raise InvalidValue(f"{what}: invalid build argument name {key!r}")
        if key in GO_BUILD_ARGS:
            raise InvalidValue(
                f"{what}: {key} is set by dlc-tasks from {GO_BUILD_ARGS[key]}",
                hint="set that instead: the Go steps and the cache image's warm-up must agree",
            )
        if _USERINFO.search(str(val)):
            raise InvalidValue(
                f"{what}: {key} holds a URL with credentials (user:password@), which would be "
                "baked into the cache image built from Dockerfile.build (ENV, history)",
                hint="serve modules from dlc.goproxy_dir, or give the engine a netrc as a "
                "BuildKit secret (RUN --mount=type=secret,id=netrc) where BuildKit is available",
            )
        out[key] = str(val)
    return out


def ci_install(value: object) -> list[str]:
    """``ci.install``: pip's arguments in the written workflow (quoted there, one each);
    unset, nox and dlc-tasks as this one was installed (:mod:`dlc_tasks.config.install`)."""
    if value is None:
        from dlc_tasks.config.install import default_ci_install  # noqa: PLC0415

        return default_ci_install()
    if isinstance(value, str):
        value = value.split()
    if not isinstance(value, list) or not value or not all(isinstance(a, str) for a in value):
        raise ConfigError(f"ci.install must be a list of pip arguments, got {value!r}")
    for arg in value:
        if not arg or not arg.isprintable():
            raise InvalidValue(f"ci.install: refusing {arg!r} (empty, or a control character)")
        if _USERINFO.search(arg):
            raise InvalidValue(
                "ci.install: refusing a URL with credentials (user:password@): the workflow "
                "file is committed",
                hint="give pip its index through a secret (PIP_INDEX_URL), not in the file",
            )
    return list(value)


def check_source_url(value: object) -> str | None:
    """``dlc.source_url``: an http(s) URL without user information or control characters.

    It becomes the ``org.opencontainers.image.source`` label of every production image, so a
    token in it (``https://user:TOKEN@gitea…``) would be published with the image."""
    if value in (None, ""):
        return None
    text = str(value)
    if any(ord(c) < 32 or ord(c) == 127 for c in text):
        raise InvalidValue(f"source_url holds a control character: {text[:60]!r}")
    if _USERINFO.search(text):
        raise InvalidValue(
            "source_url holds credentials (user:password@); it is published in the image's labels",
            hint="give the repository's web address without them",
        )
    if not text.startswith(("https://", "http://")):
        raise InvalidValue(f"source_url must be an http(s) URL, got {text[:60]!r}")
    return text


def data_dir(value: object) -> Path | None:
    """``local_registry.data_dir`` (outside the project by design); it goes into a YAML file."""
    if not value:
        return None
    text = str(value)
    if any(ch in text for ch in "\n\r\t\0:#'\"") or text != text.strip():
        raise InvalidValue(
            f"local_registry.data_dir {text!r} holds characters that break the registry's YAML"
        )
    return Path(text).expanduser()


def port_number(value: object) -> int:
    port = int(str(value))
    if not 0 < port < 65536:
        raise InvalidValue(f"local_registry.port {value!r} is not a TCP port (1-65535)")
    return port


def flag(value: object) -> bool:
    """A boolean from YAML, an environment variable (``1``, ``true``, ``yes``) or a flag."""
    return str(value).lower() in ("1", "true", "yes")


def inside(project_dir: Path, value: object, what: str) -> Path | None:
    if not value:
        return None
    path = confined(project_dir, value, what)
    if not path.is_dir():
        raise ConfigError(f"{what} {value!r} must be a directory inside project_dir")
    return path


def confined(project_dir: Path, value: object, key: str) -> Path:
    """``value`` resolved against project_dir (symlinks followed), or one error naming ``key``.

    Every path the tool writes or sends comes from here, so ``../../etc/cron.d/x`` or a
    symlinked directory pointing outside the project is refused before any step runs.
    """
    path = (project_dir / str(value)).resolve()
    if not path.is_relative_to(project_dir) or path == project_dir:
        raise InvalidValue(
            f"{key} {value!r} resolves to {path}, outside project_dir {project_dir}",
            hint=f"set dlc.{key} to a path inside the project",
        )
    return path


def require_go_module(project_dir: object, said: str = "") -> Path:
    """``project_dir`` resolved, or one line saying it holds no ``go.mod`` (then ``said``).

    Checked before a chain task or ``report`` starts, so that nothing (``.dlc/``, a report,
    a chart, ``deps_hash.env``) is written into a directory that is not a module.
    """
    path = Path(str(project_dir)).expanduser().resolve()
    if not (path / "go.mod").is_file():
        raise NotAGoModule(f"{path} is not a Go module (no go.mod){said}")
    return path


def check_state_dir(project_dir: Path) -> Path:
    """``project_dir/.dlc``, refused with one line when it, or anything in it or in its
    ``bin/``, is a symlink.

    The tool writes its state, report, history, binary and copy-back staging there: through
    a link (a committed ``.dlc -> /elsewhere``) they would land outside the project, or, for
    a link inside it, in the source tree. The tool makes the folder itself.
    """
    state_dir = project_dir / STATE_DIR
    for path in (state_dir, *_children(state_dir), *_children(state_dir / "bin")):
        if path.is_symlink():
            rel = path.relative_to(project_dir).as_posix()
            raise InvalidValue(
                f"{rel} is a symlink (to {os.readlink(path)}): the tool writes its own files "
                "there, and they must stay inside project_dir",
                hint=f"remove the link (rm {rel}); the tool makes what it needs",
            )
    return state_dir


def _children(folder: Path) -> list[Path]:
    """The entries of a real folder (not through a link), or none."""
    if folder.is_symlink() or not folder.is_dir():
        return []
    return sorted(folder.iterdir())


_HOST = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?")


def check_host(value: object, key: str) -> str:
    """A host name or an IPv4 address, nothing that could break a YAML document or a command.

    Refused: any control character or space, an IPv6 scope id (``%…``, which ``ipaddress``
    accepts whatever it holds, newlines included), and IPv6 addresses: the local registry's
    address becomes ``HOST:PORT`` in image references, which engine 20.10 cannot parse for
    a bracketed ``[::1]:5000`` (and an unbracketed one is ambiguous).
    """
    host = str(value)
    if "%" in host or any(ch.isspace() or not ch.isprintable() for ch in host):
        raise InvalidValue(
            f"{key} {host!r} holds a space, a control character or an IPv6 scope id (%)",
            hint=f"set dlc.{key} to a host name or an IPv4 address, e.g. 127.0.0.1",
        )
    try:
        address = ipaddress.ip_address(host)
    except ValueError as err:
        if not _HOST.fullmatch(host):
            raise InvalidValue(
                f"{key} {host!r} is not a host name or IP address",
                hint=f"set dlc.{key} to e.g. 127.0.0.1",
            ) from err
        return host
    if address.version == 6:
        raise InvalidValue(
            f"{key} {host!r} is an IPv6 address: image references cannot name a registry at "
            f"[{host}]:PORT on this engine",
            hint=f"set dlc.{key} to 127.0.0.1 (the local registry listens on loopback)",
        )
    return host


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and localhost: where the engine allows plain HTTP."""
    if host.startswith("["):
        name = host[1:].split("]", 1)[0]
    elif host.count(":") == 1:
        name = host.rsplit(":", 1)[0]
    else:
        name = host
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False
