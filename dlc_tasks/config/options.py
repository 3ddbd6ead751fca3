"""Every ``dlc`` option, declared once: name, type, default, help, whether it is command-wide.

:data:`OPTIONS` is the one table. From it come :data:`~dlc_tasks.config.defaults.DEFAULTS`
(registered with the collection), the command-wide flags every chain task takes
(:data:`COMMAND_WIDE`, with their ``inv --help`` texts) and the configuration keys they set
(:data:`FLAG_KEYS`), how an ``INVOKE_DLC_*`` variable is read (:mod:`.environment`: lists
and mappings as JSON), the values with a fixed set of choices that
:class:`~dlc_tasks.config.settings.Settings` checks, and the README's configuration table
(:func:`markdown_table`; ``python docs/options_table.py`` writes it into README.md, and a
unit test fails when the README's differs).

Nothing heavy is imported here: ``inv --list`` reads this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

REGISTRY_HELP = "registry host[:port] (default: dlc.registry, else the local registry)"
IMAGE_HELP = "with dlc.images: make only the image NAME (default: every image)"
DRY_HELP = "print what each step would do and why; build, push, run and write nothing"


@dataclass(frozen=True)
class Option:
    """One ``dlc`` option.

    ``key`` is its dotted path under ``dlc`` (``go.flags``); ``kind`` the type of its value
    (``bool``, ``int``, ``float``, ``str``, ``list`` or ``dict``: how an environment
    variable is read); ``default`` its default; ``help`` the README's text and ``shown``
    the default as the README says it (a row of several options is written once, by the
    first, the others having ``same_row``); ``choices`` the only values it takes, if so.
    ``flag`` names the command-wide flag that sets it (``--image`` sets
    ``selected_image``), with ``flag_help`` for ``inv --help``; ``words``: a list the
    environment may also give as words separated by spaces.
    """

    key: str
    kind: type
    default: Any
    help: str = ""
    shown: str = ""
    same_row: bool = False
    choices: tuple[str, ...] = ()
    flag: str | None = None
    flag_help: str = ""
    words: bool = False

    @property
    def flag_default(self) -> Any:
        """The flag's default: not given (``False`` for a switch, else ``None``)."""
        return False if self.kind is bool else None


