"""``dev``: the development image, from ``docker/Dockerfile`` with the project as context."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dlc_tasks._files import short
from dlc_tasks.errors import NotFoundError
from dlc_tasks.steps.base import Decision, Done, Status, Step

if TYPE_CHECKING:
    from dlc_tasks.run import Run


class DevStep(Step):
    """Always builds: the engine's layer cache decides what is reused."""

    name = "dev"

    def decide(self, run: Run) -> Decision:
        """Refuse early when the Dockerfile is missing; otherwise build."""
        s = run.settings
        if not s.dockerfile_dev.is_file():
            raise NotFoundError(f"{s.dockerfile_dev} not found", hint="set dlc.dockerfile_dev")
        dockerfile = s.dockerfile_dev.relative_to(s.project_dir).as_posix()
        return Decision(
            True,
            "the engine's layer cache decides what is rebuilt",
            (f"docker build -f {dockerfile} -t {s.repo}:dev {s.project_dir}",),
        )

    def execute(self, run: Run, decision: Decision) -> Done:
        """Build with the project directory as context."""
        s = run.settings
        tag = f"{s.repo}:dev"
        image = run.engine().build(
            s.project_dir,
            tag=tag,
            buildargs=s.build_args,
            output=run.out.output,
            dockerfile=s.dockerfile_dev.relative_to(s.project_dir).as_posix(),
            custom_context=False,
            dockerfile_text=s.dockerfile_dev.read_text(encoding="utf-8"),
        )
        return Done(Status.RAN, f"{tag} ({short(image)})")
