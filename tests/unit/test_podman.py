"""Podman behind the Docker API: what the engine and the doctor do differently for it.

The fake below answers as ``podman system service`` 4.3.1 did on this machine (the documents
and the error texts are Podman's own, trimmed); the real service runs the chain in
``tests/integration/test_podman.py``.
"""

from __future__ import annotations

import json
import os
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from docker.errors import APIError, ImageNotFound

from dlc_tasks.checks import podman as checks
from dlc_tasks.checks.doctor import DoctorWarning
from dlc_tasks.clients import podman
from dlc_tasks.clients.engine import Engine
from dlc_tasks.clients.podman import EngineIdentity
from dlc_tasks.clients.trust import CERTS_D, certs_dirs
from dlc_tasks.config import Retries
from dlc_tasks.errors import DlcError, EngineError

NO_WAIT = Retries(attempts=2, base_delay=0, max_delay=0)
DIGEST = "sha256:" + "d" * 64
PODMAN_VERSION = {
    "Platform": {"Name": "linux/amd64/debian-12"},
    "Components": [
        {"Name": "Podman Engine", "Version": "4.3.1", "Details": {"APIVersion": "4.3.1"}},
        {"Name": "Conmon", "Version": "conmon version 2.1.6, commit: unknown"},
    ],
    "Version": "4.3.1",
    "ApiVersion": "1.41",
}
DOCKER_VERSION = {
    "Components": [{"Name": "Engine", "Version": "20.10.24+dfsg1"}],
    "Version": "20.10.24+dfsg1",
    "ApiVersion": "1.41",
}
INIT_MISSING = (
    '500 Server Error: Internal Server Error ("container create: container-init binary not '
    'found on the host: stat /usr/libexec/podman/catatonit: no such file or directory")'
)
RLIMIT = (
    '500 Server Error: Internal Server Error ("runc: runc create failed: unable to start '
    "container process: error during container init: error setting rlimits for ready "
    'process: error setting rlimit type 7: operation not permitted: OCI permission denied")'
)


class Response:
    def __init__(self, messages: list[dict[str, Any]]) -> None:
        self.messages = messages


class PodmanAPI:
    """The SDK's low-level client in front of a Podman service, as far as the engine uses it."""

    def __init__(self, *, rootless: bool = False, init: bool = False, rlimits: bool = True):
        self.rootless, self.init, self.rlimits = rootless, init, rlimits
        self.calls: list[tuple[str, Any]] = []
        self.images: dict[str, str] = {}
        self.containers: list[str] = []
        self._auth_configs = None  # the SDK's: no ~/.docker/config.json logins read yet
        self.credstore_env = None

    def version(self) -> dict[str, Any]:
        return PODMAN_VERSION

    def info(self) -> dict[str, Any]:
        return {"Rootless": self.rootless, "CgroupDriver": "cgroupfs", "CgroupVersion": "1"}

    # the SDK's push and pull: what a registry needing no tlsVerify gets
    def push(self, repository: str, **kwargs: Any) -> Iterator[dict[str, Any]]:
        self.calls.append(("sdk push", repository))
        return iter([{"status": f"{kwargs['tag']}: digest: {DIGEST} size: 527"}])

    def pull(self, repository: str, **kwargs: Any) -> Iterator[dict[str, Any]]:
        self.calls.append(("sdk pull", repository))
        return iter([{"status": "Pulling from x"}])

    # what the engine calls itself for Podman's parameters
    def _url(self, path: str, *args: str) -> str:
        return "/v1.41" + path.format(*args)

    def _post(self, url: str, **kwargs: Any) -> Response:
        self.calls.append(("post", (url, kwargs["params"])))
        if url.endswith("/push"):
            tag = kwargs["params"]["tag"]
            return Response([{"status": f"{tag}: digest: {DIGEST} size: 527"}])
        return Response([{"stream": "Trying to pull …\n"}, {"images": ["x"], "id": "x"}])

    def _raise_for_status(self, response: Response) -> None:
        pass

    def _stream_helper(self, response: Response, decode: bool) -> Iterator[dict[str, Any]]:
        return iter(response.messages)

    # containers
    def create_host_config(self, **kwargs: Any) -> dict[str, Any]:
        return kwargs

    def create_container(self, image: str, **kwargs: Any) -> dict[str, str]:
        host_config = kwargs["host_config"]
        self.calls.append(("create", host_config))
        if host_config["init"] and not self.init:
            raise APIError(INIT_MISSING)
        self.containers.append(f"c{len(self.calls)}")
        return {"Id": self.containers[-1]}

    def start(self, container_id: str) -> None:
        host_config = self.calls[-1][1]
        if self.rlimits and not host_config.get("ulimits"):
            raise APIError(RLIMIT)

    def remove_container(self, container_id: str, **kwargs: Any) -> None:
        self.containers.remove(container_id)

    # images
    def import_image_from_file(self, path: str, **kwargs: Any) -> str:
        self.calls.append(("import", kwargs["repository"]))
        return json.dumps({"status": DIGEST, "progressDetail": {}, "id": DIGEST})

    def tag(self, image: str, repository: str, tag: str, force: bool) -> None:
        self.images[f"{repository}:{tag}"] = image

    def inspect_image(self, ref: str) -> dict[str, Any]:
        if ref not in self.images:
            raise ImageNotFound(f"failed to find image {ref}")
        return {"Id": self.images[ref]}


