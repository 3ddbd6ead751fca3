"""The local registry is recognised by what it is, never by any 200 on its port (item 5)."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from dlc_tasks.checks.doctor import DoctorWarning, _registry
from dlc_tasks.clients import localregistry
from dlc_tasks.config import Settings
from dlc_tasks.errors import ConfigError, ToolError
from dlc_tasks.reporting.console import Console
from dlc_tasks.run import Run
from tests.support.servers import REGISTRY_HEADER, free_loopback_port, http_server, not_http


@pytest.fixture
def plain_http() -> Iterator[int]:
    with http_server({}) as port:
        yield port


@pytest.fixture
def other_registry() -> Iterator[int]:
    with http_server(REGISTRY_HEADER) as port:
        yield port


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
    with http_server(headers) as port:
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


@pytest.fixture
def banner() -> Iterator[int]:
    with not_http() as port:
        yield port


def test_a_non_http_service_on_the_port_is_something_else_not_a_traceback(
    banner: int, tmp_path: Path
) -> None:
    assert localregistry.is_ours(f"127.0.0.1:{banner}", tmp_path) is False
    with pytest.raises(ToolError, match="something other than") as caught:
        localregistry.ensure_running("127.0.0.1", banner, tmp_path)
    assert "\n" not in caught.value.one_line()
    s = Settings.from_mapping(
        {"project_dir": str(tmp_path), "local_registry": {"port": banner, "data_dir": "/d"}}
    )
    with pytest.raises(DoctorWarning, match="something other than"):
        _registry(Run(s))


@pytest.fixture
def proxy() -> Iterator[tuple[int, list[str]]]:
    """An HTTP proxy that records what it is asked and answers for anyone, as a registry."""
    seen: list[str] = []
    with http_server(REGISTRY_HEADER, seen) as port:
        yield port, seen


def _is_ours_in_a_new_process(address: str, data: Path, env: dict[str, str]) -> str:
    """``is_ours`` as a fresh ``inv`` process runs it: urllib reads the proxy variables once
    per process, so this process's earlier calls must not decide."""
    code = "import sys; from pathlib import Path; from dlc_tasks.clients import localregistry as l"
    code += "; print(l.is_ours(sys.argv[1], Path(sys.argv[2])))"
    return subprocess.run(
        [sys.executable, "-c", code, address, str(data)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def test_the_loopback_probe_never_goes_through_a_proxy(
    proxy: tuple[int, list[str]], tmp_path: Path
) -> None:
    port, seen = proxy
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    env.update({name: f"http://127.0.0.1:{port}" for name in ("http_proxy", "HTTP_PROXY")})
    token = localregistry.marker(tmp_path)
    headers = {"Docker-Distribution-Api-Version": "registry/2.0", "X-Dlc-Tasks-Registry": token}
    with http_server(headers) as ours:
        assert _is_ours_in_a_new_process(f"127.0.0.1:{ours}", tmp_path, env) == "True"
    free = free_loopback_port()
    assert _is_ours_in_a_new_process(f"127.0.0.1:{free}", tmp_path, env) == "None"
    assert seen == []


def test_a_dry_run_does_not_take_a_registry_without_our_marker_for_ours(
    other_registry: int, tmp_path: Path
) -> None:
    """A real run refuses a registry without our marker; the dry run must say the same
    rather than plan against another user's registry."""
    s = Settings.from_mapping(
        {
            "project_dir": str(tmp_path),
            "dry_run": True,
            "local_registry": {"port": other_registry, "data_dir": str(tmp_path / "data")},
        }
    )
    with pytest.raises(ToolError, match="something other than"):
        Run(s, out=Console(stream=io.StringIO())).client()


def test_a_dry_run_with_nothing_on_the_port_plans_to_start_the_registry(tmp_path: Path) -> None:
    free = free_loopback_port()
    s = Settings.from_mapping(
        {"project_dir": str(tmp_path), "dry_run": True, "local_registry": {"port": free}}
    )
    stream = io.StringIO()
    run = Run(s, out=Console(stream=stream))
    assert run.client().tags("any") == []
    assert run.registry() == f"127.0.0.1:{free}"
    assert "would start one" in stream.getvalue()
