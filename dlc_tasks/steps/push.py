"""``push``: tag each production image (version, sha, then latest), push each, verify one digest."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dlc_tasks._files import short
from dlc_tasks.errors import DlcError, NotFoundError, PushError
from dlc_tasks.model.stamps import ProdStamp, PushStamp
from dlc_tasks.model.state import inputs_key
from dlc_tasks.model.targets import ImageTarget
from dlc_tasks.model.versionfile import image_tags
from dlc_tasks.steps.base import Decision, Done, Step
from dlc_tasks.steps.perimage import combine, describe_each, execute_each, image_repository

if TYPE_CHECKING:
    from dlc_tasks.run import Run


class VersionTagTaken(DlcError):
    """``dlc.version_tags: immutable`` and the release tag already names another image."""

    hint = "run inv version.bump patch (or set dlc.version_tags: move)"


def release_tags(run: Run) -> list[str]:
    """The tags to push, immutable ones first and ``latest`` last.

    A tree with uncommitted changes gets only ``SHA-dirty``: never the version tag nor
    ``latest``, unless ``--allow-dirty``.
    """
    tree = run.tree()
    if not tree.release_tags:
        return [tree.revision]
    return image_tags(run.version(), tree.revision, run.settings.latest)


def release_tag(run: Run) -> str | None:
    """``MAJOR.MINOR.PATCH`` when VERSION has no PRERELEASE: the tag that should not move."""
    version = run.version()
    return None if version.prerelease else str(version)


class PushStep(Step):
    """Push each image's tags, unless the registry already has them naming its last digest."""

    name = "push"
    after = ("prod",)

    def decide(self, run: Run) -> Decision:
        """Each image: up to date when it went to the same tags and the registry agrees."""
        return combine([(target, self._decide(run, target)) for target in run.settings.targets()])

    def _decide(self, run: Run, target: ImageTarget) -> Decision:
        built = run.state.load(target.stamp("prod"), ProdStamp)
        image = built.image if built else None
        if not image or not run.engine().image_id(image):
            raise NotFoundError(
                f"no production image{'' if not target.configured else ' ' + target.name}",
                hint="run inv prod",
            )
        repo = image_repository(run, target)
        tags = release_tags(run)
        key = inputs_key(image, tags, str(repo))
        stamp = run.state.load(target.stamp("push"), PushStamp)
        client = run.client()
        current = {tag: client.manifest_digest(repo.path, tag) for tag in tags}
        if stamp and stamp.inputs == key and all(d == stamp.digest for d in current.values()):
            return Decision(False, f"{', '.join(tags)} already name {short(stamp.digest, 12)}")
        release = release_tag(run)
        previous = current.get(release) if release else None
        ours = stamp.digest if stamp and stamp.image == image else None
        if previous and previous != ours and run.settings.version_tags == "immutable":
            raise VersionTagTaken(
                f"{repo}:{release} already names {short(previous, 12)}, another image "
                "(dlc.version_tags is immutable)"
            )
        why = "the registry disagrees" if stamp and stamp.inputs == key else "new image or tags"
        if not run.tree().release_tags:
            why += f"; uncommitted changes: only {tags[0]}, no release tags (--allow-dirty)"
        return Decision(
            True,
            why,
            self._describe(run, target),
            facts={"key": key, "tags": tags, "image": str(image), "previous": previous},
        )

    def describe(self, run: Run) -> tuple[str, ...]:
        """Each image's tags in push order, then the digest check."""
        return describe_each(run.settings.targets(), lambda t: self._describe(run, t))

    @staticmethod
    def _describe(run: Run, target: ImageTarget) -> tuple[str, ...]:
        repo = image_repository(run, target)
        tags = release_tags(run)
        return (
            *(f"docker tag + push {repo.tagged(tag)}" for tag in tags),
            f"HEAD {', '.join(tags)} and check they name one digest",
        )

    def execute(self, run: Run, decision: Decision) -> Done:
        """Push each image that is not up to date."""
        return execute_each(decision, lambda target, part: self._push(run, target, part))

    @staticmethod
    def _push(run: Run, target: ImageTarget, decision: Decision) -> str:
        """Tag and push in order (immutable tags first, latest last); check one digest."""
        repo, engine, client = image_repository(run, target), run.engine(), run.client()
        tags: list[str] = list(decision.facts["tags"])
        pushed: dict[str, str] = {}
        for tag in tags:
            engine.tag(str(decision.facts["image"]), str(repo), tag)
            pushed[tag] = run.push(str(repo), tag)
        digests = {tag: client.manifest_digest(repo.path, tag) for tag in tags}
        if len(set(digests.values()) | set(pushed.values())) != 1:
            raise PushError(f"pushed tags of {repo} do not name one digest: {digests}")
        digest = str(digests[tags[0]])
        for tag in tags:
            run.out.line(f"    {repo}:{tag} -> {digest}")
        replaced: dict[str, str] = {}
        previous, release = decision.facts.get("previous"), release_tag(run)
        if previous and release and previous != digest:
            replaced[release] = str(previous)
            run.out.line(f"    moved {repo}:{release} from {previous} (dlc.version_tags: move)")
        key, image = str(decision.facts["key"]), str(decision.facts["image"])
        run.state.save(target.stamp("push"), PushStamp(key, digest, tags, image, replaced))
        prefix = f"{target.name}: " if target.configured else ""
        return f"{prefix}{len(tags)} tags -> {short(digest, 12)}"
