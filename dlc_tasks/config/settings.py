"""The validated, typed view of the merged ``dlc`` configuration: one :class:`Settings` per run."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dlc_tasks.config.defaults import PACKAGE_TEMPLATES, STATE_DIR, TEMPLATE_NAMES
from dlc_tasks.config.options import BY_KEY, DEFAULTS, FLAG_KEYS
from dlc_tasks.config.values import (
    GO_SYMBOL,
    as_list_of_argv,
    as_str_map,
    check_host,
    check_source_url,
    check_state_dir,
    ci_install,
    confined,
    data_dir,
    flag,
    globs_inside,
    inside,
    port_number,
)
from dlc_tasks.errors import ConfigError, InvalidValue
from dlc_tasks.model.gobuild import GoBuild
from dlc_tasks.model.oci.platform import Platform
from dlc_tasks.model.prodimage import ImageSettings
from dlc_tasks.model.refs import Repository, check_path_component, check_registry, check_tag
from dlc_tasks.model.targets import (
    ImageTarget,
    check_main_package,
    check_prod_files,
    parse_images,
    select,
)


@dataclass(frozen=True)
class Retries:
    """Retry limits for registry calls, pushes and pulls; ``timeout`` is the deadline of one
    registry or token request (``dlc.timeouts.request``)."""

    attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 8.0
    timeout: float = 30.0


@dataclass(frozen=True)
class Timeouts:
    """Deadlines in seconds (``dlc.timeouts``): hard ones for a registry or token request, a
    credential helper and git; an inactivity deadline for streaming steps."""

    request: float = 30.0
    helper: float = 30.0
    git: float = 60.0
    inactivity: float = 600.0

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any] | None) -> Timeouts:
        """Validated ``dlc.timeouts``: each a positive number of seconds, no other key."""
        values = {**DEFAULTS["timeouts"], **dict(raw or {})}
        unknown = sorted(set(values) - set(DEFAULTS["timeouts"]))
        if unknown:
            raise ConfigError(
                f"unknown dlc.timeouts key {unknown[0]!r}",
                hint=f"the keys are {', '.join(DEFAULTS['timeouts'])}",
            )
        checked: dict[str, float] = {}
        for key, value in values.items():
            try:
                seconds = float(value)
            except (TypeError, ValueError, OverflowError):
                seconds = math.nan
            if isinstance(value, bool) or not (0 < seconds < math.inf):
                raise ConfigError(
                    f"dlc.timeouts.{key} must be a positive number of seconds, not {value!r}"
                )
            checked[key] = seconds
        return cls(**checked)


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
    timeouts: Timeouts = field(default_factory=Timeouts)
    push_branches: list[str] = field(default_factory=lambda: ["main"])
    ci_install: list[str] = field(default_factory=lambda: ci_install(None))
    dry_run: bool = False
    goproxy_dir: Path | None = None
    allow_dirty: bool = False
    force: bool = False
    version_tags: str = "move"
    image: ImageSettings = field(default_factory=ImageSettings)
    go: GoBuild = field(default_factory=GoBuild)
    images: tuple[ImageTarget, ...] = ()
    selected_image: str | None = None
    # dlc.platforms as configured; empty: the engine's own platform (asked when needed)
    platforms: tuple[Platform, ...] = ()
    generate_inputs: list[str] = field(default_factory=list)

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
        latest = one_of("latest", merged["latest"])
        ca_file = merged["ca_file"]
        local = {**DEFAULTS["local_registry"], **dict(merged["local_registry"] or {})}
        retries = {**DEFAULTS["retries"], **dict(merged["retries"] or {})}
        if "timeout" in retries:
            raise ConfigError(
                "dlc.retries.timeout is now dlc.timeouts.request",
                hint="rename it in invoke.yaml (or INVOKE_DLC_TIMEOUTS_REQUEST)",
            )
        timeouts = Timeouts.from_mapping(merged.get("timeouts"))
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
        version_tags = one_of("version_tags", merged["version_tags"])
        version_var = merged["version_var"]
        if version_var is not None and not GO_SYMBOL.fullmatch(str(version_var)):
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
                generate=as_list_of_argv(merged["generate"], "generate"),
                build_args=as_str_map(merged["build_args"] or {}, "build_args"),
                version_var=str(version_var) if version_var else None,
                ca_file=Path(str(ca_file)).expanduser().resolve() if ca_file else None,
                latest=latest,
                revision=check_tag(str(merged["revision"])) if merged["revision"] else None,
                source_url=check_source_url(merged["source_url"]),
                local_registry_host=check_host(local["host"], "local_registry.host"),
                local_registry_port=port_number(local["port"]),
                local_registry_data_dir=data_dir(local["data_dir"]),
                retries=Retries(
                    attempts=max(1, int(retries["attempts"])),
                    base_delay=float(retries["base_delay"]),
                    max_delay=float(retries["max_delay"]),
                    timeout=timeouts.request,
                ),
                timeouts=timeouts,
                push_branches=[str(b) for b in ci["push_branches"]],
                ci_install=ci_install(ci.get("install")),
                dry_run=flag(merged["dry_run"]),
                allow_dirty=flag(merged["allow_dirty"]),
                force=flag(merged.get("force")),
                version_tags=version_tags,
                goproxy_dir=inside(project_dir, merged["goproxy_dir"], "goproxy_dir"),
                image=ImageSettings.from_mapping(merged.get("image")),
                go=(go := GoBuild.from_mapping(merged.get("go"))),
                platforms=parse_platforms(merged.get("platforms"), cgo=go.cgo),
                images=images,
                selected_image=str(selected) if selected else None,
                generate_inputs=globs_inside(merged.get("generate_inputs"), "generate_inputs"),
            )
        except (TypeError, ValueError) as err:
            raise ConfigError(f"invalid dlc configuration: {err}") from err
        made.targets()  # an unknown --image is refused before any step runs
        return made


def one_of(key: str, value: object) -> str:
    """A value of an option with fixed choices (the table's), or one line listing them."""
    choices = BY_KEY[key].choices
    if str(value) not in choices:
        raise ConfigError(f"{key} must be one of {', '.join(choices)}, not {str(value)!r}")
    return str(value)


def parse_platforms(value: object, *, cgo: bool = False) -> tuple[Platform, ...]:
    """``dlc.platforms``: None (the engine's own), a list, or ``linux/amd64,linux/arm64``.
    With ``dlc.go.cgo``, one platform at most (the engine's: checked by the run)."""
    if value is None or value in ("", []):
        return ()
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        value = ",".join(value)
    if not isinstance(value, str):
        raise ConfigError(
            f"dlc.platforms must be a list of os/architecture names, got {value!r}",
            hint="use e.g. [linux/amd64, linux/arm64]",
        )
    platforms = tuple(Platform.parse_list(value))
    if cgo and len(platforms) > 1:
        raise ConfigError(
            f"dlc.go.cgo builds for the engine's platform only, not {len(platforms)} platforms",
            hint="set dlc.go.cgo: false (Go cross-compiles without cgo) or name one platform",
        )
    return platforms


def settings(config: Any, **overrides: Any) -> Settings:
    """The ``dlc`` settings of an Invoke configuration, with flags (non-None) on top."""
    raw = dict(config.get("dlc", {}) or {})
    raw.update({FLAG_KEYS.get(k, k): v for k, v in overrides.items() if v is not None})
    return Settings.from_mapping(raw)


@dataclass(frozen=True)
class Early:
    """The settings a task reads before, or without, the whole ``dlc`` section being valid:
    the module's directory (checked for ``go.mod`` before anything else), the build
    arguments (``setup.base-images``, which ``./dev`` runs before any module is set up) and
    ``ci.install`` as given (``init``, which may replace an ``invoke.yaml`` that is not valid).
    """

    project_dir: Path
    build_args: dict[str, str]
    ci_install: list[str] | None


def early(config: Any) -> Early:
    """The :class:`Early` settings of an Invoke configuration, each checked as Settings does."""
    raw = dict(config.get("dlc", {}) or {})
    given = (raw.get("ci") or {}).get("install")
    return Early(
        project_dir=Path(str(raw.get("project_dir") or ".")).expanduser().resolve(),
        build_args=as_str_map(raw.get("build_args") or {}, "build_args"),
        ci_install=None if given is None else ci_install(given),
    )
