"""dlc_tasks.secrets: the one redaction point, and every writer passing through it.

A secret registered where a credential is learnt never appears, in any of the forms text takes
on its way out (as is, ``repr``/JSON escaped, URL-encoded, whitespace collapsed, cut at a line
break), in a console line, an error line, the CLI's ``dlc:`` line, ``report.json``, the history,
``state.json``, ``GITHUB_OUTPUT`` or the step summary. Tokens are validated (RFC 6750
``b64token``) before use, and one that is not is refused in a line that does not hold it.
"""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path
from typing import Any

import pytest
from invoke.exceptions import Exit

from dlc_tasks.cli.task import dlc_task
from dlc_tasks.clients.credentials import Credentials, lookup
from dlc_tasks.clients.registry import RegistryClient, TokenError
from dlc_tasks.config import DEFAULTS, Retries, Settings
from dlc_tasks.errors import DlcError
from dlc_tasks.model.depshash import DepsHash
from dlc_tasks.model.state import State
from dlc_tasks.model.status import Status
from dlc_tasks.model.versionfile import Version
from dlc_tasks.reporting import runreport
from dlc_tasks.reporting.console import Console, Outcome
from dlc_tasks.secrets import MASK, forms_of, redact, redact_values, register
from tests.support.credhelper import fake_helper
from tests.support.tokenserver import TokenServer
from tests.unit.test_registry_auth import FakeRegistry

# Quotes, a backslash, a non-ASCII letter, a line break: every way text can change it.
SECRET = 'pä$$"w\\ord-\n-s3cret-Tail'
FAST = Retries(attempts=1, base_delay=0.0, max_delay=0.0, timeout=5.0)


def leaks(text: str, secret: str = SECRET) -> list[str]:
    """The forms of ``secret`` that ``text`` still holds."""
    return sorted(form for form in forms_of(secret) if form in text)


def test_every_form_of_a_registered_secret_is_masked() -> None:
    register(SECRET)
    forms = [SECRET, repr(SECRET), json.dumps(SECRET), json.dumps(SECRET, ensure_ascii=False)]
    for text in forms:
        assert leaks(redact(f"before {text} after")) == []
    assert redact("collapsed: " + " ".join(SECRET.split())) == f"collapsed: {MASK}"
    # an HTTP library refusing a header prints the part before the line break
    assert leaks(redact("Invalid header value 'Bearer pä$$\"w\\ord-'")) == []
    assert redact("nothing secret here") == "nothing secret here"


def test_short_values_are_not_masked_everywhere() -> None:
    register("ab")
    assert redact("a table, a cab") == "a table, a cab"
    assert forms_of("ab") == set()


def test_values_of_a_document_are_masked_and_it_stays_valid_json() -> None:
    register(SECRET)
    doc = {"a": [SECRET, {"b": f"x{SECRET}y"}], SECRET: 1, "n": 2, "ok": True}
    text = json.dumps(redact_values(doc))
    assert leaks(text) == [] and json.loads(text)["n"] == 2


def test_an_error_line_never_holds_a_secret_even_split_over_lines() -> None:
    register(SECRET)
    err = DlcError(f"refused 'Bearer {SECRET}'", hint=f"not {SECRET!r}")
    assert leaks(err.one_line()) == [] and "\n" not in err.one_line()


def test_the_cli_line_of_a_task_masks_secrets() -> None:
    register(SECRET)

    @dlc_task
    def boom(ctx: Any) -> None:
        raise DlcError(f"header {SECRET!r} refused")

    with pytest.raises(Exit) as caught:
        boom.body(None)
    assert str(caught.value.message).startswith("dlc: ")
    assert leaks(str(caught.value.message)) == []


def test_console_lines_and_tool_output_mask_secrets() -> None:
    register(SECRET)
    out = Console(stream=io.StringIO())
    out.line(f"token {SECRET}")
    out.output(f"go test printed {json.dumps(SECRET)}")
    out.status(Outcome("push", Status.FAILED, 1.0, f"detail {SECRET}"))
    assert leaks(out.stream.getvalue()) == []  # type: ignore[attr-defined]


class LeakyFacts:
    """Facts whose every value the report reads holds the secret."""

    def deps(self) -> DepsHash:
        return DepsHash(f"hash-{SECRET}", {})

    def revision(self) -> str:
        return f"rev-{SECRET}"

    def version(self) -> Version:
        return Version(1, 2, 3, f"rc-{SECRET}")


