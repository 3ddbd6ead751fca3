"""An SBOM per platform image and a provenance statement per index, attached by ``prod``.

Each is an OCI artifact whose ``subject`` is what it describes (an SPDX 2.3 document: one
platform's manifest; an in-toto statement with an SLSA v1 predicate: the index, or the one
manifest), pushed through the referrers API where the registry has it, else under the
referrers tag schema (``sha256-<hex>``; :mod:`dlc_tasks.clients.registry.referrers`). The
SBOM comes from the build information in the very binary the layer holds
(:mod:`dlc_tasks.model.gobinary`), so no Go command runs for it. Both carry the commit
time only, except the provenance's ``runDetails`` (start and finish of this build).
"""

from __future__ import annotations

import socket
from collections.abc import Sequence
from typing import TYPE_CHECKING

from dlc_tasks._files import file_sha256
from dlc_tasks.clients.registry.referrers import attach
from dlc_tasks.model import gobinary, gobuildinfo, provenance, sbom
from dlc_tasks.model.oci.descriptor import Blob
from dlc_tasks.model.oci.image import Image

if TYPE_CHECKING:
    from dlc_tasks.clients.registry import RegistryClient
    from dlc_tasks.model.targets import ImageTarget
    from dlc_tasks.run import Run


def tool() -> str:
    """``dlc-tasks-VERSION``: the SBOM's creator."""
    from importlib.metadata import PackageNotFoundError, version  # noqa: PLC0415

    try:
        return f"dlc-tasks-{version('dlc-tasks')}"
    except PackageNotFoundError:
        return "dlc-tasks"


def attach_sbom(
    run: Run, client: RegistryClient, repository: str, image: Image, *, binary: bytes, epoch: int
) -> str:
    """Attach the SPDX document of ``image`` (whose binary is ``binary``); returns how."""
    registry = run.registry()
    info = gobuildinfo.parse(gobinary.version_m(binary, "binary"))
    base = (
        sbom.ImageRef(f"{registry}/{image.base.repository}", image.base.digest)
        if image.base.digest
        else None
    )
    document = sbom.document(
        info,
        image=sbom.ImageRef(f"{registry}/{repository}", image.manifest.digest),
        platform=image.platform,
        base=base,
        namespace=f"https://{registry}/{repository}/spdx",
        epoch=epoch,
        tool=tool(),
    )
    manifest, blobs = sbom.artifact(document, image.manifest.descriptor, epoch)
    return attach(client, repository, manifest, blobs)


def attach_provenance(
    run: Run,
    client: RegistryClient,
    target: ImageTarget,
    *,
    repository: str,
    top: Blob,
    images: Sequence[Image],
    configuration: dict[str, object],
    epoch: int,
    started: int,
    finished: int,
) -> str:
    """Attach the in-toto statement of ``top`` (the index, or the one manifest)."""
    s, registry = run.settings, run.registry()
    dependencies = [
        provenance.Dependency(
            "build-cache",
            f"oci://{run.facts.cache_repository()}",
            provenance.hex_of(run.facts.cache_image().digest),
        )
    ]
    for image in images:
        if image.base.digest:
            dependencies.append(
                provenance.Dependency(
                    f"base {image.platform}",
                    f"oci://{registry}/{image.base.repository}",
                    provenance.hex_of(image.base.digest),
                )
            )
    go_sum = s.project_dir / "go.sum"
    if go_sum.is_file():
        dependencies.append(
            provenance.Dependency("go.sum", "go.sum", {"sha256": file_sha256(go_sum)})
        )
    statement = provenance.statement(
        name=f"{registry}/{repository}",
        index=top.digest,
        platforms=[(image.platform, image.manifest.digest) for image in images],
        repository=s.source_url or f"{registry}/{repository}",
        commit=run.facts.revision(),
        configuration={"image": target.name, **configuration},
        dependencies=dependencies,
        builder_id=f"urn:dlc-tasks:{socket.gethostname()}",
        started=started,
        finished=finished,
    )
    manifest, blobs = provenance.artifact(statement, top.descriptor, epoch)
    return attach(client, repository, manifest, blobs)
