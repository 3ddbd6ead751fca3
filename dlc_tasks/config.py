"""The ``dlc`` section of Invoke's configuration: its defaults, declared once, and a typed view.

The defaults below are registered with ``Collection.configure`` so Invoke's
documented order applies: these defaults, then ``/etc/invoke.yaml``,
``~/.invoke.yaml``, the project's ``invoke.yaml``, ``INVOKE_DLC_*``
environment variables, a runtime ``-f`` file, and finally task flags.
:class:`Settings` reads the merged tree once per task and validates it.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dlc_tasks.errors import ConfigError, InvalidValue
from dlc_tasks.model.gobuild import GoBuild
from dlc_tasks.model.prodimage import ImageSettings
from dlc_tasks.model.refs import Repository, check_path_component, check_registry, check_tag
from dlc_tasks.model.targets import (
    ImageTarget,
    check_main_package,
    check_prod_files,
    parse_images,
    select,
)
from dlc_tasks.model.versionfile import LATEST_POLICIES

# scheme://user[:password]@ anywhere in a value (GOPROXY may be a comma-separated list)
_USERINFO = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^/?#@\s,|]*@")
PACKAGE_TEMPLATES = Path(__file__).resolve().parent / "templates"
TEMPLATE_NAMES = {
    "dockerfile_build": "Dockerfile.build",
    "dockerfile_prod_template": "Dockerfile.prod.template",
    "dockerfile_dev": "Dockerfile",
}

_GO_SYMBOL = re.compile(r"[A-Za-z0-9_.~/-]*[A-Za-z0-9_]\.[A-Za-z_][A-Za-z0-9_]*")

DEFAULTS: dict[str, Any] = {
    # Where images go. None: start (or reuse) the local Distribution registry below.
    "registry": None,
    # None: derived (dlc_tasks/project): org and repo from go.mod's module path
    # (host/org/repo), the main package when the module has exactly one `package main`.
    "org": None,
    "repo": None,
    # The Go module the chain builds, and its main package.
    "project_dir": ".",
    "main_package": None,
    # The binary's name inside the production image (None: the main package's directory
    # name, or repo for a main package at the module root).
    "binary_name": None,
    # Paths relative to project_dir. None: the project's docker/<name> when it exists, else
    # the template the package carries (dlc_tasks/templates/).
    "dockerfile_build": None,
    "dockerfile_prod_template": None,
    "dockerfile_prod": "docker/Dockerfile.prod",
    "dockerfile_dev": None,
    # The production image of the packaged template (model/prodimage.py): base None is
    # ${RUNTIME_IMAGE}, "scratch" an empty image with CA certificates and a passwd put in;
    # ports to expose; healthcheck an argument list (none by default); entrypoint args.
    "image": {"base": None, "ports": [], "healthcheck": None, "args": [], "user": "65532:65532"},
    # Several images from one module (model/targets.py): name -> {main_package, binary_name,
    # prod_files, and dlc.image's keys, which default to dlc.image's}. Empty: one image, repo.
    "images": {},
    # The image `--image NAME` selects for prod and push (None: every image).
    "selected_image": None,
    "version_file": "VERSION",
    "hash_file": "deps_hash.env",
    "coverage_file": "coverage.out",
    # Files copied next to the binary into the production image (none by default).
    "prod_files": [],
    # Each step is an argument list run inside the cache image, in project_dir.
    "generate": [["go", "generate", "./..."]],
    # A file-based Go module proxy (`go help goproxy`) inside project_dir, for machines that
    # reach no module proxy: sent with the cache image's build context, GOPROXY=file:///goproxy.
    "goproxy_dir": None,
    # Passed to every Dockerfile as --build-arg (e.g. GO_IMAGE, RUNTIME_IMAGE, GOPROXY).
    "build_args": {},
    # How Go compiles (model/gobuild.py): GOPRIVATE, GONOSUMDB, extra GOFLAGS, build tags,
    # extra -ldflags ({{ version }}, {{ revision }}), CGO_ENABLED. Every command also gets
    # -mod=readonly (-mod=vendor with vendor/modules.txt), -trimpath and -buildvcs=false.
    "go": {"private": None, "nosumdb": None, "flags": [], "tags": [], "ldflags": [], "cgo": False},
    # A Go variable set to the image version with -ldflags -X (None: not set).
    "version_var": None,
    # PEM file with the CA that signed the registry's certificate.
    "ca_file": None,
    # "always" (the ADR) or "releases" (no latest for a PRERELEASE).
    "latest": "always",
    # Override the git commit used for the sha tag and the revision label.
    "revision": None,
    # Where the source lives, for org.opencontainers.image.source.
    "source_url": None,
    "local_registry": {"host": "127.0.0.1", "port": 5000, "data_dir": None},
    "retries": {"attempts": 5, "base_delay": 0.5, "max_delay": 8.0, "timeout": 30.0},
    # push_branches: where `inv ci` goes through push. install: what the written CI workflow
    # pip-installs before `nox -s ci` (None: nox and this dlc-tasks version, from PyPI; a
    # project using an unpublished dlc-tasks names a wheel URL, a git URL or an index here).
    "ci": {"push_branches": ["main"], "install": None},
    # Print what would be done; touch neither engine nor registry (`--dry-run`, `inv --dry`).
    "dry_run": False,
    # Tag and push a tree with uncommitted changes as a release (`--allow-dirty`).
    "allow_dirty": False,
    # "move" (the ADR: a push moves MAJOR.MINOR.PATCH to the new image, and says so) or
    # "immutable" (a release tag that names another image is refused: bump VERSION).
    "version_tags": "move",
}

VERSION_TAG_POLICIES = ("move", "immutable")


def _as_list_of_argv(value: object, what: str) -> list[list[str]]:
    if not isinstance(value, list) or not all(
        isinstance(step, list) and step and all(isinstance(a, str) for a in step) for step in value
    ):
        raise ConfigError(f"{what} must be a list of argument lists, got {value!r}")
    return [list(step) for step in value]


# Build arguments dlc.go sets (the cache image is built with the steps' Go settings)
GO_BUILD_ARGS = {
    "GOFLAGS": "dlc.go.flags, dlc.go.tags and vendor/ (-mod=vendor)",
    "CGO_ENABLED": "dlc.go.cgo",
    "GOPRIVATE": "dlc.go.private",
    "GONOSUMDB": "dlc.go.nosumdb",
}


def _as_str_map(value: object, what: str) -> dict[str, str]:
    if not isinstance(value, Mapping):
        raise ConfigError(f"{what} must be a mapping, got {value!r}")
    out = {}
    for key, val in value.items():
        if not isinstance(key, str) or not key.isidentifier():
            raise InvalidValue(f"{what}: invalid build argument name {key!r}")
        if key in GO_BUILD_ARGS:
            raise InvalidValue(
                f"{what}: {key} is set by dlc-tasks from {GO_BUILD_ARGS[key]}",
                hint="set that instead: the Go steps and the cache image's warm-up must agree",
            )
        if _USERINFO.search(str(val)):
            raise InvalidValue(
                f"{what}: {key} holds a URL with credentials (user:password@), which would be "
                "baked into the cache image built from Dockerfile.build (ENV, history)",
                hint="serve modules from dlc.goproxy_dir, or give the engine a netrc as a "
                "BuildKit secret (RUN --mount=type=secret,id=netrc) where BuildKit is available",
            )
        out[key] = str(val)
    return out


def ci_install(value: object) -> list[str]:
    """``ci.install``: pip's arguments in the written workflow (quoted there, one each)."""
    if value is None:
        from importlib.metadata import PackageNotFoundError, version  # noqa: PLC0415

        try:
            return ["nox", f"dlc-tasks=={version('dlc-tasks')}"]
        except PackageNotFoundError:  # a source tree that was never installed
            return ["nox", "dlc-tasks"]
    if isinstance(value, str):
        value = value.split()
    if not isinstance(value, list) or not value or not all(isinstance(a, str) for a in value):
        raise ConfigError(f"ci.install must be a list of pip arguments, got {value!r}")
    for arg in value:
        if not arg or not arg.isprintable():
            raise InvalidValue(f"ci.install: refusing {arg!r} (empty, or a control character)")
        if _USERINFO.search(arg):
            raise InvalidValue(
                "ci.install: refusing a URL with credentials (user:password@): the workflow "
                "file is committed",
                hint="give pip its index through a secret (PIP_INDEX_URL), not in the file",
            )
    return list(value)


