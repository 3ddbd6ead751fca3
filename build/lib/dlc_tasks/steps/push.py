"""``push``: tag the production image (version, sha, then latest), push each, verify one digest."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dlc_tasks._files import short
from dlc_tasks.errors import DlcError, NotFoundError, PushError
from dlc_tasks.model.state import inputs_key
from dlc_tasks.model.versionfile import image_tags
from dlc_tasks.steps.base import Decision, Done, Status, Step

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
    if run.dirty and not run.settings.allow_dirty:
        return [run.revision()]
    return image_tags(run.version(), run.revision(), run.settings.latest)


def release_tag(run: Run) -> str | None:
    """``MAJOR.MINOR.PATCH`` when VERSION has no PRERELEASE: the tag that should not move."""
    version = run.version()
    return None if version.prerelease else str(version)


class PushStep(Step):
    """Push the tags, unless the registry already has every one naming the last pushed digest."""

    name = "push"
    after = ("prod",)

    def decide(self, run: Run) -> Decision:
        """Up to date when the same image went to the same tags and the registry still agrees."""
        image = run.state.get("prod").get("image")
        if not image or not run.engine().image_id(str(image)):
            raise NotFoundError("no production image", hint="run inv prod")
        repo = run.prod_repository()
        tags = release_tags(run)
        key = inputs_key(image, tags, str(repo))
        stamp = run.state.get("push")
        client = run.client()
        current = {tag: client.manifest_digest(repo.path, tag) for tag in tags}
        if stamp.get("inputs") == key and all(d == stamp.get("digest") for d in current.values()):
            return Decision(
                False, f"{', '.join(tags)} already name {short(str(stamp['digest']), 12)}"
            )
        release = release_tag(run)
        previous = current.get(release) if release else None
        ours = stamp.get("digest") if stamp.get("image") == image else None
        if previous and previous != ours and run.settings.version_tags == "immutable":
            raise VersionTagTaken(
                f"{repo}:{release} already names {short(previous, 12)}, another image "
                "(dlc.version_tags is immutable)"
            )
        why = "new image or tags" if stamp.get("inputs") != key else "the registry disagrees"
        if run.dirty and not run.settings.allow_dirty:
            why += f"; uncommitted changes: only {tags[0]}, no release tags (--allow-dirty)"
        return Decision(
            True,
            why,
            self.describe(run),
            facts={"key": key, "tags": tags, "image": str(image), "previous": previous},
        )

    def describe(self, run: Run) -> tuple[str, ...]:
        """Each tag in push order, then the digest check."""
        repo = run.prod_repository()
        tags = release_tags(run)
        return (
            *(f"docker tag + push {repo.tagged(tag)}" for tag in tags),
            f"HEAD {', '.join(tags)} and check they name one digest",
        )

    def execute(self, run: Run, decision: Decision) -> Done:
        """Tag and push in order (immutable tags first, latest last); check one digest."""
        if not decision.run:
            return Done(Status.SKIPPED, decision.reason)
        repo, engine, client = run.prod_repository(), run.engine(), run.client()
        tags: list[str] = list(decision.facts["tags"])
        pushed: dict[str, str] = {}
        for tag in tags:
            engine.tag(str(decision.facts["image"]), str(repo), tag)
            pushed[tag] = run.push(str(repo), tag)
        digests = {tag: client.manifest_digest(repo.path, tag) for tag in tags}
        if len(set(digests.values()) | set(pushed.values())) != 1:
            raise PushError(f"pushed tags do not name one digest: {digests}")
        digest = str(digests[tags[0]])
        for tag in tags:
            run.out.line(f"    {repo}:{tag} -> {digest}")
        replaced: dict[str, str] = {}
        previous, release = decision.facts.get("previous"), release_tag(run)
        if previous and release and previous != digest:
            replaced[release] = str(previous)
            run.out.line(f"    moved {repo}:{release} from {previous} (dlc.version_tags: move)")
        run.state.record(
            "push",
            str(decision.facts["key"]),
            digest=digest,
            tags=tags,
            image=str(decision.facts["image"]),
            replaced=replaced,
        )
        return Done(Status.RAN, f"{len(tags)} tags -> {short(digest, 12)}")
