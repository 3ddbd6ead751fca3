"""What ``init`` writes into a Go module (pure: texts, not files; the task writes them).

``tasks.py`` and ``noxfile.py`` import the library rather than copy it; ``invoke.yaml``
holds the executor and the values derived from the module (so a reader sees them and
can change them); ``VERSION`` only when missing; the CI workflow with ``workflow``; the
packaged Dockerfiles with ``eject``.
"""

from __future__ import annotations

import json
from pathlib import Path

from dlc_tasks.project import derive, gomod, layout

TASKS_PY = '''"""Invoke tasks: the dlc-tasks chain (`inv --list`). Written by `dlc init`."""

from dlc_tasks import namespace

ns = namespace()
'''
NOXFILE = '''"""nox sessions from dlc-tasks: `nox -s ci` runs the pipeline (by `dlc init`)."""

from dlc_tasks.nox_sessions import *  # noqa: F403
'''
VERSION = "MAJOR=0\nMINOR=1\nPATCH=0\nPRERELEASE=\n"
EJECT = {
    "docker/Dockerfile.build": "Dockerfile.build",
    "docker/Dockerfile.prod.template": "Dockerfile.prod.template",
    "docker/Dockerfile": "Dockerfile",
}


def _images(mains: list[str], repo: str) -> list[str] | None:
    """A ``dlc.images`` block, one image per main package, named after its directory; None
    when two would get the same name."""
    names = [derive.binary_name(main, repo) for main in mains]
    if len(set(names)) != len(names):
        return None
    lines = [
        "  # One image per main package (REGISTRY/ORG/NAME); `--image NAME` makes one.",
        "  images:",
    ]
    for name, main in zip(names, mains, strict=True):
        lines.append(f"    {name}: {{main_package: {json.dumps(main)}}}")
    return lines


def invoke_yaml(project_dir: Path) -> str:
    """The project's ``invoke.yaml``: the executor and the derived values, written out.

    One main package gives ``main_package`` and ``binary_name``; several give ``images``,
    one per main package (the module's own ``go tool`` packages are not counted).
    """
    layout.refuse_workspace(project_dir)
    gomod.read(project_dir)  # a Go module, or one line saying so
    org, repo, source = derive.org_and_repo(project_dir)
    mains = layout.main_packages(project_dir)
    lines = [
        f"# Written by `dlc init` (dlc-tasks): org and repo from {source}; change them freely.",
        "tasks:",
        "  executor_class: dlc_tasks.cli.executor.DlcExecutor",
        "dlc:",
        f"  org: {json.dumps(org)}",
        f"  repo: {json.dumps(repo)}",
    ]
    images = _images(mains, repo) if len(mains) > 1 else None
    if len(mains) == 1:
        lines.append(f"  main_package: {json.dumps(mains[0])}")
        lines.append(f"  binary_name: {json.dumps(derive.binary_name(mains[0], repo))}")
    elif images:
        lines += images
    else:
        found = ", ".join(mains) or "none found"
        lines.append(f"  # main_package: one of {found} (or images: one per main package)")
    lines += [
        "  # Files shipped next to the binary, and the production image (README, Configuration),",
        "  # for example:",
        "  # prod_files: [settings.toml]",
        "  # image: {base: scratch, ports: [9000], healthcheck: [/app/NAME, -health], args: []}",
    ]
    return "\n".join(lines) + "\n"


def files(
    project_dir: Path, *, workflow: str | None, eject: bool, install: list[str] | None = None
) -> dict[str, str]:
    """Relative path → text of every file ``init`` would write (``install``: dlc.ci.install)."""
    from dlc_tasks.config import PACKAGE_TEMPLATES  # noqa: PLC0415
    from dlc_tasks.housekeeping.workflow import PATHS, render_workflow  # noqa: PLC0415

    out = {"tasks.py": TASKS_PY, "noxfile.py": NOXFILE, "invoke.yaml": invoke_yaml(project_dir)}
    if not (project_dir / "VERSION").exists():
        out["VERSION"] = VERSION
    if workflow:
        from dlc_tasks.config import ci_install  # noqa: PLC0415

        out[PATHS.get(workflow, "")] = render_workflow(
            workflow, None, ["main"], ci_install(install), by="dlc init --workflow"
        )
    if eject:
        for rel, name in EJECT.items():
            out[rel] = (PACKAGE_TEMPLATES / name).read_text(encoding="utf-8")
    return out
