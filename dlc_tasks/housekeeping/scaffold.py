"""What ``init`` writes into a Go module (pure: texts, not files; the task writes them).

``tasks.py`` and ``noxfile.py`` import the library rather than copy it; ``invoke.yaml``
holds the executor and the values derived from the module (so a reader sees them and
can change them); ``VERSION`` only when missing; the CI workflow with ``workflow``; the
packaged Dockerfiles with ``eject``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from dlc_tasks.project import derive, directives, gomod, layout

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


@dataclass(frozen=True)
class Adoption:
    """What ``init`` found in the module: the ``invoke.yaml`` it writes, and the lines it says."""

    invoke_yaml: str
    notes: tuple[str, ...] = ()


def _comment(text: str) -> str:
    """``text`` safe inside a YAML comment (one line, printable)."""
    return "".join(ch if ch.isprintable() else "?" for ch in text)


def _image_names(mains: list[str], repo: str, taken: set[str]) -> list[str] | None:
    """One image name per main package, after its directory; None when two would clash."""
    names = [derive.binary_name(main, repo) for main in mains]
    if len(set(names)) != len(names) or taken & set(names):
        return None
    return names


def _helper_lines(helpers: list[str], repo: str, taken: set[str], prefix: str) -> list[str]:
    """Commented-out image entries for the helper main packages (named after their path when
    their directory's name is taken)."""
    lines = []
    for main in helpers:
        name = derive.binary_name(main, repo)
        if name in taken:
            name = derive.path_component(main.removeprefix("./").replace("/", "-"))
        taken.add(name)
        lines.append(f"{prefix}{name}: {{main_package: {json.dumps(main)}}}")
    return lines


HELPERS_SAID = "scripts/, tools/, hack/, internal/, examples/, test*/"


def _main_lines(mains: list[str], repo: str) -> list[str]:
    """``main_package``/``binary_name`` for one product, ``images`` for several; helpers as
    commented-out entries."""
    products = layout.products(mains)
    helpers = [m for m in mains if m not in products]
    if not products:  # only helpers: the chain builds the one there is, as before
        products, helpers = helpers, []
    names = _image_names(products, repo, set()) if len(products) > 1 else None
    lines: list[str] = []
    if len(products) == 1:
        name = derive.binary_name(products[0], repo)
        lines += [
            f"  main_package: {json.dumps(products[0])}",
            f"  binary_name: {json.dumps(name)}",
        ]
        if helpers:
            lines += [
                f"  # Helper commands ({HELPERS_SAID}) get no image.",
                "  # To push one too, replace main_package and binary_name with:",
                "  # images:",
                f"  #   {name}: {{main_package: {json.dumps(products[0])}}}",
                *_helper_lines(helpers, repo, {name}, "  #   "),
            ]
    elif names:
        lines += [
            "  # One image per product (REGISTRY/ORG/NAME): the root main package and cmd/*;",
            "  # `--image NAME` makes one.",
            "  images:",
            *(
                f"    {name}: {{main_package: {json.dumps(main)}}}"
                for name, main in zip(names, products, strict=True)
            ),
        ]
        if helpers:
            lines.append(f"    # Helpers ({HELPERS_SAID}): no image; uncomment to push one.")
            lines += _helper_lines(helpers, repo, set(names), "    # ")
    else:
        found = ", ".join(mains) or "none found"
        lines.append(f"  # main_package: one of {found} (or images: one per main package)")
    return lines


def _generate_lines(choice: directives.GenerateChoice) -> tuple[list[str], list[str]]:
    """``dlc.generate`` with comments naming each directive left out, and the same as notes."""
    argv = choice.argv()
    total = len(choice.verdicts)
    notes: list[str] = []
    if not total:
        lines = ["  # No //go:generate directive in the module's packages: nothing to generate."]
    elif not choice.left_out:
        lines = [f"  # {total} //go:generate directive(s), each a Go command the cache image runs."]
    else:
        kept = len(choice.kept)
        lines = [
            f"  # {total} //go:generate directive(s); {kept} can run in the cache image (Go,",
            "  # offline). Left out (their output must be committed):",
        ]
        for verdict in choice.left_out:
            d = verdict.directive
            lines += [f"  #   {d.where}: {_comment(d.text)}", f"  #     {_comment(verdict.why)}"]
            notes.append(f"generate: left out {d.where} {d.text}: {verdict.why}")
    lines.append(f"  generate: {json.dumps(argv)}")
    return lines, notes


def adopt(project_dir: Path) -> Adoption:
    """The project's ``invoke.yaml`` (the executor and the derived values, written out) and
    what ``init`` tells the user about its choices.

    Images: one product (a main package outside :data:`layout.HELPER_DIRS`) gives
    ``main_package`` and ``binary_name``; several give ``images``; helper commands are
    commented-out entries (the module's own ``go tool`` packages are not main packages).
    ``generate``: the ``//go:generate`` directives that can run in the cache image
    (:mod:`dlc_tasks.project.directives`), ``[]`` when there are none.
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
        *_main_lines(mains, repo),
    ]
    notes = [
        f"images: {main} is a helper ({HELPERS_SAID}): no image (commented out in invoke.yaml)"
        for main in mains
        if layout.is_helper(main) and layout.products(mains)
    ]
    generate, left_out = _generate_lines(directives.choose(project_dir))
    lines += generate
    notes += left_out
    if (project_dir / "Dockerfile").is_file():
        lines += [
            "  # ./Dockerfile is the project's own and is left alone: the chain builds from its",
            "  # docker/Dockerfile.build, Dockerfile.prod.template and Dockerfile when present,",
            "  # else from the packaged ones (`dlc init --eject` copies them into docker/).",
        ]
        notes.append("Dockerfile: the project's own, left alone (the chain has its own)")
    lines += [
        "  # Files shipped next to the binary, and the production image (README, Configuration),",
        "  # for example:",
        "  # prod_files: [settings.toml]",
        "  # image: {base: scratch, ports: [9000], healthcheck: [/app/NAME, -health], args: []}",
    ]
    return Adoption("\n".join(lines) + "\n", tuple(notes))


def invoke_yaml(project_dir: Path) -> str:
    """The project's ``invoke.yaml`` (see :func:`adopt`)."""
    return adopt(project_dir).invoke_yaml


@dataclass(frozen=True)
class Scaffold:
    """Every file ``init`` would write (relative path → text, or bytes for the wheel a
    workflow installs) and what it says about them."""

    files: dict[str, str | bytes]
    notes: tuple[str, ...] = ()


def plan(
    project_dir: Path, *, workflow: str | None, eject: bool, install: list[str] | None = None
) -> Scaffold:
    """What ``init`` would write (``install``: dlc.ci.install) and say."""
    from dlc_tasks.config import PACKAGE_TEMPLATES  # noqa: PLC0415
    from dlc_tasks.housekeeping.workflow import PATHS, render_workflow  # noqa: PLC0415

    adoption = adopt(project_dir)
    out: dict[str, str | bytes] = {
        "tasks.py": TASKS_PY,
        "noxfile.py": NOXFILE,
        "invoke.yaml": adoption.invoke_yaml,
    }
    if not (project_dir / "VERSION").exists():
        out["VERSION"] = VERSION
    if workflow:
        from dlc_tasks.config import ci_install  # noqa: PLC0415
        from dlc_tasks.housekeeping.wheel import wheel_files  # noqa: PLC0415

        pip_args = ci_install(install)
        out[PATHS.get(workflow, "")] = render_workflow(
            workflow, None, ["main"], pip_args, by="dlc init --workflow"
        )
        out.update(wheel_files(pip_args))
    if eject:
        for rel, name in EJECT.items():
            out[rel] = (PACKAGE_TEMPLATES / name).read_text(encoding="utf-8")
    return Scaffold(out, adoption.notes)
