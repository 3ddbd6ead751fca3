"""A Go binary's build information read from its bytes, as ``go version -m`` prints it.

Go (1.18 and later) keeps it in the ``.go.buildinfo`` section, kept by ``-s -w``: a
32-byte header (``\\xff Go buildinf:``, pointer size, flags; flag 2: the strings follow
inline) then the Go version and the module information, each a varint-prefixed string,
the latter wrapped in 16-byte sentinels (``debug/buildinfo``). Reading it here means no Go
command runs to make an SBOM, and the binary read is the one the layer holds.
"""

from __future__ import annotations

from dlc_tasks.errors import InvalidValue

MAGIC = b"\xff Go buildinf:"
_INLINE = 0x2
_HEADER = 32
_SENTINEL = 16


def _varint_string(data: bytes, at: int) -> tuple[str, int]:
    size, shift = 0, 0
    while True:
        if at >= len(data) or shift > 63:
            raise InvalidValue("the Go build information is truncated")
        byte = data[at]
        at += 1
        size |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            break
    if at + size > len(data):
        raise InvalidValue("the Go build information is truncated")
    return data[at : at + size].decode("utf-8", "replace"), at + size


def version_m(data: bytes, name: str) -> str:
    """What ``go version -m NAME`` prints for a binary of these bytes."""
    at = data.find(MAGIC)
    while at >= 0 and at % 16:
        at = data.find(MAGIC, at + 1)
    if at < 0:
        raise InvalidValue(f"{name} holds no Go build information")
    if not data[at + 15] & _INLINE:
        raise InvalidValue(f"{name} was built by a Go older than 1.18")
    version, after = _varint_string(data, at + _HEADER)
    modinfo, _ = _varint_string(data, after)
    if len(modinfo) >= 2 * _SENTINEL + 1 and modinfo[-_SENTINEL - 1] == "\n":
        modinfo = modinfo[_SENTINEL:-_SENTINEL]
    lines = "".join(f"\t{line}\n" for line in modinfo.splitlines() if line)
    return f"{name}: {version}\n{lines}"
