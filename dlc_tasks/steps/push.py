"""``push``: tag each production image (version, sha, then latest), push each, verify one digest.

Releases are resumable under every ``dlc.version_tags`` policy: a push stopped between two
tags (a registry refusing one, Ctrl-C, a killed run) is finished by the next run. A tag that
already names the digest this image has in the repository is done, not "another image"
(:func:`own_digests`: the progress stamp written as each tag lands, the last push's stamp,
or the engine's repo digest of the image), and it is not pushed again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dlc_tasks._files import short
from dlc_tasks.errors import NotFoundError, PushError, VersionTagTaken
from dlc_tasks.model.stamps import AssembledStamp, ProdStamp, PushedTags, PushStamp
from dlc_tasks.model.state import inputs_key
from dlc_tasks.model.targets import ImageTarget
from dlc_tasks.steps import publish
from dlc_tasks.steps.base import Decision, Done, Step
from dlc_tasks.steps.perimage import (
    EachImage,
    combine,
    describe_each,
    execute_each,
    image_repository,
)
from dlc_tasks.steps.publish import PushPlan

if TYPE_CHECKING:
    from dlc_tasks.run import Run


def own_digests(
    run: Run, target: ImageTarget, image: str, current: dict[str, str | None]
) -> set[str]:
    """The digests among ``current`` (tag → digest in the registry) that are ``image``'s own in
    its repository: what a stamp of an earlier push of it recorded, or what the engine holds
    as the image's repo digest (a run killed before it could record anything)."""
    repo = image_repository(run, target)
    ours: set[str] = set()
    progress = run.state.load(target.stamp("pushed"), PushedTags)
    if progress is not None and progress.inputs == inputs_key(image, str(repo)):
        ours.add(progress.digest)
    stamp = run.state.load(target.stamp("push"), PushStamp)
    if stamp is not None and stamp.image == image:
        ours.add(stamp.digest)
    engine = run.engine()
    for digest in {d for d in current.values() if d and d not in ours}:
        if engine.image_id(f"{repo}@{digest}") == image:
            ours.add(digest)
    return ours


class PushStep(Step[EachImage[PushPlan]]):
    """Push each image's tags, unless the registry already has them naming its last digest."""

    name = "push"
    after = ("prod",)

    def decide(self, run: Run) -> Decision[EachImage[PushPlan]]:
        """Each image: up to date when it went to the same tags and the registry agrees."""
        return combine([(target, self._decide(run, target)) for target in run.settings.targets()])

    def _decide(self, run: Run, target: ImageTarget) -> Decision[PushPlan]:
        assembled = run.state.load(target.stamp("prod"), AssembledStamp)
        if assembled is not None and run.settings.platforms:  # tags only: steps/publish.py
            release = run.facts.release_tag()
            tags = run.facts.release_tags()
            decision, other = publish.decide(run, target, assembled, tags, release)
            if other and run.settings.version_tags == "immutable":
                raise VersionTagTaken(
                    f"{image_repository(run, target)}:{release} already names "
                    f"{short(other, 12)}, another image (dlc.version_tags is immutable)"
                )
            return decision
        built = run.state.load(target.stamp("prod"), ProdStamp)
        image = built.image if built else None
        if not image or not run.engine().image_id(image):
            raise NotFoundError(
                f"no production image{'' if not target.configured else ' ' + target.name}",
                hint="run inv prod",
            )
        repo = image_repository(run, target)
        tags = run.facts.release_tags()
        key = inputs_key(image, tags, str(repo))
        stamp = run.state.load(target.stamp("push"), PushStamp)
        client = run.client()
        current = {tag: client.manifest_digest(repo.path, tag) for tag in tags}
        if stamp and stamp.inputs == key and all(d == stamp.digest for d in current.values()):
            return Decision(False, f"{', '.join(tags)} already name {short(stamp.digest, 12)}")
        release = run.facts.release_tag()
        previous = current.get(release) if release else None
        ours = own_digests(run, target, image, current)
        if previous and previous not in ours and run.settings.version_tags == "immutable":
            raise VersionTagTaken(
                f"{repo}:{release} already names {short(previous, 12)}, another image "
                "(dlc.version_tags is immutable)"
            )
        why = "the registry disagrees" if stamp and stamp.inputs == key else "new image or tags"
        if not run.facts.tree().release_tags:
            why += f"; uncommitted changes: only {tags[0]}, no release tags (--allow-dirty)"
        done = {tag: digest for tag, digest in current.items() if digest and digest in ours}
        return Decision(
            True,
            why,
            self._describe(run, target),
            plan=PushPlan(
                image=str(image),
                tags=tuple(tags),
                release=release,
                previous=previous if previous not in ours else None,
                done=done,
                key=key,
            ),
        )

    def describe(self, run: Run) -> tuple[str, ...]:
        """Each image's tags in push order, then the digest check."""
        return describe_each(run.settings.targets(), lambda t: self._describe(run, t))

    @staticmethod
    def _describe(run: Run, target: ImageTarget) -> tuple[str, ...]:
        repo = image_repository(run, target)
        tags = run.facts.release_tags()
        return (
            *(f"docker tag + push {repo.tagged(tag)}" for tag in tags),
            f"HEAD {', '.join(tags)} and check they name one digest",
        )

    def execute(self, run: Run, decision: Decision[EachImage[PushPlan]]) -> Done:
        """Push each image that is not up to date."""
        return execute_each(decision, lambda target, plan: self._push(run, target, plan))

    @staticmethod
    def _push(run: Run, target: ImageTarget, plan: PushPlan) -> str:
        """Tag and push in order (immutable tags first, latest last), recording each tag as it
        lands; a tag already naming this image's digest is done. Check one digest."""
        repo = image_repository(run, target)
        tags: list[str] = list(plan.tags)
        image = plan.image
        if plan.assembled:  # by prod: put the tags (steps/publish.py)
            return PushStep._record(run, target, plan, publish.put_tags(run, target, plan))
        engine, client = run.engine(), run.client()
        pushed: dict[str, str] = dict(plan.done)
        for tag in tags:
            if tag in pushed:
                run.out.line(f"    {repo}:{tag} already names {short(pushed[tag], 12)}: done")
                continue
            engine.tag(image, str(repo), tag)
            pushed[tag] = run.push(str(repo), tag)
            if len(set(pushed.values())) == 1:  # else the check below says so
                progress = PushedTags(inputs_key(image, str(repo)), pushed[tag], list(pushed))
                run.state.save(target.stamp("pushed"), progress)
        digests = {tag: client.manifest_digest(repo.path, tag) for tag in tags}
        if len(set(digests.values()) | set(pushed.values())) != 1:
            raise PushError(f"pushed tags of {repo} do not name one digest: {digests}")
        digest = str(digests[tags[0]])
        for tag in tags:
            run.out.line(f"    {repo}:{tag} -> {digest}")
        return PushStep._record(run, target, plan, digest)

    @staticmethod
    def _record(run: Run, target: ImageTarget, plan: PushPlan, digest: str) -> str:
        """Say which release tag moved, stamp the push, and summarise it."""
        repo, tags, image = image_repository(run, target), list(plan.tags), plan.image
        replaced: dict[str, str] = {}
        previous, release = plan.previous, plan.release
        if previous and release and previous != digest:
            replaced[release] = str(previous)
            run.out.line(f"    moved {repo}:{release} from {previous} (dlc.version_tags: move)")
        key = plan.key
        run.state.save(target.stamp("push"), PushStamp(key, digest, tags, image, replaced))
        prefix = f"{target.name}: " if target.configured else ""
        return f"{prefix}{len(tags)} tags -> {short(digest, 12)}"
