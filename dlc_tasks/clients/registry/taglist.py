"""Reading a tag list page: ``GET /v2/NAME/tags/list`` and its ``Link`` to the next page.

The distribution specification lets a registry paginate a tag list (GHCR, Harbor and Quay
do; Distribution 2.8 does not): a page ends with ``Link: </v2/NAME/tags/list?n=N&last=T>;
rel="next"`` (RFC 8288), and the list is read until a page has none. The next page is
followed only on the registry's own scheme, host and port, under ``/v2/`` (the request
carries the registry's credentials). Anything else a registry may answer (a body that is
not JSON, tags that are not strings, a malformed or foreign ``Link``) is one
:class:`~dlc_tasks.errors.RegistryError` naming the registry and the request, never a
traceback.
"""

from __future__ import annotations

import json
import re
from urllib.parse import urljoin, urlsplit

from dlc_tasks.errors import RegistryError

MAX_PAGES = 10_000  # a registry answering more pages than this is answering forever

# one link-value: <URI-reference> followed by its parameters, up to the next link-value
_LINK = re.compile(r"<([^>]*)>((?:\s*;\s*[^;,]*)*)")
_PARAM = re.compile(
    r"""^\s*([!#$%&'*+.^_`|~0-9A-Za-z-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s"]*))\s*$"""
)


def page_tags(body: bytes, what: str) -> list[str]:
    """The ``tags`` of one page (``null`` and a missing key are no tags)."""
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError) as err:
        raise RegistryError(
            f"{what}: the registry answered 200 with a body that is not JSON"
        ) from err
    if not isinstance(document, dict):
        raise RegistryError(f"{what}: the registry answered 200 with JSON that is not an object")
    tags = document.get("tags")
    if tags is None:
        return []
    if not isinstance(tags, list) or not all(isinstance(tag, str) for tag in tags):
        raise RegistryError(f"{what}: the registry's tags are not a list of strings")
    return list(tags)


def next_page(link: str | None, page_url: str, what: str) -> str | None:
    """The path (and query) of the next page from a ``Link`` header, or None on the last page.

    ``page_url`` is the URL of the page just read: a relative reference resolves against it.
    """
    if not link:
        return None
    for target, params in _LINK.findall(link):
        if "next" in _rels(params):
            return _same_registry(target, page_url, what)
    return None


def _rels(params: str) -> list[str]:
    """The relation types of a link-value's parameters (``rel="next last"`` is two)."""
    rels: list[str] = []
    for param in params.split(";"):
        match = _PARAM.match(param)
        if match and match.group(1).lower() == "rel":
            value = match.group(2) if match.group(2) is not None else match.group(3)
            rels += value.lower().split()
    return rels


def _same_registry(target: str, page_url: str, what: str) -> str:
    """``target`` resolved against ``page_url``, as a path; refused unless it stays on the
    registry (scheme, host, port) and under ``/v2/``."""
    try:
        resolved = urljoin(page_url, target.strip())
        here, there = urlsplit(page_url), urlsplit(resolved)
        same = (there.scheme, there.hostname, there.port) == (here.scheme, here.hostname, here.port)
    except ValueError:
        same, there = False, None
    if (
        not same
        or there is None
        or there.username is not None
        or not there.path.startswith("/v2/")
        or there.fragment
    ):
        raise RegistryError(
            f"{what}: the registry's next page {target[:200]!r} is not on the registry "
            "(its credentials are never sent elsewhere)"
        )
    return there.path + (f"?{there.query}" if there.query else "")