def _data_dir(value: object) -> Path | None:
    """``local_registry.data_dir`` (outside the project by design); it goes into a YAML file."""
    if not value:
        return None
    text = str(value)
    if any(ch in text for ch in "\n\r\t\0:#'\"") or text != text.strip():
        raise InvalidValue(
            f"local_registry.data_dir {text!r} holds characters that break the registry's YAML"
        )
    return Path(text).expanduser()


def _port(value: object) -> int:
    port = int(str(value))
    if not 0 < port < 65536:
        raise InvalidValue(f"local_registry.port {value!r} is not a TCP port (1-65535)")
    return port


def _flag(value: object) -> bool:
    """A boolean from YAML, an environment variable (``1``, ``true``, ``yes``) or a flag."""
    return str(value).lower() in ("1", "true", "yes")


def _inside(project_dir: Path, value: object, what: str) -> Path | None:
    if not value:
        return None
    path = confined(project_dir, value, what)
    if not path.is_dir():
        raise ConfigError(f"{what} {value!r} must be a directory inside project_dir")
    return path


def confined(project_dir: Path, value: object, key: str) -> Path:
    """``value`` resolved against project_dir (symlinks followed), or one error naming ``key``.

    Every path the tool writes or sends comes from here, so ``../../etc/cron.d/x`` or a
    symlinked directory pointing outside the project is refused before any step runs.
    """
    path = (project_dir / str(value)).resolve()
    if not path.is_relative_to(project_dir) or path == project_dir:
        raise InvalidValue(
            f"{key} {value!r} resolves to {path}, outside project_dir {project_dir}",
            hint=f"set dlc.{key} to a path inside the project",
        )
    return path


