"""The registry's error body, read into the line the user sees and the fix it calls for.

A Distribution registry (and every registry speaking the distribution specification)
answers a refused request with ``{"errors": [{"code": "...", "message": "...", "detail":
...}]}``, as go-containerregistry's ``pkg/v1/remote/transport/error.go`` reads it. The
code says what is wrong far better than the status: a 405 is ``UNSUPPORTED`` from a
registry whose deletes are disabled, a 404 is ``NAME_UNKNOWN`` (no such repository) or
``MANIFEST_UNKNOWN`` (no such tag), a 403 ``DENIED`` is a token without the right
actions. :func:`read` takes the codes and messages out of a body (anything else, HTML from
a proxy or nothing at all, gives none); :func:`hint` names the fix for a code.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

# At most this many entries are shown: a registry may list one per layer.
SHOWN = 3
MESSAGE_CHARS = 200
AUTH_CODES = frozenset({"UNAUTHORIZED", "DENIED"})


@dataclass(frozen=True)
class Fault:
    """One entry of the body's ``errors``: its code (upper case) and message."""

    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.code}: {self.message}" if self.message else self.code


def read(body: bytes | None) -> list[Fault]:
    """The entries of an error body; none when the body is not one (empty, HTML, a list)."""
    if not body or len(body) > 64 * 1024:
        return []
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        return []
    entries = document.get("errors") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        return []
    faults = []
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("code"), str):
            continue
        message = entry.get("message")
        text = " ".join(message.split())[:MESSAGE_CHARS] if isinstance(message, str) else ""
        faults.append(Fault(entry["code"].strip().upper()[:40], text))
    return faults


def describe(faults: list[Fault]) -> str:
    """The entries on one line: ``UNSUPPORTED: The operation is unsupported.``."""
    shown = "; ".join(str(fault) for fault in faults[:SHOWN])
    more = len(faults) - SHOWN
    return f"{shown} (and {more} more)" if more > 0 else shown


def hint(code: str, *, method: str, registry: str) -> str | None:
    """The fix a code calls for, or None when the generic one fits."""
    if code == "UNSUPPORTED":
        if method == "DELETE":
            return (
                f"deletes are disabled on {registry}: enable them (Distribution: "
                "storage.delete.enabled: true in its config, or "
                "REGISTRY_STORAGE_DELETE_ENABLED=true) and restart it"
            )
        return f"{registry} does not support {method} here; it may not be a Distribution registry"
    return _HINTS.get(code)


_HINTS = {
    "DENIED": (
        "the credentials are known but not allowed this: check the account's or token's "
        "rights on the repository (pull, push, delete)"
    ),
    "UNAUTHORIZED": "set DLC_REGISTRY_USERNAME and DLC_REGISTRY_PASSWORD, or run docker login",
    "NAME_UNKNOWN": (
        "no such repository in the registry: check dlc.org and dlc.repo "
        "(a repository exists once something was pushed to it)"
    ),
    "NAME_INVALID": "the repository name is refused by the registry: check dlc.org and dlc.repo",
    "MANIFEST_UNKNOWN": "no such tag or digest in the registry: push it first (inv push)",
    "BLOB_UNKNOWN": "the registry lacks a layer: push the image again",
    "MANIFEST_BLOB_UNKNOWN": "the registry lacks a layer the manifest names: push it again",
    "TOOMANYREQUESTS": (
        "the registry limits the request rate: wait and run again, or allow more tries with "
        "dlc.retries.attempts and dlc.retries.max_delay"
    ),
    "TAG_INVALID": "the tag is refused by the registry: check the tag's characters and length",
    "SIZE_INVALID": "the registry refused an upload's size: run again",
    "DIGEST_INVALID": "the registry found bytes that do not match their digest: run again",
}
