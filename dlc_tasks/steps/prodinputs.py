"""What a production image is made of, on either path (the engine's build in :mod:`.prod`,
the assembly from parts in :mod:`.assemble`): its files, its labels, its rendered
``Dockerfile.prod``, and the check that its binary is the one ``test`` stamped."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from dlc_tasks._files import short
from dlc_tasks.config import confined
from dlc_tasks.errors import BinaryNotTested, NotFoundError
from dlc_tasks.model.labels import LABEL_CACHE, LABEL_HASH
from dlc_tasks.model.render import render_text
from dlc_tasks.model.stamps import TestStamp
from dlc_tasks.steps.gostep import binary_path
from dlc_tasks.steps.perimage import image_repository

if TYPE_CHECKING:
    from dlc_tasks.model.targets import ImageTarget
    from dlc_tasks.run import Run


def check_tested(run: Run, target: ImageTarget, sha256: str, key: str | None = None) -> None:
    """Refuse ``target``'s binary unless ``sha256`` is the digest ``test`` stamped for it
    (``key``: a platform's binary, ``NAME@PLATFORM``; see :mod:`crossbuild`)."""
    key = key or target.binary_name
    stamp = run.state.load("test", TestStamp)
    if stamp is None or stamp.binaries.get(key) != sha256:
        name, _, platform = key.partition("@")
        path = binary_path(run, target).parent / (
            f"{platform.replace('/', '-')}/{name}" if platform else name
        )
        raise BinaryNotTested(
            f"{run.settings.shown(path)} is not the binary test built "
            f"(sha256 {short(sha256, 12)}, the test stamp says "
            f"{short(stamp.binaries.get(key, 'none') if stamp else 'none', 12)})"
        )


CREATED = "org.opencontainers.image.created"


def oci_labels(run: Run, target: ImageTarget) -> dict[str, str]:
    """The OCI annotations and the tool's own labels, without ``created`` (added at build)."""
    s = run.settings
    return {
        "org.opencontainers.image.title": target.name,
        "org.opencontainers.image.version": str(run.facts.version()),
        "org.opencontainers.image.revision": run.facts.revision(),
        "org.opencontainers.image.source": s.source_url or str(image_repository(run, target)),
        LABEL_HASH: run.facts.deps().value,
        LABEL_CACHE: run.facts.cache_repository().pinned(run.facts.cache_image().digest),
    }


def context_files(run: Run, target: ImageTarget) -> dict[str, Path]:
    """Archive name → file: the image's binary and its ``prod_files``."""
    s = run.settings
    files = {target.binary_name: binary_path(run, target)}
    for name in target.prod_files:
        # resolved: a symlinked entry sends its file, never a dangling link; confined again
        # here because a link may have changed since the configuration was read
        path = confined(s.project_dir, name, "prod_files")
        if not path.is_file():
            raise NotFoundError(f"{path} (listed in dlc.prod_files) not found")
        files[name] = path
    return files


def dockerfile_path(run: Run, target: ImageTarget) -> Path:
    """Where an image's Dockerfile is rendered: ``dlc.dockerfile_prod`` for the module's one
    image, ``.dlc/Dockerfile.prod.NAME`` for each of ``dlc.images`` (outside the source tree,
    so writing it changes no input of ``test``)."""
    s = run.settings
    if not target.configured:
        return s.dockerfile_prod
    return s.state_dir / f"Dockerfile.prod.{target.name}"


def rendered(run: Run, target: ImageTarget) -> str:
    """The production Dockerfile: the template with the image's values and settings."""
    s = run.settings
    digest = run.facts.cache_image().digest
    cache_image = run.facts.cache_repository().pinned(digest)
    return render_text(
        s.dockerfile_prod_template,
        {
            "cache_image": cache_image,
            "deps_hash": run.facts.deps().value,
            "binary": target.binary_name,
        },
        target.image.blocks(target.binary_name, list(target.prod_files), cache_image),
    )
