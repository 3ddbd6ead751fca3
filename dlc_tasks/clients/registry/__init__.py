"""The tool's own Distribution registry client.

Two layers, as in go-containerregistry (``pkg/v1/remote`` over
``pkg/v1/remote/transport``): :mod:`.transport` speaks HTTP to one registry
(TLS with a private CA, retries, basic or bearer auth with a token per scope,
:mod:`.challenge` and :mod:`.tokens`), and :mod:`.api` makes the API calls
(manifest HEAD/GET/DELETE, tags list, image config) on top of it.
"""

from dlc_tasks.clients.registry.api import MANIFEST_TYPES, RegistryClient
from dlc_tasks.clients.registry.challenge import Challenge, parse_challenge
from dlc_tasks.clients.registry.tokens import Token
from dlc_tasks.clients.registry.transport import Transport
from dlc_tasks.errors import TokenError

__all__ = [
    "MANIFEST_TYPES",
    "Challenge",
    "RegistryClient",
    "Token",
    "TokenError",
    "Transport",
    "parse_challenge",
]
