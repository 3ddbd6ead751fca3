"""The referrers tag schema (distribution-spec 1.1), for registries without the referrers API.

On such a registry (Distribution 2.8, GHCR, Gitea) the artifacts that refer to a manifest
are listed in an OCI image index tagged ``sha256-<hex>`` (the subject's digest, ``:``
made ``-``): a reader finds them from the subject's digest alone. Writers change that
index read-modify-write, with no way to make the write conditional. So that two writers
at once lose nothing, each artifact is also tagged ``sha256-<subject hex>.<artifact
hex, 32>`` (a *record*: tags only ever grow, and a record is written before the index):
a writer re-reads after writing, and rewrites while the index lacks a record it lists.
The last writer to write then also checks last, and it lists every record. (cosign keeps
its signatures under ``sha256-<hex>.sig`` tags the same way.)
"""

from __future__ import annotations

from collections.abc import Iterable

from dlc_tasks.model.oci.descriptor import OCI_INDEX, Blob, Descriptor, check_digest
from dlc_tasks.model.oci.manifest import image_index

TAG_LIMIT = 128  # the longest tag the distribution specification allows
RECORD_HEX = 32  # the artifact digest's hex digits a record tag keeps


def fallback_tag(subject: str) -> str:
    """The tag of the index listing ``subject``'s referrers: ``sha256-<hex>``."""
    algorithm, _, hexdigits = check_digest(subject).partition(":")
    return f"{algorithm}-{hexdigits}"[:TAG_LIMIT]


def record_tag(subject: str, artifact: str) -> str:
    """The tag that records one artifact of ``subject``."""
    return f"{fallback_tag(subject)}.{check_digest(artifact).partition(':')[2][:RECORD_HEX]}"


def is_record(tag: str, subject: str) -> bool:
    """True for a record tag of ``subject``'s artifacts."""
    prefix = fallback_tag(subject) + "."
    rest = tag.removeprefix(prefix)
    return tag.startswith(prefix) and len(rest) == RECORD_HEX and rest.isalnum()


def listed(index: Blob | None) -> list[Descriptor]:
    """The referrers an index lists (none for a missing index)."""
    if index is None:
        return []
    return [Descriptor.from_dict(m) for m in index.json().get("manifests") or []]


def merged(index: Blob | None, additions: Iterable[Descriptor]) -> Blob:
    """The index with ``additions``: every entry once (by digest), sorted by digest, so two
    writers that know the same referrers write the same bytes."""
    entries = {d.digest: d for d in listed(index)}
    for descriptor in additions:
        entries.setdefault(descriptor.digest, descriptor)
    return image_index([entries[d] for d in sorted(entries)])


def empty_index() -> Blob:
    """The referrers list of a subject nothing refers to (what the referrers API answers)."""
    return Blob(OCI_INDEX, image_index([]).data)
