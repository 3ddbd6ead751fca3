"""``WWW-Authenticate`` challenges (RFC 7235), as Distribution registries send them.

``Bearer realm="https://auth.example/token",service="registry",scope="repository:o/r:pull,push"``:
parameters are split on the commas *between* parameters only, so a quoted scope
keeps its comma-separated actions whole (``pull,push``; ``pull,delete``). One
header may hold several challenges (``Basic realm="x", Bearer realm="…"``); as
the docker client does, a bearer challenge is preferred to a basic one. A scope
may name several resources, separated by spaces (``repository:a:pull
repository:b:pull``): :attr:`Challenge.scopes` lists them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# name=value where value is a quoted string (with \-escapes) or a token; a quoted string left
# unterminated is read as a token (its opening quote dropped, every other character kept).
_PARAM = re.compile(
    r'\s*([A-Za-z0-9_.-]+)\s*=\s*(?:"(?P<quoted>(?:[^"\\]|\\.)*)"|(?P<token>[^\s,]*))\s*(?:,|$)'
)
# The start of a challenge: an auth-scheme token followed by whitespace or the end.
_SCHEME = re.compile(r"\s*,?\s*([A-Za-z0-9!#$%&'*+.^_`|~-]+)(?:\s+|$)")
# Schemes in the order the client prefers them.
PREFERENCE = ("bearer", "basic")


@dataclass(frozen=True)
class Challenge:
    """One challenge: its scheme (``basic``/``bearer``, lower case) and parameters."""

    scheme: str
    params: dict[str, str] = field(default_factory=dict)

    @property
    def realm(self) -> str:
        """The token endpoint (bearer) or protection space (basic); may be empty."""
        return self.params.get("realm", "")

    @property
    def service(self) -> str:
        """The ``service`` the token must be issued for; may be empty."""
        return self.params.get("service", "")

    @property
    def scope(self) -> str:
        """The scope the registry asks for (``repository:NAME:ACTIONS``), whole; may be empty."""
        return self.params.get("scope", "")

    @property
    def scopes(self) -> list[str]:
        """The scope's space-separated parts (each ``type:name:actions``), in order."""
        return self.scope.split()

    @property
    def error(self) -> str:
        """The ``error`` parameter (``invalid_token``: the token sent expired or is bad)."""
        return self.params.get("error", "")


def parse_challenges(header: str) -> list[Challenge]:
    """Every challenge in a ``WWW-Authenticate`` value, in order."""
    challenges: list[Challenge] = []
    position = 0
    while position < len(header):
        start = _SCHEME.match(header, position)
        if not start:
            break  # garbage: what was read so far is what there is
        scheme = start.group(1).lower()
        position = start.end()
        params: dict[str, str] = {}
        while position < len(header):
            match = _PARAM.match(header, position)
            if not match:
                break  # the next challenge's scheme (no "=" after it)
            name, quoted = match.group(1).lower(), match.group("quoted")
            if quoted is not None:
                value = re.sub(r"\\(.)", r"\1", quoted)
            else:
                value = match.group("token").removeprefix('"')
            params[name] = value
            position = match.end()
        challenges.append(Challenge(scheme, params))
    return challenges


def parse_challenge(header: str) -> Challenge | None:
    """The challenge to answer: bearer before basic (as docker), else the first; or None."""
    challenges = parse_challenges(header)
    for scheme in PREFERENCE:
        for challenge in challenges:
            if challenge.scheme == scheme:
                return challenge
    return challenges[0] if challenges else None
