"""A dependency bump on a fresh runner: the previous cache image as the build's ``cache_from``.

Route (a) of :mod:`dlc_tasks.model.stdlayer` (why that route, and what proves the reuse): on a
cache miss, the newest cache image in the registry whose standard-library layer is proved to be
this build's (its configuration, read from the registry before anything is pulled) is pulled,
unless the engine has it, and handed to the build as ``cache_from``; afterwards the new image's
layer is compared with it, digest for digest. Anything that goes wrong on the way (no such
image, the registry or the pull failing) leaves a cold build, as before, and says why.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dlc_tasks._files import short
from dlc_tasks.errors import DlcError
from dlc_tasks.model.stdlayer import (
    Previous,
    base_reference,
    choose_previous,
    layers_of,
    std_key,
    std_layer,
)

if TYPE_CHECKING:
    from dlc_tasks.run import Run

_HASH_TAG = re.compile(r"[0-9a-f]{64}")  # a cache image's tag; others (`stable`) are the user's


@dataclass(frozen=True)
class Reuse:
    """The previous cache image handed to the build, and what its layer must be."""

    ref: str  # repository@digest, as pulled
    previous: Previous
    base_layers: tuple[str, ...]


def find_previous(run: Run, dockerfile: str) -> Reuse | None:
    """The previous cache image to build from (pulled when the engine lacks it), or None."""
    s = run.settings
    key = std_key(dockerfile, s.cache_build_args)
    base = base_reference(dockerfile, s.cache_build_args)
    if key is None or base is None:
        return None  # a project's own Dockerfile.build: nothing marks its std layer
    try:
        engine = run.engine()
        if engine.image_id(base) is None:
            return None  # the build pulls its base: nothing local to prove the layers against
        base_layers = layers_of(engine.inspect(base))
        client, repo = run.client(), run.facts.cache_repository()
        current = run.facts.deps().value
        tags = [t for t in client.tags(repo.path) if t != current and _HASH_TAG.fullmatch(t)]
        configs = [(tag, client.image_config(repo.path, tag)) for tag in tags]
        previous = choose_previous(configs, key, base_layers, current)
        if previous is None:
            if tags:
                run.out.line("    no previous cache image holds this build's std layer")
            return None
        digest = client.manifest_digest(repo.path, previous.tag)
        if digest is None:
            return None  # deleted meanwhile (cache.prune)
        ref = f"{repo}@{digest}"
        have = engine.image_id(ref) is not None
        run.out.line(
            f"    std layer {short(previous.std_layer, 19)} proved in {short(previous.tag, 16)} "
            f"({previous.created}): {'in the engine' if have else 'pulling it'} for cache_from"
        )
        if not have:
            run.pull(str(repo), digest)
    except DlcError as err:
        run.out.line(f"    previous cache image not used ({err.one_line()}): a cold build")
        return None
    return Reuse(ref, previous, tuple(base_layers))


def check_reused(run: Run, reuse: Reuse, image_id: str) -> bool:
    """Say whether the new image's std layer is the previous image's (the same digest)."""
    built = std_layer(run.engine().inspect(image_id), list(reuse.base_layers))
    same = built == reuse.previous.std_layer
    if same:
        run.out.line(f"    std layer reused from {short(reuse.previous.tag, 16)}: {built}")
    else:
        run.out.line(
            f"    std layer rebuilt: {built}, not {reuse.previous.std_layer} as in "
            f"{short(reuse.previous.tag, 16)}"
        )
    return same