def engine(api: PodmanAPI) -> tuple[Engine, list[str]]:
    said: list[str] = []
    made = Engine(api)  # type: ignore[arg-type]
    made.say = said.append
    return made, said


# -- identity -------------------------------------------------------------------------------


def test_podman_is_named_with_its_own_version_not_as_docker() -> None:
    """BUG (issue 20): doctor said "Docker 4.3.1" of Podman 4.3.1."""
    rootful = podman.identify(PODMAN_VERSION, {"CgroupDriver": "cgroupfs", "CgroupVersion": "1"})
    assert (
        rootful.describe() == "Podman 4.3.1 (API 1.41, rootful, cgroup manager cgroupfs, cgroup v1)"
    )
    rootless = podman.identify(PODMAN_VERSION, {"Rootless": True, "CgroupDriver": "cgroupfs"})
    assert rootless.maps_root_to_caller and rootless.describe().startswith(
        "Podman 4.3.1 (API 1.41, rootless"
    )
    docker = podman.identify(DOCKER_VERSION, {"CgroupDriver": "cgroupfs", "CgroupVersion": "1"})
    assert (
        docker.describe() == "Docker 20.10.24+dfsg1 (API 1.41, cgroup manager cgroupfs, cgroup v1)"
    )
    assert not docker.is_podman and not docker.maps_root_to_caller


# -- registry trust --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "repository", "params"),
    [
        ("Podman", "127.0.0.1:5000/org/app", {"tlsVerify": "false"}),
        ("Podman", "localhost:5000/org/app", {"tlsVerify": "false"}),
        ("Podman", "registry.example.com:5000/org/app", {}),
        ("Podman", "org/app", {}),  # Docker Hub
        ("Docker", "127.0.0.1:5000/org/app", {}),  # dockerd allows loopback by itself
    ],
)
def test_only_a_loopback_registry_on_podman_skips_tls_verification(
    name: str, repository: str, params: dict[str, str]
) -> None:
    assert podman.registry_params(EngineIdentity(name, "1", "1.41"), repository) == params


def test_a_push_to_a_loopback_registry_asks_podman_not_to_verify_tls() -> None:
    """BUG (issue 20): Podman refused the plain-http local registry (server gave HTTP response
    to HTTPS client); and its compat push sends no ``aux`` digest, only the status line."""
    api = PodmanAPI()
    made, _ = engine(api)
    digest = made.push(
        "127.0.0.1:5000/org/app", "1.0.0", credentials=None, retries=NO_WAIT, output=print
    )
    assert digest == DIGEST
    assert api.calls == [
        (
            "post",
            ("/v1.41/images/127.0.0.1:5000/org/app/push", {"tag": "1.0.0", "tlsVerify": "false"}),
        )
    ]
    made.push("r.example.com/org/app", "1.0.0", credentials=None, retries=NO_WAIT, output=print)
    assert api.calls[-1] == ("sdk push", "r.example.com/org/app")  # TLS verified there


def test_a_pull_from_a_loopback_registry_goes_through_libpod_without_tls_verification() -> None:
    """Podman's compat pull ignores tlsVerify; its libpod pull takes it."""
    api = PodmanAPI()
    made, _ = engine(api)
    made.pull(
        "127.0.0.1:5000/org/app-build-cache",
        DIGEST,
        credentials=None,
        retries=NO_WAIT,
        output=print,
    )
    url, params = api.calls[-1][1]
    assert url == "/v1.41/libpod/images/pull"
    assert params == {
        "reference": f"127.0.0.1:5000/org/app-build-cache@{DIGEST}",
        "tlsVerify": "false",
    }
    made.pull("r.example.com/org/app", DIGEST, credentials=None, retries=NO_WAIT, output=print)
    assert api.calls[-1] == ("sdk pull", "r.example.com/org/app")


