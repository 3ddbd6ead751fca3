"""``WWW-Authenticate`` challenges (RFC 7235), as Distribution registries send them.

``Bearer realm="https://auth.example/token",service="registry",scope="repository:o/r:pull,push"``:
parameters are split on the commas *between* parameters only, so a quoted scope
keeps its comma-separated actions whole (``pull,push``; ``pull,delete``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# name=value where value is a quoted string (with \-escapes) or a token.
_PARAM = re.compile(r'\s*([A-Za-z0-9_.-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^\s,]*)\s*(?:,|$)')


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


def parse_challenge(header: str) -> Challenge | None:
    """The first challenge in a ``WWW-Authenticate`` value, or None when there is none."""
    header = header.strip()
    if not header:
        return None
    scheme, _, rest = header.partition(" ")
    params: dict[str, str] = {}
    position = 0
    rest = rest.strip()
    while position < len(rest):
        match = _PARAM.match(rest, position)
        if not match:
            break  # a second challenge or garbage: the first one is what we use
        name, value = match.group(1).lower(), match.group(2)
        if value.startswith('"'):
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        params[name] = value
        position = match.end()
    return Challenge(scheme.lower(), params)
