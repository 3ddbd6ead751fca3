"""``dlc sbom IMAGE_REF`` and ``dlc verify IMAGE_REF``: read what ``prod`` attached.

Both start from the image's digest alone: the SBOMs (one per platform manifest) and the
provenance (of the index, or of the one manifest) are found through the referrers API, or
the referrers tag schema (:mod:`dlc_tasks.clients.registry.referrers`).

``verify`` rebuilds the commit the provenance names in a fresh clone of the local
repository (``git clone --no-local --no-checkout``, then that commit), with the build
arguments and platforms the provenance names, not this machine's configuration: ``hash``,
``cache``, ``generate``, ``test`` and ``prod`` run there (``prod`` writes blobs and
manifests by digest only, no tag), and the index digest must be the one verified; if it
is not, the first platform whose binary differs is named.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dlc_tasks._files import short
from dlc_tasks.clients.registry.blobs import get_blob
from dlc_tasks.clients.registry.manifests import get_manifest
from dlc_tasks.clients.registry.referrers import referrers
from dlc_tasks.errors import DlcError, NotFoundError, VerifyFailed
from dlc_tasks.model import provenance, sbom
from dlc_tasks.model.oci import layer as layers
from dlc_tasks.model.oci.descriptor import INDEX_TYPES, Descriptor
from dlc_tasks.model.oci.platform import Platform
from dlc_tasks.steps.assemble import split_reference

if TYPE_CHECKING:
    from dlc_tasks.clients.registry import RegistryClient
    from dlc_tasks.config import Settings
    from dlc_tasks.run import Run

FORMATS = ("spdx-json", "table")


@dataclass(frozen=True)
class Target:
    """An image reference resolved to its digest, and the client of its registry."""

    client: RegistryClient
    registry: str
    repository: str
    digest: str
    media_type: str
    body: dict[str, Any]


def resolve(run: Run, ref: str) -> Target:
    """``REGISTRY/REPO:TAG`` or ``…@sha256:…`` → its digest and manifest (or index)."""
    host, repository, reference = split_reference(ref)
    registry = host or run.registry()
    from dlc_tasks.steps.assemble import base_client  # noqa: PLC0415

    client = base_client(run, registry)
    found = get_manifest(client, repository, reference)
    if found is None:
        raise NotFoundError(f"{ref} is not in the registry")
    return Target(client, registry, repository, found.digest, found.media_type, found.json())


def platform_manifests(target: Target) -> list[tuple[Platform | None, str]]:
    """Each platform's manifest digest (one manifest: its own, platform unknown)."""
    if target.media_type not in INDEX_TYPES:
        return [(None, target.digest)]
    entries = [Descriptor.from_dict(m) for m in target.body.get("manifests") or []]
    return [(e.platform, e.digest) for e in entries]


def _attached(target: Target, subject: str, artifact_type: str) -> dict[str, Any]:
    found = referrers(target.client, target.repository, subject, artifact_type)
    if not found:
        raise NotFoundError(
            f"{target.repository}@{short(subject)} has no {artifact_type} attached",
            hint="images get one when dlc.platforms is set (inv push)",
        )
    artifact = get_manifest(target.client, target.repository, found[-1].digest)
    if artifact is None:
        raise NotFoundError(f"{target.repository}@{short(found[-1].digest)} is gone")
    payload = artifact.json()["layers"][0]["digest"]
    return dict(json.loads(get_blob(target.client, target.repository, str(payload))))


def documents(target: Target) -> list[dict[str, Any]]:
    """The SPDX document of each platform image."""
    return [_attached(target, digest, sbom.MEDIA_TYPE) for _, digest in platform_manifests(target)]


def table(document: dict[str, Any]) -> list[str]:
    """One line per package: name, version, purl."""
    rows = [("NAME", "VERSION", "PURL")]
    for package in document.get("packages") or []:
        purl = next(
            (
                str(ref.get("referenceLocator"))
                for ref in package.get("externalRefs") or []
                if ref.get("referenceType") == "purl"
            ),
            "",
        )
        rows.append((str(package.get("name")), str(package.get("versionInfo", "")), purl))
    width = [max(len(r[i]) for r in rows) for i in range(2)]
    return [f"{r[0]:<{width[0]}}  {r[1]:<{width[1]}}  {r[2]}".rstrip() for r in rows]


def show_sbom(run: Run, ref: str, fmt: str) -> None:
    """Print the SBOM of each platform of ``ref``."""
    if fmt not in FORMATS:
        raise DlcError(f"unknown format {fmt!r}", hint=f"use {' or '.join(FORMATS)}")
    target = resolve(run, ref)
    found = documents(target)
    if fmt == "spdx-json":
        text = json.dumps(found[0] if len(found) == 1 else found, indent=2, sort_keys=True)
        run.out.line(text)
        return
    for document in found:
        run.out.line(f"# {document.get('name')}")
        for line in table(document):
            run.out.line(line)


