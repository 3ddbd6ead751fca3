"""The Invoke tasks: thin wrappers over :mod:`dlc_tasks.steps.chain`, chained with ``pre``.

``inv push`` runs hash, cache, generate, test, prod and push, each once
(Invoke de-duplicates the ``pre`` chain). Every flag defaults to None and
falls back to the ``dlc`` configuration. Nothing heavy is imported here, so
``inv --list`` and tab completion stay as fast as a bare ``tasks.py``.
"""

from __future__ import annotations

import atexit
import time
from typing import Any

from invoke.collection import Collection

from dlc_tasks.cli.task import REGISTRY_HELP, dlc_task
from dlc_tasks.config import DEFAULTS

_FINISH_REGISTERED: list[bool] = []


def _finish(rt: Any) -> None:
    """At exit: the summary table, then the report files (see dlc_tasks.reporting.runreport)."""
    from dlc_tasks.reporting import runreport as report  # noqa: PLC0415

    rt.out.summary()
    if rt.out.outcomes and not rt.settings.dry_run:
        written = report.write(rt, rt.out.outcomes)
        rt.out.line(f"report: {rt.settings.state_dir / 'report.json'} (ok={written['ok']})")


def _run(ctx: Any, name: str, step: str, **kwargs: Any) -> None:
    from dlc_tasks.run import runtime  # noqa: PLC0415
    from dlc_tasks.steps import chain  # noqa: PLC0415

    overrides = kwargs.pop("overrides", {})
    rt = runtime(ctx, **overrides)
    if not _FINISH_REGISTERED:
        _FINISH_REGISTERED.append(True)
        atexit.register(_finish, rt)
    rt.out.task(name + (" (dry run)" if rt.settings.dry_run else ""))
    started = time.monotonic()
    if rt.settings.dry_run:
        from dlc_tasks.steps import plan  # noqa: PLC0415

        done = getattr(plan, step.replace("run_", "plan_"))(rt, **kwargs)
    else:
        done = getattr(chain, step)(rt, **kwargs)
    rt.out.status(name, done.status, time.monotonic() - started, done.detail)


DRY_HELP = "print the plan; touch neither engine nor registry (makes the whole run dry)"


def _help(**extra: str) -> dict[str, str]:
    return {"registry": REGISTRY_HELP, "dry_run": DRY_HELP, **extra}


def _flags(registry: str | None, dry_run: bool, **more: Any) -> dict[str, Any]:
    return {"registry": registry, "dry_run": dry_run or None, **more}


@dlc_task(help=_help(explain="list each input's digest and what changed since the registry's"))
def hash_(
    c: Any, explain: bool = False, registry: str | None = None, dry_run: bool = False
) -> None:
    """Compute the dependency hash that names the build-cache image; write deps_hash.env."""
    if explain:
        from dlc_tasks.checks.explain import explain_hash  # noqa: PLC0415
        from dlc_tasks.run import runtime  # noqa: PLC0415

        explain_hash(runtime(c, **_flags(registry, dry_run)))
        return
    _run(c, "hash", "run_hash", overrides=_flags(registry, dry_run))


@dlc_task(pre=[hash_], help=_help(force="rebuild and push even when the registry has the image"))
def cache(c: Any, force: bool = False, registry: str | None = None, dry_run: bool = False) -> None:
    """Ensure the build-cache image for the hash is in the registry (manifest lookup, no pull)."""
    _run(c, "cache", "run_cache", force=force, overrides=_flags(registry, dry_run))


@dlc_task(pre=[cache], help=_help())
def generate(c: Any, registry: str | None = None, dry_run: bool = False) -> None:
    """Run the go generate steps inside the cache image; files land owned by you."""
    _run(c, "generate", "run_generate", overrides=_flags(registry, dry_run))


@dlc_task(pre=[generate], help=_help())
def test(c: Any, registry: str | None = None, dry_run: bool = False) -> None:
    """go vet, go build and go test with coverage inside the cache image; builds the binary."""
    _run(c, "test", "run_test", overrides=_flags(registry, dry_run))


@dlc_task(pre=[test], help=_help())
def prod(c: Any, registry: str | None = None, dry_run: bool = False) -> None:
    """Render docker/Dockerfile.prod and build the slim production image from the tested binary."""
    _run(c, "prod", "run_prod", overrides=_flags(registry, dry_run))


@dlc_task(
    pre=[prod],
    help=_help(latest="'always' tag latest (the ADR), or 'releases' (not for a PRERELEASE)"),
)
def push(
    c: Any, latest: str | None = None, registry: str | None = None, dry_run: bool = False
) -> None:
    """Tag MAJOR.MINOR.PATCH[-PRE], the git sha and latest; push each; verify one digest."""
    _run(c, "push", "run_push", overrides=_flags(registry, dry_run, latest=latest))


@dlc_task(
    help=_help(branch="the branch to decide for (default: the CI's variable, else git's branch)"),
)
def pipeline(
    c: Any, branch: str | None = None, registry: str | None = None, dry_run: bool = False
) -> None:
    """The pipeline: the chain through test, and through push on dlc.ci.push_branches."""
    from dlc_tasks.model.branch import ci_steps, current_branch  # noqa: PLC0415
    from dlc_tasks.run import runtime  # noqa: PLC0415

    rt = runtime(c, **_flags(registry, dry_run))
    name = branch if branch is not None else current_branch(cwd=str(rt.settings.project_dir))
    steps = ci_steps(name, rt.settings.push_branches)
    rt.out.line(f"ci: branch {name or '(detached)'}: {' -> '.join(steps)}")
    for step in steps:
        _run(c, step, f"run_{step}", overrides=_flags(registry, dry_run))


@dlc_task(help={"dry_run": DRY_HELP})
def dev(c: Any, dry_run: bool = False) -> None:
    """Build the development image from docker/Dockerfile."""
    _run(c, "dev", "run_dev", overrides={"dry_run": dry_run or None})


def namespace() -> Collection:
    """The root collection with the ``dlc`` configuration defaults."""
    from dlc_tasks.cli import maintenance as tools  # noqa: PLC0415

    ns = Collection(generate, test, prod, push, dev, tools.doctor, tools.report)
    ns.add_task(hash_, name="hash")
    for name, default, extra in (("cache", cache, tools.prune), ("ci", pipeline, tools.workflow)):
        sub = Collection(name)
        sub.add_task(default, name=name, default=True)
        sub.add_task(extra)
        ns.add_collection(sub)
    ns.add_collection(Collection("setup", tools.base_images))
    ns.add_collection(Collection("check", tools.cache_env))
    ns.add_collection(Collection("version", tools.bump))
    ns.configure({"dlc": DEFAULTS})
    return ns