OPTIONS: tuple[Option, ...] = (
    Option(
        "registry",
        str,
        None,
        "`host[:port]` of the registry",
        shown="none: the local registry",
        flag="registry",
        flag_help=REGISTRY_HELP,
    ),
    Option(
        "org",
        str,
        None,
        "images are `REGISTRY/ORG/REPO` and `REGISTRY/ORG/REPO-build-cache`",
        shown="from the git remote `origin` (`…/OWNER/NAME[.git]`), else `go.mod`'s module "
        "path (`host/ORG/REPO[/vN]`), else the directory",
    ),
    Option("repo", str, None, same_row=True),
    Option("project_dir", str, ".", "the Go module's root", shown="`.`"),
    Option(
        "main_package",
        str,
        None,
        "the package compiled into the image",
        shown="the module's only `package main`, `go.mod`'s own `tool` packages not counted "
        "(else one line lists the candidates)",
    ),
    Option(
        "binary_name",
        str,
        None,
        "the binary's name in the image",
        shown="the main package's directory (`./cmd/NAME` → `NAME`), `repo` at the root",
    ),
    Option(
        "images",
        dict,
        {},
        "several images from one module: `NAME: {main_package, binary_name, prod_files, base,"
        " ports, healthcheck, args, user}`, each `REGISTRY/ORG/NAME`, the image keys "
        "defaulting to `image`'s; one cache image and one test run for all "
        "([docs/adopting.md](docs/adopting.md#several-images-from-one-module-dlcimages))",
        shown="none: one image, `ORG/REPO`",
    ),
    Option(
        "selected_image",
        str,
        None,
        "the image `prod`, `push`, `dev` and `check.cache-env` make (`--image NAME`)",
        shown="none: every image",
        flag="image",
        flag_help=IMAGE_HELP,
    ),
    Option(
        "dockerfile_build",
        str,
        None,
        "relative to `project_dir`; `inv init --eject` copies the packaged ones into "
        "`docker/`; every configured path (these, `version_file`, `hash_file`, "
        "`coverage_file`, `goproxy_dir`, `prod_files`) must resolve, symlinks followed, "
        "inside `project_dir`",
        shown="the project's `docker/<name>` when present, else the package's own "
        "(`dlc_tasks/templates/`)",
    ),
    Option("dockerfile_prod_template", str, None, same_row=True),
    Option("dockerfile_dev", str, None, same_row=True),
    Option(
        "dockerfile_prod",
        str,
        "docker/Dockerfile.prod",
        "where the rendered production Dockerfile is written (with `images`: "
        "`.dlc/Dockerfile.prod.NAME`, one per image)",
        shown="`docker/Dockerfile.prod`",
    ),
    Option(
        "version_file",
        str,
        "VERSION",
        "the ADR's `MAJOR=`/`MINOR=`/`PATCH=`/`PRERELEASE=` file",
        shown="`VERSION`",
    ),
    Option(
        "hash_file",
        str,
        "deps_hash.env",
        "what `hash` and `test` leave in the tree",
        shown="`deps_hash.env`, `coverage.out`",
    ),
    Option("coverage_file", str, "coverage.out", same_row=True),
    Option(
        "prod_files",
        list,
        [],
        "files sent with the binary to the production build (`/app/NAME`)",
        shown="`[]`",
    ),
    Option(
        "image.base",
        str,
        None,
        "the production image's base; `scratch` for a static binary (CA certificates from the"
        " cache image, a `passwd`/`group` with `nonroot` put in)",
        shown="none: `${RUNTIME_IMAGE}`",
    ),
    Option("image.ports", list, [], "`EXPOSE`d ports (`8080`, `53/udp`)", shown="`[]`"),
    Option(
        "image.healthcheck",
        list,
        None,
        "an argument list run as `HEALTHCHECK CMD [...]`",
        shown="none",
    ),
    Option("image.args", list, [], "arguments after the binary in `ENTRYPOINT`", shown="`[]`"),
    Option(
        "image.user",
        str,
        "65532:65532",
        "the non-root user the image runs as",
        shown="`65532:65532`",
    ),
    Option(
        "generate",
        list,
        [["go", "generate", "./..."]],
        "argument lists run in the cache image; `dlc init` writes the `//go:generate` "
        "directives that can run there (`go generate -skip REGEX ./...` for the others, each "
        "named in a comment), `[]` when there are none "
        "([docs/adopting.md](docs/adopting.md#what-init-decides))",
        shown="`[[go, generate, ./...]]`",
    ),
    Option(
        "generate_inputs",
        list,
        [],
        "glob patterns (relative to the module, `**` recurses) of files the generators read "
        "that `generate` cannot see for itself; it already reads each directive's package, the "
        "files its words name, a `go run`/`go tool` generator of the module's own with the "
        "module packages it imports, `go.mod`/`go.sum` and what the last run wrote (see "
        "[Up-to-date checks](docs/design.md#up-to-date-checks))",
        shown="`[]`",
    ),
    Option(
        "goproxy_dir",
        str,
        None,
        "a file-based Go module proxy inside `project_dir` (`go help goproxy`), sent with the"
        " cache image's build context, for machines that reach no module proxy",
        shown="none",
    ),
    Option(
        "build_args",
        dict,
        {},
        "passed to each Dockerfile that declares them (`GO_IMAGE`, `RUNTIME_IMAGE`, "
        "`GOPROXY`); a value holding a URL with credentials is refused (use `goproxy_dir`); "
        "`GOFLAGS`, `CGO_ENABLED`, `GOPRIVATE`, `GONOSUMDB` come from `go.*` and are refused "
        "here",
        shown="`{}`",
    ),
    Option(
        "go.private",
        str,
        None,
        "`GOPRIVATE`, `GONOSUMDB` for the cache image's download and the steps (module path "
        "patterns)",
        shown="none",
    ),
    Option("go.nosumdb", str, None, same_row=True),
    Option(
        "go.flags",
        list,
        [],
        "more `GOFLAGS`, one `-flag[=value]` each, after `-mod=readonly` (`-mod=vendor` with "
        "`vendor/modules.txt`) `-trimpath -buildvcs=false`",
        shown="`[]`",
    ),
    Option("go.tags", list, [], "build tags (`-tags=a,b` in `GOFLAGS`)", shown="`[]`"),
    Option(
        "go.ldflags",
        list,
        [],
        "more `-ldflags` after `-s -w`; `{{ version }}` and `{{ revision }}` replaced (`-X "
        "main.commit={{ revision }}`)",
        shown="`[]`",
    ),
    Option(
        "go.cgo",
        bool,
        False,
        "`CGO_ENABLED`; the steps and the cache image's warm-up use the same `go.*` values "
        "(build arguments, so the hash covers them; `ldflags` only link)",
        shown="`false`",
    ),
    Option(
        "version_var",
        str,
        None,
        "a Go variable set to the version with `-ldflags -X` (this repo: `…/pkg/server.Version`)",
        shown="none",
    ),
    Option(
        "ca_file",
        str,
        None,
        "CA certificate(s) of a registry with a private CA, PEM, no private key",
        shown="none",
    ),
    Option(
        "latest",
        str,
        "always",
        "`always` (the ADR) or `releases`: no `latest` for a version with a PRERELEASE",
        shown="`always`",
        choices=("always", "releases"),
        flag="latest",
        flag_help="'always' tag latest (the ADR), or 'releases' (not for a PRERELEASE)",
    ),
    Option(
        "revision",
        str,
        None,
        "the sha tag and `org.opencontainers.image.revision` (the dirty check still runs in a"
        " git repository; required outside one, where no dirty check is possible)",
        shown="git `HEAD`",
    ),
    Option(
        "source_url",
        str,
        None,
        "`org.opencontainers.image.source`; an http(s) URL, refused up front with user "
        "information (it is published in the labels) or a control character",
        shown="the image repository",
    ),
    Option(
        "local_registry.host",
        str,
        "127.0.0.1",
        "the embedded default registry: loopback only, no authentication, **for one user on "
        "one machine** (on a shared machine set `registry`); recognised by its "
        "`Docker-Distribution-Api-Version` header and a per-user marker, never by any answer "
        "on the port (asked directly, whatever `http_proxy` says); `host` is a name or an "
        "IPv4 address (engine 20.10 cannot parse an image reference naming `[::1]:5000`)",
        shown="`127.0.0.1`, `5000`, `~/.cache/dlc-tasks/registry-PORT`",
    ),
    Option("local_registry.port", int, 5000, same_row=True),
    Option("local_registry.data_dir", str, None, same_row=True),
    Option(
        "retries.attempts",
        int,
        5,
        "backoff for registry calls, pushes and pulls",
        shown="`5`, `0.5`, `8.0`",
    ),
    Option("retries.base_delay", float, 0.5, same_row=True),
    Option("retries.max_delay", float, 8.0, same_row=True),
    Option(
        "timeouts.request",
        float,
        30.0,
        "hard deadlines: one registry or token request (each try, the whole answer), a "
        "credential helper, one git command; an expiry is one line naming what did not answer"
        " and the key (`retries.timeout` is refused, naming `timeouts.request`)",
        shown="`30`, `30`, `60` (seconds)",
    ),
    Option("timeouts.helper", float, 30.0, same_row=True),
    Option("timeouts.git", float, 60.0, same_row=True),
    Option(
        "timeouts.inactivity",
        float,
        600.0,
        "how long a streaming step (a Go command in the cache image, an image build, a push, "
        "a pull) may print nothing and make no progress before it is stopped",
        shown="`600` (seconds)",
    ),
    Option(
        "ci.push_branches",
        list,
        ["main"],
        "branches on which `inv ci` goes through `push`",
        shown="`[main]`",
    ),
    Option(
        "ci.install",
        list,
        None,
        "pip's arguments in the written workflow, each quoted; no credentials (this "
        "repository: `[nox]`)",
        shown="nox and dlc-tasks as it is installed here: `dlc-tasks @ git+URL@COMMIT`, an "
        "https wheel's URL, `dlc-tasks==VERSION` from an index, or (installed from a "
        "path) `./.dlc-tasks/dlc_tasks-VERSION-py3-none-any.whl`, a wheel written "
        "beside the workflow",
        words=True,
    ),
    Option(
        "dry_run",
        bool,
        False,
        "print plans only (`--dry-run`, `inv --dry`)",
        shown="`false`",
        flag="dry_run",
        flag_help=DRY_HELP,
    ),
    Option(
        "allow_dirty",
        bool,
        False,
        "build and tag a tree with uncommitted changes as a release: the version tags and "
        "`latest` too, and under CI no error (`--allow-dirty`)",
        shown="`false`",
        flag="allow_dirty",
        flag_help="build and tag from uncommitted changes: under CI allowed, and the release "
        "tags too",
    ),
    Option(
        "force",
        bool,
        False,
        "rebuild and push the cache image even when the registry has it (`--force`)",
        shown="`false`",
        flag="force",
        flag_help="rebuild and push the cache image even when the registry has it",
    ),
    Option(
        "version_tags",
        str,
        "move",
        "`move` (the ADR: a push moves `MAJOR.MINOR.PATCH` to the new image, and says so) or "
        "`immutable`: a release tag naming another image is refused (bump `VERSION`)",
        shown="`move`",
        choices=("move", "immutable"),
    ),
    Option(
        "platforms",
        list,
        None,
        "the platforms each production image is published for (`[linux/amd64, linux/arm64]`, "
        "or `linux/amd64,linux/arm64`): Go cross-compiles each binary (`CGO_ENABLED=0`, no "
        "emulation) and the tag names an OCI index; part of the dependency hash "
        "(docs/publishing.md)",
        shown="the engine's platform",
        words=True,
    ),
)