STATE_DIR = ".dlc"


def check_state_dir(project_dir: Path) -> Path:
    """``project_dir/.dlc``, refused with one line when it, or anything in it or in its
    ``bin/``, is a symlink.

    The tool writes its state, report, history, binary and copy-back staging there: through
    a link (a committed ``.dlc -> /elsewhere``) they would land outside the project, or, for
    a link inside it, in the source tree. The tool makes the folder itself.
    """
    state_dir = project_dir / STATE_DIR
    for path in (state_dir, *_children(state_dir), *_children(state_dir / "bin")):
        if path.is_symlink():
            rel = path.relative_to(project_dir).as_posix()
            raise InvalidValue(
                f"{rel} is a symlink (to {os.readlink(path)}): the tool writes its own files "
                "there, and they must stay inside project_dir",
                hint=f"remove the link (rm {rel}); the tool makes what it needs",
            )
    return state_dir


def _children(folder: Path) -> list[Path]:
    """The entries of a real folder (not through a link), or none."""
    if folder.is_symlink() or not folder.is_dir():
        return []
    return sorted(folder.iterdir())


_HOST = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?")


def check_host(value: object, key: str) -> str:
    """A host name or an IPv4 address, nothing that could break a YAML document or a command.

    Refused: any control character or space, an IPv6 scope id (``%…``, which ``ipaddress``
    accepts whatever it holds, newlines included), and IPv6 addresses: the local registry's
    address becomes ``HOST:PORT`` in image references, which engine 20.10 cannot parse for
    a bracketed ``[::1]:5000`` (and an unbracketed one is ambiguous).
    """
    host = str(value)
    if "%" in host or any(ch.isspace() or not ch.isprintable() for ch in host):
        raise InvalidValue(
            f"{key} {host!r} holds a space, a control character or an IPv6 scope id (%)",
            hint=f"set dlc.{key} to a host name or an IPv4 address, e.g. 127.0.0.1",
        )
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        if not _HOST.fullmatch(host):
            raise InvalidValue(
                f"{key} {host!r} is not a host name or IP address",
                hint=f"set dlc.{key} to e.g. 127.0.0.1",
            ) from None
        return host
    if address.version == 6:
        raise InvalidValue(
            f"{key} {host!r} is an IPv6 address: image references cannot name a registry at "
            f"[{host}]:PORT on this engine",
            hint=f"set dlc.{key} to 127.0.0.1 (the local registry listens on loopback)",
        )
    return host


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and localhost: where the engine allows plain HTTP."""
    if host.startswith("["):
        name = host[1:].split("]", 1)[0]
    elif host.count(":") == 1:
        name = host.rsplit(":", 1)[0]
    else:
        name = host
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class Retries:
    """Retry limits for registry calls, pushes and pulls."""

    attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 8.0
    timeout: float = 30.0


@dataclass(frozen=True)
class Settings:
    """The validated ``dlc`` configuration, with paths resolved against project_dir."""

    registry: str | None
    org: str
    repo: str
    project_dir: Path
    main_package: str | None
    binary_name: str
    dockerfile_build: Path
    dockerfile_prod_template: Path
    dockerfile_prod: Path
    dockerfile_dev: Path
    version_file: Path
    hash_file: Path
    coverage_file: Path
    prod_files: list[str]
    generate: list[list[str]]
    build_args: dict[str, str]
    version_var: str | None
    ca_file: Path | None
    latest: str
    revision: str | None
    source_url: str | None
    local_registry_host: str
    local_registry_port: int
    local_registry_data_dir: Path | None
    retries: Retries = field(default_factory=Retries)
    push_branches: list[str] = field(default_factory=lambda: ["main"])
    ci_install: list[str] = field(default_factory=lambda: ci_install(None))
    dry_run: bool = False
    goproxy_dir: Path | None = None
    allow_dirty: bool = False
    version_tags: str = "move"
    image: ImageSettings = field(default_factory=ImageSettings)
    go: GoBuild = field(default_factory=GoBuild)
    images: tuple[ImageTarget, ...] = ()
    selected_image: str | None = None

    def targets(self) -> tuple[ImageTarget, ...]:
        """The images ``prod`` and ``push`` make: the one ``--image`` names, else all."""
        return select(self.all_images(), self.selected_image)

    def all_images(self) -> tuple[ImageTarget, ...]:
        """Every image of the module: ``dlc.images``, else the one from ``main_package``."""
        if self.images:
            return self.images
        return (
            ImageTarget(
                name=self.repo,
                main_package=self.main_package,
                binary_name=self.binary_name,
                image=self.image,
                prod_files=list(self.prod_files),
            ),
        )

    def main_package_of(self, target: ImageTarget) -> str:
        """The target's main package; the module's only one for the default image."""
        return target.main_package or self.require_main_package()

    def shown(self, path: Path) -> str:
        """``path`` as a user reads it: relative to project_dir, or the package's template."""
        if path.is_relative_to(self.project_dir):
            return path.relative_to(self.project_dir).as_posix()
        return f"dlc_tasks/templates/{path.name} (packaged)"

    def require_main_package(self) -> str:
        """The main package to build: set, or the module's only ``package main``.

        A module with none or several raises one line listing the candidates.
        """
        if self.main_package is not None:
            return self.main_package
        from dlc_tasks.project.layout import the_main_package  # noqa: PLC0415

        return the_main_package(self.project_dir)

    @property
    def vendored(self) -> bool:
        """True when the module vendors its dependencies (``vendor/modules.txt`` exists)."""
        return (self.project_dir / "vendor" / "modules.txt").is_file()

    @property
    def go_env(self) -> dict[str, str]:
        """The Go variables of the steps and of the cache image's warm-up (``dlc.go``)."""
        return self.go.env(self.vendored)

    @property
    def cache_build_args(self) -> dict[str, str]:
        """The build arguments of the cache image: ``build_args``, the Go settings, the local
        proxy if set (each is hashed when Dockerfile.build declares it)."""
        out = {**self.build_args, **self.go_env}
        if self.goproxy_dir is not None:
            out["GOPROXY"] = "file:///goproxy"
        return out

    @property
    def state_dir(self) -> Path:
        """Where the tool keeps its own files (binary, stamps): ``project_dir/.dlc``, checked
        by :func:`check_state_dir` when the settings were made."""
        return self.project_dir / STATE_DIR

    def registry_or_local(self) -> str:
        """The configured registry, or the local one's address."""
        return self.registry or f"{self.local_registry_host}:{self.local_registry_port}"

    def cache_repository(self, registry: str) -> Repository:
        """``registry/org/repo-build-cache``."""
        return Repository(registry, self.org, f"{self.repo}-build-cache")

    def prod_repository(self, registry: str, target: ImageTarget | None = None) -> Repository:
        """``registry/org/NAME`` of an image (``registry/org/repo`` for the module's one)."""
        return Repository(registry, self.org, target.name if target else self.repo)

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any]) -> Settings:
        """Validate the merged ``dlc`` mapping; raise :class:`ConfigError` on bad values."""
        merged = {**DEFAULTS, **dict(raw)}
        project_dir = Path(str(merged["project_dir"])).expanduser().resolve()
        if not project_dir.is_dir():
            raise ConfigError(f"project_dir {project_dir} is not a directory")
        from dlc_tasks.project.derive import fill  # noqa: PLC0415

        merged = fill(project_dir, merged)
        check_state_dir(project_dir)

        def path(key: str) -> Path:
            # A template left unset: the project's own docker/ file, else the packaged one
            # (which lives inside the library, not the project, and is only ever read).
            if merged.get(key) is None and key in TEMPLATE_NAMES:
                own = project_dir / "docker" / TEMPLATE_NAMES[key]
                if own.is_file():
                    return confined(project_dir, str(own.relative_to(project_dir)), key)
                return PACKAGE_TEMPLATES / TEMPLATE_NAMES[key]
            return confined(project_dir, merged[key], key)

        registry = merged["registry"] or None
        if registry is not None:
            check_registry(registry)
        org = check_path_component(merged["org"], "org")
        repo = check_path_component(merged["repo"], "repo")
        binary_name = check_path_component(merged["binary_name"], "binary_name")
        # the longest image name, checked now rather than halfway through a run
        Repository(registry or "localhost", org, f"{repo}-build-cache")
        main_package = merged["main_package"]
        if main_package is not None:
            check_main_package(main_package)
        latest = str(merged["latest"])
        if latest not in LATEST_POLICIES:
            raise ConfigError(f"latest must be one of {', '.join(LATEST_POLICIES)}, not {latest!r}")
        ca_file = merged["ca_file"]
        local = {**DEFAULTS["local_registry"], **dict(merged["local_registry"] or {})}
        retries = {**DEFAULTS["retries"], **dict(merged["retries"] or {})}
        ci = {**DEFAULTS["ci"], **dict(merged["ci"] or {})}
        prod_files = check_prod_files(merged["prod_files"])
        from dlc_tasks.project.derive import binary_name as derived_binary  # noqa: PLC0415

        images = parse_images(
            merged.get("images"),
            repo=repo,
            defaults=merged.get("image") or {},
            prod_files=prod_files,
            binary_name=derived_binary,
        )
        for name in {f for t in images for f in t.prod_files} | set(prod_files):
            confined(project_dir, name, "prod_files")
        for target in images:
            Repository(registry or "localhost", org, target.name)  # a valid image name
        selected = merged.get("selected_image") or None
        version_tags = str(merged["version_tags"])
        if version_tags not in VERSION_TAG_POLICIES:
            raise ConfigError(
                f"version_tags must be one of {', '.join(VERSION_TAG_POLICIES)}, "
                f"not {version_tags!r}"
            )
        version_var = merged["version_var"]
        if version_var is not None and not _GO_SYMBOL.fullmatch(str(version_var)):
            raise InvalidValue(
                f"invalid version_var {version_var!r}",
                hint="use importpath.Name, e.g. main.version",
            )
        try:
            made = cls(
                registry=registry,
                org=org,
                repo=repo,
                project_dir=project_dir,
                main_package=main_package,
                binary_name=binary_name,
                dockerfile_build=path("dockerfile_build"),
                dockerfile_prod_template=path("dockerfile_prod_template"),
                dockerfile_prod=path("dockerfile_prod"),
                dockerfile_dev=path("dockerfile_dev"),
                version_file=path("version_file"),
                hash_file=path("hash_file"),
                coverage_file=path("coverage_file"),
                prod_files=list(prod_files),
                generate=_as_list_of_argv(merged["generate"], "generate"),
                build_args=_as_str_map(merged["build_args"] or {}, "build_args"),
                version_var=str(version_var) if version_var else None,
                ca_file=Path(str(ca_file)).expanduser().resolve() if ca_file else None,
                latest=latest,
                revision=check_tag(str(merged["revision"])) if merged["revision"] else None,
                source_url=str(merged["source_url"]) if merged["source_url"] else None,
                local_registry_host=check_host(local["host"], "local_registry.host"),
                local_registry_port=_port(local["port"]),
                local_registry_data_dir=_data_dir(local["data_dir"]),
                retries=Retries(
                    attempts=max(1, int(retries["attempts"])),
                    base_delay=float(retries["base_delay"]),
                    max_delay=float(retries["max_delay"]),
                    timeout=float(retries["timeout"]),
                ),
                push_branches=[str(b) for b in ci["push_branches"]],
                ci_install=ci_install(ci.get("install")),
                dry_run=_flag(merged["dry_run"]),
                allow_dirty=_flag(merged["allow_dirty"]),
                version_tags=version_tags,
                goproxy_dir=_inside(project_dir, merged["goproxy_dir"], "goproxy_dir"),
                image=ImageSettings.from_mapping(merged.get("image")),
                go=GoBuild.from_mapping(merged.get("go")),
                images=images,
                selected_image=str(selected) if selected else None,
            )
        except (TypeError, ValueError) as err:
            raise ConfigError(f"invalid dlc configuration: {err}") from None
        made.targets()  # an unknown --image is refused before any step runs
        return made


# Flags whose configuration key has another name (`--image NAME` selects; dlc.image is the
# production image's settings).
FLAG_KEYS = {"image": "selected_image"}


def settings(config: Any, **overrides: Any) -> Settings:
    """The ``dlc`` settings of an Invoke configuration, with flags (non-None) on top."""
    raw = dict(config.get("dlc", {}) or {})
    raw.update({FLAG_KEYS.get(k, k): v for k, v in overrides.items() if v is not None})
    return Settings.from_mapping(raw)
