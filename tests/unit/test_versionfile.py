"""dlc_tasks.model.versionfile: the VERSION file is data, never shell, and yields the push tags."""

from __future__ import annotations

from pathlib import Path

import pytest
from invoke.exceptions import Exit

from dlc_tasks.errors import VersionFileError
from dlc_tasks.model.versionfile import Version, image_tags, parse_version, read_version
from tests.unit.conftest import invoke_tasks

SHA = "0123456789ab"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("MAJOR=1\nMINOR=2\nPATCH=3\n", Version(1, 2, 3)),
        ("MAJOR=1\nMINOR=2\nPATCH=3\nPRERELEASE=\n", Version(1, 2, 3)),
        ("MAJOR=1\nMINOR=2\nPATCH=3\nPRERELEASE=rc.1\n", Version(1, 2, 3, "rc.1")),
        ('MAJOR="10"\nMINOR=\'0\'\nPATCH=7\nPRERELEASE="beta-2"\n', Version(10, 0, 7, "beta-2")),
        ("export MAJOR=1\nexport MINOR=2\nexport PATCH=3\n", Version(1, 2, 3)),
        ("# the version\n\nMAJOR=1\n  # indented comment\nMINOR=2\nPATCH=3\n", Version(1, 2, 3)),
        ("MAJOR=1\r\nMINOR=2\r\nPATCH=3\r\nPRERELEASE=rc.1\r\n", Version(1, 2, 3, "rc.1")),
        ("PATCH=0\nMINOR=0\nMAJOR=0", Version(0, 0, 0)),
    ],
)
def test_parses_valid_files(text: str, expected: Version) -> None:
    assert parse_version(text) == expected


def test_str_is_the_image_version() -> None:
    assert str(Version(1, 2, 3)) == "1.2.3"
    assert str(Version(1, 2, 3, "rc.1")) == "1.2.3-rc.1"


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("MAJOR=1\nMINOR=2\n", "PATCH is missing"),
        ("MAJOR=1\nMINOR=two\nPATCH=3\n", "MINOR"),
        ("MAJOR=1\nMINOR=2\nPATCH=-3\n", "PATCH"),
        ("MAJOR=01\nMINOR=2\nPATCH=3\n", "MAJOR"),
        ("MAJOR=\u0661\nMINOR=2\nPATCH=3\n", "MAJOR"),
        ("MAJOR=1\nMINOR=2\nPATCH=3\nPRERELEASE=rc+meta\n", "PRERELEASE"),
        ("MAJOR=1\nMINOR=2\nPATCH=3\nPRERELEASE=" + "r" * 129 + "\n", "PRERELEASE"),
        ("MAJOR=1\nMINOR=2\nPATCH=3\nPRERELEASE=r\u00e9\n", "PRERELEASE"),
        ("MAJOR=1\nMINOR=2\nPATCH=3\nBUILD=7\n", "unexpected line"),
        ("MAJOR=1\nminor=2\nPATCH=3\n", "unexpected line"),
        ("MAJOR=1\nMINOR=2\nPATCH=3\nMAJOR=4\n", "set twice"),
        ("MAJOR=1\nMINOR=2\nPATCH=3\necho hi\n", "unexpected line"),
    ],
)
def test_refuses_invalid_files(text: str, why: str) -> None:
    with pytest.raises(VersionFileError, match=why):
        parse_version(text)


@pytest.mark.parametrize("key", ["MAJOR", "PRERELEASE"])
def test_command_substitution_is_refused_and_never_run(tmp_path: Path, key: str) -> None:
    marker = tmp_path / "x"
    values = {"MAJOR": "1", "MINOR": "2", "PATCH": "3", key: f"$(touch {marker})"}
    version_file = tmp_path / "VERSION"
    version_file.write_text("".join(f"{k}={v}\n" for k, v in values.items()))
    with pytest.raises(VersionFileError, match=key):
        read_version(version_file)
    assert not marker.exists()


def test_read_version_of_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(VersionFileError, match="not found"):
        read_version(tmp_path / "VERSION")


def test_image_tags_put_version_then_sha_then_latest() -> None:
    assert image_tags(Version(1, 2, 3), SHA) == ["1.2.3", SHA, "latest"]
    assert image_tags(Version(1, 2, 3, "rc.1"), SHA, "always") == ["1.2.3-rc.1", SHA, "latest"]


def test_latest_policy_releases_skips_latest_only_for_a_prerelease() -> None:
    assert image_tags(Version(1, 2, 3, "rc.1"), SHA, "releases") == ["1.2.3-rc.1", SHA]
    assert image_tags(Version(1, 2, 3), SHA, "releases") == ["1.2.3", SHA, "latest"]


def test_unknown_latest_policy_raises() -> None:
    with pytest.raises(VersionFileError, match="latest policy"):
        image_tags(Version(1, 2, 3), SHA, "never")


@pytest.mark.parametrize(
    ("part", "prerelease", "expected"),
    [
        ("major", "", "2.0.0"),
        ("minor", "", "1.3.0"),
        ("patch", "", "1.2.4"),
        ("minor", "rc.1", "1.3.0-rc.1"),
    ],
)
def test_bumped(part: str, prerelease: str, expected: str) -> None:
    assert str(Version(1, 2, 3, "beta").bumped(part, prerelease)) == expected


def test_bumped_refuses_unknown_part_and_bad_prerelease() -> None:
    with pytest.raises(VersionFileError, match="cannot bump"):
        Version(1, 2, 3).bumped("build")
    with pytest.raises(VersionFileError, match="PRERELEASE"):
        Version(1, 2, 3).bumped("patch", "rc+1")


@pytest.mark.parametrize(
    "version", [Version(0, 0, 0), Version(1, 2, 3, "rc.1"), Version(9, 10, 11)]
)
def test_render_round_trips(version: Version) -> None:
    assert parse_version(version.render()) == version


def test_bump_task_rewrites_version_and_changes_nothing_on_bad_input(tmp_path: Path) -> None:
    (tmp_path / "VERSION").write_text("MAJOR=1\nMINOR=4\nPATCH=2\nPRERELEASE=\n")
    dlc = {"project_dir": str(tmp_path)}
    invoke_tasks(("version.bump", {"part": "minor", "pre": "rc.1"}), dlc=dlc)
    assert parse_version((tmp_path / "VERSION").read_text()) == Version(1, 5, 0, "rc.1")
    before = (tmp_path / "VERSION").read_text()
    with pytest.raises(Exit):
        invoke_tasks(("version.bump", {"part": "minor", "pre": "rc+meta"}), dlc=dlc)
    assert (tmp_path / "VERSION").read_text() == before
