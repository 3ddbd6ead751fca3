"""An image configuration: a base's, with a recipe's settings and new layers, at a fixed time."""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from typing import Any

from dlc_tasks.errors import InvalidValue
from dlc_tasks.model.oci.platform import Platform
from dlc_tasks.model.oci.recipe import Recipe

# Fields of a Docker image configuration that describe the container that built the *base*
# (an engine's, a machine's): they do not describe the new image, and are left out.
_BUILDER_FIELDS = ("container", "container_config", "docker_version", "id", "parent")
HISTORY_AUTHOR = "dlc-tasks"


def timestamp(epoch: int) -> str:
    """RFC 3339 in UTC, to the second: ``2026-12-02T19:51:00Z``."""
    moment = datetime.datetime.fromtimestamp(int(epoch), tz=datetime.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def empty_config(platform: Platform) -> dict[str, Any]:
    """The configuration of ``scratch`` for ``platform``: no layers, no settings."""
    return {
        **platform.to_dict(),
        "config": {},
        "rootfs": {"type": "layers", "diff_ids": []},
        "history": [],
    }


def derive(
    base: Mapping[str, Any],
    recipe: Recipe,
    platform: Platform,
    *,
    diff_ids: Sequence[str],
    steps: Sequence[str],
    epoch: int,
) -> dict[str, Any]:
    """The new image's configuration.

    ``base`` is the base image's configuration for ``platform`` (checked); ``diff_ids`` and
    ``steps`` (what made each, for its history entry) are the new layers'. Every time in it is
    ``epoch``; the base's own history and layers come first, unchanged.
    """
    if "os" in base and not Platform.from_dict(base).matches(platform):
        raise InvalidValue(
            f"the base image is {Platform.from_dict(base)}, not {platform}",
            hint="name a base image (or index) that has this platform",
        )
    created = timestamp(epoch)
    out = {k: v for k, v in base.items() if k not in _BUILDER_FIELDS}
    out.pop("variant", None)
    out.update(platform.to_dict())
    out["created"] = created
    out["config"] = recipe.apply(base.get("config") or {})
    rootfs = dict(base.get("rootfs") or {"type": "layers"})
    rootfs["diff_ids"] = [*(rootfs.get("diff_ids") or []), *diff_ids]
    out["rootfs"] = rootfs
    history = list(base.get("history") or [])
    for step in steps:
        history.append({"created": created, "created_by": step, "comment": HISTORY_AUTHOR})
    history.append(
        {
            "created": created,
            "created_by": "configuration from Dockerfile.prod",
            "comment": HISTORY_AUTHOR,
            "empty_layer": True,
        }
    )
    out["history"] = history
    return out
