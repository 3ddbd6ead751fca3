"""What a run leaves for people and pipelines: a JSON report, a history, CI summaries.

At the end of every ``inv`` run that executed chain tasks:

* ``.dlc/report.json``: deps hash, cache hit, per-task status and duration, image
  size, pushed tags with their digest, git sha, version, success (with ``dlc.images``,
  ``images`` holds each image's, and ``image``/``pushed`` are the first one's);
* one line appended to ``.dlc/history.jsonl`` (what ``inv report`` reads);
* with ``GITHUB_STEP_SUMMARY`` set (GitHub and Gitea Actions), a Markdown table there;
* with ``GITHUB_OUTPUT`` set, ``deps_hash``, ``cache_hit`` and ``image_digest`` for
  later steps.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from dlc_tasks._files import append_line, atomic_write_text, locked, remove_temporaries
from dlc_tasks.config import Settings
from dlc_tasks.errors import CIFileFailed, DlcError
from dlc_tasks.model.depshash import DepsHash
from dlc_tasks.model.stamps import AssembledStamp, CacheStamp, ProdStamp, PushStamp
from dlc_tasks.model.state import State
from dlc_tasks.model.status import Status
from dlc_tasks.model.versionfile import Version
from dlc_tasks.reporting.console import Outcome
from dlc_tasks.secrets import redact, redact_values


class ReportedFacts(Protocol):
    """What the report reads of a run's facts (:class:`dlc_tasks.facts.Facts` is one)."""

    def deps(self) -> DepsHash:
        """The dependency hash."""

    def revision(self) -> str:
        """The revision images are tagged with."""

    def version(self) -> Version:
        """The parsed VERSION."""


class RunFacts(Protocol):
    """What the report reads of a run (:class:`dlc_tasks.run.Run` is one): reporting sits
    below the run, so it names what it needs instead of importing it."""

    settings: Settings

    @property
    def state(self) -> State:
        """The stamps."""

    @property
    def facts(self) -> ReportedFacts:
        """What the run read from the world."""


SCHEMA = 1


def build_report(rt: RunFacts, outcomes: list[Outcome]) -> dict[str, Any]:
    """The run's report, from its outcomes and the stamps the tasks left."""
    ran = {o.task: o for o in outcomes}
    report: dict[str, Any] = {
        "schema": SCHEMA,
        "finished": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "ok": all(o.status.ok for o in outcomes),
        "failed": next((o.task for o in outcomes if not o.status.ok), None),
        "tasks": [
            {"task": o.task, "status": o.status.value, "seconds": round(o.seconds, 3)}
            for o in outcomes
        ],
        "total_seconds": round(sum(o.seconds for o in outcomes), 3),
        "deps_hash": None,
        "cache_hit": None,
        "cache_image": None,
        "image": None,
        "pushed": None,
        "revision": None,
        "version": None,
    }
    state = rt.state
    try:
        report["deps_hash"] = rt.facts.deps().value
        report["revision"] = rt.facts.revision()
        report["version"] = str(rt.facts.version())
    except DlcError:
        pass  # a report is written for failed runs too, with what could be known
    cache_results = [o.status for o in outcomes if o.task == "cache"]
    if {Status.HIT, Status.MISS} & set(cache_results):
        report["cache_hit"] = Status.MISS not in cache_results  # `inv cache --force push` is a miss
        cached = state.load("cache", CacheStamp)
        report["cache_image"] = f"{cached.ref}@{cached.digest}" if cached else None
    try:
        targets = rt.settings.targets()
    except DlcError:
        targets = ()
    images: dict[str, dict[str, Any]] = {}
    for target in targets:  # the first image's figures are the report's own, as before
        entry = images.setdefault(target.name, {})
        built = state.load(target.stamp("prod"), ProdStamp)
        if "prod" in ran and ran["prod"].status.ok and built:
            entry["image"] = {"id": built.image, "size": built.size}
            assembled = state.load(target.stamp("prod"), AssembledStamp)
            if assembled is not None:  # dlc.platforms: the index and each platform's manifest
                entry["image"]["digest"] = assembled.image
                entry["image"]["platforms"] = {
                    name: {"digest": digest, "size": assembled.sizes.get(name)}
                    for name, digest in assembled.manifests.items()
                }
            report["image"] = report["image"] or entry["image"]
        pushed = state.load(target.stamp("push"), PushStamp)
        if "push" in ran and ran["push"].status.ok and pushed:
            entry["pushed"] = {
                "tags": pushed.tags,
                "digest": pushed.digest,
                "replaced": pushed.replaced,
            }
            report["pushed"] = report["pushed"] or entry["pushed"]
    if len(targets) > 1 or any(t.configured for t in targets):
        report["images"] = images  # dlc.images: every image's, by name
    return report


def markdown(report: dict[str, Any]) -> str:
    """The Markdown summary for ``GITHUB_STEP_SUMMARY``."""
    lines = [
        f"### dlc-tasks: {'succeeded' if report['ok'] else 'failed'}",
        "",
        "| task | result | seconds |",
        "| --- | --- | ---: |",
    ]
    lines += [f"| {t['task']} | {t['status']} | {t['seconds']:.1f} |" for t in report["tasks"]]
    lines.append("")
    for key in ("deps_hash", "cache_hit", "version", "revision"):
        if report[key] is not None:
            lines.append(f"- **{key}**: `{report[key]}`")
    if report["pushed"]:
        tags = ", ".join(f"`{t}`" for t in report["pushed"]["tags"] or [])
        lines.append(f"- **pushed**: {tags} → `{report['pushed']['digest']}`")
    return "\n".join(lines) + "\n"


def github_outputs(report: dict[str, Any]) -> str:
    """``key=value`` lines for ``GITHUB_OUTPUT``."""
    values = {
        "deps_hash": report["deps_hash"] or "",
        "cache_hit": "" if report["cache_hit"] is None else str(report["cache_hit"]).lower(),
        "image_digest": (report["pushed"] or {}).get("digest") or "",
    }
    return "".join(f"{k}={v}\n" for k, v in values.items())


def _append_ci_file(variable: str, text: str) -> CIFileFailed | None:
    """Append ``text`` to the file ``$variable`` names; the failure, if any, as an error."""
    path = os.environ.get(variable)
    if not path:
        return None
    try:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(redact(text))
    except OSError as err:
        return CIFileFailed(
            f"cannot write {variable} ({path}): {err.strerror or err}",
            hint=f"point {variable} to a writable file (report.json and the history were written)",
        )
    return None


def write(rt: RunFacts, outcomes: list[Outcome]) -> dict[str, Any]:
    """Write the report, the history line and the CI files; return the report.

    Each is written even when one before it failed; the first failure is raised afterwards,
    naming its own file. Every value passes through :func:`dlc_tasks.secrets.redact_values`
    first, so no registered secret reaches any of them.
    """
    report: dict[str, Any] = redact_values(build_report(rt, outcomes))
    state_dir: Path = rt.settings.state_dir
    path = state_dir / "report.json"
    with locked(path):  # two runs at once: one report each, and no temporary file left over
        remove_temporaries(path)
        atomic_write_text(path, json.dumps(report, indent=2) + "\n")
    append_line(state_dir / "history.jsonl", json.dumps(report, separators=(",", ":")))
    failures = [
        _append_ci_file("GITHUB_STEP_SUMMARY", markdown(report)),
        _append_ci_file("GITHUB_OUTPUT", github_outputs(report)),
    ]
    for failure in failures:
        if failure is not None:
            raise failure
    return report
