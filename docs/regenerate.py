"""Regenerate the captures in docs/: what `dlc push` shows in a terminal, and `dlc report`.

    ./dev python docs/regenerate.py

Writes, from real runs on this machine (its engine, a registry of the script's own):

* ``docs/inv-push-terminal.txt``: a first ``dlc push`` in a new checkout of the service, typed
  into bash under tmux (120 columns) and read from the screen once it ended. The
  checkout's ``go.mod`` differs from the one whose cache image the registry holds (a
  dependency change), so it is a cache miss, then everything else from a cold Go cache;
* ``docs/inv-report.txt`` and ``docs/inv-report.png``: ``dlc report`` over six runs of that
  checkout: the miss above, nothing changed, an edit, a failing test, its fix, nothing
  changed.

``tests/integration/test_experience.py`` runs the same first push (plain, against the suite's
warm registry) and fails when the structure of the committed capture (task headers,
decisions, build steps, Go commands, statuses; times, digests and hashes masked) differs
from what the code prints now: run this script and commit what it wrote.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DOCS = REPO / "docs"
BIN = Path(sys.executable).parent
SERVICE_FILES = ["go.mod", "cmd", "pkg", "config.yaml", "VERSION", "docker", "invoke.yaml"]
GO_MOD_CHANGE = "\n// a dependency change ({stamp}): a cache image the registry does not hold\n"
TMUX_SESSION = f"dlc-docs-{os.getpid()}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_registry(root: Path) -> tuple[str, subprocess.Popen[bytes]]:
    """A Distribution registry of this script's own, on a free loopback port."""
    address = f"127.0.0.1:{free_port()}"
    config = root / "registry.yml"
    config.write_text(
        "version: 0.1\nlog:\n  level: error\n"
        f"storage:\n  filesystem:\n    rootdirectory: {root / 'storage'}\n"
        f"http:\n  addr: {address}\n"
    )
    with (root / "registry.log").open("wb") as log:
        process = subprocess.Popen(
            ["docker-registry", "serve", str(config)], stdout=log, stderr=log
        )
    host, port = address.split(":")
    for _ in range(200):
        try:
            with socket.create_connection((host, int(port)), timeout=0.5):
                return address, process
        except OSError:
            time.sleep(0.05)
    process.terminate()
    raise SystemExit(f"the registry did not start: {(root / 'registry.log').read_text()}")


def git(path: Path, *args: str) -> None:
    ident = ["-c", "user.name=docs", "-c", "user.email=docs@example.com"]
    subprocess.run(["git", *ident, *args], cwd=path, check=True, capture_output=True)


def checkout(dest: Path) -> Path:
    """A copy of the service as a git repository with one commit."""
    dest.mkdir(parents=True)
    for name in SERVICE_FILES:
        src = REPO / name
        if src.is_dir():
            ignore = shutil.ignore_patterns(".dlc", "*.out", "Dockerfile.prod")
            shutil.copytree(src, dest / name, ignore=ignore)
        else:
            shutil.copy2(src, dest / name)
    git(dest, "init", "-q", "-b", "main")
    commit(dest, "the service")
    return dest


def commit(path: Path, message: str) -> None:
    git(path, "add", "-A")
    git(path, "commit", "-qm", message)


def dlc(project: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """``dlc ARGS`` in ``project``, plain output (as in CI)."""
    return subprocess.run(
        [str(BIN / "dlc"), *args],
        cwd=project,
        env={**env, "NO_COLOR": "1"},
        capture_output=True,
        text=True,
        check=False,
    )


def tmux(*args: str) -> str:
    return subprocess.run(["tmux", *args], check=True, capture_output=True, text=True).stdout


def terminal_capture(project: Path, env: dict[str, str], root: Path) -> str:
    """``dlc push`` typed into an interactive bash under tmux; the screen once it ended."""
    rc = root / "bashrc"
    rc.write_text(
        f"export PATH={BIN}:$PATH\n"
        f"export INVOKE_DLC_REGISTRY={env['INVOKE_DLC_REGISTRY']}\n"
        f"cd {project}\nPS1='$ '\n"
    )
    shell_env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "CI")}
    subprocess.run(
        ["tmux", "new-session", "-d", "-s", TMUX_SESSION, "-x", "120", "-y", "50",
         "bash", "--rcfile", str(rc), "-i"],
        check=True,
        env=shell_env,
    )  # fmt: skip
    try:
        tmux("set-option", "-t", TMUX_SESSION, "history-limit", "5000")
        tmux("send-keys", "-t", TMUX_SESSION, "dlc push; echo EXIT=$?", "Enter")
        deadline = time.monotonic() + 1800
        screen = ""
        while time.monotonic() < deadline:
            screen = tmux("capture-pane", "-p", "-J", "-S", "-", "-t", TMUX_SESSION)
            if "\nEXIT=" in screen:
                break
            time.sleep(1)
        else:
            raise SystemExit(f"dlc push did not end in 30 minutes:\n{screen}")
    finally:
        subprocess.run(["tmux", "kill-session", "-t", TMUX_SESSION], check=False)
    lines = [line.rstrip() for line in screen.splitlines()]
    end = next(n for n, line in enumerate(lines) if line.startswith("EXIT="))
    if lines[end] != "EXIT=0":
        raise SystemExit("dlc push failed:\n" + "\n".join(lines))
    return "\n".join(lines[: end + 1]) + "\n"  # up to the exit code, without the next prompt


