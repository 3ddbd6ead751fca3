"""``cache``: the build-cache image for the hash, looked up by manifest, built and pushed on a miss.

The lookup is a manifest ``HEAD`` (no pull, the same cost for any image size). A
hit, a miss and ``--force`` are the three decisions; on a miss the image is built
from a context holding only go.mod, go.sum and goproxy/ (so it can depend on
nothing the hash does not cover), pushed, and its digest recorded.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from dlc_tasks._files import short
from dlc_tasks.errors import BuildError
from dlc_tasks.facts import CacheImage
from dlc_tasks.model import sourcetree
from dlc_tasks.model.depshash import DepsHash, declared_args
from dlc_tasks.model.labels import LABEL_HASH, LABEL_INPUTS
from dlc_tasks.model.render import label_instruction
from dlc_tasks.model.stamps import CacheStamp
from dlc_tasks.model.stdlayer import LABEL_STD_KEY, std_key
from dlc_tasks.steps.base import Decision, Done, Status, Step
from dlc_tasks.steps.cachefrom import check_reused, find_previous

if TYPE_CHECKING:
    from dlc_tasks.run import Run

NO_PROXY_README = "no local module proxy (dlc.goproxy_dir is not set)\n"


def build_context_files(run: Run) -> tuple[dict[str, Path], dict[str, str]]:
    """(archive name → file, archive name → text) of the cache image's build context."""
    s = run.settings
    files = {"go.mod": s.project_dir / "go.mod"}
    if (s.project_dir / "go.sum").is_file():
        files["go.sum"] = s.project_dir / "go.sum"
    if (s.project_dir / "vendor" / "modules.txt").is_file():  # the packaged Dockerfile.build
        files["vendor/modules.txt"] = s.project_dir / "vendor" / "modules.txt"  # skips download
    if s.goproxy_dir is None:
        return files, {"goproxy/README": NO_PROXY_README}
    for path in sourcetree.iter_files(s.goproxy_dir, all_names=True):
        files[f"goproxy/{path.relative_to(s.goproxy_dir).as_posix()}"] = path
    return files, {}


@dataclass(frozen=True)
class CachePlan:
    """The hash, the cache image's tag and, on a hit, the digest the registry has for it."""

    deps: DepsHash
    ref: str
    repository: str
    digest: str | None = None


class CacheStep(Step[CachePlan]):
    """Make sure the registry has the cache image for the hash."""

    name = "cache"  # its input is the hash itself, not the file `hash` writes

    def __init__(self, force: bool = False) -> None:
        self.force = force

    def decide(self, run: Run) -> Decision[CachePlan]:
        """A hit when the registry has the hash's tag (unless ``--force``), else a build."""
        s, deps = run.settings, run.facts.deps()
        repo = run.facts.cache_repository()
        ref = repo.tagged(deps.value)
        plan = CachePlan(deps, ref, str(repo))
        if not self.force:
            digest = run.client().manifest_digest(repo.path, deps.value)
            if digest:
                return Decision(
                    False,
                    f"the registry has {ref}@{short(digest, 12)}",
                    skip_status=Status.HIT,
                    plan=CachePlan(deps, ref, str(repo), digest),
                )
        files, texts = build_context_files(run)
        declared = set(declared_args(s.dockerfile_build.read_text(encoding="utf-8")))
        args = [  # quoted as a shell would need them: GOFLAGS holds spaces
            f"--build-arg {shlex.quote(f'{k}={v}')}"
            for k, v in sorted(s.cache_build_args.items())
            if k in declared
        ]
        missing = f"cache miss: the registry has no {repo}:{short(deps.value, 16)}"
        why = "--force" if self.force else missing
        return Decision(
            True,
            why,
            (
                " ".join(
                    [
                        "docker build -f",
                        s.shown(s.dockerfile_build),
                        *args,
                        "-t",
                        ref,
                        f"(context: {', '.join(sorted({*files, *texts}))})",
                    ]
                ),
                f"docker push {ref}",
            ),
            plan=plan,
        )

    def observe(self, run: Run, decision: Decision[CachePlan]) -> None:
        """A dry run's hit: later steps plan with the digest the registry has."""
        plan = decision.planned()
        if plan.digest:
            run.facts.learn_cache_image(CacheImage(plan.ref, plan.digest))

    def execute(self, run: Run, decision: Decision[CachePlan]) -> Done:
        """Record a hit; on a miss build, push and record the digest."""
        from dlc_tasks.clients.engine import context_tar  # noqa: PLC0415

        plan = decision.planned()
        deps, ref = plan.deps, plan.ref
        if not decision.run and plan.digest:
            self._record(run, deps, CacheImage(ref, plan.digest))
            return Done(Status.HIT, f"{ref}@{short(plan.digest, 12)}")
        s = run.settings
        files, texts = build_context_files(run)
        labels = {LABEL_HASH: deps.value, LABEL_INPUTS: json.dumps(deps.inputs, sort_keys=True)}
        dockerfile = s.dockerfile_build.read_text(encoding="utf-8")
        key = std_key(dockerfile, s.cache_build_args)
        if key is not None:
            labels[LABEL_STD_KEY] = key
        # --force rebuilds from nothing; a miss builds from the previous image (cachefrom.py)
        reuse = None if self.force else find_previous(run, dockerfile)
        dockerfile = dockerfile.rstrip("\n") + "\n" + label_instruction(labels)
        try:
            with context_tar(files, dockerfile, texts) as context:
                image_id = run.build(
                    context,
                    log="cache",
                    tag=ref,
                    buildargs=s.cache_build_args,
                    dockerfile_text=dockerfile,
                    cache_from=[reuse.ref] if reuse else (),
                )
        except BuildError as err:
            mismatch = next((line for line in err.log if "checksum mismatch" in line), None)
            if mismatch is None:
                raise
            raise BuildError(
                f"go.sum does not match the module's content ({mismatch.strip()})",
                hint="restore go.sum (git checkout go.sum), or run go mod tidy if it is meant",
            ) from err
        if reuse:
            check_reused(run, reuse, image_id)  # says whether the std layer was reused
        digest = run.push(plan.repository, deps.value)
        self._record(run, deps, CacheImage(ref, digest))
        return Done(Status.MISS, f"built and pushed {ref}@{short(digest, 12)}")

    @staticmethod
    def _record(run: Run, deps: DepsHash, image: CacheImage) -> None:
        run.facts.learn_cache_image(image)
        run.state.save("cache", CacheStamp(deps.value, ref=image.ref, digest=image.digest))
