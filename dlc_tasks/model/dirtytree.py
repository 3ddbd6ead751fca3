"""The dirty-tree rule, written once: what a tree with uncommitted changes may be tagged.

A sha tag must name the source it labels (as Skaffold's git tagger does): a tree holding
changes its commit lacks is tagged ``REV-dirty`` only, never the bare sha, the version tag
or ``latest``, unless ``--allow-dirty`` (then the release tags go with ``REV-dirty``).
Under CI (``CI`` set) a dirty tree is an error unless ``--allow-dirty``: a pipeline that
changes its own checkout (generated files out of date) should say so. ``REV`` is git's
commit, or ``dlc.revision`` when set: that names the tag only, never skips the check.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from dlc_tasks.errors import DirtyTree


@dataclass(frozen=True)
class TreeState:
    """The revision the images carry and the changes behind it."""

    revision: str  # REV, or REV-dirty
    changed: tuple[str, ...]
    allow_dirty: bool

    @property
    def dirty(self) -> bool:
        """True when the images would be built from source that no commit holds."""
        return bool(self.changed)

    @property
    def release_tags(self) -> bool:
        """True when the version tag and ``latest`` may be pushed (clean, or --allow-dirty)."""
        return not self.dirty or self.allow_dirty


def judge(revision: str, changed: Sequence[str], *, under_ci: bool, allow_dirty: bool) -> TreeState:
    """The tree's state under the rule; :class:`DirtyTree` for a dirty tree under CI."""
    if changed and under_ci and not allow_dirty:
        raise DirtyTree(
            f"the tree has uncommitted changes under CI: {', '.join(changed[:3])}"
            + (f" and {len(changed) - 3} more" if len(changed) > 3 else "")
        )
    tag = f"{revision}-dirty" if changed else revision
    return TreeState(tag, tuple(changed), allow_dirty)
