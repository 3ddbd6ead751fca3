"""``push``: tag the production image (version, sha, then latest), push each, verify one digest."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dlc_tasks._files import short
from dlc_tasks.errors import NotFoundError, PushError
from dlc_tasks.model.state import inputs_key
from dlc_tasks.model.versionfile import image_tags
from dlc_tasks.steps.base import Decision, Done, Status, Step

if TYPE_CHECKING:
    from dlc_tasks.run import Run


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
        tags = image_tags(run.version(), run.revision(), run.settings.latest)
        key = inputs_key(image, tags, str(repo))
        stamp = run.state.get("push")
        client = run.client()
        if stamp.get("inputs") == key and all(
            client.manifest_digest(repo.path, tag) == stamp.get("digest") for tag in tags
        ):
            return Decision(
                False, f"{', '.join(tags)} already name {short(str(stamp['digest']), 12)}"
            )
        return Decision(
            True,
            "new image or tags" if stamp.get("inputs") != key else "the registry disagrees",
            self.describe(run),
            facts={"key": key, "tags": tags, "image": str(image)},
        )

    def describe(self, run: Run) -> tuple[str, ...]:
        """Each tag in push order, then the digest check."""
        repo = run.prod_repository()
        tags = image_tags(run.version(), run.revision(), run.settings.latest)
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
        run.state.record("push", str(decision.facts["key"]), digest=digest, tags=tags)
        return Done(Status.RAN, f"{len(tags)} tags -> {short(digest, 12)}")
