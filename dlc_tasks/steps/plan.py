"""``--dry-run``: what each task would do, printed; neither the engine nor the registry is touched.

Each ``plan_*`` mirrors the ``run_*`` of :mod:`dlc_tasks.steps.chain` with the same
inputs (settings, hash, VERSION, git sha) and prints the image references, tags,
the Dockerfile that would be rendered, and the engine and registry calls in
order. No file is written: not even ``deps_hash.env``. The cache image's digest
is only known to the registry, so the plan names the image by its hash.
"""

from __future__ import annotations

from dlc_tasks.model.render import HEADER, render
from dlc_tasks.model.versionfile import image_tags
from dlc_tasks.run import Runtime
from dlc_tasks.steps import gocontainer as gosteps
from dlc_tasks.steps.chain import LABEL_CACHE, Done, binary_path


def _cache_ref(rt: Runtime) -> str:
    return rt.settings.cache_repository(rt.settings.registry_or_local()).tagged(rt.deps().value)


def _say(rt: Runtime, *lines: str) -> None:
    for line in lines:
        rt.out.line(f"    would {line}")


def plan_hash(rt: Runtime) -> Done:
    """The hash, printed; the hash file is not written."""
    deps = rt.deps()
    rt.out.line(f"DEPS_HASH={deps.value}")
    _say(rt, f"write {rt.settings.hash_file}")
    return Done("planned", deps.value[:16])


def plan_cache(rt: Runtime, force: bool = False) -> Done:
    """The manifest lookup, and the build and push on a miss."""
    s = rt.settings
    registry = s.registry_or_local()
    repo = s.cache_repository(registry)
    if not s.registry:
        _say(rt, f"start the local registry on {registry} if none answers there")
    files = "go.mod, go.sum" if (s.project_dir / "go.sum").is_file() else "go.mod"
    args = " ".join(f"--build-arg {k}={v}" for k, v in sorted(s.build_args.items()))
    if not force:
        _say(rt, f"HEAD {registry}/v2/{repo.path}/manifests/{rt.deps().value} (hit: stop here)")
    _say(
        rt,
        f"docker build -f {s.dockerfile_build.relative_to(s.project_dir)} {args} "
        f"-t {_cache_ref(rt)} (context: {files})",
        f"docker push {_cache_ref(rt)}",
    )
    return Done("planned", _cache_ref(rt))


def _container(rt: Runtime) -> str:
    volume = gosteps.cache_volume_name(rt.settings.repo, rt.deps().value)
    return (
        f"in a container of {_cache_ref(rt)}@<digest>, {rt.settings.project_dir} at "
        f"{gosteps.WORKDIR}, Go build cache in volume {volume}:"
    )


def plan_generate(rt: Runtime) -> Done:
    """The generate steps."""
    _say(rt, f"run {_container(rt)}", *(f"  run {' '.join(step)}" for step in rt.settings.generate))
    return Done("planned", f"{len(rt.settings.generate)} step(s)")


def plan_test(rt: Runtime) -> Done:
    """vet, build, test, coverage and the binary."""
    s = rt.settings
    rel_cov = s.coverage_file.relative_to(s.project_dir).as_posix()
    out = binary_path(rt).relative_to(s.project_dir).as_posix()
    steps = [argv for _, argv in gosteps.test_steps(rel_cov)]
    steps.append(gosteps.binary_step(s.main_package, out, s.version_var, str(rt.version())))
    _say(rt, f"run {_container(rt)}", *(f"  run {' '.join(argv)}" for argv in steps))
    return Done("planned", f"{len(steps)} steps")


def plan_prod(rt: Runtime) -> Done:
    """The rendered Dockerfile (printed, not written) and the build."""
    s = rt.settings
    template = s.dockerfile_prod_template.read_text(encoding="utf-8")
    values = {
        "cache_image": f"{_cache_ref(rt)}@<digest>".replace(":" + rt.deps().value, ""),
        "deps_hash": rt.deps().value,
        "binary": s.binary_name,
    }
    values["cache_image"] = values["cache_image"].replace("<digest>", "sha256-from-registry")
    text = HEADER.format(template=s.dockerfile_prod_template.name) + render(template, values)
    repo = s.prod_repository(s.registry_or_local())
    _say(rt, f"render {s.dockerfile_prod}:")
    for line in text.splitlines():
        rt.out.output(f"        | {line}")
    files = ", ".join([s.binary_name, *s.prod_files])
    _say(
        rt,
        f"docker build -t {repo.tagged(rt.revision())} (context: {files}) "
        f"with OCI labels and {LABEL_CACHE}",
    )
    return Done("planned", repo.tagged(rt.revision()))


def plan_push(rt: Runtime) -> Done:
    """The tags, in push order, and the digest checks."""
    s = rt.settings
    repo = s.prod_repository(s.registry_or_local())
    tags = image_tags(rt.version(), rt.revision(), s.latest)
    for tag in tags:
        _say(rt, f"docker tag + push {repo.tagged(tag)}")
    _say(rt, f"HEAD {', '.join(tags)} and check they name one digest")
    return Done("planned", ", ".join(tags))


def plan_dev(rt: Runtime) -> Done:
    """The development image's build."""
    s = rt.settings
    _say(rt, f"docker build -f {s.dockerfile_dev.relative_to(s.project_dir)} -t {s.repo}:dev .")
    return Done("planned", f"{s.repo}:dev")
