"""``inv doctor``: one line per check, with the fix for each failure; non-zero when any fails.

It changes nothing: it does not start the local registry, install a CA, build or pull
(it never calls :meth:`~dlc_tasks.run.Run.prepare`, the one place a run does). It goes
through the run's seams: the engine, the registry client and the credentials are the
:class:`~dlc_tasks.run.Run`'s.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from dlc_tasks._files import short
from dlc_tasks.config import Settings
from dlc_tasks.errors import DlcError, DoctorFailed, DoctorWarning
from dlc_tasks.model.render import render

if TYPE_CHECKING:
    from dlc_tasks.clients.seams import EngineAPI, RegistryAPI
    from dlc_tasks.run import Run, RunHolder

EXAMPLE_DIGEST = "sha256:" + "0" * 64


def _module(s: Settings) -> str:
    """The Go module the chain builds: a FAIL line outside one (the chain tasks refuse it)."""
    from dlc_tasks.config import require_go_module  # noqa: PLC0415
    from dlc_tasks.project.gomod import read  # noqa: PLC0415

    require_go_module(s.project_dir)
    return f"{s.shown(s.project_dir / 'go.mod')}: module {read(s.project_dir).module}"


def _config(s: Settings) -> str:
    return f"project_dir {s.project_dir}, images {s.org}/{s.repo}"


def _git(s: Settings) -> str:
    from dlc_tasks.clients.git import head  # noqa: PLC0415

    return (
        f"HEAD {short(head(s.project_dir, deadline=s.timeouts.git))}"
        if not s.revision
        else f"dlc.revision {s.revision}"
    )


def _version(s: Settings) -> str:
    from dlc_tasks.model.versionfile import read_version  # noqa: PLC0415

    return f"{s.version_file.name}: {read_version(s.version_file)}"


def _files(s: Settings) -> str:
    from dlc_tasks.errors import NotFoundError  # noqa: PLC0415

    for path in (s.dockerfile_build, s.dockerfile_dev):
        if not path.is_file():
            raise NotFoundError(f"{path} is missing")
    template = s.dockerfile_prod_template.read_text(encoding="utf-8")
    cache_image = f"r/o/x@{EXAMPLE_DIGEST}"
    for target in s.all_images():
        render(
            template,
            {"cache_image": cache_image, "deps_hash": "0" * 64, "binary": target.binary_name},
            s.dockerfile_prod_template.name,
            target.image.blocks(target.binary_name, list(target.prod_files), cache_image),
        )
    return (
        f"{s.shown(s.dockerfile_build)}, {s.shown(s.dockerfile_dev)}, "
        f"{s.shown(s.dockerfile_prod_template)} (renders)"
    )


def _engine(connect: Callable[[], EngineAPI]) -> str:
    return connect().identity().describe()


def _podman_checks(
    s: Settings, connect: Callable[[], EngineAPI]
) -> list[tuple[str, Callable[[], str]]]:
    """What Podman needs that Docker does not (:mod:`dlc_tasks.checks.podman`), if it is one."""
    from dlc_tasks.checks import podman  # noqa: PLC0415

    try:
        identity = connect().identity()
    except DlcError:
        return []  # the engine check says why
    if not identity.is_podman:
        return []
    checks = [
        ("registry trust", lambda: podman.registry_trust(s, identity)),
        ("init binary", podman.init_binary),
        ("cgroup manager", lambda: podman.cgroup_manager(identity)),
    ]
    if identity.rootless:
        checks.append(("rootless network", podman.rootless_network))
        checks.append(("storage driver", lambda: podman.storage_driver(identity)))
    return checks


def _base_images(s: Settings, connect: Callable[[], EngineAPI]) -> str:
    from dlc_tasks.errors import NotFoundError  # noqa: PLC0415
    from dlc_tasks.housekeeping.base_images import DEFAULT_GO_IMAGE, DEFAULT_RUNTIME_IMAGE  # noqa: PLC0415

    engine = connect()
    refs = [
        s.build_args.get("GO_IMAGE", DEFAULT_GO_IMAGE),
        s.build_args.get("RUNTIME_IMAGE", DEFAULT_RUNTIME_IMAGE),
    ]
    missing = [ref for ref in refs if engine.image_id(ref) is None]
    if missing:
        raise NotFoundError(
            f"not in the engine: {', '.join(missing)}",
            hint="run inv setup.base-images (./dev does) or docker pull them",
        )
    return ", ".join(refs)


def _registry(run: Run) -> str:
    s = run.settings
    address = s.registry_or_local()
    if not s.registry:
        from dlc_tasks.clients import localregistry  # noqa: PLC0415

        port = s.local_registry_port
        ours = localregistry.is_ours(
            address, s.local_registry_data_dir or localregistry.default_data_dir(port)
        )
        if ours is None:
            return f"no registry configured; inv push will start one on {address}"
        if not ours:
            raise DoctorWarning(
                f"{address} is served by something other than this user's dlc-tasks registry: "
                "inv push will refuse it (stop it, or set dlc.local_registry.port or dlc.registry)"
            )
        return f"local registry (ours, loopback, single-user) answers on {address}"
    creds = run.credentials()
    client = run.client()
    client.ping()
    who = f"as {creds.username}" if creds else "anonymously"
    source = f"credentials: {creds.source}" if creds else "credentials: none"
    tls = f", TLS trusted via {s.ca_file}" if s.ca_file else ""
    return f"{address} answers /v2/ {who} ({source}){tls}; {_tokens(client, s, address)}"


def _tokens(client: RegistryAPI, s: Settings, address: str) -> str:
    """Which pull/push tokens the token server grants for the cache and service repositories."""
    if client.auth_scheme != "bearer":
        return f"auth: {client.auth_scheme}"
    parts = []
    for label, repo in (
        ("cache", s.cache_repository(address)),
        ("service", s.prod_repository(address)),
    ):
        actions = client.granted(f"repository:{repo.path}:pull,push")
        shown = "?" if actions is None else ",".join(actions) or "nothing"
        parts.append(f"{label} {repo.path}: {shown}")
    return "tokens granted: " + "; ".join(parts)


def run_doctor(holder: RunHolder) -> None:
    """Run every check and print one line each; raise :class:`DoctorFailed` if any failed."""
    out = holder.out
    try:
        s = holder.settings()
    except DlcError as err:
        out.line(f"FAIL configuration: {err.one_line()}")
        raise DoctorFailed("1 check failed: the configuration") from err
    run = holder.get()
    connect = run.engine  # once: the engine and base-image checks share the connection

    checks: list[tuple[str, Callable[[], str]]] = [
        ("go module", lambda: _module(s)),
        ("configuration", lambda: _config(s)),
        ("git", lambda: _git(s)),
        ("VERSION", lambda: _version(s)),
        ("files", lambda: _files(s)),
        ("engine", lambda: _engine(connect)),
        ("base images", lambda: _base_images(s, connect)),
        ("registry", lambda: _registry(run)),
        *_podman_checks(s, connect),
    ]
    failed = []
    for name, check in checks:
        try:
            out.line(f"ok   {name}: {check()}")
        except DoctorWarning as warning:
            out.line(f"warn {name}: {warning}")
        except DlcError as err:
            failed.append(name)
            out.line(f"FAIL {name}: {err.one_line()}")
    if failed:
        raise DoctorFailed(f"{len(failed)} check(s) failed: {', '.join(failed)}")
