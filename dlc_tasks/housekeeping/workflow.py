"""``inv ci.workflow``: a ready CI workflow for Gitea or GitHub Actions that runs ``nox -s ci``.

The shape of the ADR's workflow: a ``build-cache`` job that makes sure the cache
image exists (and publishes ``deps_hash`` as a job output), then a ``ci-pipeline``
job that runs the chain, through ``push`` only on the main branch (``inv ci``
decides from ``GITHUB_REF_NAME``, which both providers set). Registry credentials
come from the repository's secrets, as environment variables, never arguments.
No cache action: the build-cache image in the registry carries the toolchain, the
modules and a warm Go build cache, which seeds the step's Go cache volume on a fresh
runner (README, "What a runner keeps and what it fetches").

A registry behind a private CA (a Gitea server's, say): the repository variable or secret
``REGISTRY_CA`` holds the CA certificate (PEM). Each job writes it to a file, points
``dlc.ca_file`` at it (``INVOKE_DLC_CA_FILE`` through ``$GITHUB_ENV``, which Gitea Actions
honours too) and, when the job may act as root, puts it in the engine's
``/etc/docker/certs.d/REGISTRY/ca.crt``, so the tool's requests and the runner's engine both
trust the registry; without ``REGISTRY_CA`` the step does nothing.

pip installs ``dlc.ci.install``: by default nox and dlc-tasks the way this one was installed
(:mod:`dlc_tasks.config.install`); installed from a path, that is a wheel of it committed
beside the workflow (:mod:`dlc_tasks.housekeeping.wheel`), written with it.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import yaml

from dlc_tasks._files import atomic_write_bytes, atomic_write_text
from dlc_tasks.config import confined
from dlc_tasks.errors import ConfigError
from dlc_tasks.run import Run

PATHS = {"github": ".github/workflows/dlc.yml", "gitea": ".gitea/workflows/dlc.yml"}
CA_FILE = "${RUNNER_TEMP:-/tmp}/dlc-registry-ca.pem"
# The registry's CA from REGISTRY_CA (a secret, else a variable), when there is one: a file
# dlc.ca_file names for the next steps, and the engine's certs.d entry when root is at hand.
CA_SCRIPT = f"""\
[ -n "$REGISTRY_CA" ] || exit 0
ca="{CA_FILE}"
printf '%s\\n' "$REGISTRY_CA" > "$ca"
echo "INVOKE_DLC_CA_FILE=$ca" >> "$GITHUB_ENV"
certs="/etc/docker/certs.d/$INVOKE_DLC_REGISTRY"
if [ "$(id -u)" = 0 ]; then root=""; elif sudo -n true 2>/dev/null; then root=sudo; else exit 0; fi
cmp -s "$ca" "$certs/ca.crt" || {{ $root mkdir -p "$certs" && $root cp "$ca" "$certs/ca.crt"; }}
"""


class _HandWritten(yaml.SafeDumper):
    """A dumper that repeats a shared mapping instead of writing ``&id001``/``*id001``, and
    writes a script of several lines as a literal block (``|``)."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _literal(dumper: yaml.SafeDumper, text: str) -> yaml.ScalarNode:
    style = "|" if "\n" in text else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


_HandWritten.add_representer(str, _literal)


def workflow(
    provider: str, registry: str | None, push_branches: list[str], install: list[str]
) -> dict[str, Any]:
    """The workflow as a mapping (dumped to YAML by :func:`render_workflow`).

    ``install`` is pip's arguments before ``nox -s ci`` (``dlc.ci.install``): by default
    ``nox`` and this version of dlc-tasks; ``nox`` alone where the repository is the
    library (its noxfile installs it); each argument is shell-quoted in the step.
    """
    if provider not in PATHS:
        raise ConfigError(f"unknown provider {provider!r}", hint="use gitea or github")
    env = {
        "INVOKE_DLC_REGISTRY": registry or "${{ vars.REGISTRY }}",
        "DLC_REGISTRY_USERNAME": "${{ secrets.REGISTRY_USERNAME }}",
        "DLC_REGISTRY_PASSWORD": "${{ secrets.REGISTRY_PASSWORD }}",
    }
    setup = [
        {"uses": "actions/checkout@v4"},
        {"uses": "actions/setup-python@v5", "with": {"python-version": "3.11"}},
        {"run": "python -m pip install " + " ".join(shlex.quote(a) for a in install)},
        {
            "name": "registry CA (the variable or secret REGISTRY_CA, when set)",
            "env": {"REGISTRY_CA": "${{ secrets.REGISTRY_CA || vars.REGISTRY_CA }}"},
            "run": CA_SCRIPT,
        },
    ]
    return {
        "name": "dlc-tasks",
        "on": {"push": {"branches": ["**"]}, "pull_request": {}},
        "env": env,
        "jobs": {
            "build-cache": {
                "runs-on": "ubuntu-latest",
                "outputs": {"deps_hash": "${{ steps.cache.outputs.deps_hash }}"},
                "steps": [*setup, {"id": "cache", "run": "nox -s ci -- cache"}],
            },
            "ci-pipeline": {
                "needs": "build-cache",
                "runs-on": "ubuntu-latest",
                "steps": [
                    *setup,
                    {
                        "name": f"chain (push on {', '.join(push_branches)})",
                        "run": "nox -s ci",
                    },
                ],
            },
        },
    }


def render_workflow(
    provider: str,
    registry: str | None,
    push_branches: list[str],
    install: list[str],
    by: str = "inv ci.workflow --provider",
) -> str:
    """The workflow's YAML text, as a person would write it (no anchors, keys in order)."""
    data = workflow(provider, registry, push_branches, install)
    header = (
        f"# Written by `{by} {provider}` (dlc-tasks). What pip installs is dlc.ci.install;\n"
        "# the registry is the repository variable REGISTRY, its credentials the secrets\n"
        "# REGISTRY_USERNAME and REGISTRY_PASSWORD; a private CA's certificate (PEM), if any,\n"
        "# the variable or secret REGISTRY_CA.\n"
    )
    return header + yaml.dump(data, Dumper=_HandWritten, sort_keys=False, width=100)


def write_workflow(rt: Run, provider: str, output: str | None) -> Path:
    """Write the workflow file; return its path."""
    from dlc_tasks.housekeeping.wheel import wheel_files  # noqa: PLC0415

    s = rt.settings
    text = render_workflow(provider, s.registry, s.push_branches, s.ci_install)
    # the default path is the tool's own choice, so it stays in the project (a `.github` link
    # to elsewhere is refused); an --output the user names is theirs
    path = Path(output) if output else confined(s.project_dir, PATHS[provider], "ci.workflow")
    for rel, data in wheel_files(s.ci_install).items():  # the wheel the install step names
        wheel = confined(s.project_dir, rel, "ci.install")
        atomic_write_bytes(wheel, data)
        rt.out.line(f"wrote {wheel} (the wheel the workflow installs; commit it)")
    atomic_write_text(path, text)
    rt.out.line(f"wrote {path}")
    return path
