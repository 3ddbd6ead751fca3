"""The generic production image's settings (``dlc.image``) and the instructions they become.

Pure: validates the configuration and builds the Dockerfile lines the packaged
``Dockerfile.prod.template`` holds as ``{{ base }}``, ``{{ files }}``, ``{{ ports }}``,
``{{ healthcheck }}``, ``{{ user }}`` and ``{{ entrypoint }}``. Every value is checked
here, and argument lists are written in JSON (exec) form, so configuration is data: it
can add no instruction and no shell.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from dlc_tasks.errors import ConfigError, InvalidValue

DEFAULT_USER = "65532:65532"
_USER = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*(:[A-Za-z0-9_][A-Za-z0-9_.-]*)?")
_PORT = re.compile(r"([0-9]{1,5})(/(tcp|udp|sctp))?")
_IMAGE = re.compile(r"[a-z0-9][A-Za-z0-9._/:@-]*")
_UNSAFE = re.compile(r"[\x00-\x1f\x7f\"'\\$`]")
HEALTH_TIMING = "--interval=30s --timeout=3s --start-period=5s"
IMAGE_KEYS = ("base", "ports", "healthcheck", "args", "user")

# For a scratch image: a passwd and group naming the default non-root user, and root.
# account entries, no password: "x" points at a shadow file that does not exist
PASSWD = (
    "root:x:0:0:root:/root:/sbin/nologin\n"  # noqa: S105
    "nonroot:x:65532:65532:nonroot:/nonexistent:/sbin/nologin\n"
)
GROUP = "root:x:0:\nnonroot:x:65532:\n"


def _argv(value: object, what: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(a, str | int) for a in value):
        raise ConfigError(f"{what} must be an argument list, got {value!r}")
    out = [str(a) for a in value]
    for arg in out:
        if not arg.isprintable():
            raise InvalidValue(f"{what}: refusing a control character in {arg!r}")
    return out


@dataclass(frozen=True)
class ImageSettings:
    """``dlc.image``: the production image built from the packaged template."""

    base: str | None = None  # None: ${RUNTIME_IMAGE}; "scratch": empty, certs and passwd put in
    ports: list[str] = field(default_factory=list)
    healthcheck: list[str] = field(default_factory=list)  # empty: no HEALTHCHECK
    args: list[str] = field(default_factory=list)
    user: str = DEFAULT_USER

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any] | None, what: str = "dlc.image") -> ImageSettings:
        """Validate ``dlc.image`` (or one entry of ``dlc.images``, named by ``what``);
        unknown keys are refused (a typo would be silently ignored)."""
        raw = dict(raw or {})
        unknown = sorted(set(raw) - set(IMAGE_KEYS))
        if unknown:
            raise ConfigError(f"{what} has unknown keys: {', '.join(unknown)}")
        base = raw.get("base")
        if base is not None and not _IMAGE.fullmatch(str(base)):
            raise InvalidValue(f"{what}.base is not an image reference: {base!r}")
        ports = [str(p) for p in raw.get("ports") or []]
        for port in ports:
            match = _PORT.fullmatch(port)
            if not match or not 0 < int(match.group(1)) < 65536:
                raise InvalidValue(
                    f"{what}.ports: invalid port {port!r}", hint="use 8080 or 53/udp"
                )
        user = str(raw.get("user") or DEFAULT_USER)
        if not _USER.fullmatch(user):
            raise InvalidValue(f"{what}.user: invalid user {user!r}", hint="use UID:GID")
        return cls(
            base=str(base) if base else None,
            ports=ports,
            healthcheck=_argv(raw.get("healthcheck"), f"{what}.healthcheck"),
            args=_argv(raw.get("args"), f"{what}.args"),
            user=user,
        )

    @property
    def scratch(self) -> bool:
        """True for an empty base: CA certificates and a passwd entry are put in."""
        return self.base == "scratch"

    def context_texts(self) -> dict[str, str]:
        """Files the build context carries besides the binary (passwd, group for scratch)."""
        return {"passwd": PASSWD, "group": GROUP} if self.scratch else {}

    def blocks(self, binary: str, files: list[str], cache_image: str) -> dict[str, str]:
        """The instructions each block placeholder of the packaged template stands for."""
        for name in files:
            if _UNSAFE.search(name):
                raise InvalidValue(
                    f"refusing to copy {name!r}: quotes, $ and controls are not data"
                )
        if self.base is None:
            base = "ARG RUNTIME_IMAGE=alpine:3.18\nFROM ${RUNTIME_IMAGE}"
        elif self.scratch:
            base = (
                f"FROM {cache_image} AS certificates\n"
                "FROM scratch\n"
                "COPY --from=certificates /etc/ssl/certs/ca-certificates.crt"
                " /etc/ssl/certs/ca-certificates.crt\n"
                "COPY passwd /etc/passwd\n"
                "COPY group /etc/group"
            )
        else:
            base = f"FROM {self.base}"
        health = (
            f"HEALTHCHECK {HEALTH_TIMING} \\\n    CMD {json.dumps(self.healthcheck)}"
            if self.healthcheck
            else "# no health check (dlc.image.healthcheck)"
        )
        return {
            "base": base,
            "files": "\n".join(f"COPY {json.dumps([n, f'/app/{n}'])}" for n in files)
            or "# no files besides the binary (dlc.prod_files)",
            "ports": f"EXPOSE {' '.join(self.ports)}"
            if self.ports
            else "# no ports (dlc.image.ports)",
            "healthcheck": health,
            "user": self.user,
            "entrypoint": json.dumps([f"/app/{binary}", *self.args]),
        }