def test_a_pull_error_in_podmans_libpod_stream_is_an_error() -> None:
    api = PodmanAPI()
    api._post = lambda url, **kw: Response([{"error": "manifest unknown"}])  # type: ignore[method-assign]
    made, _ = engine(api)
    with pytest.raises(DlcError, match="manifest unknown"):
        made.pull("127.0.0.1:5000/org/app", DIGEST, credentials=None, retries=NO_WAIT, output=print)


def test_a_rootless_podman_gets_the_ca_in_the_users_certs_d(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    rootless = EngineIdentity("Podman", "4.3.1", "1.41", rootless=True)
    assert certs_dirs(rootless)[0] == tmp_path / ".config" / "containers" / "certs.d"
    assert certs_dirs(EngineIdentity("Podman", "4.3.1", "1.41"))[0] == CERTS_D
    assert certs_dirs(EngineIdentity("Docker", "20.10", "1.41")) == [CERTS_D]


# -- containers ------------------------------------------------------------------------------


def test_without_an_init_binary_containers_run_without_init_and_it_is_said_once() -> None:
    """BUG (issue 20): container-init binary not found on the host (/usr/libexec/podman/…)."""
    api = PodmanAPI(rlimits=False)
    made, said = engine(api)
    first = made.start_container("img", command=["tail", "-f", "/dev/null"])
    second = made.start_container("img")
    assert api.containers == [first, second]
    assert [c[1]["init"] for c in api.calls if c[0] == "create"] == [True, False, False]
    assert said == [
        "the engine has no container init binary (/usr/libexec/podman/catatonit): containers run "
        "without one (apt-get install catatonit to add it)"
    ]


def test_an_engine_with_init_keeps_it() -> None:
    api = PodmanAPI(init=True, rlimits=False)
    made, said = engine(api)
    made.start_container("img")
    assert [c[1]["init"] for c in api.calls if c[0] == "create"] == [True]
    assert said == []


def test_rlimits_podman_cannot_raise_are_given_as_the_services_own() -> None:
    """Rootful Podman asks for nofile=nproc=1048576, which fails without CAP_SYS_RESOURCE."""
    api = PodmanAPI(init=True)
    made, said = engine(api)
    container = made.start_container("img")
    assert api.containers == [container]  # the refused one was removed
    ulimits = {u["Name"]: (u["Soft"], u["Hard"]) for u in api.calls[-1][1]["ulimits"]}
    assert set(ulimits) == {"nofile", "nproc"}
    assert all(soft == hard > 0 for soft, hard in ulimits.values())
    assert len(said) == 1 and said[0].startswith("the engine cannot raise containers' rlimits")
    made.start_container("img")
    assert len(said) == 1


def test_a_refusal_that_is_neither_is_one_error_line() -> None:
    api = PodmanAPI(init=True, rlimits=False)
    api.start = lambda cid: (_ for _ in ()).throw(APIError("500 no space left"))  # type: ignore[method-assign]
    made, _ = engine(api)
    with pytest.raises(EngineError, match="cannot start img: 500 no space left"):
        made.start_container("img")
    assert api.containers == []


def test_the_service_limits_are_read_through_the_sockets_peer(tmp_path: Path) -> None:
    """The peer of a unix socket we serve is this process: its hard limits come back."""
    path = tmp_path / "s.sock"
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(path))
    server.listen(1)
    accepted = threading.Thread(target=lambda: server.accept()[0].close(), daemon=True)  # noqa: PLW0108
    accepted.start()
    import resource  # noqa: PLC0415

    limits = podman.service_limits(path)
    accepted.join(5)
    server.close()
    expected = {
        name: hard if hard != resource.RLIM_INFINITY else podman.FALLBACK_LIMIT
        for name, hard in (
            ("nofile", resource.getrlimit(resource.RLIMIT_NOFILE)[1]),
            ("nproc", resource.getrlimit(resource.RLIMIT_NPROC)[1]),
        )
    }
    assert limits == expected
    assert podman.service_limits(None) == {"nofile": 4096, "nproc": 4096}
    assert podman.service_limits(tmp_path / "absent.sock") == {"nofile": 4096, "nproc": 4096}


