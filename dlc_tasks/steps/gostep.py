"""What the Go steps share: the run's cache image in a container, the binaries' place.

``generate`` and ``test`` run Go in a :class:`~dlc_tasks.clients.gocontainer.GoContainer`
of the cache image the run's facts name, pulled by digest when the engine lacks it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from dlc_tasks._files import short
from dlc_tasks.clients.gocontainer import GO_ENV, GoContainer, cache_volume_name
from dlc_tasks.reporting.console import Command

if TYPE_CHECKING:
    from dlc_tasks.clients.seams import EngineAPI
    from dlc_tasks.model.targets import ImageTarget
    from dlc_tasks.run import Run


def binary_path(run: Run, target: ImageTarget | None = None) -> Path:
    """Where an image's binary is built: ``.dlc/bin/NAME`` (the first image's by default)."""
    target = target or run.settings.all_images()[0]
    return run.settings.state_dir / "bin" / target.binary_name


def describe_container(run: Run) -> str:
    """How a step's Go commands run, as the plan and the run print it."""
    s, deps = run.settings, run.facts.deps().value
    volume = cache_volume_name(s.repo, deps)
    image = run.facts.cache_repository().tagged(deps)
    return f"in a container of {image}, Go build cache in volume {volume}:"


def go_environment(run: Run) -> dict[str, str]:
    """The environment of every Go command: :data:`GO_ENV` and the ``dlc.go`` settings."""
    return {**GO_ENV, **run.settings.go_env}


def ensure_cache_image(run: Run, digest: str) -> EngineAPI:
    """The run's engine, holding the cache image by ``digest``: pulled from the registry when
    its store lacks it (another machine built it, or another engine: Podman keeps its own)."""
    repo, engine = run.facts.cache_repository(), run.engine()
    if not engine.has_repo_digest(str(repo), digest):
        run.out.line(f"pulling {repo}@{short(digest)}")
        run.pull(str(repo), digest)
    return engine


def open_go_container(run: Run) -> GoContainer:
    """A :class:`GoContainer` of the run's cache image, pulled by digest if the engine lacks it."""
    repo, digest = run.facts.cache_repository(), run.facts.cache_image().digest
    engine = ensure_cache_image(run, digest)
    volume = cache_volume_name(run.settings.repo, run.facts.deps().value)
    s = run.settings
    return GoContainer(
        engine,
        repo.pinned(digest),
        run.settings.project_dir,
        volume,
        run.out.output,
        owned=(*(binary_path(run, t) for t in s.all_images()), s.coverage_file),
        environment=go_environment(run),
        announce=lambda line: run.out.output(Command(line)),
    )
