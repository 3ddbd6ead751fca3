"""``prod``: render ``Dockerfile.prod`` and build the slim production image from the binary.

The binary must be the one ``test`` built and stamped: its sha256 is checked against the
test stamp when deciding and again on the bytes put in the build context, so no image is
built from a binary that no successful ``test`` of these sources produced. What an image is
made of (files, labels, rendered Dockerfile) is :mod:`.prodinputs`, shared with the
assembled path (:mod:`.assemble`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from dlc_tasks._files import file_sha256, short
from dlc_tasks.errors import NotFoundError
from dlc_tasks.model.render import label_instruction, write_rendered
from dlc_tasks.model.stamps import ProdStamp
from dlc_tasks.model.state import inputs_key
from dlc_tasks.model.targets import ImageTarget
from dlc_tasks.steps import assemble
from dlc_tasks.steps.base import Decision, Done, Step
from dlc_tasks.steps.gostep import ensure_cache_image
from dlc_tasks.steps.perimage import (
    EachImage,
    combine,
    describe_each,
    execute_each,
    image_repository,
)
from dlc_tasks.steps.prodinputs import (
    CREATED,
    check_tested,
    context_files,
    dockerfile_path,
    oci_labels,
    rendered,
)

if TYPE_CHECKING:
    from dlc_tasks.run import Run


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
