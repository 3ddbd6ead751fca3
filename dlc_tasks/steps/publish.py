"""``push`` of an assembled image (``dlc.platforms``): tags only, no engine round trip.

``prod`` wrote every blob and manifest and the index by digest
(:mod:`dlc_tasks.steps.assemble`); ``push`` puts that index (or the one manifest) under
each release tag, in order (immutable tags first, ``latest`` last), reads every tag back
and requires the digest. An assembled image's digest is a function of the commit and the
configuration, so a tag that already names it is done (a second runner finishing the same
release), under every ``dlc.version_tags`` policy; ``immutable`` refuses a release tag
naming another digest.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from dlc_tasks._files import short
from dlc_tasks.clients.registry.manifests import get_manifest, put_manifest
from dlc_tasks.errors import NotFoundError, PushError
from dlc_tasks.model.stamps import AssembledStamp, PushedTags, PushStamp
from dlc_tasks.model.state import inputs_key
from dlc_tasks.steps.base import Decision
from dlc_tasks.steps.perimage import image_repository

if TYPE_CHECKING:
    from dlc_tasks.model.targets import ImageTarget
    from dlc_tasks.run import Run


@dataclass(frozen=True)
class PushPlan:
    """One image's push: the image, its tags in push order, the release tag and the digest it
    named before (when it moves), the tags already done, and the stamp's key.

    What :class:`~dlc_tasks.steps.push.PushStep` decides, on either path."""

    image: str
    tags: tuple[str, ...]
    release: str | None
    previous: str | None
    done: dict[str, str]
    key: str
    # An assembled image (dlc.platforms): prod wrote it by digest, push only puts the tags.
    assembled: bool = False


def decide(
    run: Run, target: ImageTarget, built: AssembledStamp, tags: list[str], release: str | None
) -> tuple[Decision[PushPlan], str | None]:
    """Up to date when every tag names the assembled digest and the last push recorded it;
    returns the decision and the digest the release tag names now when it is another."""
    repo, client = image_repository(run, target), run.client()
    if client.manifest_digest(repo.path, built.image) != built.image:
        raise NotFoundError(
            f"{repo}@{short(built.image)} is not in the registry", hint="run inv prod"
        )
    key = inputs_key(built.image, tags, str(repo))
    current = {tag: client.manifest_digest(repo.path, tag) for tag in tags}
    stamp = run.state.load(target.stamp("push"), PushStamp)
    done = {tag: built.image for tag, digest in current.items() if digest == built.image}
    if stamp and stamp.inputs == key and len(done) == len(tags):
        return Decision(False, f"{', '.join(tags)} already name {short(built.image, 12)}"), None
    previous = current.get(release) if release else None
    other = previous if previous and previous != built.image else None
    actions = (
        *(f"PUT {repo}:{tag} -> {short(built.image, 12)}" for tag in tags),
        f"GET {', '.join(tags)} and check they name {short(built.image, 12)}",
    )
    plan = PushPlan(
        image=built.image,
        tags=tuple(tags),
        release=release,
        previous=other,
        done=done,
        key=key,
        assembled=True,
    )
    why = "new image or tags" if not done else f"{len(tags) - len(done)} tag(s) to put"
    return Decision(True, why, actions, plan=plan), other


def put_tags(run: Run, target: ImageTarget, plan: PushPlan) -> str:
    """Put each tag not yet naming the digest, recording each as it lands; read all back."""
    repo, client = image_repository(run, target), run.writer()
    tags, digest = list(plan.tags), plan.image
    manifest = get_manifest(client, repo.path, digest)
    if manifest is None:
        raise NotFoundError(
            f"{repo}@{short(digest)} is gone from the registry", hint="run inv prod"
        )
    pushed: dict[str, str] = dict(plan.done)
    for tag in tags:
        if tag in pushed:
            run.out.line(f"    {repo}:{tag} already names {short(digest, 12)}: done")
            continue
        put_manifest(client, repo.path, tag, manifest)
        pushed[tag] = digest
        run.state.save(
            target.stamp("pushed"), PushedTags(inputs_key(digest, str(repo)), digest, list(pushed))
        )
    named = {tag: client.manifest_digest(repo.path, tag) for tag in tags}
    wrong = {tag: d for tag, d in named.items() if d != digest}
    if wrong:
        raise PushError(f"pushed tags of {repo} do not name {short(digest, 12)}: {wrong}")
    for tag in tags:
        run.out.line(f"    {repo}:{tag} -> {digest}")
    return digest