class LeakyRuntime:
    """A run whose every value the report reads holds the secret."""

    def __init__(self, project: Path) -> None:
        self.settings = Settings.from_mapping({**DEFAULTS, "project_dir": str(project)})
        self.state = State(self.settings.state_dir)
        self.facts = LeakyFacts()


def test_report_history_state_and_ci_files_never_hold_a_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    register(SECRET)
    rt = LeakyRuntime(tmp_path)
    rt.state.record("push", f"key-{SECRET}", digest=f"sha256:{SECRET}", tags=[SECRET], image="i")
    rt.state.record("prod", "k", image=SECRET, size=1)
    summary, outputs = tmp_path / "summary.md", tmp_path / "outputs"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    monkeypatch.setenv("GITHUB_OUTPUT", str(outputs))
    outcomes = [Outcome("prod", Status.RAN, 1.0), Outcome("push", Status.RAN, 1.0)]
    runreport.write(rt, outcomes)  # type: ignore[arg-type]
    state_dir = rt.settings.state_dir
    written = {
        path.name: path.read_text(encoding="utf-8")
        for path in [*state_dir.iterdir(), summary, outputs]
        if path.is_file()
    }
    assert {"report.json", "history.jsonl", "state.json"} <= set(written)
    assert {name: leaks(text) for name, text in written.items() if leaks(text)} == {}
    assert json.loads(written["report.json"])["revision"] == f"rev-{MASK}"


# -- where secrets are learnt ----------------------------------------------------------------


def test_every_credential_source_registers_its_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    monkeypatch.setenv("DLC_REGISTRY_USERNAME", "ci")
    monkeypatch.setenv("DLC_REGISTRY_PASSWORD", "env-secret-1")
    lookup("r.example:5000")
    monkeypatch.delenv("DLC_REGISTRY_USERNAME")
    auth = base64.b64encode(b"alice:auths-secret-2").decode()
    config = {
        "auths": {
            "r.example:5000": {"auth": auth},
            "id.example": {"identitytoken": "identity-secret-3"},
        },
        "credHelpers": {"h.example": "planted"},
    }
    (tmp_path / "config.json").write_text(json.dumps(config))
    lookup("r.example:5000")
    fake_helper(tmp_path / "bin", "planted", {"h.example": ("bob", "helper-secret-4")})
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}:/usr/bin:/bin")
    lookup("h.example")
    for secret in ("env-secret-1", "auths-secret-2", auth, "identity-secret-3", "helper-secret-4"):
        assert redact(f"[{secret}]") == f"[{MASK}]", secret


@pytest.fixture
def hostile_tokens(tmp_path: Path) -> Any:
    servers: list[TokenServer] = []

    def start(tamper: Any) -> TokenServer:
        server = TokenServer(tmp_path / f"t{len(servers)}", users={"ci": "pw"}, sign=False)
        server.tamper = tamper
        servers.append(server.start())
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.mark.parametrize(
    "token",
    [
        "eyJhbGciOiJSUzI1NiJ9.e30.c2lnbmF0dXJl\n",
        "eyJhbGciOiJSUzI1NiJ9.e30.sig\r\nX-Injected: 1",
        "eyJhbGciOiJSUzI1NiJ9.tökén-with-latin-1",
        "eyJhbGciOiJSUzI1NiJ9.雪-not-latin-1",
        "eyJ hbGci with a space",
    ],
    ids=["newline", "header-injection", "latin-1", "non-latin-1", "space"],
)
def test_a_token_that_is_not_a_b64token_is_refused_in_a_line_that_does_not_hold_it(
    hostile_tokens: Any, token: str
) -> None:
    """The token server answered a token holding a control character (or any character
    outside RFC 6750's b64token): before the fix requests refused the header in a message
    quoting ``'Bearer eyJ…\\n'`` whole, or raised UnicodeEncodeError for a non-Latin-1 one."""
    tokens = hostile_tokens(lambda answer: {**answer, "token": token, "access_token": token})
    fake = FakeRegistry(tokens).start()
    try:
        client = RegistryClient(
            fake.address,
            credentials=Credentials("ci", "pw", source="test"),
            retries=FAST,
        )
        with pytest.raises(TokenError) as caught:
            client.manifest_digest("o/r", "latest")
    finally:
        assert fake.server is not None
        fake.server.shutdown()
        fake.server.server_close()
    line = caught.value.one_line()
    assert "b64token" in line and "\n" not in line
    assert leaks(line, token) == [] and token.strip() not in line
