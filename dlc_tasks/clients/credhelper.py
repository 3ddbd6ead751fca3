"""A docker credential helper, asked as the docker CLI asks it, with a deadline, read strictly.

``docker-credential-NAME get`` reads the server address on stdin and prints
``{"ServerURL": …, "Username": …, "Secret": …}``; a server it has no login for makes it
exit non-zero saying ``credentials not found``. The docker SDK's own call has no deadline
and lets a helper's odd answer escape as a ``JSONDecodeError``, ``KeyError`` or
``TypeError``; here a helper that does not answer within ``dlc.timeouts.helper`` seconds,
exits with an error, or prints anything but that object (not JSON, not UTF-8, other keys,
other types) is one line naming the helper. What it printed is never shown: it may be the
secret. The secret it gives is registered for redaction as soon as it is read.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from dlc_tasks.clients.bounded import run
from dlc_tasks.errors import CredentialHelperError
from dlc_tasks.secrets import register

NOT_FOUND = "credentials not found"


def get(name: str, server: str, *, deadline: float, config: Path) -> tuple[str, str] | None:
    """(Username, Secret) the helper ``docker-credential-NAME`` holds for ``server``, or None
    when it has none."""
    helper = f"docker-credential-{name}"
    program = shutil.which(helper)
    if program is None:
        raise CredentialHelperError(
            f"{config} names the credential helper {helper} for {server}, which is not on PATH",
            hint=f"install {helper}, or remove it from {config}",
        )
    try:
        done = run(
            [program, "get"],
            what=f"the credential helper {helper} (get {server})",
            deadline=deadline,
            setting="helper",
            stdin=server.encode("utf-8", "surrogateescape"),
        )
    except OSError as err:
        raise CredentialHelperError(
            f"cannot run the credential helper {helper}: {err.strerror or err}"
        ) from err
    said = (done.out + b"\n" + done.err).decode("utf-8", "replace")
    if done.code != 0:
        if NOT_FOUND in said.lower():
            return None
        first = next(
            (
                line.strip()
                for line in done.err.decode("utf-8", "replace").splitlines()
                if line.strip()
            ),
            "",
        )
        detail = f": {first[:200]}" if first else ""
        raise CredentialHelperError(
            f"credential helper {helper} failed for {server} (exit code {done.code}){detail}"
        )
    return _answer(done.out, helper, server)


def _answer(out: bytes, helper: str, server: str) -> tuple[str, str] | None:
    """The (Username, Secret) of a helper's answer; one line for any other shape."""
    try:
        data = json.loads(out.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as err:
        raise CredentialHelperError(
            f"credential helper {helper} answered something that is not JSON for {server}"
        ) from err
    if not isinstance(data, dict):
        raise CredentialHelperError(
            f"credential helper {helper} answered JSON that is not an object for {server}"
        )
    user, secret = data.get("Username"), data.get("Secret")
    if isinstance(secret, str):
        register(secret)
    if not isinstance(user, str) or not isinstance(secret, str):
        raise CredentialHelperError(
            f"credential helper {helper}'s answer for {server} has no Username and Secret strings"
        )
    if not user and not secret:
        return None  # docker-credential-pass answers an unknown server so
    return user, secret