def report_runs(project: Path, env: dict[str, str]) -> None:
    """Five more runs after the first: nothing changed, an edit, a failing test, the fix,
    nothing changed."""
    main = project / "cmd" / "server" / "main.go"
    failing = project / "pkg" / "config" / "docs_fail_test.go"

    def edit() -> None:
        main.write_text(main.read_text() + "\n// an edit that changes no binary\n")
        commit(project, "an edit")

    def break_a_test() -> None:
        failing.write_text(
            'package config\n\nimport "testing"\n\n'
            'func TestDocsCapture(t *testing.T) { t.Fatal("a failing test, for the report") }\n'
        )
        commit(project, "a failing test")

    def fix() -> None:
        failing.unlink()
        commit(project, "the fix")

    for change, should_pass in (
        (None, True),
        (edit, True),
        (break_a_test, False),
        (fix, True),
        (None, True),
    ):
        if change is not None:
            change()
        result = dlc(project, env, "push")
        if (result.returncode == 0) != should_pass:
            raise SystemExit(
                f"unexpected exit {result.returncode}:\n{result.stdout}{result.stderr}"
            )


def main() -> None:
    root = Path(tempfile.gettempdir()) / "dlc-docs"
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir()
    address, registry = start_registry(root)
    try:
        env = {k: v for k, v in os.environ.items() if k != "CI"}
        env["INVOKE_DLC_REGISTRY"] = address
        seed = checkout(root / "before")  # the cache image of the go.mod before the change
        result = dlc(seed, env, "cache")
        if result.returncode != 0:
            raise SystemExit(f"dlc cache failed:\n{result.stdout}{result.stderr}")
        service = checkout(root / "service")
        with (service / "go.mod").open("a") as go_mod:  # a new hash each time: a cold Go cache
            go_mod.write(GO_MOD_CHANGE.format(stamp=time.strftime("%Y-%m-%dT%H:%M:%SZ")))
        commit(service, "a dependency change")
        (DOCS / "inv-push-terminal.txt").write_text(terminal_capture(service, env, root))
        report_runs(service, env)
        result = dlc(service, env, "report")
        if result.returncode != 0:
            raise SystemExit(f"dlc report failed:\n{result.stdout}{result.stderr}")
        (DOCS / "inv-report.txt").write_text(result.stdout)
        shutil.copy2(service / ".dlc" / "report.png", DOCS / "inv-report.png")
        print("wrote docs/inv-push-terminal.txt, docs/inv-report.txt, docs/inv-report.png")
    finally:
        registry.terminate()
        registry.wait(10)
        forget(address, root / "service")


def forget(address: str, service: Path) -> None:
    """Remove what the runs left in the engine: the tags naming this script's registry and
    the Go cache volume of the changed go.mod (the layers stay for other builds)."""
    import docker  # noqa: PLC0415

    engine = docker.from_env(version="auto")
    for image in engine.images.list():
        for tag in image.tags:
            if tag.startswith(f"{address}/"):
                engine.images.remove(tag, noprune=True)
    hash_file = service / "deps_hash.env"
    if hash_file.is_file():
        deps_hash = hash_file.read_text().strip().split("=", 1)[1]
        for volume in engine.volumes.list(filters={"name": deps_hash[:16]}):
            volume.remove(force=True)


if __name__ == "__main__":
    main()
