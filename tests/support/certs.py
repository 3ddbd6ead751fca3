"""A private CA and certificates signed by it, made with openssl, for the TLS tests."""

from __future__ import annotations

import subprocess
from pathlib import Path


def _openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True)


def make_ca(folder: Path, name: str) -> tuple[Path, Path]:
    """(ca.crt, ca.key): a self-signed CA valid for two days."""
    crt, key = folder / "ca.crt", folder / "ca.key"
    _openssl(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        f"/CN={name}",
        "-keyout",
        str(key),
        "-out",
        str(crt),
    )
    return crt, key


def make_cert(
    folder: Path, ca: tuple[Path, Path], subject: str, extensions: str
) -> tuple[Path, Path]:
    """(cert, key) in ``folder``, for ``subject``, with X.509 ``extensions``, signed by ``ca``."""
    folder.mkdir(parents=True, exist_ok=True)
    key, csr, crt, ext = (folder / n for n in ("key.pem", "req.csr", "cert.pem", "ext.cnf"))
    ext.write_text(extensions)
    _openssl(
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        subject,
        "-keyout",
        str(key),
        "-out",
        str(csr),
    )
    _openssl(
        "x509",
        "-req",
        "-in",
        str(csr),
        "-CA",
        str(ca[0]),
        "-CAkey",
        str(ca[1]),
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        str(ext),
        "-out",
        str(crt),
    )
    return crt, key
