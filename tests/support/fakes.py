"""Fakes for the two seams, so unit tests can cover the chain's decisions without Docker.

:class:`FakeEngine` implements :class:`dlc_tasks.clients.seams.EngineAPI` and
:class:`FakeRegistry` :class:`~dlc_tasks.clients.seams.RegistryAPI`, the Protocols the real
clients implement (mypy checks this module too, so a fake cannot drift from its client); both
record what they were asked, so a test can assert that a skipped step touched nothing. The
Go commands are simulated from what they would leave in the bind-mounted tree: ``go test``
writes the coverage profile, ``go build -o`` writes a "binary" whose content is a digest of
the ``.go`` sources and the command but not its output path (so an edit changes it and a rerun
does not), ``go tool cover`` prints a total.
"""

from __future__ import annotations

import hashlib
import io
import os
import shlex
import subprocess
import tarfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from dlc_tasks.clients.engine import ExecResult
from dlc_tasks.clients.gocontainer import WORKDIR
from dlc_tasks.clients.podman import EngineIdentity
from dlc_tasks.config import Settings
from dlc_tasks.reporting.console import Console
from dlc_tasks.run import Run


def _sha(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def _path(repository: str) -> str:
    """``registry/org/name`` → ``org/name``."""
    return repository.split("/", 1)[1]


@dataclass
class FakeRegistry:
    """A registry in memory: (repository path, tag) → manifest digest."""

    manifests: dict[tuple[str, str], str] = field(default_factory=dict)
    configs: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: list[tuple[str, str, str]] = field(default_factory=list)
    # A tag whose HEAD answers another digest than the one pushed (a tampering registry).
    lies: dict[str, str | None] = field(default_factory=dict)  # None: gone (a 404)

    # What the registry asked for (RegistryClient.auth_scheme): this fake asks nothing.
    auth_scheme = "none"

    def ping(self) -> None:
        self.calls.append(("ping", "", ""))

    def granted(self, scope: str) -> list[str] | None:
        self.calls.append(("granted", scope, ""))
        return None

    def manifest_digest(self, repository: str, reference: str) -> str | None:
        self.calls.append(("HEAD", repository, reference))
        if reference in self.lies:
            return self.lies[reference]
        return self.manifests.get((repository, reference))

    def image_config(self, repository: str, reference: str) -> dict[str, Any]:
        self.calls.append(("config", repository, reference))
        return self.configs.get(self.manifests[(repository, reference)], {})

    def tags(self, repository: str) -> list[str]:
        self.calls.append(("tags", repository, ""))
        return sorted(tag for repo, tag in self.manifests if repo == repository)

    def delete_manifest(self, repository: str, digest: str) -> None:
        self.calls.append(("DELETE", repository, digest))
        for key in [k for k, v in self.manifests.items() if k[0] == repository and v == digest]:
            del self.manifests[key]


GoHook = Callable[[list[str], Path], ExecResult | None]


def _silent(line: str) -> None:
    """Where the fake engine says what it adapted to, until a run points it at its console."""


@dataclass
class FakeEngine:
    """An engine in memory, wired to a :class:`FakeRegistry` for push and pull."""

    registry: FakeRegistry
    images: dict[str, dict[str, Any]] = field(default_factory=dict)  # id → inspect document
    refs: dict[str, str] = field(default_factory=dict)  # reference → image id
    repo_digests: set[str] = field(default_factory=set)  # "repository@digest"
    cache_from: list[list[str]] = field(default_factory=list)  # each build's, in order
    volumes: set[str] = field(default_factory=set)
    containers: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: list[tuple[str, str]] = field(default_factory=list)
    # Called before each simulated Go command: may return a result (e.g. a failure) or raise.
    go_hook: GoHook | None = None
    # A tag whose push raises this (once): a registry refusing, a Ctrl-C between two tags.
    push_faults: dict[str, BaseException] = field(default_factory=dict)
    inactivity: float = 600.0
    _counter: int = 0

    def __post_init__(self) -> None:
        # an instance attribute, settable as EngineAPI.say (a dataclass field of a callable
        # type reads as a method to mypy)
        self.say: Callable[[str], None] = _silent

    def _next(self, what: str) -> str:
        self._counter += 1
        return _sha(f"{what}-{self._counter}")

    # -- images ------------------------------------------------------------------------------

    def version(self) -> dict[str, Any]:
        return {"Version": "fake", "ApiVersion": "1.41", "Os": "linux", "Arch": "amd64"}

    def set_timeouts(self, timeouts: Any) -> None:
        self.inactivity = timeouts.inactivity  # nothing streams here: only recorded

    def identity(self) -> EngineIdentity:
        return EngineIdentity("Docker", "fake", "1.41")

    def step_user(self) -> str:
        return f"{os.getuid()}:{os.getgid()}"

    def build(
        self,
        context: Any,
        *,
        tag: str,
        buildargs: Any,
        labels: Any = None,
        output: Callable[[str], None],
        **_: Any,
    ) -> str:
        self.calls.append(("build", tag))
        self.cache_from.append(list(_.get("cache_from") or ()))
        image = self._next(tag)
        found = dict(labels or {})
        for line in str(_.get("dockerfile_text") or "").splitlines():
            if line.startswith("LABEL "):  # the one LABEL instruction the steps append
                found.update(shlex_pairs(line[len("LABEL ") :]))
        self.images[image] = {"Id": image, "Size": 1_000_000, "Config": {"Labels": found}}
        self.refs[tag] = image
        output(f"Successfully built {image[7:19]}")
        return image

    def image_id(self, ref: str) -> str | None:
        image = self.refs.get(ref, ref)
        if "@" in ref:
            return image if ref in self.repo_digests else None
        return image if image in self.images else None

    def inspect(self, ref: str) -> dict[str, Any]:
        return self.images[self.refs.get(ref, ref)]

    def tag(self, image: str, repository: str, tag: str) -> None:
        self.calls.append(("tag", f"{repository}:{tag}"))
        self.refs[f"{repository}:{tag}"] = image

    def has_repo_digest(self, repository: str, digest: str) -> bool:
        return f"{repository}@{digest}" in self.repo_digests

    def push(self, repository: str, tag: str, **_: Any) -> str:
        self.calls.append(("push", f"{repository}:{tag}"))
        if tag in self.push_faults:
            raise self.push_faults.pop(tag)
        image = self.refs[f"{repository}:{tag}"]
        digest = _sha(f"manifest-of-{image}")
        self.registry.manifests[(_path(repository), tag)] = digest
        self.registry.configs[digest] = {"config": self.images[image]["Config"]}
        self.repo_digests.add(f"{repository}@{digest}")
        self.refs[f"{repository}@{digest}"] = image  # the engine's RepoDigests
        return digest

    def pull(self, repository: str, reference: str, **_: Any) -> None:
        self.calls.append(("pull", f"{repository}@{reference}"))
        self.repo_digests.add(f"{repository}@{reference}")

    def forget_images(self) -> None:
        """As after ``docker image prune -a``: nothing local any more."""
        self.images.clear()
        self.refs.clear()
        self.repo_digests.clear()

    # -- containers --------------------------------------------------------------------------

    def ensure_volume(self, name: str, labels: Any) -> bool:
        created = name not in self.volumes
        self.volumes.add(name)
        return created

    def start_container(self, image: str, *, binds: Any = None, **_: Any) -> str:
        self.calls.append(("container", image))
        container_id = self._next("container")
        mounts = {target: source for source, target in (binds or {}).items()}
        self.containers[container_id] = {"image": image, "workspace": mounts.get(WORKDIR)}
        return container_id

    def remove_container(self, container_id: str) -> None:
        self.containers.pop(container_id, None)

    def exec(
        self,
        container_id: str,
        argv: Sequence[str],
        *,
        workdir: str,
        user: str,
        output: Callable[[str], None] | None = None,
    ) -> ExecResult:
        argv = list(argv)
        self.calls.append(("exec", " ".join(argv)))
        workspace = Path(self.containers[container_id]["workspace"])
        if self.go_hook is not None:
            hooked = self.go_hook(argv, workspace)
            if hooked is not None:
                return hooked
        lines = simulate_go(argv, workspace)
        for line in lines:
            if output is not None:
                output(line)
        return ExecResult(argv, 0, lines)

    def put_archive(self, container_id: str, path: str, data: Any) -> None:
        raise AssertionError("the fake engine is local: nothing is copied in")

    def get_archive(self, container_id: str, path: str) -> tuple[Iterator[bytes], Any]:
        return iter([_empty_tar()]), {}

    def published_port(self, container_id: str, port: int) -> int:
        raise AssertionError("the fake engine publishes nothing: smoke tests run on a real one")

    def container_state(self, container_id: str) -> str:
        return "running" if container_id in self.containers else "exited"

    def container_logs(self, container_id: str) -> str:
        return ""

    def save(self, ref: str, dest: IO[bytes]) -> None:
        raise AssertionError("the fake engine saves nothing: base images are a real engine's")

    def load(self, archive: IO[bytes]) -> None:
        raise AssertionError("the fake engine loads nothing: assembled images are a registry's")


def shlex_pairs(text: str) -> dict[str, str]:
    """``"k"="v" "k2"="v2"`` as the Dockerfile parser reads it (quotes, ``\\`` escapes)."""
    pairs = {}
    for word in shlex.split(text.replace("\\$", "$")):
        key, _, value = word.partition("=")
        pairs[key] = value
    return pairs


def _empty_tar() -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w"):
        pass
    return buffer.getvalue()


def simulate_go(argv: list[str], workspace: Path) -> list[str]:
    """What the Go command would leave behind in the tree, and a line it would print
    (a cross-compiling ``env GOOS=… go build`` builds other bytes)."""
    settings = ""
    while argv[:1] == ["env"] or (argv and "=" in argv[0]):
        settings, argv = settings + argv[0] + " ", argv[1:]  # `env` and its settings
    if argv[:2] == ["go", "test"]:
        profile = next(a.split("=", 1)[1] for a in argv if a.startswith("-coverprofile="))
        (workspace / profile).write_text("mode: atomic\n")
        return ["ok  \texample.com/fake\t0.01s"]
    if argv[:3] == ["go", "tool", "cover"]:
        return ["total:\t\t(statements)\t\t75.0%"]
    if argv[:2] == ["go", "build"] and "-o" in argv:
        at = argv.index("-o") + 1
        out = workspace / argv[at]
        sources = sorted(workspace.rglob("*.go"))
        content = "".join(f"{p.relative_to(workspace)}\n{p.read_text()}" for p in sources)
        # as Go's, the bytes do not depend on where they are written
        out.write_text(_sha(settings + content + " ".join(argv[:at] + argv[at + 1 :])))
        return []
    if argv[:2] == ["go", "generate"]:
        (workspace / "generated.txt").write_text("generated\n")
        return []
    return []


def failing(command: str, exit_code: int = 1, lines: Sequence[str] = ()) -> GoHook:
    """A :data:`GoHook` that makes ``command`` (e.g. ``go test``) fail."""

    def hook(argv: list[str], workspace: Path) -> ExecResult | None:
        if " ".join(argv).startswith(command):
            return ExecResult(argv, exit_code, list(lines))
        return None

    return hook


def raising(command: str, error: BaseException) -> GoHook:
    """A :data:`GoHook` that raises ``error`` when ``command`` runs (Ctrl-C, a crash)."""

    def hook(argv: list[str], workspace: Path) -> ExecResult | None:
        if " ".join(argv).startswith(command):
            raise error
        return None

    return hook


PROD_TEMPLATE = """\
FROM scratch
COPY {{ binary }} /app/{{ binary }}
# cache {{ cache_image }} hash {{ deps_hash }}
"""


def make_project(root: Path) -> Path:
    """A small Go module as the chain sees it (the fakes never compile it)."""
    (root / "docker").mkdir(parents=True)
    (root / "go.mod").write_text("module example.com/fake\n\ngo 1.22\n")
    (root / "main.go").write_text('package main\n\nfunc main() { println("v1") }\n')
    # one directive, so that `go generate ./...` has something to run (project/geninputs.py)
    (root / "doc.go").write_text("package main\n\n//go:generate go version\n")
    (root / "VERSION").write_text("MAJOR=1\nMINOR=2\nPATCH=3\n")
    (root / "docker" / "Dockerfile.build").write_text(
        "ARG GO_IMAGE=golang\nFROM ${GO_IMAGE}\nARG GOPROXY\nCOPY go.mod ./\n"
    )
    (root / "docker" / "Dockerfile.prod.template").write_text(PROD_TEMPLATE)
    (root / "docker" / "Dockerfile").write_text("FROM scratch\n")
    return root


def commit_all(root: Path, message: str = "commit") -> str:
    """``git add -A && git commit``; return the new HEAD (initialising the repository first)."""
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    if not (root / ".git").exists():
        subprocess.run([*git, "init", "-q", "-b", "main"], cwd=root, check=True)
    subprocess.run([*git, "add", "-A"], cwd=root, check=True)
    subprocess.run([*git, "commit", "-qm", message], cwd=root, check=True)
    return subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=root, check=True, capture_output=True, text=True
    ).stdout.strip()


