"""The tasks around the chain: set-up, checks, reports, pipeline files, housekeeping.

Each is a thin wrapper; the work is in the module it imports when it runs.
"""

from __future__ import annotations

from typing import Any

from dlc_tasks.cli.task import dlc_task


@dlc_task(
    help={
        "force": "import the local images even when the configured ones are available",
        "platforms": "also keep the runtime base in the registry as one index over these "
        "platforms (comma-separated: linux/amd64,linux/arm64)",
    },
    command_wide=("registry",),
)
def base_images(c: Any, force: bool = False, platforms: str = "") -> None:
    """Make local Go and runtime base images where none can be pulled (./dev runs this)."""
    from dlc_tasks.config.settings import early  # noqa: PLC0415
    from dlc_tasks.housekeeping.base_images import (  # noqa: PLC0415
        ensure_base_images,
        publish_runtime_bases,
    )
    from dlc_tasks.model.oci.platform import Platform  # noqa: PLC0415
    from dlc_tasks.reporting.console import Console  # noqa: PLC0415

    wanted = Platform.parse_list(platforms) if platforms else []  # refused before any work
    ensure_base_images(Console(), early(c.config).build_args, force=force)
    if wanted:
        from dlc_tasks.cli.executor import run_of  # noqa: PLC0415

        run = run_of(c)
        run.prepare()  # the registry the bases go to: started here when it is the local one
        publish_runtime_bases(run.out, run.engine(), run.client(), wanted)


@dlc_task(name="cache-env", command_wide=("registry", "image"), needs_module=True)
def cache_env(c: Any) -> None:
    """The ADR's eight-step build-cache environment check, from hash to a running container."""
    from dlc_tasks.checks.cache_env import run_check  # noqa: PLC0415
    from dlc_tasks.cli.executor import run_of  # noqa: PLC0415

    run_check(run_of(c))


@dlc_task(
    help={
        "part": "major, minor or patch",
        "pre": "a PRERELEASE for the new version, e.g. rc.1 (default: none)",
    }
)
def bump(c: Any, part: str, pre: str = "") -> None:
    """Rewrite VERSION (MAJOR/MINOR/PATCH/PRERELEASE) and print the tags the next push uses."""
    from dlc_tasks._files import atomic_write_text  # noqa: PLC0415
    from dlc_tasks.cli.executor import run_of  # noqa: PLC0415
    from dlc_tasks.model.versionfile import image_tags  # noqa: PLC0415

    rt = run_of(c)
    old = rt.facts.version()
    new = old.bumped(part, pre)
    tags = [t.replace("GITSHA", "<git sha>") for t in image_tags(new, "GITSHA", rt.settings.latest)]
    atomic_write_text(rt.settings.version_file, new.render())
    rt.facts.version_changed()
    rt.out.line(f"VERSION {old} -> {new}; the next push tags: {', '.join(tags)}")


@dlc_task(command_wide=("registry",))
def doctor(c: Any) -> None:
    """Check engine, registry (reachable, TLS, credentials), git, Dockerfiles, VERSION, config."""
    from dlc_tasks.checks.doctor import run_doctor  # noqa: PLC0415
    from dlc_tasks.cli.executor import holder_of  # noqa: PLC0415

    run_doctor(holder_of(c))


@dlc_task(
    help={"chart": "where to write the PNG chart (default: .dlc/report.png)"}, needs_module=True
)
def report(c: Any, chart: str | None = None) -> None:
    """The ADR's success metrics over past runs: cache-hit rate, build times, sizes, failures."""
    from dlc_tasks.cli.executor import run_of  # noqa: PLC0415
    from dlc_tasks.reporting.metrics import run_report  # noqa: PLC0415

    run = run_of(c)
    run_report(run.settings.state_dir, run.out, chart)


@dlc_task(
    command_wide=("registry", "dry_run"),
    needs_module=True,
    help={
        "keep": "how many of the newest other cache tags to keep (the current hash always stays)",
        "dry_run": "list what would be deleted; delete nothing",
    },
)
def prune(c: Any, keep: int = 3) -> None:
    """Delete old build-cache tags from the registry, keeping the current one and the N newest."""
    from dlc_tasks.cli.executor import run_of  # noqa: PLC0415
    from dlc_tasks.housekeeping.prune import run_prune  # noqa: PLC0415

    run = run_of(c)
    run.prepare()  # a real prune needs the registry (a dry run: nothing changes)
    run_prune(run, keep, run.dry_run)


@dlc_task(
    help={
        "provider": "gitea or github",
        "output": "where to write it (default: .gitea/ or .github/workflows/dlc.yml)",
    }
)
def workflow(c: Any, provider: str = "github", output: str | None = None) -> None:
    """Write a CI workflow that runs `nox -s ci` (cache job, then pipeline job; push on main)."""
    from dlc_tasks.cli.executor import run_of  # noqa: PLC0415
    from dlc_tasks.housekeeping.workflow import write_workflow  # noqa: PLC0415

    write_workflow(run_of(c), provider, output)


@dlc_task(
    help={
        "image_ref": "the image: REGISTRY/REPO:TAG or REGISTRY/REPO@sha256:…",
        "format": "spdx-json (the documents) or table (name, version, purl)",
    },
    command_wide=("registry",),
)
def sbom(c: Any, image_ref: str, format: str = "spdx-json") -> None:
    """Print the SBOM attached to each platform of an image (found from its digest)."""
    from dlc_tasks.checks.attestations import show_sbom  # noqa: PLC0415
    from dlc_tasks.cli.executor import run_of  # noqa: PLC0415

    show_sbom(run_of(c), image_ref, format)


@dlc_task(
    help={"image_ref": "the image: REGISTRY/REPO:TAG or REGISTRY/REPO@sha256:…"},
    command_wide=("registry",),
    needs_module=True,
)
def verify(c: Any, image_ref: str) -> None:
    """Rebuild the commit an image's provenance names in a fresh clone; compare the digests."""
    from dlc_tasks.checks.attestations import verify as rebuild_and_compare  # noqa: PLC0415
    from dlc_tasks.cli.executor import run_of  # noqa: PLC0415

    run = run_of(c)
    run.out.line(rebuild_and_compare(run, image_ref, c.config))
