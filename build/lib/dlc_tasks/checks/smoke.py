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
    cid = engine.start_container(image, publish=CONTAINER_PORT, labels={"dlc-tasks.role": "smoke"})
    try:
        port = engine.published_port(cid, CONTAINER_PORT)
        url = f"http://127.0.0.1:{port}{path}"
        deadline = time.monotonic() + timeout
        last = "no answer"
        while time.monotonic() < deadline:
            if engine.container_state(cid) == "exited":
                logs = engine.container_logs(cid).strip().splitlines()[-3:]
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
