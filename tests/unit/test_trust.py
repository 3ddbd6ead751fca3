"""CA installation adds certificates and never leaks a key (issue 11, item 4)."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from dlc_tasks.clients.trust import install_ca
from dlc_tasks.errors import RegistryTLSError
from tests.support.certs import make_ca

REGISTRY = "registry.example:5443"


@pytest.fixture(autouse=True)
def local_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DOCKER_HOST", raising=False)


def ca(folder: Path, name: str) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    return make_ca(folder, name)


def test_a_pem_with_a_private_key_is_refused_naming_the_key(tmp_path: Path) -> None:
    crt, key = ca(tmp_path / "a", "a")
    bundle = tmp_path / "bundle.pem"
    bundle.write_bytes(crt.read_bytes() + key.read_bytes())
    certs_d = tmp_path / "certs.d"
    with pytest.raises(RegistryTLSError, match="PRIVATE KEY") as caught:
        install_ca(REGISTRY, bundle, lambda _: None, certs_d)
    assert "MII" not in caught.value.one_line()  # the key's content is never printed
    assert not (certs_d / REGISTRY).exists()


@pytest.mark.parametrize("content", [b"not a certificate\n", b"\x30\x82\x01\x0a" * 40])
def test_a_file_that_is_not_a_pem_certificate_is_refused(tmp_path: Path, content: bytes) -> None:
    bad = tmp_path / "ca.der"
    bad.write_bytes(content)
    with pytest.raises(RegistryTLSError, match="not a PEM certificate"):
        install_ca(REGISTRY, bad, lambda _: None, tmp_path / "certs.d")


def test_a_malformed_certificate_block_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "ca.pem"
    bad.write_text("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
    with pytest.raises(RegistryTLSError, match="malformed certificate"):
        install_ca(REGISTRY, bad, lambda _: None, tmp_path / "certs.d")


def test_the_installed_file_holds_only_the_certificate_mode_0644(tmp_path: Path) -> None:
    crt, _ = ca(tmp_path / "a", "a")
    noisy = tmp_path / "noisy.pem"
    noisy.write_bytes(b"Subject: CN=a\nsome text openssl x509 -text prints\n" + crt.read_bytes())
    certs_d = tmp_path / "certs.d"
    said: list[str] = []
    assert install_ca(REGISTRY, noisy, said.append, certs_d)
    target = certs_d / REGISTRY / "ca.crt"
    assert target.read_bytes().startswith(b"-----BEGIN CERTIFICATE-----")
    assert b"Subject" not in target.read_bytes()
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    assert list(target.parent.iterdir()) == [target]  # no temporary file left
    assert not install_ca(REGISTRY, noisy, said.append, certs_d)  # same again: nothing to do


def test_an_existing_different_ca_is_kept_and_reported(tmp_path: Path) -> None:
    old, _ = ca(tmp_path / "old", "old")
    new, _ = ca(tmp_path / "new", "new")
    certs_d = tmp_path / "certs.d"
    (certs_d / REGISTRY).mkdir(parents=True)
    (certs_d / REGISTRY / "ca.crt").write_bytes(old.read_bytes())
    said: list[str] = []
    assert install_ca(REGISTRY, new, said.append, certs_d)
    bundle = (certs_d / REGISTRY / "ca.crt").read_bytes()
    assert bundle.count(b"BEGIN CERTIFICATE") == 2
    assert old.read_bytes().strip() in bundle and new.read_bytes().strip() in bundle
    assert any("kept" in line for line in said)
