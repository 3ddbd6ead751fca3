"""``prod``: render ``Dockerfile.prod`` and build the slim production image from the binary.

The binary must be the one ``test`` built and stamped: its sha256 is checked against the
test stamp when deciding and again on the bytes put in the build context, so no image is
built from a binary that no successful ``test`` of these sources produced.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from dlc_tasks._files import file_sha256, short
from dlc_tasks.config import confined
from dlc_tasks.errors import BinaryNotTested, NotFoundError
from dlc_tasks.model.labels import LABEL_CACHE, LABEL_HASH
from dlc_tasks.model.render import label_instruction, render_text, write_rendered
from dlc_tasks.model.stamps import ProdStamp, TestStamp
from dlc_tasks.model.state import inputs_key
from dlc_tasks.model.targets import ImageTarget
from dlc_tasks.steps import assemble
from dlc_tasks.steps.base import Decision, Done, Step
from dlc_tasks.steps.gostep import binary_path, ensure_cache_image
from dlc_tasks.steps.perimage import (
    EachImage,
    combine,
    describe_each,
    execute_each,
    image_repository,
)

if TYPE_CHECKING:
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


@dataclass(frozen=True)
class ProdPlan:
    """One image's build: the stamp's key, the rendered Dockerfile, its labels and its tag."""

    key: str
    text: str
    labels: dict[str, str]
    tag: str
    # With dlc.platforms: the image is assembled from its parts (steps/assemble.py), not built.
    assembled: assemble.Plan | None = None


class ProdStep(Step[EachImage[ProdPlan]]):
    """Build each production image unless its Dockerfile, files, arguments or labels changed."""

    name = "prod"
    after = ("cache", "test")

    def decide(self, run: Run) -> Decision[EachImage[ProdPlan]]:
        """Each image: up to date when its inputs match its last build and that image exists."""
        return combine([(target, self._decide(run, target)) for target in run.settings.targets()])

    def _decide(self, run: Run, target: ImageTarget) -> Decision[ProdPlan]:
        s = run.settings
        text = rendered(run, target)
        files = context_files(run, target)
        if not files[target.binary_name].is_file():
            raise NotFoundError(f"{files[target.binary_name]} was not built", hint="run inv test")
        labels = oci_labels(run, target)
        digests = {name: file_sha256(p) for name, p in files.items()}
        check_tested(run, target, digests[target.binary_name])
        tag = image_repository(run, target).tagged(run.facts.revision())
        planned = assemble.plan(run, target, text, labels)
        if planned is not None:
            shown = run.settings.shown(dockerfile_path(run, target))
            return assemble.decide(
                run,
                target,
                planned,
                text=text,
                digests=digests,
                tag=tag,
                rendered_at=shown,
                plan_of=lambda key: ProdPlan(key, text, labels, tag, assembled=planned),
            )
        key = inputs_key(
            text,
            digests,
            target.image.context_texts(),
            s.build_args,
            labels,
        )
        stamp = run.state.load(target.stamp("prod"), ProdStamp)
        if stamp is not None and stamp.inputs == key:
            if run.engine().image_id(stamp.image):
                return Decision(False, f"image {short(stamp.image)} is up to date")
            why = f"image {short(stamp.image)} is gone from the engine"
        else:
            why = "inputs changed since the last build" if stamp else "never built here"
        return Decision(
            True,
            why,
            self._describe(run, target),
            plan=ProdPlan(key, text, labels, tag),
        )

    def describe(self, run: Run) -> tuple[str, ...]:
        """Each image's rendered Dockerfile and build."""
        return describe_each(run.settings.targets(), lambda t: self._describe(run, t))

    @staticmethod
    def _describe(run: Run, target: ImageTarget) -> tuple[str, ...]:
        s = run.settings
        tag = image_repository(run, target).tagged(run.facts.revision())
        return (
            f"render {s.shown(dockerfile_path(run, target))}",
            f"docker build -t {tag} (context: "
            f"{', '.join([*context_files(run, target), *target.image.context_texts()])})"
            " with OCI labels",
        )

    def execute(self, run: Run, decision: Decision[EachImage[ProdPlan]]) -> Done:
        """Build each image that is not up to date."""
        return execute_each(decision, lambda target, plan: self._build(run, target, plan))

    @staticmethod
    def _build(run: Run, target: ImageTarget, plan: ProdPlan) -> str:
        """Write the rendered Dockerfile, build, record the image and its size."""
        from dlc_tasks.clients.engine import context_tar  # noqa: PLC0415

        s = run.settings
        text, tag = plan.text, plan.tag
        write_rendered(dockerfile_path(run, target), text)
        labels = dict(plan.labels)
        if plan.assembled is not None:
            repository = image_repository(run, target)
            made = assemble.build(run, target, plan.assembled, repository.path, tag)
            made = dataclasses.replace(made, inputs=plan.key)
            run.state.save(target.stamp("prod"), made)
            return f"{repository}@{short(made.image)} ({made.size / 1e6:.1f} MB)"
        labels[CREATED] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        digest = run.facts.cache_image().digest
        if f"FROM {run.facts.cache_repository().pinned(digest)}" in text:
            ensure_cache_image(run, digest)  # the engine's own store may lack it (Podman's)
        engine = run.engine()
        build_text = text + label_instruction(labels)  # one LABEL step, not one per label
        files = context_files(run, target)
        sent: dict[str, str] = {}
        with context_tar(files, build_text, target.image.context_texts(), sent) as context:
            check_tested(run, target, sent[target.binary_name])  # the bytes the image gets
            image = run.build(
                context,
                log=target.stamp("prod"),
                tag=tag,
                buildargs=s.build_args,
                dockerfile_text=build_text,
            )
        size = int(engine.inspect(image)["Size"])
        run.state.save(target.stamp("prod"), ProdStamp(plan.key, image, size))
        return f"{tag} ({size / 1e6:.1f} MB)"
