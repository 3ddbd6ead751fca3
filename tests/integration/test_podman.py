"""Podman as the engine: ``podman system service`` reached through ``DOCKER_HOST``, as many
teams build (Fedora, RHEL, rootless CI runners), with Debian's podman 4.3.1 on this machine:
root without CAP_SYS_RESOURCE, no systemd, cgroup v1, no catatonit.

One rootful service per module, on a store of its own (``tests/support/podman.py``), filled
by ``inv setup.base-images`` itself; one chain run rootful (then ``check.cache-env``,
``dev``, ``doctor`` and the remote-engine path on the same store) and one rootless, as a user
of the test's own. The registry is the suite's warm one: the cache image Docker built and
pushed is pulled into Podman's own store, not rebuilt.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.integration.conftest import (
    REPO,
    SERVICE_FILES,
    Registry,
    copy_module,
    free_port,
    git_sha,
    inv,
    ok,
)
from tests.support.podman import PodmanService, ensure_rootless_user, run_as, user_view

pytestmark = pytest.mark.integration
SERVICE_REPO = "arcodange/dance-lessons-coach"
NO_INIT = "the engine has no container init binary (/usr/libexec/podman/catatonit)"
DEV_DOCKERFILE = """\
ARG GO_IMAGE=golang:1.26.1-alpine
ARG RUNTIME_IMAGE=alpine:3.18
FROM ${GO_IMAGE} AS builder
RUN go version | tee /go-version
FROM ${RUNTIME_IMAGE}
COPY --from=builder /go-version /go-version
"""


@pytest.fixture(scope="module")
def rootful() -> Iterator[dict[str, str]]:
    """A rootful Podman service on its own store, its base images imported by the tool."""
    # Not under pytest's temporary folders: another pytest session on the machine may rename
    # those to remove them while this one runs, and the store's mounts would stay behind.
    root = Path(tempfile.mkdtemp(prefix="dlc-podman-", dir="/var/tmp"))
    service = PodmanService(root / "service")
    try:
        service.start()
        yield service.client_env()
    finally:
        service.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A HOME whose ~/.invoke.yaml starts as the developer's: setup.base-images records what
    it imported there, never in the real one."""
    folder = tmp_path_factory.mktemp("home")
    user_config = Path.home() / ".invoke.yaml"
    if user_config.is_file():
        shutil.copy(user_config, folder / ".invoke.yaml")
    return folder


def test_the_chain_check_cache_env_dev_and_a_remote_path_on_rootful_podman(
    service: Path, warm_registry: Registry, rootful: dict[str, str], home: Path
) -> None:
    env = {**rootful, "HOME": str(home)}
    registry = warm_registry.address

    # Podman keeps its own store: the base images are imported into it, and the tool says where
    out = ok(inv("setup.base-images", project=service, registry=registry, env=env))
    assert "importing local ones into Podman" in out, out
    build_args = yaml.safe_load((home / ".invoke.yaml").read_text())["dlc"]["build_args"]
    assert build_args["RUNTIME_IMAGE"] == "dlc-local/runtime:1"
    out = ok(inv("setup.base-images", project=service, registry=registry, env=env))
    assert "base images available in Podman" in out, out

    # the whole chain: a cache hit whose image Docker built is pulled into Podman, not rebuilt
    out = ok(inv("push", project=service, registry=registry, env=env))
    assert re.search(r"cache: hit .*-build-cache:", out), out
    assert "pulling " in out and "docker build -f" not in out
    assert out.count(NO_INIT) == 1, out  # said once, and the containers ran without it
    sha = git_sha(service)
    assert warm_registry.tags(SERVICE_REPO) == sorted(["1.0.0", "latest", sha])
    digests = {warm_registry.digest(SERVICE_REPO, t) for t in ("1.0.0", sha, "latest")}
    assert len(digests) == 1
    assert (service / "coverage.out").read_text().startswith("mode: atomic")
    assert (service / "pkg" / "server" / "openapi.json").is_file()
    in_docker = subprocess.run(  # nothing of this went to the machine's Docker engine
        ["docker", "image", "inspect", f"{registry}/{SERVICE_REPO}:{sha}"],
        capture_output=True,
        check=False,
    )
    assert in_docker.returncode != 0

    # the ADR's eight checks, the health check run in a Podman container
    out = ok(inv("check.cache-env", project=service, registry=registry, env=env))
    assert [int(n) for n in re.findall(r"\[(\d)/8\] ok ", out)] == list(range(1, 9)), out
    assert re.search(r"\[8/8\] ok +production container runs: the health check .* passed", out)

    # the development image: a multi-stage build on both base images in Podman's store (a
    # small one: compiling the service without a Go cache is Buildah's work, not the tool's)
    (service / ".dev.Dockerfile").write_text(DEV_DOCKERFILE)
    dev_env = {**env, "INVOKE_DLC_DOCKERFILE_DEV": ".dev.Dockerfile"}
    out = ok(inv("dev", project=service, registry=registry, env=dev_env))
    assert "dev: ran" in out, out
    (dev_log,) = (service / ".dlc" / "logs").glob("*/dev*.log")  # RUN output: in the build log
    assert "go version go1." in dev_log.read_text(), out

    # the doctor names Podman and checks what it needs
    out = ok(inv("doctor", project=service, registry=registry, env=env))
    assert re.search(
        r"ok   engine: Podman 4\.\d+\.\d+ \(API 1\.\d+, rootful, cgroup manager cgroupfs", out
    ), out
    assert f"ok   registry trust: {registry} is plain http on loopback" in out
    assert "warn init binary: no container init binary at /usr/libexec/podman/catatonit" in out
    assert "apt-get install catatonit" in out
    assert "ok   cgroup manager: cgroupfs on cgroup v1" in out

    # the remote-engine path: the same store served over TCP, the tree copied in and back
    tcp = PodmanService(
        Path(rootful["DOCKER_HOST"].removeprefix("unix://")).parent,
        uri=f"tcp://127.0.0.1:{free_port()}",
    )
    main = service / "cmd" / "server" / "main.go"
    main.write_text(main.read_text().replace('"server failed"', '"the server failed"'))
    try:
        tcp.start()
        out = ok(inv("test", project=service, registry=registry, env={**env, **tcp.client_env()}))
    finally:
        tcp.stop()
    assert "copied back from the engine" in out, out
    assert not list((service / ".dlc").glob("copy-back-*"))


