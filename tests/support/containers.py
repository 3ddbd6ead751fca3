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


def running_commands(engine: docker.DockerClient, registry: str) -> list[str]:
    """The command lines running in the Go step containers of ``registry``'s images (none
    for a container removed meanwhile: a step's container goes when the step ends)."""
    try:
        containers = go_step_containers(engine, registry)
    except docker.errors.NotFound:
        return []
    found = []
    for container in containers:
        try:
            top = container.top(ps_args="-o pid,args")  # the engine needs the pid column
        except docker.errors.APIError:
            continue
        found += [" ".join(process) for process in top.get("Processes") or []]
    return found
