"""A second Docker engine for a test: its own dockerd, data root, exec root, socket and bridge.

    engine = SecondEngine(root, bridge="dlcvanish0", cidr="10.213.79.1/24")
    engine.start(tcp=(port, server_certificates))  # or no TCP: the unix socket only
    env = engine.client_env()                       # DOCKER_HOST (and TLS variables)
    ...
    engine.stop()

``kill()`` ends the daemon with SIGKILL, as a crash would: its containerd dies with it,
but each container's shim and the container's processes live on. ``stop()`` then ends
those by their process ids (the shims name this engine's root in their arguments; the
containers are their children), unmounts what the engine mounted under its root, and
removes the bridge. (Starting the daemon again over the orphaned shims does not work
here: its new containerd times out.)
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

READY_SECONDS = 60


def _sh(*argv: str) -> None:
    subprocess.run(list(argv), check=True, capture_output=True)


@dataclass
class SecondEngine:
    """One extra dockerd, started and ended by a test."""

    root: Path
    bridge: str
    cidr: str
    tcp: tuple[int, Path] | None = None  # (port, folder with the server's ca/cert/key.pem)
    client_certs: Path | None = None  # DOCKER_CERT_PATH for the TCP endpoint
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)

    @property
    def socket(self) -> Path:
        """The daemon's unix socket (always there, TCP or not)."""
        return self.root / "docker.sock"

    def client_env(self) -> dict[str, str]:
        """What a client sets to use this engine: TCP with mutual TLS when configured."""
        if self.tcp is None:
            return {"DOCKER_HOST": f"unix://{self.socket}"}
        assert self.client_certs is not None, "a TCP engine needs client certificates"
        return {
            "DOCKER_HOST": f"tcp://127.0.0.1:{self.tcp[0]}",
            "DOCKER_TLS_VERIFY": "1",
            "DOCKER_CERT_PATH": str(self.client_certs),
        }

    def start(self) -> None:
        """Make the bridge (once) and start the daemon; return when it answers."""
        self.root.mkdir(parents=True, exist_ok=True)
        if not (self.root / "data").exists():
            subprocess.run(["ip", "link", "delete", self.bridge], check=False, capture_output=True)
            _sh("ip", "link", "add", self.bridge, "type", "bridge")
            _sh("ip", "addr", "add", self.cidr, "dev", self.bridge)
            _sh("ip", "link", "set", self.bridge, "up")
        argv = [
            "dockerd",
            "--data-root", str(self.root / "data"),
            "--exec-root", str(self.root / "exec"),
            "--pidfile", str(self.root / "dockerd.pid"),
            "-H", f"unix://{self.socket}",
            "--bridge", self.bridge,
            "--iptables=false",
            "--ip-masq=false",
        ]  # fmt: skip
        if self.tcp is not None:
            port, server = self.tcp
            argv += ["-H", f"tcp://127.0.0.1:{port}", "--tlsverify"]
            argv += ["--tlscacert", str(server / "ca.pem"), "--tlscert", str(server / "cert.pem")]
            argv += ["--tlskey", str(server / "key.pem")]
        with (self.root / "dockerd.log").open("ab") as log:
            self.process = subprocess.Popen(argv, stdout=log, stderr=log)
        deadline = time.monotonic() + READY_SECONDS
        env = {**os.environ, **self.client_env()}
        info = ["docker", "info"]
        while subprocess.run(info, env=env, capture_output=True, check=False).returncode != 0:
            assert self.process.poll() is None, self.log_tail()
            assert time.monotonic() < deadline, "the second engine did not answer"
            time.sleep(0.2)  # polling the engine's own readiness

    def log_tail(self) -> str:
        """The end of the daemon's log, for assertion messages."""
        return (self.root / "dockerd.log").read_text(errors="replace")[-2000:]

    def kill(self) -> None:
        """SIGKILL the daemon (its containerd and containers stay, as after a crash)."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(30)

    def _orphans(self) -> list[int]:
        """This engine's shims (``-address ROOT/exec/…``) and their children, children first."""
        parents: dict[int, int] = {}
        shims: list[int] = []
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit():
                continue
            try:
                argv = (proc / "cmdline").read_bytes().split(b"\0")
                status = (proc / "status").read_text()
            except OSError:
                continue  # gone meanwhile
            ppid = next(
                int(line.split()[1]) for line in status.splitlines() if line.startswith("PPid:")
            )
            parents[int(proc.name)] = ppid
            if (
                argv
                and argv[0].endswith(b"containerd-shim-runc-v2")
                and str(self.root).encode() in b" ".join(argv)
            ):
                shims.append(int(proc.name))
        children = [pid for pid, ppid in parents.items() if ppid in shims]
        return children + shims

    def _unmount(self) -> None:
        """Unmount what the engine left mounted under its root, deepest first."""
        mounts = [line.split()[1] for line in Path("/proc/self/mounts").read_text().splitlines()]
        for point in sorted((m for m in mounts if m.startswith(f"{self.root}/")), reverse=True):
            subprocess.run(["umount", "-l", point], check=False, capture_output=True)

    def stop(self) -> None:
        """End the daemon cleanly, or (after a kill) what it left; remove the bridge."""
        try:
            if self.process is not None and self.process.poll() is not None:
                for pid in self._orphans():  # a container's init first: its processes die with it
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
            elif self.process is not None:
                env = {**os.environ, **self.client_env()}
                ids = subprocess.run(
                    ["docker", "ps", "-aq"], env=env, capture_output=True, text=True, check=False
                ).stdout.split()
                if ids:
                    rm = ["docker", "rm", "-f", *ids]
                    subprocess.run(rm, env=env, capture_output=True, check=False)
                self.process.terminate()
                self.process.wait(60)
        finally:
            self._unmount()
            subprocess.run(["ip", "link", "delete", self.bridge], check=False, capture_output=True)
