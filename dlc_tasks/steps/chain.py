"""The build chain's steps: hash → cache → generate → test → prod → push, and dev.

Each function does one task's work on a :class:`~dlc_tasks.run.Runtime`
and returns a :class:`Done` (hit, miss, ran or skipped, with a detail line).
Up-to-date checks: a step whose inputs (source digest, cache image digest,
configuration) match its last success, and whose output still exists, is
skipped and says so; anything else runs. The Invoke wiring is in
:mod:`dlc_tasks.cli.collection`.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from dlc_tasks.errors import BuildError, NotFoundError, PushError
from dlc_tasks.model import sourcetree
from dlc_tasks.model.render import render_file
from dlc_tasks.model.state import inputs_key
from dlc_tasks.model.versionfile import image_tags
from dlc_tasks.run import Runtime
from dlc_tasks.steps import gocontainer as gosteps

LABEL_HASH = "io.dlc-tasks.deps-hash"
LABEL_INPUTS = "io.dlc-tasks.deps-inputs"
LABEL_CACHE = "io.dlc-tasks.build-cache"


@dataclass(frozen=True)
class Done:
    """A task's outcome for the summary."""

    status: str
    detail: str = ""


def _file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def source_digest(rt: Runtime) -> str:
    """The digest of the Go source tree, minus what the chain writes itself."""
    s = rt.settings
    return sourcetree.digest(
        s.project_dir, exclude=[s.hash_file, s.coverage_file, s.dockerfile_prod]
    )


# -- hash ------------------------------------------------------------------------------------


def run_hash(rt: Runtime) -> Done:
    """Compute the dependency hash, print it and write the hash file."""
    from dlc_tasks.model.depshash import write_env_file  # noqa: PLC0415

    deps = rt.deps()
    write_env_file(rt.settings.hash_file, deps)
    rt.out.line(f"DEPS_HASH={deps.value}")
    return Done("ran", deps.value[:16])


# -- cache -----------------------------------------------------------------------------------


def cache_digest(rt: Runtime) -> str:
    """The digest of the cache image for the current hash, as ``cache`` recorded it."""
    stamp = rt.state.get("cache")
    if stamp.get("inputs") != rt.deps().value or not stamp.get("digest"):
        raise NotFoundError("no build-cache image for the current hash", hint="run inv cache")
    return str(stamp["digest"])


def run_cache(rt: Runtime, force: bool = False) -> Done:
    """Look the cache image up by manifest; on a miss (or ``force``), build and push it."""
    from dlc_tasks.clients.engine import context_tar  # noqa: PLC0415

    s, deps = rt.settings, rt.deps()
    repo = rt.cache_repository()
    ref = repo.tagged(deps.value)
    digest = None if force else rt.client().manifest_digest(repo.path, deps.value)
    if digest:
        rt.state.record("cache", deps.value, ref=ref, digest=digest)
        return Done("hit", f"{ref}@{digest[:19]}")
    rt.out.line(f"building {ref}" + (" (--force)" if force else " (cache miss)"))
    files = {"go.mod": s.project_dir / "go.mod"}
    if (s.project_dir / "go.sum").is_file():
        files["go.sum"] = s.project_dir / "go.sum"
    texts = {"goproxy/README": "no local module proxy (dlc.goproxy_dir is not set)\n"}
    if s.goproxy_dir is not None:
        texts = {}
        for path in sourcetree.iter_files(s.goproxy_dir):
            files[f"goproxy/{path.relative_to(s.goproxy_dir).as_posix()}"] = path
    engine = rt.engine()
    dockerfile = s.dockerfile_build.read_text(encoding="utf-8")
    try:
        engine.build(
            context_tar(files, dockerfile, texts),
            tag=ref,
            buildargs=s.cache_build_args,
            dockerfile_text=dockerfile,
            labels={LABEL_HASH: deps.value, LABEL_INPUTS: json.dumps(deps.inputs, sort_keys=True)},
            output=rt.out.output,
        )
    except BuildError as err:
        mismatch = next((line for line in err.log if "checksum mismatch" in line), None)
        if mismatch is None:
            raise
        raise BuildError(
            f"go.sum does not match the module's content ({mismatch.strip()})",
            hint="restore go.sum (git checkout go.sum), or run go mod tidy if the change is meant",
        ) from None
    digest = rt.push(str(repo), deps.value)
    rt.state.record("cache", deps.value, ref=ref, digest=digest)
    return Done("miss", f"built and pushed {ref}@{digest[:19]}")


