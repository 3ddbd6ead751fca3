"""The publish invariant under injected faults (issue 16, item 1).

An image pushed under a commit's sha, version or ``latest`` holds exactly what a clean
checkout of that commit builds. One module (the service, plus a second image ``cli`` from
``cmd/cli``: ``dlc.images``), one registry behind the fault proxy, one commit. A fresh clone
of that commit is built once (``inv test``); after each injected fault and the run that
follows it, every published tag of both images is read back from the registry (manifest,
layers, ``app/NAME``) and its binary compared byte for byte with the fresh clone's (the
binaries are reproducible: ``-trimpath -buildvcs=false``). The faults, in sequence:

1. a push failing between two tags (a 403 on the sha tag's manifest) under
   ``version_tags: immutable``, then a rerun that must finish the release (item 4);
2. a failed link of the second image while the first holds an uncommitted experiment,
   then ``git checkout -- .`` and ``inv push`` (reproduction 1);
3. SIGKILL during ``test``, as the second binary's build starts, with the experiment;
4. SIGINT at each step boundary (as each step's header is printed) of an ``inv push`` of the
   experiment; after each, the experiment is reverted and ``inv push`` runs.

Signals come from the process itself at a printed line (``tests/support/signal_at``): the
same point on every machine, no sleep. The digests compared are printed (``pytest -rP``).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import tarfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import docker
import pytest
import yaml

from tests.integration.conftest import Registry, git_sha, inv, ok
from tests.support.faultproxy import FaultProxy

pytestmark = pytest.mark.integration
SIGNAL_AT = Path(__file__).resolve().parents[1] / "support" / "signal_at"
ORG = "arcodange"
BINARIES = {"server": "dance-lessons-coach", "cli": "cli"}  # image → binary
IMAGES = {
    "dlc": {
        "generate": [],  # its output is committed; no generate container per run keeps it cheap
        "images": {
            "server": {"main_package": "./cmd/server", "binary_name": "dance-lessons-coach"},
            "cli": {"main_package": "./cmd/cli", "prod_files": [], "args": [], "healthcheck": []},
        },
    }
}
CLI = 'package main\n\nimport "fmt"\n\nfunc main() { fmt.Println("cli") }\n'
# vets and tests clean, fails only when linked: the symbol it names exists nowhere
UNLINKABLE = (
    'package main\n\nimport _ "unsafe"\n\n'
    "//go:linkname notLinked example.com/nowhere.notLinked\nfunc notLinked()\n\n"
    "func main() { notLinked() }\n"
)
ACCEPT = ", ".join(
    [
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.oci.image.manifest.v1+json",
    ]
)


def _get(registry: Registry, path: str, method: str = "GET") -> tuple[bytes, dict[str, str]]:
    request = urllib.request.Request(
        f"http://{registry.address}{path}", method=method, headers={"Accept": ACCEPT}
    )
    with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310  (http, built here)
        return answer.read(), dict(answer.headers)


def tag_digest(registry: Registry, repo: str, tag: str) -> str | None:
    """The digest ``repo:tag`` names in the registry itself (not through the proxy)."""
    try:
        _, headers = _get(registry, f"/v2/{repo}/manifests/{tag}", "HEAD")
    except urllib.error.HTTPError as err:
        if err.code == 404:
            return None
        raise
    return headers["Docker-Content-Digest"]


def image_file(registry: Registry, repo: str, digest: str, name: str) -> bytes:
    """``/app/NAME`` as the published image holds it: its manifest's layers, newest first."""
    manifest = json.loads(_get(registry, f"/v2/{repo}/manifests/{digest}")[0])
    for layer in reversed(manifest["layers"]):
        blob, _ = _get(registry, f"/v2/{repo}/blobs/{layer['digest']}")
        with tarfile.open(fileobj=io.BytesIO(blob), mode="r:*") as tar:
            for member in tar:
                if member.name.removeprefix("./") == f"app/{name}" and member.isfile():
                    handle = tar.extractfile(member)
                    assert handle is not None
                    return handle.read()
    raise AssertionError(f"{repo}@{digest} holds no /app/{name}")


