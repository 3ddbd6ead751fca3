"""Start a production image and check that it runs: the proof that what was built works.

:func:`check_running` is driven by the image's own settings (``dlc.image`` or its
``dlc.images`` entry): with a health check, the container is started and that command is
run inside it until it succeeds; with ports but no health check, the first TCP port must
accept a connection; with neither there is nothing to probe, and the caller says so.
:func:`probe` asks an HTTP endpoint for JSON (this repository's service's ``/healthz``).
"""

from __future__ import annotations

import json
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

from dlc_tasks.clients.seams import EngineAPI
from dlc_tasks.errors import SmokeTestFailed
from dlc_tasks.model.prodimage import ImageSettings


def _poll(
    engine: EngineAPI,
    cid: str,
    image: str,
    attempt: Callable[[], Any],
    *,
    timeout: float,
    what: str,
) -> Any:
    """``attempt()`` until it returns a value (not None); fail when the container exits."""
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        if engine.container_state(cid) == "exited":
            logs = engine.container_logs(cid).strip().splitlines()[-3:]
            raise SmokeTestFailed(f"{image} exited: {' | '.join(logs) or 'no output'}")
        try:
            found = attempt()
        except (urllib.error.URLError, ConnectionError, OSError) as err:
            found, last = None, str(err)
        if found is not None:
            return found
        time.sleep(0.2)  # polling the container's own readiness, not guessing a delay
    raise SmokeTestFailed(f"{what} did not succeed within {timeout:.0f} s ({last})")


def check_running(
    engine: EngineAPI, image: str, settings: ImageSettings, timeout: float = 30.0
) -> str | None:
    """Run ``image`` and check it as its settings say; None when it has nothing to check."""
    tcp = [p for p in settings.ports if p.endswith("/tcp") or "/" not in p]
    if not settings.healthcheck and not tcp:
        return None
    port = int(tcp[0].split("/")[0]) if tcp and not settings.healthcheck else None
    cid = engine.start_container(image, publish=port, labels={"dlc-tasks.role": "smoke"})
    try:
        if settings.healthcheck:
            command = " ".join(settings.healthcheck)

            def healthy() -> bool | None:
                result = engine.exec(cid, settings.healthcheck, workdir="/", user=settings.user)
                return True if result.exit_code == 0 else None

            _poll(engine, cid, image, healthy, timeout=timeout, what=f"the health check {command}")
            return f"the health check {command} passed"
        assert port is not None  # noqa: S101
        host_port = engine.published_port(cid, port)

        def accepts() -> bool:
            with socket.create_connection(("127.0.0.1", host_port), timeout=2):
                return True

        _poll(engine, cid, image, accepts, timeout=timeout, what=f"port {port}")
        return f"port {port} accepts connections"
    finally:
        engine.remove_container(cid)


def probe(engine: EngineAPI, image: str, path: str = "/healthz", timeout: float = 30.0) -> Any:
    """Run ``image`` with port 8080 published on loopback; return the JSON at ``path``."""
    cid = engine.start_container(image, publish=8080, labels={"dlc-tasks.role": "smoke"})
    try:
        url = f"http://127.0.0.1:{engine.published_port(cid, 8080)}{path}"

        def answer() -> Any:
            with urllib.request.urlopen(url, timeout=2) as response:
                return json.loads(response.read())

        return _poll(engine, cid, image, answer, timeout=timeout, what=url)
    finally:
        engine.remove_container(cid)
