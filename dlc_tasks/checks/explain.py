"""``inv hash --explain``: each input of the dependency hash, and what changed since the registry's.

The cache image records its inputs' digests as a label (``io.dlc-tasks.deps-inputs``)
when ``inv cache`` builds it. The comparison is with the newest cache image in the
registry, read through the registry's API (manifest and configuration, no pull).
It changes nothing: with no registry configured and the local one not running, there
is no registry to compare with, and it says so (it never starts one).
"""

from __future__ import annotations

import json
from typing import Any

from dlc_tasks._files import short
from dlc_tasks.errors import RegistryError
from dlc_tasks.model.labels import LABEL_INPUTS
from dlc_tasks.run import Run


def newest_cache_image(rt: Run) -> tuple[str, dict[str, Any]] | None:
    """(tag, image configuration) of the newest cache image in the registry, or None."""
    client, repo = rt.client(), rt.facts.cache_repository()
    configs = [(tag, client.image_config(repo.path, tag)) for tag in client.tags(repo.path)]
    if not configs:
        return None
    return max(configs, key=lambda pair: str(pair[1].get("created", "")))


def recorded_inputs(tag: str, labels: dict[str, Any]) -> dict[str, str]:
    """The inputs a cache image's label records; one error line when the label is not valid."""
    try:
        value = json.loads(labels.get(LABEL_INPUTS, "{}"))
    except (TypeError, ValueError):
        value = None
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise RegistryError(
            f"the cache image {short(tag, 16)} has an invalid {LABEL_INPUTS} label "
            "(not a JSON object of input name to digest)",
            hint="rebuild it with inv cache --force",
        )
    return value


def compare(current: dict[str, str], previous: dict[str, str]) -> list[tuple[str, str, str]]:
    """(input, digest, same|changed|new|removed) for every input of either side."""
    rows = []
    for name in sorted(set(current) | set(previous)):
        if name not in previous:
            status = "new"
        elif name not in current:
            status = "removed"
        else:
            status = "same" if current[name] == previous[name] else "changed"
        rows.append((name, short(current.get(name) or previous[name], 16), status))
    return rows


def explain_hash(rt: Run) -> None:
    """Print the inputs and, when the registry has a cache image, what changed since it."""
    deps = rt.facts.deps()
    rt.out.line(f"DEPS_HASH={deps.value}")
    if rt.settings.dry_run or not rt.registry_up():
        if not rt.settings.dry_run:
            rt.out.line(
                f"no registry to compare with: the local registry at {rt.registry()} "
                "is not running (set dlc.registry, or run inv cache)"
            )
        for name, digest in sorted(deps.inputs.items()):
            rt.out.line(f"  {name:<24} {short(digest, 16)}")
        return
    newest = newest_cache_image(rt)
    if newest is None:
        previous: dict[str, str] = {}
        rt.out.line("the registry holds no cache image yet: every input is new")
    else:
        tag, config = newest
        labels = (config.get("config") or {}).get("Labels") or {}
        previous = recorded_inputs(tag, labels)
        same = "the current hash" if tag == deps.value else "a different hash"
        rt.out.line(f"newest cache image in the registry: {short(tag, 16)} ({same})")
    for name, digest, status in compare(deps.inputs, previous):
        rt.out.line(f"  {name:<24} {digest}  {status}")
