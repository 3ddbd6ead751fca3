"""The ADR's build-cache environment check (``scripts/test-build-cache-environment.sh``), as a task.

Eight steps, each printed as it passes; the first failure stops the check with
its reason: 1 dependency hash, 2 build-cache image, 3 Go inside it, 4 code
generation, 5 build and test, 6 the binary, 7 the production Dockerfile built
on the cache image, 8 the production container running and healthy.
"""

from __future__ import annotations

from collections.abc import Callable

from dlc_tasks.checks.smoke import SmokeTestFailed, probe
from dlc_tasks.errors import DlcError, NotFoundError
from dlc_tasks.run import Runtime
from dlc_tasks.steps import chain

ELF_MAGIC = b"\x7fELF"


class CheckFailed(DlcError):
    """A step of the build-cache environment check failed."""


def _go_inside(rt: Runtime) -> str:
    with chain._go_container(rt) as go:
        result = go.run(["go", "version"])
    return result.lines[-1] if result.lines else "?"


def _binary(rt: Runtime) -> str:
    path = chain.binary_path(rt)
    if not path.is_file():
        raise NotFoundError(f"{path} was not built")
    with path.open("rb") as handle:
        if handle.read(4) != ELF_MAGIC:
            raise CheckFailed(f"{path} is not an ELF executable")
    return f"{path.relative_to(rt.settings.project_dir)} ({path.stat().st_size / 1e6:.1f} MB)"


def _prod_uses_cache(rt: Runtime) -> str:
    chain.run_prod(rt)
    pinned = rt.cache_repository().pinned(chain.cache_digest(rt))
    text = rt.settings.dockerfile_prod.read_text(encoding="utf-8")
    image = str(rt.state.get("prod")["image"])
    label = rt.engine().inspect(image)["Config"]["Labels"].get(chain.LABEL_CACHE)
    if pinned not in text or label != pinned:
        raise CheckFailed(f"the production image does not name the cache image {pinned}")
    return f"{image[7:19]} built on {pinned.rsplit('@', 1)[1][:19]}"


def _container(rt: Runtime) -> str:
    image = str(rt.state.get("prod")["image"])
    answer = probe(rt.engine(), image)
    if not isinstance(answer, dict) or answer.get("status") != "ok":
        raise SmokeTestFailed(f"/healthz answered {answer!r}")
    return f"/healthz answered status=ok version={answer.get('version')}"


def run_check(rt: Runtime) -> None:
    """Run the eight steps; raise :class:`CheckFailed` naming the first that fails."""
    for stamp in ("generate", "test", "prod"):
        rt.state.forget(stamp)  # the check exercises every step, whatever is up to date
    steps: list[tuple[str, Callable[[], str]]] = [
        ("dependency hash", lambda: chain.run_hash(rt).detail),
        ("build-cache image", lambda: chain.run_cache(rt).detail),
        ("Go inside the cache image", lambda: _go_inside(rt)),
        ("code generation", lambda: chain.run_generate(rt).detail),
        ("build and test", lambda: chain.run_test(rt).detail),
        ("service binary", lambda: _binary(rt)),
        ("production Dockerfile with the cache", lambda: _prod_uses_cache(rt)),
        ("production container runs", lambda: _container(rt)),
    ]
    for number, (name, step) in enumerate(steps, start=1):
        try:
            detail = step()
        except DlcError as err:
            raise CheckFailed(f"step {number}/8 ({name}) failed: {err.one_line()}") from None
        rt.out.line(f"[{number}/8] ok  {name}: {detail}")