@pytest.mark.parametrize(
    ("rootless", "docker_host"), [(True, ""), (False, ""), (False, "tcp://h:2376")]
)
def test_the_go_steps_run_as_root_where_that_root_is_the_caller(
    rootless: bool, docker_host: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under a rootless user namespace uid:gid is a subordinate id that cannot write the
    caller's checkout; the container's root is the caller."""
    monkeypatch.setenv("DOCKER_HOST", docker_host)
    made, _ = engine(PodmanAPI(rootless=rootless))
    mine = f"{os.getuid()}:{os.getgid()}"
    assert made.step_user() == ("0:0" if rootless or docker_host else mine)


# -- images ----------------------------------------------------------------------------------


def test_an_import_is_tagged_by_the_id_podman_reports() -> None:
    """Podman's compat import ignores the name: the image was left untagged."""
    api = PodmanAPI()
    made, _ = engine(api)
    made.import_image(Path("/dev/null"), "dlc-local/runtime", "1", [])
    assert api.images == {"dlc-local/runtime:1": DIGEST}


def test_a_pull_whose_stream_says_it_failed_is_not_available() -> None:
    """BUG (issue 20): setup.base-images said the base images were available: Podman reports
    an unreachable registry inside the pull's stream, and the SDK does not raise."""
    api = PodmanAPI()
    api.pull = lambda repository, **kw: iter([{"error": "pinging container registry"}])  # type: ignore[method-assign]
    made, _ = engine(api)
    assert made.try_pull("golang:1.26.1-alpine") is False
    api.pull = lambda repository, **kw: iter([{"status": "done"}])  # type: ignore[method-assign]
    assert made.try_pull("golang:1.26.1-alpine") is False  # and still not in the engine
    api.images["golang:1.26.1-alpine"] = DIGEST
    assert made.try_pull("golang:1.26.1-alpine") is True


# -- doctor ----------------------------------------------------------------------------------


def test_init_path_is_read_from_containers_conf(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    system = tmp_path / "containers.conf"
    assert podman.init_path([system]) == podman.DEFAULT_INIT_PATH
    system.write_text('[engine]\ninit_path = "/usr/bin/tini"\n')
    assert podman.init_path([system]) == Path("/usr/bin/tini")
    user = tmp_path / ".config" / "containers" / "containers.conf"
    user.parent.mkdir(parents=True)
    user.write_text('[engine]\ninit_path = "/opt/init"\n')
    assert podman.init_path([system]) == Path("/opt/init")


def test_doctor_warns_of_a_missing_init_binary_and_names_the_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    monkeypatch.setattr(podman, "init_path", lambda: tmp_path / "catatonit")
    with pytest.raises(DoctorWarning, match=r"apt-get install catatonit"):
        checks.init_binary()
    (tmp_path / "catatonit").write_text("")
    assert checks.init_binary() == str(tmp_path / "catatonit")


def test_doctor_fails_a_systemd_cgroup_manager_without_systemd(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    monkeypatch.setattr(podman, "systemd_running", lambda: False)
    systemd = EngineIdentity("Podman", "4.3.1", "1.41", cgroup_driver="systemd", cgroup_version="1")
    with pytest.raises(EngineError) as caught:
        checks.cgroup_manager(systemd)
    assert 'cgroup_manager = "cgroupfs"' in caught.value.one_line()
    cgroupfs = EngineIdentity(
        "Podman", "4.3.1", "1.41", cgroup_driver="cgroupfs", cgroup_version="1"
    )
    assert checks.cgroup_manager(cgroupfs) == "cgroupfs on cgroup v1"


def test_doctor_fails_a_tun_device_the_rootless_user_cannot_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    monkeypatch.setattr(podman, "tun_usable", lambda tun: False)
    with pytest.raises(DlcError) as caught:
        checks.rootless_network()
    assert "chmod 0666 /dev/net/tun" in caught.value.one_line()


def test_doctor_warns_of_a_rootless_vfs_store() -> None:
    vfs = EngineIdentity("Podman", "4.3.1", "1.41", rootless=True, storage_driver="vfs")
    with pytest.raises(DoctorWarning, match=r'driver = "overlay"'):
        checks.storage_driver(vfs)
    overlay = EngineIdentity("Podman", "4.3.1", "1.41", rootless=True, storage_driver="overlay")
    assert checks.storage_driver(overlay) == "overlay"
