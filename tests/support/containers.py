"""What a test left in the shared engine, seen through its own registry's address only.

The engine is shared (tests may run in parallel), so "no Go step container is left"
is asked of the containers whose image came from the test's own registry.
"""

from __future__ import annotations

from typing import Any

import docker


def go_step_containers(engine: docker.DockerClient, registry: str) -> list[Any]:
    """Go step containers (running or not) of images from ``registry``."""
    found = engine.containers.list(all=True, filters={"label": "dlc-tasks.role=go-step"})
    return [c for c in found if str(c.attrs["Config"]["Image"]).startswith(f"{registry}/")]