def ensure_cache_image_local(rt: Runtime) -> str:
    """``repo@digest`` of the cache image, pulled by digest if the engine lacks it."""
    repo, digest = rt.cache_repository(), cache_digest(rt)
    engine = rt.engine()
    if not engine.has_repo_digest(str(repo), digest):
        rt.out.line(f"pulling {repo}@{digest[:19]}")
        rt.pull(str(repo), digest)
    return repo.pinned(digest)


def _go_container(rt: Runtime) -> gosteps.GoContainer:
    image = ensure_cache_image_local(rt)
    volume = gosteps.cache_volume_name(rt.settings.repo, rt.deps().value)
    return gosteps.GoContainer(rt.engine(), image, rt.settings.project_dir, volume, rt.out.output)


# -- generate --------------------------------------------------------------------------------


def run_generate(rt: Runtime) -> Done:
    """Run the ``generate`` steps in the cache image, unless the tree is unchanged since."""
    s = rt.settings
    config = {"steps": s.generate, "cache": cache_digest(rt)}
    if rt.state.is_fresh("generate", inputs_key(source_digest(rt), config)):
        return Done("skipped", "sources unchanged since the last generate")
    with _go_container(rt) as go:
        for step in s.generate:
            go.run(step)
    rt.state.record("generate", inputs_key(source_digest(rt), config))
    return Done("ran", f"{len(s.generate)} step(s)")


# -- test ------------------------------------------------------------------------------------


def binary_path(rt: Runtime) -> Path:
    """Where the service binary is built: ``.dlc/bin/NAME``."""
    return rt.settings.state_dir / "bin" / rt.settings.binary_name


def _test_inputs(rt: Runtime) -> str:
    s = rt.settings
    return inputs_key(
        source_digest(rt), cache_digest(rt), s.main_package, s.version_var, str(rt.version())
    )


def _build_binary(rt: Runtime, go: gosteps.GoContainer) -> None:
    s = rt.settings
    out = binary_path(rt)
    out.parent.mkdir(parents=True, exist_ok=True)
    rel = out.relative_to(s.project_dir).as_posix()
    go.run(gosteps.binary_step(s.main_package, rel, s.version_var, str(rt.version())))


def run_test(rt: Runtime) -> Done:
    """vet, build, test with coverage, then the service binary, in one container."""
    s = rt.settings
    key = _test_inputs(rt)
    stamp = rt.state.get("test")
    if stamp.get("inputs") == key and binary_path(rt).is_file() and s.coverage_file.is_file():
        return Done("skipped", f"sources unchanged; coverage {stamp.get('coverage')}")
    rel_cov = s.coverage_file.relative_to(s.project_dir).as_posix()
    coverage = None
    with _go_container(rt) as go:
        for name, argv in gosteps.test_steps(rel_cov):
            result = go.run(argv, what=name, quiet=name == "coverage")  # only the total
            if name == "coverage":
                coverage = gosteps.total_coverage(result.lines)
        _build_binary(rt, go)
    rt.out.line(f"total coverage: {coverage}; profile in {s.coverage_file}")
    rt.state.record("test", key, coverage=coverage, binary=_file_digest(binary_path(rt)))
    return Done("ran", f"coverage {coverage}")


# -- prod ------------------------------------------------------------------------------------


def oci_labels(rt: Runtime, created: str) -> dict[str, str]:
    """The OCI annotations and the tool's own labels for the production image."""
    s = rt.settings
    labels = {
        "org.opencontainers.image.title": s.repo,
        "org.opencontainers.image.version": str(rt.version()),
        "org.opencontainers.image.revision": rt.revision(),
        "org.opencontainers.image.created": created,
        LABEL_HASH: rt.deps().value,
        LABEL_CACHE: rt.cache_repository().pinned(cache_digest(rt)),
    }
    labels["org.opencontainers.image.source"] = s.source_url or str(rt.prod_repository())
    return labels


