"""Start the production image and ask its health endpoint: the proof that what was built runs."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any

from dlc_tasks.clients.engine import Engine
from dlc_tasks.errors import DlcError

CONTAINER_PORT = 8080


class SmokeTestFailed(DlcError):
    """The production container did not start or did not answer its health endpoint."""

    hint = "run the image by hand: docker run --rm -p 8080:8080 IMAGE"


def probe(engine: Engine, image: str, path: str = "/healthz", timeout: float = 30.0) -> Any:
    """Run ``image`` with its port published on loopback; return the JSON at ``path``."""
    api = engine.api
    host_config = api.create_host_config(port_bindings={CONTAINER_PORT: ("127.0.0.1", None)})
    container = api.create_container(
        image, ports=[CONTAINER_PORT], host_config=host_config, labels={"dlc-tasks.role": "smoke"}
    )
    cid = str(container["Id"])
    try:
        api.start(cid)
        port = api.port(cid, CONTAINER_PORT)[0]["HostPort"]
        url = f"http://127.0.0.1:{port}{path}"
        deadline = time.monotonic() + timeout
        last = "no answer"
        while time.monotonic() < deadline:
            if api.inspect_container(cid)["State"]["Status"] == "exited":
                logs = api.logs(cid).decode("utf-8", "replace").strip().splitlines()[-3:]
                raise SmokeTestFailed(f"{image} exited: {' | '.join(logs)}")
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    return json.loads(response.read())
            except (urllib.error.URLError, ConnectionError) as err:
                last = str(err)
            time.sleep(0.2)  # polling the container's own readiness, not guessing a delay
        raise SmokeTestFailed(f"{url} did not answer within {timeout:.0f} s ({last})")
    finally:
        engine.remove_container(cid)