@pytest.fixture(scope="module")
def rootless() -> Iterator[tuple[PodmanService, Path]]:
    """A rootless Podman service run by a user of the test's own, and a folder it owns."""
    user = ensure_rootless_user()
    root = Path(user.pw_dir) / f"dlc-suite-{os.getpid()}"
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir()
    os.chown(root, user.pw_uid, user.pw_gid)
    service = PodmanService(root / "service", user=user)
    try:
        service.start()
        runtime = subprocess.run(
            ["docker", "save", "dlc-local/runtime:1"], capture_output=True, check=True
        ).stdout
        service.load(runtime)  # the production image's base: the cache image comes as a hit
        yield service, root
    finally:
        service.stop()
        shutil.rmtree(root, ignore_errors=True)


def test_the_chain_on_rootless_podman_leaves_files_owned_by_the_user(
    warm_registry: Registry, rootless: tuple[PodmanService, Path]
) -> None:
    service, root = rootless
    user = service.user
    assert user is not None
    checkout = copy_module(REPO, root / "service-checkout", SERVICE_FILES)
    subprocess.run(["chown", "-R", f"{user.pw_uid}:{user.pw_gid}", str(checkout)], check=True)
    # the machine's facts, as ./dev recorded them for root: the base images (in the hash)
    facts = yaml.safe_load((Path.home() / ".invoke.yaml").read_text())["dlc"]["build_args"]
    config = root / "invoke.yaml"
    config.write_text(yaml.safe_dump({"dlc": {"build_args": facts}}))
    site, repo = user_view(REPO, root / "python", user)
    result = run_as(
        user,
        ["invoke", "--search-root", str(repo), "-f", str(config), "push"],
        cwd=checkout,
        site=site,
        env={
            **service.client_env(),
            "XDG_RUNTIME_DIR": str(service.runtime_dir),
            "INVOKE_DLC_PROJECT_DIR": str(checkout),
            "INVOKE_DLC_REGISTRY": warm_registry.address,
            "NO_COLOR": "1",
        },
    )
    out = ok(result)
    assert "pulling " in out and re.search(r"cache: hit", out), out
    sha = subprocess.run(  # git refuses another user's repository unless told it is safe
        ["git", "-c", f"safe.directory={checkout}", "rev-parse", "HEAD"],
        cwd=checkout,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert warm_registry.tags(SERVICE_REPO) == sorted(["1.0.0", "latest", sha])
    written = [
        checkout / "coverage.out",
        checkout / "pkg" / "server" / "openapi.json",
        checkout / ".dlc" / "bin" / "dance-lessons-coach",
    ]
    owners = {str(p.relative_to(checkout)): (p.stat().st_uid, p.stat().st_gid) for p in written}
    assert owners == dict.fromkeys(owners, (user.pw_uid, user.pw_gid)), owners
