"""The Docker engine dying while a Go step streams its output (issue 11, item 6).

A second ``dockerd`` of the test's own (its socket, data root and bridge,
``tests/support/dockerd.py``) runs the Go steps; the cache image reaches it from the
test's registry, where the first engine pushed it. The generate step runs Go, prints a
line the test waits for (reading the run's own output, no sleeping), and blocks; the test
then kills the daemon with SIGKILL, as a crash would. The run must end in one ``dlc:``
line, exit 1, record the failure, and leave no stamp saying generate ran.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import threading
from pathlib import Path

import pytest

from tests.integration.conftest import Registry, inv, inv_background, ok
from tests.support.dockerd import SecondEngine

pytestmark = pytest.mark.integration
# printed by the step itself: the command line the run echoes holds $((6*7)), not 42
STREAMING = "dlc-step-42"
STEP = "go version; echo dlc-step-$((6*7)); exec tail -f /dev/null"


def test_the_engine_vanishing_during_a_go_step_is_one_line(
    service: Path, registry: Registry
) -> None:
    ok(inv("cache", project=service, registry=registry.address))  # the cache image, pushed
    config = service / "vanish.yaml"
    config.write_text(f"dlc:\n  generate: [[sh, -c, {json.dumps(STEP)}]]\n")
    # a short root: containerd's sockets live under it, and a unix socket path has 108 bytes
    root = Path(tempfile.mkdtemp(prefix="dlc-vanish-"))
    engine = SecondEngine(root, bridge="dlcvanish0", cidr="10.213.79.1/24")
    try:
        engine.start()
        run = inv_background(
            "-f", str(config), "generate",
            project=service, registry=registry.address, env=engine.client_env(),
        )  # fmt: skip
        # a bound on a broken run, not a synchronisation: the step blocks until the kill
        watchdog = threading.Timer(600, run.kill)
        watchdog.start()
        try:
            assert run.stdout is not None
            seen = []
            for line in run.stdout:  # the run's own output, line by line ("[   3.1s] text")
                seen.append(line)
                if line.rstrip().endswith("] " + STREAMING):
                    break
            assert seen and seen[-1].rstrip().endswith("] " + STREAMING), "".join(seen)
            assert any("] go version go1." in line for line in seen), "".join(seen)
            engine.kill()
            rest, err = run.communicate(timeout=300)
        finally:
            watchdog.cancel()
            if run.poll() is None:
                run.kill()
                run.communicate()
    finally:
        engine.stop()
        shutil.rmtree(root, ignore_errors=True)
    out = "".join(seen) + rest
    assert run.returncode == 1, out + err
    assert "Traceback" not in out + err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("dlc: the Docker engine failed during exec"), err
    state = json.loads((service / ".dlc" / "state.json").read_text())
    assert "generate" not in state  # nothing half-done claims it ran
    last = json.loads((service / ".dlc" / "history.jsonl").read_text().splitlines()[-1])
    assert last["ok"] is False
    assert last["failed"] == "generate"
