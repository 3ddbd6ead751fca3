"""The labels the tool puts on its images: what a later step or check reads back from them."""

from __future__ import annotations

# On the cache image: its dependency hash and the digest of each input it was made from.
LABEL_HASH = "io.dlc-tasks.deps-hash"
LABEL_INPUTS = "io.dlc-tasks.deps-inputs"
# On a production image: the cache image it was built on, by digest.
LABEL_CACHE = "io.dlc-tasks.build-cache"
