"""Paths and values from configuration are confined and validated (issue 11, item 3)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dlc_tasks.config import Settings
from dlc_tasks.errors import InvalidValue
from dlc_tasks.steps.prodinputs import context_files
from tests.support.fakes import World, make_project

PATH_KEYS = [
    "hash_file",
    "dockerfile_prod",
    "dockerfile_prod_template",
    "dockerfile_build",
    "dockerfile_dev",
    "version_file",
    "coverage_file",
]


def settings(project: Path, **values: object) -> Settings:
    return Settings.from_mapping({"project_dir": str(project), **values})


@pytest.mark.parametrize("key", PATH_KEYS)
def test_a_path_outside_the_project_is_refused_naming_the_key(tmp_path: Path, key: str) -> None:
    with pytest.raises(InvalidValue) as caught:
        settings(tmp_path, **{key: "../../../etc/cron.d/x"})
    line = caught.value.one_line()
    assert key in line and "outside project_dir" in line and "\n" not in line


@pytest.mark.parametrize("key", PATH_KEYS)
def test_a_path_through_a_symlinked_directory_out_of_the_project_is_refused(
    tmp_path: Path, key: str
) -> None:
    project, outside = tmp_path / "p", tmp_path / "outside"
    project.mkdir()
    outside.mkdir()
    (project / "gen").symlink_to(outside)
    with pytest.raises(InvalidValue, match=key):
        settings(project, **{key: "gen/file"})


def test_paths_inside_the_project_resolve(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    s = settings(tmp_path, hash_file="sub/../deps.env", coverage_file="sub/c.out")
    assert s.hash_file == tmp_path.resolve() / "deps.env"
    assert s.coverage_file == tmp_path.resolve() / "sub" / "c.out"


def test_prod_files_through_a_symlinked_directory_are_refused(tmp_path: Path) -> None:
    project, home = tmp_path / "p", tmp_path / "home"
    project.mkdir()
    (home / ".docker").mkdir(parents=True)
    (home / ".docker" / "config.json").write_text('{"auths": {}}')
    (project / "etc").symlink_to(home / ".docker")
    with pytest.raises(InvalidValue, match="prod_files"):
        settings(project, prod_files=["etc/config.json"])


def test_a_prod_files_entry_that_is_a_symlink_sends_its_file(tmp_path: Path) -> None:
    world = World(make_project(tmp_path / "module"))
    (world.project / "conf").mkdir()
    (world.project / "conf" / "real.yaml").write_text("a: 1\n")
    os.symlink("conf/real.yaml", world.project / "config.yaml")
    run = world.run(prod_files=["config.yaml"])
    sent = context_files(run, run.settings.targets()[0])["config.yaml"]
    assert not sent.is_symlink()
    assert sent == (world.project / "conf" / "real.yaml").resolve()


def test_a_prod_files_link_retargeted_outside_after_configuration_is_refused(
    tmp_path: Path,
) -> None:
    world = World(make_project(tmp_path / "module"))
    (world.project / "config.yaml").write_text("a: 1\n")
    run = world.run(prod_files=["config.yaml"])
    secret = tmp_path / "secret.json"
    secret.write_text("{}")
    (world.project / "config.yaml").unlink()
    (world.project / "config.yaml").symlink_to(secret)
    with pytest.raises(InvalidValue, match="prod_files"):
        context_files(run, run.settings.targets()[0])


@pytest.mark.parametrize(
    "host", ["127.0.0.1\nstorage: x", "a b", "-rf", "host:5000", "", "127.0.0.1 ", "é.example"]
)
def test_a_hostile_local_registry_host_is_refused(tmp_path: Path, host: str) -> None:
    with pytest.raises(InvalidValue, match=r"local_registry\.host"):
        settings(tmp_path, local_registry={"host": host})


@pytest.mark.parametrize(
    "host",
    [
        "fe80::1%x\nstorage: {inmemory: {}}\n#",  # a scope id may hold anything to ipaddress
        "::1%lo",
        "::1%\t",
        "127.0.0.1\x00",
        "127.0.0.1\x7f",
    ],
)
def test_a_scope_id_or_a_control_character_in_the_local_registry_host_is_refused(
    tmp_path: Path, host: str
) -> None:
    with pytest.raises(InvalidValue, match=r"local_registry\.host") as caught:
        settings(tmp_path, local_registry={"host": host})
    assert "\n" not in caught.value.one_line()


@pytest.mark.parametrize("host", ["::1", "fe80::1", "::ffff:127.0.0.1"])
def test_an_ipv6_local_registry_host_is_refused_in_one_line(tmp_path: Path, host: str) -> None:
    """Engine 20.10 cannot name an image in a registry at [::1]:5000 (invalid reference
    format), and an unbracketed ::1:5000 is ambiguous: IPv4 loopback it is."""
    with pytest.raises(InvalidValue, match=r"local_registry\.host .*IPv6") as caught:
        settings(tmp_path, local_registry={"host": host})
    assert "set dlc.local_registry.host to 127.0.0.1" in caught.value.one_line()


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "registry.internal"])
def test_a_plain_local_registry_host_is_accepted(tmp_path: Path, host: str) -> None:
    assert settings(tmp_path, local_registry={"host": host}).local_registry_host == host


@pytest.mark.parametrize("value", ["/tmp/x\nhttp: y", "/tmp/a: b", "/tmp/x#y"])
def test_a_local_registry_data_dir_that_would_break_its_yaml_is_refused(
    tmp_path: Path, value: str
) -> None:
    with pytest.raises(InvalidValue, match=r"local_registry\.data_dir"):
        settings(tmp_path, local_registry={"data_dir": value})


def test_a_port_out_of_range_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidValue, match=r"local_registry\.port"):
        settings(tmp_path, local_registry={"port": 70000})


@pytest.mark.parametrize(
    "value",
    [
        "https://user:s3cret@proxy.example/go",
        "https://token@proxy.example",
        "https://proxy.golang.org,https://u:p@private.example|direct",
    ],
)
def test_build_args_with_credentials_are_refused_pointing_to_the_secure_way(
    tmp_path: Path, value: str
) -> None:
    with pytest.raises(InvalidValue, match="GOPROXY holds a URL with credentials") as caught:
        settings(tmp_path, build_args={"GOPROXY": value})
    line = caught.value.one_line()
    assert "goproxy_dir" in line and "secret" in line
    assert "s3cret" not in line and "u:p" not in line  # the value is never printed


@pytest.mark.parametrize(
    "value", ["https://proxy.golang.org,direct", "golang:1.27", "file:///goproxy", "a@b"]
)
def test_build_args_without_credentials_are_accepted(tmp_path: Path, value: str) -> None:
    assert settings(tmp_path, build_args={"GOPROXY": value}).build_args == {"GOPROXY": value}


@pytest.mark.parametrize(
    "link",
    [".dlc", ".dlc/bin", ".dlc/state.json", ".dlc/history.jsonl", ".dlc/bin/app"],
)
@pytest.mark.parametrize("inside", [False, True], ids=["to-elsewhere", "to-inside"])
def test_a_symlink_where_the_tool_keeps_its_files_is_refused(
    tmp_path: Path, link: str, inside: bool
) -> None:
    """A committed ``.dlc -> /elsewhere`` sent state, report, history, the binary and the
    copy-back staging outside project_dir; inside, they would land in the source tree."""
    project, elsewhere = tmp_path / "project", tmp_path / "elsewhere"
    project.mkdir()
    elsewhere.mkdir()
    target = (project / "build") if inside else elsewhere
    target.mkdir(exist_ok=True)
    (project / link).parent.mkdir(parents=True, exist_ok=True)
    (project / link).symlink_to(target / Path(link).name)
    with pytest.raises(InvalidValue, match=rf"{link} is a symlink") as caught:
        settings(project, binary_name="app")
    assert "\n" not in caught.value.one_line()
    assert f"rm {link}" in caught.value.one_line()
    assert list(elsewhere.iterdir()) == []


def test_a_real_state_folder_is_accepted(tmp_path: Path) -> None:
    (tmp_path / ".dlc" / "bin").mkdir(parents=True)
    (tmp_path / ".dlc" / "state.json").write_text("{}")
    assert settings(tmp_path).state_dir == tmp_path / ".dlc"


@pytest.mark.parametrize(
    ("value", "match"),
    [
        ("https://ci:s3cret@gitea.example.com/acme/app", "credentials"),
        ("https://gitea.example.com/acme/app\nRUN id", "control character"),
        ("git@gitea.example.com:acme/app.git", "http"),
    ],
)
def test_a_source_url_that_would_publish_a_secret_or_break_the_label_is_refused_up_front(
    tmp_path: Path, value: str, match: str
) -> None:
    # It becomes the org.opencontainers.image.source label of every image: refused before any
    # step runs (a control character used to stop the run at prod, after build and test).
    with pytest.raises(InvalidValue, match=match) as caught:
        settings(tmp_path, source_url=value)
    assert "s3cret" not in caught.value.one_line()


def test_a_plain_source_url_is_kept(tmp_path: Path) -> None:
    url = "https://gitea.example.com/acme/app"
    assert settings(tmp_path, source_url=url).source_url == url