@dataclass
class Invariant:
    """What the fresh clone built, and the checks made against it."""

    registry: Registry
    reference: dict[str, bytes]  # binary name → bytes
    tags: list[str]
    rows: list[tuple[str, str, str, str]] = field(default_factory=list)
    _files: dict[tuple[str, str], bytes] = field(default_factory=dict)

    def check(self, case: str) -> None:
        """Every tag of every image names one digest whose binary is the reference's."""
        for image, binary in BINARIES.items():
            repo = f"{ORG}/{image}"
            digests = {tag: tag_digest(self.registry, repo, tag) for tag in self.tags}
            assert len(set(digests.values())) == 1 and None not in digests.values(), (
                case,
                repo,
                digests,
            )
            digest = str(digests[self.tags[0]])
            if (repo, digest) not in self._files:
                self._files[repo, digest] = image_file(self.registry, repo, digest, binary)
            published = self._files[repo, digest]
            sha = hashlib.sha256(published).hexdigest()
            want = hashlib.sha256(self.reference[binary]).hexdigest()
            assert published == self.reference[binary], (case, repo, digest, sha, want)
            self.rows.append((case, repo, digest, sha))

    def print(self) -> None:
        print(f"\nreference (fresh clone): {self.ref_line()}")
        for case, repo, digest, sha in self.rows:
            print(f"{case:<34} {repo:<16} {digest}  /app binary sha256 {sha}")

    def ref_line(self) -> str:
        return ", ".join(
            f"{name} {hashlib.sha256(data).hexdigest()}" for name, data in self.reference.items()
        )


@dataclass
class Module:
    """The service with two images, its config file, and the proxy every run goes through."""

    path: Path
    config: Path
    proxy: FaultProxy
    runs: list[tuple[str, float, int]] = field(default_factory=list)  # (what, seconds, exit)

    def inv(
        self, *args: str, env: dict[str, str] | None = None, signal_at: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        # DLC_DEBUG=1: plain output echoes each command as it starts (`$ go build …`), the
        # lines the faults are placed at and the link failure is counted by
        extra = {"DLC_DEBUG": "1", **(env or {})}
        if signal_at is not None:
            extra["DLC_TEST_SIGNAL_AT"] = signal_at
            extra["PYTHONPATH"] = os.pathsep.join(
                p for p in (str(SIGNAL_AT), os.environ.get("PYTHONPATH", "")) if p
            )
        started = time.monotonic()
        result = inv(
            "-f", str(self.config), *args, project=self.path, registry=self.proxy.address, env=extra
        )
        what = " ".join([*args, *(f"[{signal_at}]" for _ in [signal_at] if signal_at)])
        self.runs.append((what, time.monotonic() - started, result.returncode))
        return result

    def experiment(self) -> None:
        """An uncommitted change of the server's binary."""
        main = self.path / "cmd" / "server" / "main.go"
        main.write_text(main.read_text().replace('logger.Info("stopped")', 'logger.Info("halted")'))

    def revert(self) -> None:
        subprocess.run(["git", "checkout", "-q", "--", "."], cwd=self.path, check=True)
        assert (
            subprocess.run(
                ["git", "status", "--porcelain"],
                cwd=self.path,
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            == ""
        )


@pytest.fixture
def module(service: Path, warm_registry: Registry, tmp_path: Path) -> Iterator[Module]:
    (service / "cmd" / "cli").mkdir()
    (service / "cmd" / "cli" / "main.go").write_text(CLI)
    (service / ".gitignore").write_text(
        ".dlc/\ndeps_hash.env\ncoverage.out\ndocker/Dockerfile.prod\n"
    )
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "add", "-A"], cwd=service, check=True)
    subprocess.run([*git, "commit", "-qm", "a second image"], cwd=service, check=True)
    config = tmp_path / "two-images.yaml"
    config.write_text(yaml.safe_dump(IMAGES, sort_keys=False))  # server built first, cli second
    proxy = FaultProxy(upstream=warm_registry.address).start()
    yield Module(service, config, proxy)
    proxy.stop()


