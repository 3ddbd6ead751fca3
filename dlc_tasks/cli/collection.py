"""The root collection: the chain's tasks, the tasks around it, and the ``dlc`` defaults."""

from __future__ import annotations

from invoke.collection import Collection

from dlc_tasks.cli import chain, maintenance, project
from dlc_tasks.config import DEFAULTS


def namespace() -> Collection:
    """The root collection with the ``dlc`` configuration defaults."""
    ns = Collection(
        chain.generate, chain.test, chain.prod, chain.push, chain.dev, chain.watch,
        maintenance.doctor, maintenance.report, project.init,
        maintenance.sbom, maintenance.verify,
    )  # fmt: skip
    ns.add_task(chain.hash_, name="hash")
    for name, default, extra in (
        ("cache", chain.cache, maintenance.prune),
        ("ci", chain.pipeline, maintenance.workflow),
    ):
        sub = Collection(name)
        sub.add_task(default, name=name, default=True)
        sub.add_task(extra)
        ns.add_collection(sub)
    ns.add_collection(Collection("setup", maintenance.base_images))
    ns.add_collection(Collection("check", maintenance.cache_env))
    ns.add_collection(Collection("version", maintenance.bump))
    ns.configure({"dlc": DEFAULTS})
    return ns