def settings_for(project: Path, **values: Any) -> Settings:
    """Settings for :func:`make_project`'s module against a registry that needs no start."""
    raw: dict[str, Any] = {
        "project_dir": str(project),
        "registry": "registry.test:5000",
        "org": "acme",
        "repo": "fake",
        "main_package": "./",
        "prod_files": [],
        "generate": [["go", "generate", "./..."]],
        "revision": "0123456789abcdef0123456789abcdef01234567",
        "build_args": {"GO_IMAGE": "golang:fake", "UNUSED": "x"},
        "retries": {"attempts": 1},
    }
    raw.update(values)
    return Settings.from_mapping(raw)


@dataclass
class World:
    """A project, a fake engine and a fake registry that outlive single runs."""

    project: Path
    registry: FakeRegistry = field(default_factory=FakeRegistry)
    engine: FakeEngine = field(init=False)
    made: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.engine = FakeEngine(self.registry)

    def run(self, *, force: bool = False, **values: Any) -> Run:
        """A new run (as a new ``inv`` process would make) over the same engine and registry."""
        settings = settings_for(self.project, **values)

        def client(registry: str, **kwargs: Any) -> FakeRegistry:
            self.made.append({"registry": registry, **kwargs})
            return self.registry

        return Run(
            settings,
            out=Console(stream=io.StringIO()),
            make_engine=lambda: self.engine,
            make_registry_client=client,
            force=force,
        )


def printed(run: Run) -> str:
    """Everything the run printed."""
    stream = run.out.stream
    assert isinstance(stream, io.StringIO)
    return stream.getvalue()
