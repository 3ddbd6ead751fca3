"""The chain's tasks: thin wrappers that run their step on the invocation's run.

``inv push`` runs hash, cache, generate, test, prod and push, each once (the
``pre`` chain, de-duplicated). Flags such as ``--registry`` and ``--dry-run`` are
command-wide: every chain task takes all of them (``dlc_task(command_wide=...)``
adds them to its parameters and help) and the executor applies them to the whole
invocation, so a task body never reads a flag, only the run's settings. Nothing heavy is
imported here, so ``inv --list`` and tab completion stay fast.
"""

from __future__ import annotations

from typing import Any

from dlc_tasks.cli.task import CHAIN_FLAGS, dlc_task


def run_chain_steps(c: Any, *names: str) -> None:
    """Run the named steps on the invocation's run (see :mod:`dlc_tasks.steps.runner`)."""
    from dlc_tasks.cli.executor import run_of  # noqa: PLC0415
    from dlc_tasks.steps import make_step  # noqa: PLC0415
    from dlc_tasks.steps.runner import run_steps  # noqa: PLC0415

    run = run_of(c)
    run_steps(run, [make_step(name, force=run.force) for name in names])


@dlc_task(
    command_wide=CHAIN_FLAGS,
    needs_module=True,
    help={"explain": "list each input's digest and what changed since the registry's"},
)
def hash_(c: Any, explain: bool = False) -> None:
    """Compute the dependency hash that names the build-cache image; write deps_hash.env."""
    if explain:
        from dlc_tasks.checks.explain import explain_hash  # noqa: PLC0415
        from dlc_tasks.cli.executor import run_of  # noqa: PLC0415

        explain_hash(run_of(c))
        return
    run_chain_steps(c, "hash")


@dlc_task(pre=[hash_], command_wide=CHAIN_FLAGS, needs_module=True)
def cache(c: Any) -> None:
    """Ensure the build-cache image for the hash is in the registry (manifest lookup, no pull)."""
    run_chain_steps(c, "cache")


@dlc_task(pre=[cache], command_wide=CHAIN_FLAGS, needs_module=True)
def generate(c: Any) -> None:
    """Run the go generate steps inside the cache image; files land owned by you."""
    run_chain_steps(c, "generate")


@dlc_task(pre=[generate], command_wide=CHAIN_FLAGS, needs_module=True)
def test(c: Any) -> None:
    """go vet and go test with coverage (together) inside the cache image; builds the binary."""
    run_chain_steps(c, "test")


@dlc_task(pre=[test], command_wide=CHAIN_FLAGS, needs_module=True)
def prod(c: Any) -> None:
    """Render docker/Dockerfile.prod and build the slim production image from the tested binary."""
    run_chain_steps(c, "prod")


@dlc_task(pre=[prod], command_wide=CHAIN_FLAGS, needs_module=True)
def push(c: Any) -> None:
    """Tag MAJOR.MINOR.PATCH[-PRE], the git sha and latest; push each; verify one digest."""
    run_chain_steps(c, "push")


@dlc_task(
    command_wide=CHAIN_FLAGS,
    needs_module=True,
    help={"branch": "the branch to decide for (default: the CI's variable, else git's branch)"},
)
def pipeline(c: Any, branch: str | None = None) -> None:
    """The pipeline: the chain through test, and through push on dlc.ci.push_branches."""
    from dlc_tasks.cli.executor import run_of  # noqa: PLC0415
    from dlc_tasks.model.branch import ci_steps, current_branch  # noqa: PLC0415

    run = run_of(c)
    name = branch if branch is not None else current_branch(cwd=str(run.settings.project_dir))
    steps = ci_steps(name, run.settings.push_branches)
    run.out.line(f"ci: branch {name or '(detached)'}: {' -> '.join(steps)}")
    run_chain_steps(c, *steps)


@dlc_task(command_wide=("dry_run", "registry", "image"), needs_module=True)
def dev(c: Any) -> None:
    """Build the development image from docker/Dockerfile."""
    run_chain_steps(c, "dev")


@dlc_task(
    help={"to": "the last task of each cycle: test (default), or generate, prod, push"},
)
def watch(c: Any, to: str = "test") -> None:
    """Run the chain up to --to after each change to the module's source; Ctrl-C stops."""
    from dlc_tasks.cli.executor import holder_of  # noqa: PLC0415
    from dlc_tasks.cli.watch import watch as watch_loop  # noqa: PLC0415

    watch_loop(c.config, to, holder_of(c).out)
