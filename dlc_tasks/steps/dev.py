"""``dev``: the development image, from ``docker/Dockerfile`` (or the packaged one) with the
project as context. The Dockerfile is rendered (``{{ binary }}``, ``{{ main_package }}``) to
``.dlc/Dockerfile.dev``, which the build names; a Dockerfile without placeholders is unchanged."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from dlc_tasks._files import short
from dlc_tasks.errors import NotFoundError
from dlc_tasks.model.render import render, write_rendered
from dlc_tasks.steps.base import Decision, Done, Status, Step

if TYPE_CHECKING:
    from dlc_tasks.run import Run


@dataclass(frozen=True)
class DevPlan:
    """The rendered development Dockerfile."""

    text: str


class DevStep(Step[DevPlan]):
    """Always builds: the engine's layer cache decides what is reused."""

    name = "dev"

    def decide(self, run: Run) -> Decision[DevPlan]:
        """Refuse early when the Dockerfile is missing; otherwise build."""
        s = run.settings
        if not s.dockerfile_dev.is_file():
            raise NotFoundError(f"{s.dockerfile_dev} not found", hint="set dlc.dockerfile_dev")
        target = s.targets()[0]  # with dlc.images: the first, or the one --image names
        text = render(
            s.dockerfile_dev.read_text(encoding="utf-8"),
            {"binary": target.binary_name, "main_package": s.main_package_of(target)},
            s.shown(s.dockerfile_dev),
        )
        return Decision(
            True,
            "the engine's layer cache decides what is rebuilt",
            (
                f"render {s.shown(s.dockerfile_dev)} to {s.shown(self.out(run))}",
                f"docker build -f {s.shown(self.out(run))} -t {s.repo}:dev {s.project_dir}",
            ),
            plan=DevPlan(text),
        )

    @staticmethod
    def out(run: Run) -> Path:
        """Where the rendered development Dockerfile is written: ``.dlc/Dockerfile.dev``."""
        return run.settings.state_dir / "Dockerfile.dev"

    def execute(self, run: Run, decision: Decision[DevPlan]) -> Done:
        """Build with the project directory as context."""
        s = run.settings
        tag = f"{s.repo}:dev"
        text = decision.planned().text
        write_rendered(self.out(run), text)
        image = run.build(
            s.project_dir,
            log="dev",
            tag=tag,
            buildargs=s.build_args,
            dockerfile=s.shown(self.out(run)),
            custom_context=False,
            dockerfile_text=text,
        )
        return Done(Status.RAN, f"{tag} ({short(image)})")
