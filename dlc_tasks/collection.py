"""The Invoke tasks: thin wrappers over :mod:`dlc_tasks.chain`, chained with ``pre``.

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

from dlc_tasks.cli import dlc_task
from dlc_tasks.config import DEFAULTS

_SUMMARY_REGISTERED: list[bool] = []


def _run(ctx: Any, name: str, step: str, **kwargs: Any) -> None:
    from dlc_tasks import chain  # noqa: PLC0415
    from dlc_tasks.runtime import runtime  # noqa: PLC0415

    overrides = kwargs.pop("overrides", {})
    rt = runtime(ctx, **overrides)
    if not _SUMMARY_REGISTERED:
        _SUMMARY_REGISTERED.append(True)
        atexit.register(rt.out.summary)
    rt.out.task(name)
    started = time.monotonic()
    done = getattr(chain, step)(rt, **kwargs)
    rt.out.status(name, done.status, time.monotonic() - started, done.detail)


REGISTRY_HELP = "registry host[:port] (default: dlc.registry, else the local registry)"


@dlc_task(help={"registry": REGISTRY_HELP})
def hash_(c: Any, registry: str | None = None) -> None:
    """Compute the dependency hash that names the build-cache image; write deps_hash.env."""
    _run(c, "hash", "run_hash", overrides={"registry": registry})


@dlc_task(
    pre=[hash_],
    help={
        "force": "rebuild and push even when the registry has the image",
        "registry": REGISTRY_HELP,
    },
)
def cache(c: Any, force: bool = False, registry: str | None = None) -> None:
    """Ensure the build-cache image for the hash is in the registry (manifest lookup, no pull)."""
    _run(c, "cache", "run_cache", force=force, overrides={"registry": registry})


@dlc_task(pre=[cache], help={"registry": REGISTRY_HELP})
def generate(c: Any, registry: str | None = None) -> None:
    """Run the go generate steps inside the cache image; files land owned by you."""
    _run(c, "generate", "run_generate", overrides={"registry": registry})


@dlc_task(pre=[generate], help={"registry": REGISTRY_HELP})
def test(c: Any, registry: str | None = None) -> None:
    """go vet, go build and go test with coverage inside the cache image; builds the binary."""
    _run(c, "test", "run_test", overrides={"registry": registry})


@dlc_task(pre=[test], help={"registry": REGISTRY_HELP})
def prod(c: Any, registry: str | None = None) -> None:
    """Render docker/Dockerfile.prod and build the slim production image from the tested binary."""
    _run(c, "prod", "run_prod", overrides={"registry": registry})


@dlc_task(
    pre=[prod],
    help={
        "registry": REGISTRY_HELP,
        "latest": "'always' tag latest (the ADR), or 'releases' (not for a PRERELEASE)",
    },
)
def push(c: Any, registry: str | None = None, latest: str | None = None) -> None:
    """Tag MAJOR.MINOR.PATCH[-PRE], the git sha and latest; push each; verify one digest."""
    _run(c, "push", "run_push", overrides={"registry": registry, "latest": latest})


@dlc_task(
    help={
        "branch": "the branch to decide for (default: the CI's variable, else git's branch)",
        "registry": REGISTRY_HELP,
    }
)
def ci(c: Any, branch: str | None = None, registry: str | None = None) -> None:
    """The pipeline: the chain through test, and through push on dlc.ci.push_branches."""
    from dlc_tasks.branch import ci_steps, current_branch  # noqa: PLC0415
    from dlc_tasks.runtime import runtime  # noqa: PLC0415

    rt = runtime(c, registry=registry)
    name = branch if branch is not None else current_branch(cwd=str(rt.settings.project_dir))
    steps = ci_steps(name, rt.settings.push_branches)
    rt.out.line(f"ci: branch {name or '(detached)'}: {' -> '.join(steps)}")
    for step in steps:
        _run(c, step, f"run_{step}", overrides={"registry": registry})


@dlc_task
def dev(c: Any) -> None:
    """Build the development image from docker/Dockerfile."""
    _run(c, "dev", "run_dev")


@dlc_task(help={"force": "import the local images even when the configured ones are available"})
def base_images(c: Any, force: bool = False) -> None:
    """Make local Go and runtime base images where none can be pulled (./dev runs this)."""
    from dlc_tasks.setup import ensure_base_images  # noqa: PLC0415
    from dlc_tasks.ui import console  # noqa: PLC0415

    ensure_base_images(console(), dict(c.config.dlc.build_args or {}), force=force)


@dlc_task(name="cache-env", help={"registry": REGISTRY_HELP})
def cache_env(c: Any, registry: str | None = None) -> None:
    """The ADR's eight-step build-cache environment check, from hash to a running container."""
    from dlc_tasks.cache_env import run_check  # noqa: PLC0415
    from dlc_tasks.runtime import runtime  # noqa: PLC0415

    run_check(runtime(c, registry=registry))


@dlc_task(
    help={
        "part": "major, minor or patch",
        "pre": "a PRERELEASE for the new version, e.g. rc.1 (default: none)",
    }
)
def bump(c: Any, part: str, pre: str = "") -> None:
    """Rewrite VERSION (MAJOR/MINOR/PATCH/PRERELEASE) and print the tags the next push uses."""
    from dlc_tasks.runtime import runtime  # noqa: PLC0415
    from dlc_tasks.versionfile import image_tags  # noqa: PLC0415

    rt = runtime(c)
    old = rt.version()
    new = old.bumped(part, pre)
    tags = [t.replace("GITSHA", "<git sha>") for t in image_tags(new, "GITSHA", rt.settings.latest)]
    path = rt.settings.version_file
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(new.render(), encoding="utf-8")
    tmp.replace(path)
    rt.out.line(f"VERSION {old} -> {new}; the next push tags: {', '.join(tags)}")


def namespace() -> Collection:
    """The root collection with the ``dlc`` configuration defaults."""
    ns = Collection(cache, generate, test, prod, push, dev, ci)
    ns.add_task(hash_, name="hash")
    ns.add_collection(Collection("setup", base_images))
    ns.add_collection(Collection("check", cache_env))
    ns.add_collection(Collection("version", bump))
    ns.configure({"dlc": DEFAULTS})
    return ns
