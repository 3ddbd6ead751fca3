"""inv doctor through the run's seams: the Run's engine and registry client, faults as lines."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest

from dlc_tasks.checks.doctor import DoctorFailed, _tokens, run_doctor
from dlc_tasks.clients.engine import Engine
from dlc_tasks.config import Settings
from dlc_tasks.errors import DlcError
from dlc_tasks.reporting.console import Console
from dlc_tasks.run import Run
from tests.support.fakes import World, make_project, printed
from tests.support.tokenserver import TokenServer
from tests.unit.test_registry_auth import FakeRegistry as AuthRegistry
from tests.unit.test_registry_auth import client


class Holder:
    """What run_doctor needs of the executor's RunHolder: settings, console, the run."""

    def __init__(self, run: Run) -> None:
        self.run = run
        self.out = run.out

    def settings(self) -> Settings:
        return self.run.settings

    def get(self) -> Run:
        return self.run


def test_doctor_uses_the_runs_engine_and_registry_client(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_connect(*_: object) -> Engine:
        raise AssertionError("doctor connected an engine of its own")

    monkeypatch.setattr(Engine, "connect", staticmethod(no_connect))
    world = World(make_project(tmp_path / "module"))
    run = world.run()
    with pytest.raises(DoctorFailed):  # git and base images fail here; not what is asked
        run_doctor(Holder(run))  # type: ignore[arg-type]
    out = printed(run)
    assert "ok   engine: Docker fake (API 1.41)" in out
    assert "ok   registry: registry.test:5000 answers /v2/ anonymously" in out
    assert ("ping", "", "") in world.registry.calls
    assert [m["registry"] for m in world.made] == ["registry.test:5000"]  # the run's one client


@pytest.fixture
def tokens(tmp_path: Path) -> Iterator[TokenServer]:
    server = TokenServer(tmp_path / "tokens", users={"ci": "pw-s3cret"}, sign=False).start()
    yield server
    server.stop()


@pytest.mark.parametrize("fault", ["503", "429", "down"])
def test_doctor_reports_a_token_server_fault_as_a_check_line_not_a_traceback(
    tmp_path: Path, tokens: TokenServer, fault: str
) -> None:
    fake = AuthRegistry(tokens).start()
    try:
        c = client(fake)
        c.ping()  # a bearer registry: the doctor then asks for pull,push tokens
        if fault == "down":
            tokens.stop()
        else:
            tokens.fail_with = int(fault)
        s = Settings.from_mapping(
            {"project_dir": str(tmp_path), "registry": fake.address, "org": "o", "repo": "r"}
        )
        with pytest.raises(DlcError) as caught:
            _tokens(c, s, fake.address)
        line = caught.value.one_line()
        assert tokens.realm in line and "environment" in line and "\n" not in line
    finally:
        assert fake.server is not None
        fake.server.shutdown()
        fake.server.server_close()


def test_doctor_prints_fail_for_a_token_server_fault(tmp_path: Path, tokens: TokenServer) -> None:
    fake = AuthRegistry(tokens).start()
    try:
        world = World(make_project(tmp_path / "module"))
        settings = Settings.from_mapping(
            {**_raw(world.project), "registry": fake.address, "retries": {"attempts": 1}}
        )
        made = client(fake)
        made.ping()
        tokens.fail_with = 503
        run = Run(
            settings,
            out=Console(stream=io.StringIO()),
            make_engine=lambda: world.engine,  # type: ignore[arg-type,return-value]
            make_registry_client=lambda registry, **_: made,
        )
        with pytest.raises(DoctorFailed):
            run_doctor(Holder(run))  # type: ignore[arg-type]
        out = printed(run)
        line = next(x for x in out.splitlines() if "FAIL registry:" in x)
        assert "503" in line and tokens.realm in line
    finally:
        assert fake.server is not None
        fake.server.shutdown()
        fake.server.server_close()


def _raw(project: Path) -> dict[str, object]:
    return {"project_dir": str(project), "org": "acme", "repo": "fake", "main_package": "./"}
