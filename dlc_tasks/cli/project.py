"""``init``: make a Go module use the library (tasks.py, noxfile.py, invoke.yaml, VERSION…).

The texts come from :mod:`dlc_tasks.housekeeping.scaffold`. Nothing is overwritten without
``--force``: a file that exists with other content stops the task before anything is
written, in one line naming the files. ``--dry-run`` prints every file it would write.
"""

from __future__ import annotations

from typing import Any

from dlc_tasks.cli.task import dlc_task
from dlc_tasks.errors import WouldOverwrite


@dlc_task(
    help={
        "workflow": "also write a CI workflow: gitea or github",
        "eject": "also copy the packaged Dockerfiles into docker/ for editing",
        "force": "replace files that exist with other content",
        "dry_run": "print what would be written; write nothing",
    }
)
def init(
    c: Any,
    workflow: str | None = None,
    eject: bool = False,
    force: bool = False,
    dry_run: bool = False,
) -> None:
    """Make this Go module use dlc-tasks: tasks.py, noxfile.py, invoke.yaml, VERSION if missing."""
    from dlc_tasks._files import atomic_write_bytes  # noqa: PLC0415
    from dlc_tasks.cli.executor import holder_of  # noqa: PLC0415
    from dlc_tasks.config.settings import early  # noqa: PLC0415
    from dlc_tasks.errors import ConfigError  # noqa: PLC0415
    from dlc_tasks.housekeeping.scaffold import plan  # noqa: PLC0415

    if workflow not in (None, "gitea", "github"):
        raise ConfigError(f"unknown workflow {workflow!r}", hint="use --workflow gitea|github")
    out = holder_of(c).out
    given = early(c.config)  # not Settings: init may replace an invoke.yaml that is not valid
    project_dir = given.project_dir
    scaffold = plan(project_dir, workflow=workflow, eject=eject, install=given.ci_install)
    planned = scaffold.files
    content = {rel: _bytes(data) for rel, data in planned.items()}
    changed = {
        rel: data
        for rel, data in content.items()
        if not (project_dir / rel).is_file() or (project_dir / rel).read_bytes() != data
    }
    clashes = sorted(rel for rel in changed if (project_dir / rel).exists())
    if clashes and not force and not dry_run:
        raise WouldOverwrite(f"init would replace {', '.join(clashes)}")
    for rel in sorted(planned):
        if rel not in changed:
            out.line(f"unchanged {rel}")
        elif dry_run:
            verb = "would replace" if rel in clashes else "would write"
            data = planned[rel]
            if isinstance(data, bytes):
                out.line(f"{verb} {rel} ({len(data)} bytes)")
                continue
            out.line(f"{verb} {rel}:")
            for line in data.splitlines():
                out.line(f"    {line}")
        else:
            atomic_write_bytes(project_dir / rel, changed[rel])
            out.line(f"{'replaced' if rel in clashes else 'wrote'} {rel}")
    for note in scaffold.notes:
        out.line(note)


def _bytes(data: str | bytes) -> bytes:
    """A planned file's content as written: text in UTF-8, the wheel as it is."""
    return data if isinstance(data, bytes) else data.encode("utf-8")
