"""A Go module with one dependency, served by a file-based module proxy, made in Python.

``go help goproxy`` describes the layout: ``MODULE/@v/list``, ``VERSION.info``,
``VERSION.mod`` and ``VERSION.zip``. The go.sum lines are computed as
golang.org/x/mod/sumdb/dirhash's Hash1 does (``h1:`` + base64 of the sha256 over
the sorted lines ``sha256(file)  name``), so the module passes ``go mod verify``
until a test tampers with go.sum.
"""

from __future__ import annotations

import base64
import hashlib
import io
import zipfile
from pathlib import Path

DEP, VERSION = "example.com/dep", "v1.0.0"
DEP_GO_MOD = f"module {DEP}\n\ngo 1.22\n"
DEP_SOURCE = (
    "// Package dep is the dependency of the go.sum fixture.\npackage dep\n\n"
    '// Name names the dependency.\nfunc Name() string { return "dep" }\n'
)


def hash1(files: dict[str, bytes]) -> str:
    summary = "".join(
        f"{hashlib.sha256(files[name]).hexdigest()}  {name}\n" for name in sorted(files)
    )
    return "h1:" + base64.b64encode(hashlib.sha256(summary.encode()).digest()).decode()


def publish(proxy: Path, module: str, version: str, files: dict[str, str]) -> str:
    """Serve ``module@version`` (``files``: path in the module → text, go.mod among them)
    from the file proxy ``proxy``; return its two go.sum lines."""
    prefix = f"{module}@{version}/"
    members = {prefix + name: text.encode() for name, text in files.items()}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    versions = proxy / module / "@v"
    versions.mkdir(parents=True)
    (versions / "list").write_text(f"{version}\n")
    (versions / f"{version}.info").write_text(f'{{"Version":"{version}"}}\n')
    (versions / f"{version}.mod").write_text(files["go.mod"])
    (versions / f"{version}.zip").write_bytes(buffer.getvalue())
    return (
        f"{module} {version} {hash1(members)}\n"
        f"{module} {version}/go.mod {hash1({'go.mod': files['go.mod'].encode()})}\n"
    )


def write_module(root: Path) -> Path:
    """Write the module (go.mod, go.sum, cmd/server, VERSION, config) and goproxy/; return root."""
    go_sum = publish(root / "goproxy", DEP, VERSION, {"go.mod": DEP_GO_MOD, "dep.go": DEP_SOURCE})
    (root / "go.mod").write_text(
        f"module example.com/withdep\n\ngo 1.22\n\nrequire {DEP} {VERSION}\n"
    )
    (root / "go.sum").write_text(go_sum)
    server = root / "cmd" / "server"
    server.mkdir(parents=True)
    (server / "main.go").write_text(
        'package main\n\nimport (\n\t"fmt"\n\n\t"example.com/dep"\n)\n\n'
        "func main() { fmt.Println(dep.Name()) }\n"
    )
    (root / "VERSION").write_text("MAJOR=0\nMINOR=1\nPATCH=0\nPRERELEASE=\n")
    (root / "config.yaml").write_text("# none\n")
    return root
