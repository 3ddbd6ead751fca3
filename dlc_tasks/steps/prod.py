"""``prod``: render ``Dockerfile.prod`` and build the slim production image from the binary."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from dlc_tasks._files import file_sha256, short
from dlc_tasks.config import confined
from dlc_tasks.errors import NotFoundError
from dlc_tasks.model.render import label_instruction, render_text, write_rendered
from dlc_tasks.model.state import inputs_key
from dlc_tasks.steps.base import Decision, Done, Status, Step
from dlc_tasks.steps.cache import LABEL_HASH, cache_digest
from dlc_tasks.steps.gocontainer import binary_path

if TYPE_CHECKING:
    from dlc_tasks.run import Run

LABEL_CACHE = "io.dlc-tasks.build-cache"
CREATED = "org.opencontainers.image.created"


def oci_labels(run: Run) -> dict[str, str]:
    """The OCI annotations and the tool's own labels, without ``created`` (added at build)."""
    s = run.settings
    return {
        "org.opencontainers.image.title": s.repo,
        "org.opencontainers.image.version": str(run.version()),
        "org.opencontainers.image.revision": run.revision(),
        "org.opencontainers.image.source": s.source_url or str(run.prod_repository()),
        LABEL_HASH: run.deps().value,
        LABEL_CACHE: run.cache_repository().pinned(cache_digest(run)),
    }


def context_files(run: Run) -> dict[str, Path]:
    """Archive name → file: the binary and ``dlc.prod_files``."""
    s = run.settings
    files = {s.binary_name: binary_path(run)}
    for name in s.prod_files:
        # resolved: a symlinked entry sends its file, never a dangling link; confined again
        # here because a link may have changed since the configuration was read
        path = confined(s.project_dir, name, "prod_files")
        if not path.is_file():
            raise NotFoundError(f"{path} (listed in dlc.prod_files) not found")
        files[name] = path
    return files


def rendered(run: Run) -> str:
    """The production Dockerfile: the template with the image's values and ``dlc.image``."""
    s = run.settings
    cache_image = run.cache_repository().pinned(cache_digest(run))
    return render_text(
        s.dockerfile_prod_template,
        {"cache_image": cache_image, "deps_hash": run.deps().value, "binary": s.binary_name},
        s.image.blocks(s.binary_name, list(s.prod_files), cache_image),
    )


class ProdStep(Step):
    """Build the production image unless its Dockerfile, files, arguments or labels changed."""

    name = "prod"
    after = ("cache", "test")

    def decide(self, run: Run) -> Decision:
        """Up to date when the inputs match the last build and that image still exists."""
        s = run.settings
        text = rendered(run)
        files = context_files(run)
        if not files[s.binary_name].is_file():
            raise NotFoundError(f"{files[s.binary_name]} was not built", hint="run inv test")
        labels = oci_labels(run)
        key = inputs_key(
            text,
            {name: file_sha256(p) for name, p in files.items()},
            s.image.context_texts(),
            s.build_args,
            labels,
        )
        stamp = run.state.get("prod")
        image = stamp.get("image")
        if stamp.get("inputs") == key and image and run.engine().image_id(str(image)):
            return Decision(False, f"image {short(str(image))} is up to date")
        why = "inputs changed since the last build" if stamp else "never built here"
        if stamp.get("inputs") == key:
            why = f"image {short(str(image))} is gone from the engine"
        tag = run.prod_repository().tagged(run.revision())
        return Decision(
            True,
            why,
            self.describe(run),
            facts={"key": key, "text": text, "labels": labels, "tag": tag},
        )

    def describe(self, run: Run) -> tuple[str, ...]:
        """The rendered Dockerfile and the build."""
        s = run.settings
        tag = run.prod_repository().tagged(run.revision())
        return (
            f"render {s.dockerfile_prod.relative_to(s.project_dir)}",
            f"docker build -t {tag} (context: "
            f"{', '.join([*context_files(run), *s.image.context_texts()])}) with OCI labels",
        )

    def execute(self, run: Run, decision: Decision) -> Done:
        """Write the rendered Dockerfile, build, record the image and its size."""
        from dlc_tasks.clients.engine import context_tar  # noqa: PLC0415

        s = run.settings
        if not decision.run:
            return Done(Status.SKIPPED, decision.reason)
        text, tag = str(decision.facts["text"]), str(decision.facts["tag"])
        write_rendered(s.dockerfile_prod, text)
        labels = dict(decision.facts["labels"])
        labels[CREATED] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        engine = run.engine()
        build_text = text + label_instruction(labels)  # one LABEL step, not one per label
        with context_tar(context_files(run), build_text, s.image.context_texts()) as context:
            image = engine.build(
                context,
                tag=tag,
                buildargs=s.build_args,
                output=run.out.output,
                dockerfile_text=build_text,
            )
        size = int(engine.inspect(image)["Size"])
        run.state.record("prod", str(decision.facts["key"]), image=image, size=size)
        return Done(Status.RAN, f"{tag} ({size / 1e6:.1f} MB)")
