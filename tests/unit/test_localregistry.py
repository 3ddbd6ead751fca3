"""The local registry is recognised by what it is, never by any 200 on its port (item 5)."""

from __future__ import annotations

import http.server
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from dlc_tasks.checks.doctor import DoctorWarning, _registry
from dlc_tasks.clients import localregistry
from dlc_tasks.config import Settings
from dlc_tasks.errors import ConfigError, ToolError
from dlc_tasks.run import Run


def serve(headers: dict[str, str]) -> Iterator[int]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *_: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def plain_http() -> Iterator[int]:
    yield from serve({})


@pytest.fixture
def other_registry() -> Iterator[int]:
    yield from serve({"Docker-Distribution-Api-Version": "registry/2.0"})


def test_any_http_server_on_the_port_is_not_taken_for_our_registry(
    plain_http: int, tmp_path: Path
) -> None:
    with pytest.raises(ToolError, match="something other than") as caught:
        localregistry.ensure_running("127.0.0.1", plain_http, tmp_path)
    assert "local_registry.port" in caught.value.one_line()
    assert not (tmp_path / "config.yml").exists()


def test_another_users_registry_without_our_marker_is_refused(
    other_registry: int, tmp_path: Path
) -> None:
    localregistry.marker(tmp_path)
    assert localregistry.is_ours(f"127.0.0.1:{other_registry}", tmp_path) is False
    with pytest.raises(ToolError, match="something other than"):
        localregistry.ensure_running("127.0.0.1", other_registry, tmp_path)


def test_a_registry_with_our_marker_is_reused(tmp_path: Path) -> None:
    token = localregistry.marker(tmp_path)
    assert (tmp_path / "marker").stat().st_mode & 0o077 == 0
    headers = {"Docker-Distribution-Api-Version": "registry/2.0", "X-Dlc-Tasks-Registry": token}
    for port in serve(headers):
        assert localregistry.ensure_running("127.0.0.1", port, tmp_path) == (
            f"127.0.0.1:{port}",
            False,
        )


def test_the_local_registry_binds_loopback_only(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not a loopback address"):
        localregistry.ensure_running("0.0.0.0", 5000, tmp_path)  # noqa: S104


def test_its_configuration_carries_the_marker_header(tmp_path: Path) -> None:
    text = localregistry.config_text("127.0.0.1", 5000, tmp_path, "abc")
    assert "addr: 127.0.0.1:5000" in text
    assert "X-Dlc-Tasks-Registry: [abc]" in text


def test_doctor_warns_when_the_port_is_served_by_something_else(
    plain_http: int, tmp_path: Path
) -> None:
    s = Settings.from_mapping(
        {
            "project_dir": str(tmp_path),
            "local_registry": {"port": plain_http, "data_dir": str(tmp_path / "data")},
        }
    )
    with pytest.raises(DoctorWarning, match="something other than"):
        _registry(Run(s))
    assert not (tmp_path / "data").exists()  # the doctor changes nothing


@pytest.mark.parametrize("serving_this_folder", [True, False])
def test_a_registry_an_earlier_version_started_from_this_folder_is_still_ours(
    other_registry: int, tmp_path: Path, serving_this_folder: bool
) -> None:
    """Before markers, ``registry.pid`` was the only record: a live process of this user with
    this folder's config.yml in its arguments is ours; any other process is not."""
    config = tmp_path / "config.yml" if serving_this_folder else tmp_path / "elsewhere.yml"
    stand_in = subprocess.Popen(  # blocks on stdin: alive until the test closes it
        [sys.executable, "-c", "import sys; sys.stdin.read()", str(config)], stdin=subprocess.PIPE
    )
    try:
        (tmp_path / "registry.pid").write_text(f"{stand_in.pid}\n")
        assert localregistry.is_ours(f"127.0.0.1:{other_registry}", tmp_path) is serving_this_folder
    finally:
        assert stand_in.stdin is not None
        stand_in.stdin.close()
        stand_in.wait()
