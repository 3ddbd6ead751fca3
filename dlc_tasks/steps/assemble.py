"""``prod`` for ``dlc.platforms``: each platform's image assembled from its parts, no engine build.

As ko does (docs/publishing.md): for the packaged template (no ``RUN``), each platform's
image is the base image's manifest for that platform (from the registry, pinned by digest;
a base only the engine has is pushed first), one layer per ``prod_files`` set, one for the
binary ``test`` cross-compiled, and a configuration with exactly what the rendered
``Dockerfile.prod`` says; every time in it is the commit's. Blobs are mounted, copied or
uploaded, each manifest put by digest, then the index over them (one platform: its
manifest). ``push`` only puts tags (:mod:`dlc_tasks.steps.push`). ``inv prod`` without
``push`` also loads the engine platform's image into the engine, where it can be run.

A template a builder must run (``RUN``, ``ADD``…) keeps the engine path, for the engine's
platform only, and says so in one line.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from dlc_tasks._files import file_sha256, short
from dlc_tasks.clients.baseimages import RUNTIME_IMAGE
from dlc_tasks.clients.baseregistry import publish_runtime_index, push_engine_image
from dlc_tasks.clients.registry.blobs import get_blob
from dlc_tasks.clients.registry.images import push_image, push_index, read_base, read_file
from dlc_tasks.clients.registry.manifests import get_manifest
from dlc_tasks.errors import BaseNotAvailable, NotAssemblable, NotFoundError
from dlc_tasks.model.oci import dockerarchive
from dlc_tasks.model.oci.config import timestamp
from dlc_tasks.model.oci.descriptor import INDEX_TYPES, Blob, Descriptor
from dlc_tasks.model.oci.image import BaseImage, File, Image, assemble, index_of
from dlc_tasks.model.oci.platform import Platform
from dlc_tasks.model.oci.recipe import SCRATCH, Recipe
from dlc_tasks.model.oci.recipe import parse as parse_recipe
from dlc_tasks.model.render import label_instruction
from dlc_tasks.model.stamps import AssembledStamp
from dlc_tasks.model.state import inputs_key
from dlc_tasks.steps import attest, crossbuild
from dlc_tasks.steps.base import Decision
from dlc_tasks.steps.prodinputs import check_tested, context_files

if TYPE_CHECKING:
    from dlc_tasks.clients.registry import RegistryClient
    from dlc_tasks.model.targets import ImageTarget
    from dlc_tasks.run import Run

P = TypeVar("P")

CREATED = "org.opencontainers.image.created"


@dataclass(frozen=True)
class Plan:
    """What ``prod`` decided to assemble for one image."""

    recipe: Recipe
    platforms: tuple[Platform, ...]
    epoch: int
    labels: dict[str, str]
    configuration: dict[str, object]  # what the provenance names as affecting the image


def plan(run: Run, target: ImageTarget, text: str, labels: dict[str, str]) -> Plan | None:
    """The assembly of ``target`` with ``dlc.platforms`` set, or None for the engine path (no
    platforms configured, or a template a builder must run: said in one line)."""
    s = run.settings
    if not s.platforms:
        return None
    epoch = run.facts.commit_time()
    labels = {**labels, CREATED: timestamp(epoch)}  # nothing that depends on the hour
    try:
        recipe = parse_recipe(text + label_instruction(labels), s.build_args)
    except NotAssemblable as err:
        run.out.line(
            f"{s.shown(s.dockerfile_prod_template)}: {err.one_line()}: built by the engine, "
            f"for {run.engine_platform()} only"
        )
        return None
    platforms = tuple(run.platforms())
    configuration: dict[str, object] = {
        "dockerfile_prod_sha256": file_sha256_of(text.encode()),
        "build_args": dict(s.build_args),
        "prod_files": list(target.prod_files),
        "platforms": [str(p) for p in platforms],
    }
    return Plan(recipe, platforms, epoch, labels, configuration)


def _file(path_bytes: bytes, executable: bool) -> File:
    # git keeps only the executable bit: so do the layers, whatever the checkout's umask
    return File(path_bytes, 0o755 if executable else 0o644)


def split_reference(ref: str) -> tuple[str | None, str, str]:
    """``host/path@digest`` or ``path:tag`` → (host or None, path, digest or tag)."""
    name, at, digest = ref.partition("@")
    first, slash, rest = name.partition("/")
    host, path = (first, rest) if slash and ("." in first or ":" in first) else (None, name)
    if at:
        return host, path, digest
    last = path.rsplit("/", 1)[-1]
    if ":" in last:
        path, _, tag = path.rpartition(":")
        return host, path, tag
    return host, path, "latest"


def _covers(index: Descriptor | None, found: dict[str, object], platforms: list[Platform]) -> bool:
    entries = [Descriptor.from_dict(m) for m in found.get("manifests") or []]  # type: ignore[attr-defined]
    if index is not None and index.digest not in {e.digest for e in entries}:
        return False
    return all(any(e.platform and e.platform.matches(p) for e in entries) for p in platforms)


def _engine_base(run: Run, ref: str, platforms: list[Platform]) -> tuple[str, str]:
    """A base only the engine has, pushed to the run's registry: (repository, digest of its
    manifest, or of an index covering every platform)."""
    client, engine, host = run.writer(), run.engine(), run.engine_platform()
    _, repository, tag = split_reference(ref)
    own = push_engine_image(engine, client, ref, repository)
    foreign = [p for p in platforms if not p.matches(host)]
    if not foreign:
        return repository, own.digest
    found = get_manifest(client, repository, tag)
    if found and found.media_type in INDEX_TYPES and _covers(own, found.json(), platforms):
        return repository, found.digest
    if ref != RUNTIME_IMAGE:
        names = ", ".join(str(p) for p in foreign)
        raise BaseNotAvailable(f"the base {ref} is only in the engine ({host}): none for {names}")
    digest = publish_runtime_index(
        engine, client, engine_ref=ref, repository=repository, tag=tag, platforms=platforms
    )
    names = ", ".join(str(p) for p in platforms)
    run.out.line(f"    runtime base for {names}: {repository}@{short(digest)}")
    return repository, digest


def base_images(run: Run, recipe: Recipe, platforms: list[Platform]) -> dict[Platform, BaseImage]:
    """The base for each platform: scratch, a registry image pinned by digest, or one only the
    engine has (pushed to the run's registry first)."""
    if recipe.base == SCRATCH:
        return {p: BaseImage.scratch(p) for p in platforms}
    host, repository, reference = split_reference(recipe.base)
    if host is None and run.engine().image_id(recipe.base) is not None:
        repository, reference = _engine_base(run, recipe.base, platforms)
    elif host is None or not reference.startswith("sha256:"):
        raise BaseNotAvailable(f"the base {recipe.base} is not pinned by digest in a registry")
    client = base_client(run, host)
    return {p: read_base(client, repository, reference, p) for p in platforms}


def base_client(run: Run, host: str | None) -> RegistryClient:
    """The client of the registry holding the base: the run's, or another one's."""
    return run.writer(host)


def stage_files(run: Run, recipe: Recipe) -> dict[tuple[str, str], bytes]:
    """The files copied ``--from`` another image (a scratch image's CA bundle, from the cache
    image by digest, never from the host)."""
    out: dict[tuple[str, str], bytes] = {}
    for copy in recipe.copies:
        if not copy.stage:
            continue
        host, repository, digest = split_reference(copy.stage)
        client = base_client(run, host)
        found = get_manifest(client, repository, digest)
        if found is None:
            raise NotFoundError(f"{copy.stage} is not in the registry", hint="run inv cache")
        layers = [str(d["digest"]) for d in found.json().get("layers") or []]
        for source in copy.sources:
            data = read_file(client, repository, layers, source)
            if data is None:
                raise NotFoundError(f"{copy.stage} has no {source}")
            out[(copy.stage, source)] = data
    return out


def context(run: Run, target: ImageTarget, platform: Platform) -> dict[str, File]:
    """The build context for ``platform``: its binary, checked against the test stamp on the
    bytes the layer gets, the ``prod_files`` and the template's texts."""
    binary = crossbuild.binary_for(run, target, platform)
    data = binary.path(run).read_bytes()
    check_tested(run, target, file_sha256_of(data), binary.stamp_key)
    files = {
        name: _file(path.read_bytes(), bool(path.stat().st_mode & 0o111))
        for name, path in context_files(run, target).items()
        if name != target.binary_name
    }
    texts = {name: File(text.encode()) for name, text in target.image.context_texts().items()}
    return {**files, **texts, target.binary_name: File(data, 0o755)}


def file_sha256_of(data: bytes) -> str:
    """The sha256 of bytes, as :func:`dlc_tasks._files.file_sha256` gives a file's."""
    import hashlib  # noqa: PLC0415

    return hashlib.sha256(data).hexdigest()


def binary_digests(run: Run, target: ImageTarget, platforms: tuple[Platform, ...]) -> list[str]:
    """Each platform's binary sha256 (an input of ``prod``'s decision)."""
    return [file_sha256(crossbuild.binary_for(run, target, p).path(run)) for p in platforms]


def build(
    run: Run, target: ImageTarget, planned: Plan, repository: str, tag: str
) -> AssembledStamp:
    """Assemble and write each platform's image, then the index (one platform: its manifest)
    by digest; load the engine's platform into the engine unless ``push`` follows."""
    client, started = run.writer(), int(time.time())
    platforms = list(planned.platforms)
    bases = base_images(run, planned.recipe, platforms)
    staged = stage_files(run, planned.recipe)
    images: list[Image] = []
    binaries: list[bytes] = []
    for platform in platforms:
        files = context(run, target, platform)
        binaries.append(files[target.binary_name].data)
        image = assemble(
            bases[platform],
            planned.recipe,
            platform,
            files,
            planned.epoch,
            own_layer={target.binary_name},
            stage_files=staged,
        )
        base = bases[platform]
        other = base_client(run, split_reference(planned.recipe.base)[0]) if base.digest else None
        done = push_image(client, repository, image, base_client=other)
        uploaded = sum(1 for how in done.values() if how == "uploaded")
        run.out.line(
            f"    {platform}: {short(image.manifest.digest)} "
            f"({len(done)} blobs, {uploaded} uploaded)"
        )
        images.append(image)
    top = images[0].manifest if len(images) == 1 else index_of(images)
    digest = push_index(client, repository, top)
    if "verify" not in run.tasks:  # a verifying rebuild attaches nothing
        attach_all(
            run,
            target,
            planned,
            repository=repository,
            top=top,
            images=images,
            binaries=binaries,
            started=started,
        )
    engine_image = next((i for i in images if i.platform.matches(run.engine_platform())), None)
    if engine_image is not None and "push" not in run.tasks:
        load(run, client, repository, engine_image, tag)
    return AssembledStamp(
        "",
        digest,
        image_size(images[0]),
        repository=repository,
        manifests={str(i.platform): i.manifest.digest for i in images},
        sizes={str(i.platform): image_size(i) for i in images},
        engine_image=engine_image.config.digest if engine_image else "",
    )


def attach_all(
    run: Run,
    target: ImageTarget,
    planned: Plan,
    *,
    repository: str,
    top: Blob,
    images: list[Image],
    binaries: list[bytes],
    started: int,
) -> None:
    """The SBOM of each platform image, then the provenance of ``top``."""
    client = run.writer()
    for image, binary in zip(images, binaries, strict=True):
        attest.attach_sbom(run, client, repository, image, binary=binary, epoch=planned.epoch)
    how = attest.attach_provenance(
        run,
        client,
        target,
        repository=repository,
        top=top,
        images=images,
        configuration=planned.configuration,
        epoch=planned.epoch,
        started=started,
        finished=int(time.time()),
    )
    run.out.line(f"    SBOM per platform and provenance attached ({how})")


def image_size(image: Image) -> int:
    """What a pull of the image fetches: its configuration and every layer, compressed."""
    layers = image.manifest.json().get("layers") or []
    return image.config.descriptor.size + sum(int(layer["size"]) for layer in layers)


def load(run: Run, client: RegistryClient, repository: str, image: Image, tag: str) -> None:
    """Load ``image`` into the engine under ``tag`` (a Docker archive: its id is its
    configuration's digest)."""
    blobs = [get_blob(client, repository, d.digest) for d in image.base_layers]
    blobs += [layer.blob.data for layer in image.new_layers]
    with tempfile.TemporaryFile() as archive:
        dockerarchive.write(image.config, blobs, [tag], archive)
        archive.seek(0)
        run.engine().load(archive)
    run.out.line(f"    loaded {tag} ({image.platform}) into the engine")


def up_to_date(run: Run, stamp: AssembledStamp, tag: str) -> str | None:
    """Why the stamped assembly must be made again (gone from the registry, or from the
    engine when ``prod`` runs alone), or None."""
    if run.client().manifest_digest(stamp.repository, stamp.image) != stamp.image:
        return f"{short(stamp.image)} is gone from the registry"
    alone = "push" not in run.tasks
    if alone and stamp.engine_image and run.engine().image_id(tag) != stamp.engine_image:
        return f"{tag} is not in the engine"
    return None


def decide(
    run: Run,
    target: ImageTarget,
    planned: Plan,
    *,
    text: str,
    digests: dict[str, str],
    tag: str,
    rendered_at: str,
    plan_of: Callable[[str], P],
) -> Decision[P]:
    """``prod``'s decision for an assembled image: up to date when its inputs (every
    platform's binary included) are the stamp's and the registry has its digest."""
    key = inputs_key(
        text,
        digests,
        binary_digests(run, target, planned.platforms),
        target.image.context_texts(),
        run.settings.build_args,
        planned.labels,
        [str(p) for p in planned.platforms],
    )
    stamp = run.state.load(target.stamp("prod"), AssembledStamp)
    if stamp is not None and stamp.inputs == key:
        why = up_to_date(run, stamp, tag)
        if why is None:
            return Decision(False, f"{short(stamp.image)} is up to date")
    else:
        why = "inputs changed since the last build" if stamp else "never built here"
    names = ", ".join(str(p) for p in planned.platforms)
    actions = (
        f"render {rendered_at}",
        f"assemble {tag.rpartition(':')[0]} for {names} from its parts "
        "(base by digest, layers, configuration); write blobs and manifests by digest",
    )
    return Decision(True, why, actions, plan=plan_of(key))