def run_prod(rt: Runtime) -> Done:
    """Render Dockerfile.prod and build the production image from the tested binary."""
    from dlc_tasks.clients.engine import context_tar  # noqa: PLC0415

    s = rt.settings
    binary = binary_path(rt)
    stamp = rt.state.get("test")
    if stamp.get("inputs") != _test_inputs(rt) or not binary.is_file():
        with _go_container(rt) as go:  # `inv prod` alone after an edit: rebuild the binary
            _build_binary(rt, go)
    cache_ref = rt.cache_repository().pinned(cache_digest(rt))
    text = render_file(
        s.dockerfile_prod_template,
        s.dockerfile_prod,
        {"cache_image": cache_ref, "deps_hash": rt.deps().value, "binary": s.binary_name},
    )
    files = {s.binary_name: binary}
    for name in s.prod_files:
        path = s.project_dir / name
        if not path.is_file():
            raise NotFoundError(f"{path} (listed in dlc.prod_files) not found")
        files[name] = path
    labels = oci_labels(rt, "")
    key = inputs_key(
        text,
        {name: _file_digest(p) for name, p in files.items()},
        s.build_args,
        {k: v for k, v in labels.items() if not k.endswith(".created")},
    )
    stamp = rt.state.get("prod")
    engine = rt.engine()
    if stamp.get("inputs") == key and engine.image_id(str(stamp.get("image"))):
        return Done("skipped", f"image {str(stamp['image'])[7:19]} is up to date")
    labels["org.opencontainers.image.created"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    local_ref = rt.prod_repository().tagged(rt.revision())
    image = engine.build(
        context_tar(files, text),
        tag=local_ref,
        buildargs=s.build_args,
        labels=labels,
        output=rt.out.output,
        dockerfile_text=text,
    )
    size = int(engine.inspect(image)["Size"])
    rt.state.record("prod", key, image=image, size=size)
    return Done("ran", f"{local_ref} ({size / 1e6:.1f} MB)")


# -- push ------------------------------------------------------------------------------------


def run_push(rt: Runtime) -> Done:
    """Tag the production image (version, sha, then latest), push, and verify by digest."""
    s = rt.settings
    image = rt.state.get("prod").get("image")
    engine = rt.engine()
    if not image or not engine.image_id(str(image)):
        raise NotFoundError("no production image", hint="run inv prod")
    repo = rt.prod_repository()
    tags = image_tags(rt.version(), rt.revision(), s.latest)
    client = rt.client()
    stamp = rt.state.get("push")
    key = inputs_key(image, tags, str(repo))
    if stamp.get("inputs") == key and all(
        client.manifest_digest(repo.path, tag) == stamp.get("digest") for tag in tags
    ):
        return Done("skipped", f"{', '.join(tags)} already name {str(stamp['digest'])[:19]}")
    pushed: dict[str, str] = {}
    for tag in tags:  # immutable tags first, latest last
        engine.tag(str(image), str(repo), tag)
        pushed[tag] = rt.push(str(repo), tag)
    digests = {tag: client.manifest_digest(repo.path, tag) for tag in tags}
    if len(set(digests.values()) | set(pushed.values())) != 1:
        raise PushError(f"pushed tags do not name one digest: {digests}")
    digest = str(digests[tags[0]])
    for tag in tags:
        rt.out.line(f"    {repo}:{tag} -> {digest}")
    rt.state.record("push", key, digest=digest, tags=tags)
    return Done("ran", f"{len(tags)} tags -> {digest[:19]}")


# -- dev -------------------------------------------------------------------------------------


def run_dev(rt: Runtime) -> Done:
    """Build the development image from docker/Dockerfile (context: project_dir)."""
    s = rt.settings
    if not s.dockerfile_dev.is_file():
        raise NotFoundError(f"{s.dockerfile_dev} not found", hint="set dlc.dockerfile_dev")
    tag = f"{s.repo}:dev"
    image = rt.engine().build(
        s.project_dir,
        tag=tag,
        buildargs=s.build_args,
        output=rt.out.output,
        dockerfile=s.dockerfile_dev.relative_to(s.project_dir).as_posix(),
        custom_context=False,
        dockerfile_text=s.dockerfile_dev.read_text(encoding="utf-8"),
    )
    return Done("ran", f"{tag} ({image[7:19]})")
