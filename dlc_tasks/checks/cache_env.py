"""The ADR's build-cache environment check (``scripts/test-build-cache-environment.sh``), as a task.

Eight checks, each printed as it passes; the first failure stops the check with
its reason: 1 dependency hash, 2 build-cache image, 3 Go inside it, 4 code
generation, 5 build and test, 6 the binary, 7 the production Dockerfile built
on the cache image, 8 the production container running and healthy (its health check
passing inside it, or its first TCP port accepting connections; an image with neither
has nothing to probe, and the check says so). With ``dlc.images`` the check uses the
first image, or the one ``--image`` names. Checks 1, 2, 4, 5 and 7 are the chain's own
steps, run through the same runner; their stamps are forgotten first, so every step
really runs.
"""

from __future__ import annotations

from collections.abc import Callable

from dlc_tasks._files import short
from dlc_tasks.checks.smoke import check_running
from dlc_tasks.errors import CheckFailed, DlcError, NotFoundError
from dlc_tasks.model.labels import LABEL_CACHE
from dlc_tasks.model.stamps import ProdStamp
from dlc_tasks.model.targets import ImageTarget
from dlc_tasks.run import Run
from dlc_tasks.steps import make_step
from dlc_tasks.steps.gostep import binary_path, open_go_container
from dlc_tasks.steps.prodinputs import dockerfile_path
from dlc_tasks.steps.runner import run_step

ELF_MAGIC = b"\x7fELF"


class Skipped(str):
    """A check's detail when it had nothing to check (printed as ``skip``, not ``ok``)."""

    __slots__ = ()


def _step(run: Run, name: str) -> Callable[[], str]:
    return lambda: run_step(run, make_step(name)).detail


def _go_inside(run: Run) -> str:
    with open_go_container(run) as go:
        result = go.run(["go", "version"])
    return result.lines[-1] if result.lines else "?"


def _binary(run: Run) -> str:
    path = binary_path(run, run.settings.targets()[0])
    if not path.is_file():
        raise NotFoundError(f"{path} was not built")
    with path.open("rb") as handle:
        if handle.read(4) != ELF_MAGIC:
            raise CheckFailed(f"{path} is not an ELF executable")
    return f"{path.relative_to(run.settings.project_dir)} ({path.stat().st_size / 1e6:.1f} MB)"


def _prod_uses_cache(run: Run) -> str:
    run_step(run, make_step("prod"))
    pinned = run.facts.cache_repository().pinned(run.facts.cache_image().digest)
    target = run.settings.targets()[0]
    text = dockerfile_path(run, target).read_text(encoding="utf-8")
    image = _prod_image(run, target)
    label = run.engine().inspect(image)["Config"]["Labels"].get(LABEL_CACHE)
    if pinned not in text or label != pinned:
        raise CheckFailed(f"the production image does not name the cache image {pinned}")
    return f"{short(image)} built on {short(pinned.rsplit('@', 1)[1])}"


def _prod_image(run: Run, target: ImageTarget) -> str:
    stamp = run.state.load(target.stamp("prod"), ProdStamp)
    if stamp is None:
        raise NotFoundError("no production image was built", hint="run inv prod")
    return stamp.image


def _container(run: Run) -> str:
    target = run.settings.targets()[0]
    image = _prod_image(run, target)
    checked = check_running(run.engine(), image, target.image)
    if checked is None:
        what = f"dlc.images.{target.name}" if target.configured else "dlc.image"
        return Skipped(
            f"the image has no health check and no TCP port ({what}: healthcheck, ports)"
        )
    return checked


def run_check(run: Run) -> None:
    """Run the eight checks; raise :class:`CheckFailed` naming the first that fails."""
    stamps = ["generate", "test", *(t.stamp("prod") for t in run.settings.targets())]
    for stamp in stamps:
        run.state.forget(stamp)  # the check exercises every step, whatever is up to date
    checks: list[tuple[str, Callable[[], str]]] = [
        ("dependency hash", _step(run, "hash")),
        ("build-cache image", _step(run, "cache")),
        ("Go inside the cache image", lambda: _go_inside(run)),
        ("code generation", _step(run, "generate")),
        ("build and test", _step(run, "test")),
        ("the binary", lambda: _binary(run)),
        ("production Dockerfile with the cache", lambda: _prod_uses_cache(run)),
        ("production container runs", lambda: _container(run)),
    ]
    for number, (name, check) in enumerate(checks, start=1):
        try:
            detail = check()
        except DlcError as err:
            raise CheckFailed(f"step {number}/8 ({name}) failed: {err.one_line()}") from err
        verdict = "skip" if isinstance(detail, Skipped) else "ok  "
        run.out.line(f"[{number}/8] {verdict} {name}: {detail}")
