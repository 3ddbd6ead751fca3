"""The embedded default: a local Distribution registry on 127.0.0.1 when none is configured.

``ensure_running`` reuses a registry that already answers on the address, or
starts ``docker-registry serve`` (Debian's package of CNCF Distribution) in
its own session, with its storage under ``~/.cache/dlc-tasks/``, and waits
until ``/v2/`` answers. The engine allows plain HTTP to loopback registries,
so no TLS set-up is needed for it.
"""

from __future__ import annotations

import shutil
import time
import urllib.error
import urllib.request
from pathlib import Path

from dlc_tasks.errors import ToolError

READY_TIMEOUT = 20.0


def _answers(address: str) -> bool:
    try:
        with urllib.request.urlopen(f"http://{address}/v2/", timeout=1.0) as response:
            return bool(response.status == 200)
    except urllib.error.HTTPError as err:
        return err.code == 401
    except OSError:
        return False


def answers(address: str) -> bool:
    """True when a registry answers ``/v2/`` at ``address`` (200, or 401 asking for auth)."""
    return _answers(address)


def config_text(host: str, port: int, storage: Path) -> str:
    """A minimal Distribution configuration: filesystem storage, deletes allowed."""
    return (
        "version: 0.1\n"
        "log:\n  level: warn\n"
        "storage:\n"
        f"  filesystem:\n    rootdirectory: {storage}\n"
        "  delete:\n    enabled: true\n"
        f"http:\n  addr: {host}:{port}\n"
    )


def default_data_dir(port: int) -> Path:
    """``~/.cache/dlc-tasks/registry-PORT``."""
    return Path.home() / ".cache" / "dlc-tasks" / f"registry-{port}"


def ensure_running(host: str, port: int, data_dir: Path | None = None) -> tuple[str, bool]:
    """Make sure a registry answers at host:port; return (address, started_now)."""
    address = f"{host}:{port}"
    if _answers(address):
        return address, False
    binary = shutil.which("docker-registry") or shutil.which("registry")
    if binary is None:
        raise ToolError(
            "no registry configured and docker-registry is not installed",
            hint="set dlc.registry, or install it (apt-get install docker-registry; ./dev does)",
        )
    from plumbum import local  # noqa: PLC0415

    data = data_dir or default_data_dir(port)
    (data / "storage").mkdir(parents=True, exist_ok=True)
    config = data / "config.yml"
    config.write_text(config_text(host, port, data / "storage"), encoding="utf-8")
    log = (data / "registry.log").open("ab")
    process = local[binary]["serve", str(config)].popen(
        stdout=log, stderr=log, stdin=None, start_new_session=True
    )
    log.close()
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ToolError(
                f"the local registry exited with code {process.returncode}",
                hint=f"see {data / 'registry.log'}; is {address} taken by another program?",
            )
        if _answers(address):
            (data / "registry.pid").write_text(f"{process.pid}\n", encoding="utf-8")
            return address, True
        time.sleep(0.1)  # polling the registry's own readiness, not guessing a delay
    process.terminate()
    raise ToolError(f"the local registry did not answer on {address} within {READY_TIMEOUT:.0f} s")