def statement_of(target: Target) -> dict[str, Any]:
    """The provenance statement attached to the image, checked to name its digest."""
    statement = _attached(target, target.digest, provenance.MEDIA_TYPE)
    hexes = {s.get("digest", {}).get("sha256") for s in statement.get("subject") or []}
    if target.digest.partition(":")[2] not in hexes:
        raise VerifyFailed(f"the provenance attached to {short(target.digest)} does not name it")
    return statement


def _binary(target: Target, manifest_digest: str, path: str) -> bytes | None:
    manifest = get_manifest(target.client, target.repository, manifest_digest)
    if manifest is None:
        return None
    top = str(manifest.json()["layers"][-1]["digest"])
    return layers.read_file(get_blob(target.client, target.repository, top), path)


def _clone(project: Path, commit: str, into: Path, deadline: float) -> Path:
    from dlc_tasks.clients import git  # noqa: PLC0415

    top = git.toplevel(project)
    if top is None:
        raise NotFoundError(f"{project} is not in a git repository", hint="run verify in a clone")
    clone = into / "clone"
    for argv in (
        ["git", "clone", "--quiet", "--no-local", "--no-checkout", str(top), str(clone)],
        ["git", "-C", str(clone), "checkout", "--quiet", "--detach", commit],
    ):
        done = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=deadline)
        if done.returncode != 0:
            raise VerifyFailed(f"cannot check out {commit[:12]}: {done.stderr.strip()[:200]}")
    return clone / project.relative_to(top)


def verify(run: Run, ref: str, config: Any) -> str:
    """Rebuild the commit the provenance names and compare; ``verified`` or a VerifyFailed
    naming the first difference."""
    from dlc_tasks.run import Run as RunType  # noqa: PLC0415
    from dlc_tasks.steps import make_step  # noqa: PLC0415
    from dlc_tasks.steps.runner import run_steps  # noqa: PLC0415

    target = resolve(run, ref)
    statement = statement_of(target)
    parameters = statement["predicate"]["buildDefinition"]["externalParameters"]
    # an image of a dirty tree names its commit REV-dirty: rebuilt from REV, it differs
    commit = str(parameters["commit"]).removesuffix("-dirty")
    configuration = dict(parameters.get("configuration") or {})
    s = run.settings
    with tempfile.TemporaryDirectory(prefix="dlc-verify-") as tmp:
        project = _clone(s.project_dir, commit, Path(tmp), s.timeouts.git)
        name = str(configuration.get("image") or "")
        settings = clone_settings(
            config,
            project,
            {
                "registry": target.registry,
                "build_args": configuration.get("build_args") or {},
                "platforms": list(parameters.get("platforms") or []),
                "revision": commit,
                "ca_file": str(s.ca_file) if s.ca_file else None,
            },
        )
        if settings.images:
            settings = dataclasses.replace(settings, selected_image=name)
        rebuild = RunType(
            settings,
            out=run.out,
            make_engine=run.make_engine,
            make_registry_client=run.make_registry_client,
            tasks=("prod", "push", "verify"),  # no engine load, nothing attached
        )
        run_steps(rebuild, [make_step(n) for n in ("hash", "cache", "generate", "test", "prod")])
        from dlc_tasks.model.stamps import AssembledStamp  # noqa: PLC0415

        target_image = rebuild.settings.targets()[0]
        built = rebuild.state.load(target_image.stamp("prod"), AssembledStamp)
        if built is None:
            raise VerifyFailed("the rebuild made no assembled image")
        if built.image == target.digest:
            return f"verified: {ref} is {short(target.digest, 12)}, built from {commit[:12]}"
        path = f"/app/{target_image.binary_name}"
        for platform, digest in platform_manifests(target):
            name_of = str(platform) if platform else next(iter(built.manifests), "")
            theirs = _binary(target, digest, path)
            ours = _binary(target, built.manifests.get(name_of, ""), path)
            if theirs != ours:
                raise VerifyFailed(
                    f"{ref}: the binary {path} for {name_of} differs from what {commit[:12]} builds"
                )
        raise VerifyFailed(
            f"{ref} is {short(target.digest, 12)}, {commit[:12]} builds "
            f"{short(built.image, 12)} (the binaries are the same: another file or setting)"
        )


def clone_settings(config: Any, project: Path, overrides: dict[str, Any]) -> Settings:
    """This invocation's configuration (the project's ``invoke.yaml``) for the clone, with
    what the provenance names on top: its build arguments replace the machine's
    (``~/.invoke.yaml``'s ``build_args``), its platforms and commit."""
    from dlc_tasks.config import settings  # noqa: PLC0415

    return settings(config, project_dir=str(project), **overrides)
