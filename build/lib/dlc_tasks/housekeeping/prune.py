"""``inv cache.prune``: delete old build-cache tags through the registry's API.

Keeps the current hash's image and the N newest others (by the image's
``created``); deletes the rest by manifest digest. The registry must allow
deletes (``storage.delete.enabled: true``, as the local registry does), and only
its garbage collection frees the blobs: see the README.
"""

from __future__ import annotations

from dlc_tasks.errors import ConfigError
from dlc_tasks.run import Run


def run_prune(rt: Run, keep: int, dry_run: bool) -> list[str]:
    """Delete (or, dry, list) the tags beyond the current one and the ``keep`` newest."""
    if keep < 0:
        raise ConfigError(f"--keep must be 0 or more, not {keep}")
    client, repo = rt.client(), rt.cache_repository()
    current = rt.deps().value
    tags = client.tags(repo.path)
    others = [t for t in tags if t != current]
    created = {t: str(client.image_config(repo.path, t).get("created", "")) for t in others}
    doomed = sorted(others, key=lambda t: created[t], reverse=True)[keep:]
    verb = "would delete" if dry_run else "deleted"
    for tag in doomed:
        digest = client.manifest_digest(repo.path, tag)
        if digest and not dry_run:
            client.delete_manifest(repo.path, digest)
        rt.out.line(f"{verb} {repo}:{tag[:16]}… ({created[tag]})")
    kept = len(tags) - len(doomed)
    rt.out.line(f"{verb} {len(doomed)} cache tag(s), kept {kept} (current: {current[:16]}…)")
    return doomed
