"""``inv cache.prune``: delete old build-cache tags through the registry's API.

Keeps the current hash's image, the N newest other cache tags (by the image's
``created``) and every tag that does not look like a cache hash (``stable``,
``latest``…); deletes the rest by manifest digest. A registry deletes a
*manifest*, with every tag naming it, so a tag whose digest a kept tag also
names is never deleted: that would delete the kept one too. Each kept tag is
said with its reason. The tag list is read to its last page, and read again just
before deleting: a tag that appeared meanwhile naming a digest about to be deleted
(another ``inv cache`` pushing, a human tagging) stops the prune before anything is
deleted. The registry must allow deletes (``storage.delete.enabled: true``, as the
local registry does), and only its garbage collection frees the blobs: see the README.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from dlc_tasks._files import short
from dlc_tasks.errors import ConfigError, PruneRefused
from dlc_tasks.run import Run

if TYPE_CHECKING:
    from dlc_tasks.clients.seams import RegistryAPI
    from dlc_tasks.model.refs import Repository

CACHE_HASH = re.compile(r"^[0-9a-f]{64}$")


def check_still_doomed(
    client: RegistryAPI, repo: Repository, doomed: dict[str, str | None]
) -> None:
    """Read the tag list again; refuse when a tag not being deleted names a doomed digest
    (a registry deletes a manifest with every tag naming it)."""
    digests = {d for d in doomed.values() if d}
    for tag in client.tags(repo.path):
        if tag in doomed:
            continue
        digest = client.manifest_digest(repo.path, tag)
        if digest in digests:
            raise PruneRefused(
                f"{repo}:{short(tag, 16)} now names {short(digest or '', 16)}, which this prune "
                "was about to delete"
            )


def run_prune(rt: Run, keep: int, dry_run: bool) -> list[str]:
    """Delete (or, dry, list) the cache tags beyond the current one and the ``keep`` newest."""
    if keep < 0:
        raise ConfigError(f"--keep must be 0 or more, not {keep}")
    client, repo = rt.client(), rt.facts.cache_repository()
    current = rt.facts.deps().value
    tags = client.tags(repo.path)
    others = [t for t in tags if t != current and CACHE_HASH.match(t)]
    created = {t: str(client.image_config(repo.path, t).get("created", "")) for t in others}
    ranked = sorted(others, key=lambda t: created[t], reverse=True)
    reasons = {t: "not a cache hash" for t in tags if t != current and not CACHE_HASH.match(t)}
    if current in tags:
        reasons[current] = "current"
    reasons.update({t: f"{keep} newest" for t in ranked[:keep]})
    digests = {t: client.manifest_digest(repo.path, t) for t in tags}
    kept_digests = {digests[t]: t for t in reasons if digests.get(t)}
    doomed: list[str] = []
    gone: list[str] = []
    for tag in ranked[keep:]:
        holder = kept_digests.get(digests[tag])
        if digests[tag] is None:
            gone.append(tag)  # listed, then not found: deleted by someone else meanwhile
        elif holder is not None:
            reasons[tag] = f"same digest as kept tag {short(holder, 16)}"
        else:
            doomed.append(tag)
    verb = "would delete" if dry_run else "deleted"
    if doomed and not dry_run:
        check_still_doomed(client, repo, {tag: digests[tag] for tag in doomed})
    for tag in doomed:
        digest = digests[tag]
        if digest and not dry_run:
            client.delete_manifest(repo.path, digest)
        rt.out.line(f"{verb} {repo}:{short(tag, 16)}… ({created[tag]})")
    for tag in gone:
        gone_line = "already gone (listed, then not found): nothing to delete"
        rt.out.line(f"{repo}:{short(tag, 16)}… {gone_line}")
    for tag in sorted(reasons):
        if reasons[tag] not in ("current", f"{keep} newest"):
            rt.out.line(f"kept {repo}:{short(tag, 16)} ({reasons[tag]})")
    kept = len(tags) - len(doomed) - len(gone)
    rt.out.line(f"{verb} {len(doomed)} cache tag(s), kept {kept} (current: {short(current, 16)}…)")
    return doomed