def fresh_clone_build(module: Module, tmp_path: Path) -> dict[str, bytes]:
    """The commit, cloned afresh and built once by ``inv test``: the reference binaries."""
    clone = tmp_path / "fresh-clone"
    subprocess.run(["git", "clone", "-q", str(module.path), str(clone)], check=True)
    ok(inv("-f", str(module.config), "test", project=clone, registry=module.proxy.address))
    return {name: (clone / ".dlc" / "bin" / name).read_bytes() for name in BINARIES.values()}


def remove_killed_runs_container(engine: docker.DockerClient, project: Path) -> None:
    """The Go container a SIGKILL-ed run could not remove (this test's own: it mounts the
    test's project)."""
    for container in engine.containers.list(all=True, filters={"label": "dlc-tasks.role=go-step"}):
        if any(m.get("Source") == str(project) for m in container.attrs.get("Mounts", [])):
            container.remove(force=True)


def test_every_published_binary_is_the_fresh_clones_after_each_fault(
    module: Module, warm_registry: Registry, engine: docker.DockerClient, tmp_path: Path
) -> None:
    version = "1.0.0"
    sha = git_sha(module.path)
    invariant = Invariant(
        warm_registry, fresh_clone_build(module, tmp_path), [version, sha, "latest"]
    )
    try:
        # 1. the first release's push fails between two tags (version pushed, sha refused)
        immutable = {"INVOKE_DLC_VERSION_TAGS": "immutable"}
        rule = module.proxy.add("PUT", rf"/v2/{ORG}/server/manifests/{sha}$", status=403, times=100)
        failed = module.inv("push", env=immutable)
        assert failed.returncode == 1, failed.stdout + failed.stderr
        assert tag_digest(warm_registry, f"{ORG}/server", version) is not None
        assert tag_digest(warm_registry, f"{ORG}/server", sha) is None
        rule.times = rule.fired  # the registry takes pushes again
        finished = ok(module.inv("push", env=immutable))
        assert f"{ORG}/server:{version} already names sha256:" in finished
        invariant.check("push failed between two tags")

        # 2. a failed link of the second image, the first holding the experiment
        module.experiment()
        (module.path / "cmd" / "cli" / "main.go").write_text(UNLINKABLE)
        linked = module.inv("test")
        assert linked.returncode == 1
        assert "the go build of ./cmd/cli failed" in linked.stderr
        builds = [line for line in linked.stdout.splitlines() if "$ go build" in line]
        assert [b.rsplit(" ", 1)[-1] for b in builds] == ["./cmd/server", "./cmd/cli"]
        module.revert()
        ok(module.inv("push"))
        invariant.check("failed link of the second image")

        # 3. SIGKILL during test, as the second binary's build starts
        module.experiment()
        killed = module.inv("test", signal_at="KILL:2:$ go build")  # server's built, then
        assert killed.returncode == -9, killed.stdout + killed.stderr
        assert killed.stdout.rstrip().endswith("./cmd/cli")  # killed as cli's build starts
        remove_killed_runs_container(engine, module.path)
        module.revert()
        ok(module.inv("push"))
        assert not list((module.path / ".dlc").glob("build-*"))  # the killed run's leftovers
        invariant.check("SIGKILL during test")

        # 4. SIGINT at each step boundary of a push of the experiment
        for step in ("cache", "generate", "test", "prod", "push"):
            module.experiment()
            stopped = module.inv("push", signal_at=f"INT:1:==> {step}")
            assert stopped.returncode == 130, (step, stopped.stdout, stopped.stderr)
            module.revert()
            ok(module.inv("push"))
            invariant.check(f"SIGINT before {step}")
    finally:
        invariant.print()
        for what, seconds, code in module.runs:
            print(f"inv {what:<40} exit {code:>4}  {seconds:6.1f}s")