def _nested(options: tuple[Option, ...]) -> dict[str, Any]:
    """The defaults as Invoke's nested configuration (``go.flags`` under ``go``)."""
    tree: dict[str, Any] = {}
    for option in options:
        *sections, name = option.key.split(".")
        node = tree
        for section in sections:
            node = node.setdefault(section, {})
        node[name] = _copy(option.default)
    return tree


def _copy(value: Any) -> Any:
    if isinstance(value, list):
        return [_copy(v) for v in value]
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    return value


BY_KEY: dict[str, Option] = {option.key: option for option in OPTIONS}
DEFAULTS: dict[str, Any] = _nested(OPTIONS)
# The command-wide flags: given to any task of an invocation that takes them, they apply to
# every task of it (the executor reads them; task bodies never see them). Each maps to its
# default and its `inv --help TASK` text.
COMMAND_WIDE: dict[str, tuple[Any, str]] = {
    o.flag: (o.flag_default, o.flag_help) for o in OPTIONS if o.flag is not None
}
# Flags whose configuration key has another name (`--image NAME` selects; dlc.image is the
# production image's settings).
FLAG_KEYS: dict[str, str] = {o.flag: o.key for o in OPTIONS if o.flag and o.flag != o.key}


def markdown_table(options: tuple[Option, ...] = OPTIONS) -> str:
    """The README's configuration table: one row per option, or per group of options."""
    rows: list[tuple[list[Option], str, str]] = []
    for option in options:
        if option.same_row and rows:
            rows[-1][0].append(option)
        else:
            rows.append(([option], option.shown, option.help))
    lines = ["| key | default | meaning |", "| --- | --- | --- |"]
    lines += [f"| {_keys(group)} | {shown} | {text} |" for group, shown, text in rows]
    return "\n".join(lines) + "\n"


def _keys(group: list[Option]) -> str:
    """``local_registry.host/port/data_dir`` for one section's options, else a list."""
    sections = {o.key.rpartition(".")[0] for o in group}
    if len(group) > 1 and len(sections) == 1 and "" not in sections:
        (section,) = sections
        return f"`{section}.{'/'.join(o.key.rpartition('.')[2] for o in group)}`"
    return ", ".join(f"`{o.key}`" for o in group)


BEGIN = "<!-- the table of options (dlc_tasks/config/options.py); docs/options_table.py -->"
END = "<!-- end of the options table -->"


def with_table(document: str) -> str:
    """``document`` with the text between :data:`BEGIN` and :data:`END` made the table."""
    before, found, rest = document.partition(BEGIN)
    _, ended, after = rest.partition(END)
    if not found or not ended:
        raise ValueError(f"no {BEGIN!r} ... {END!r} section")
    return f"{before}{BEGIN}\n{markdown_table()}{END}{after}"
