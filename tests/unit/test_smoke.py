"""dlc_tasks.checks.smoke.check_running: driven by the image's health check and ports."""

from __future__ import annotations

import socket
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest

from dlc_tasks.checks.smoke import SmokeTestFailed, check_running
from dlc_tasks.clients.engine import ExecResult
from dlc_tasks.model.prodimage import ImageSettings


@dataclass
class Container:
    """An engine with one container whose health command fails ``failures`` times."""

    failures: int = 0
    exits: bool = False
    calls: list[tuple[str, Any]] = field(default_factory=list)

    def start_container(self, image: str, **kwargs: Any) -> str:
        self.calls.append(("start", kwargs.get("publish")))
        return "c1"

    def container_state(self, cid: str) -> str:
        return "exited" if self.exits else "running"

    def container_logs(self, cid: str) -> str:
        return "panic: no config\n"

    def exec(self, cid: str, argv: Sequence[str], *, workdir: str, user: str) -> ExecResult:
        self.calls.append(("exec", (list(argv), user)))
        self.failures -= 1
        return ExecResult(list(argv), 1 if self.failures >= 0 else 0, [])

    def remove_container(self, cid: str) -> None:
        self.calls.append(("remove", cid))


def test_an_image_without_health_check_or_port_starts_nothing() -> None:
    engine = Container()
    assert check_running(engine, "img", ImageSettings.from_mapping({"ports": ["53/udp"]})) is None  # type: ignore[arg-type]
    assert engine.calls == []


def test_the_health_check_runs_inside_the_container_as_the_images_user_until_it_passes() -> None:
    engine = Container(failures=2)
    settings = ImageSettings.from_mapping(
        {"ports": [8080], "healthcheck": ["/app/srv", "-health"], "user": "1000:1000"}
    )
    assert check_running(engine, "img", settings) == "the health check /app/srv -health passed"  # type: ignore[arg-type]
    execs = [c[1] for c in engine.calls if c[0] == "exec"]
    assert execs == [(["/app/srv", "-health"], "1000:1000")] * 3
    assert engine.calls[0] == ("start", None)  # nothing published: the check runs inside
    assert engine.calls[-1] == ("remove", "c1")


def test_a_container_that_exits_fails_with_its_last_lines_and_is_removed() -> None:
    engine = Container(exits=True)
    settings = ImageSettings.from_mapping({"healthcheck": ["/app/srv", "-health"]})
    with pytest.raises(SmokeTestFailed, match="img exited: panic: no config"):
        check_running(engine, "img", settings)  # type: ignore[arg-type]
    assert engine.calls[-1] == ("remove", "c1")


def test_an_image_with_a_port_and_no_health_check_must_accept_a_connection() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        engine = Container()
        engine.published_port = lambda cid, port: server.getsockname()[1]  # type: ignore[attr-defined]
        settings = ImageSettings.from_mapping({"ports": ["53/udp", 9000]})
        assert check_running(engine, "img", settings) == "port 9000 accepts connections"  # type: ignore[arg-type]
    assert engine.calls[0] == ("start", 9000)  # the first TCP port, published on loopback
