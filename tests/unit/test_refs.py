"""dlc_tasks.model.refs: every value that reaches an image reference is checked first."""

from __future__ import annotations

import pytest

from dlc_tasks.errors import InvalidValue
from dlc_tasks.model.refs import (
    Repository,
    check_digest,
    check_hash,
    check_path_component,
    check_registry,
    check_tag,
)

DIGEST = "sha256:" + "ab" * 32


@pytest.mark.parametrize("tag", ["1.2.3", "1.2.3-rc.1", "latest", "_x", "a" * 128, "0123abc"])
def test_valid_tags(tag: str) -> None:
    assert check_tag(tag) == tag


@pytest.mark.parametrize(
    "tag",
    [
        "$(touch /tmp/x)",
        "a;b",
        "-rf",
        ".hidden",
        "a\nb",
        "a\n",
        "v\u00e9",
        "a" * 129,
        "",
        "a:b",
        None,
    ],
)
def test_invalid_tags(tag: object) -> None:
    with pytest.raises(InvalidValue, match="invalid tag"):
        check_tag(tag)


@pytest.mark.parametrize(
    "registry",
    ["host:5000", "127.0.0.1:5000", "[::1]:5000", "localhost", "registry.example.com", "a-b.c"],
)
def test_valid_registries(registry: str) -> None:
    assert check_registry(registry) == registry


@pytest.mark.parametrize(
    "registry", ["http://x", "a b", "x/y", "", "-x", "host:", "host:port", "h\u00f6st"]
)
def test_invalid_registries(registry: str) -> None:
    with pytest.raises(InvalidValue, match="invalid registry"):
        check_registry(registry)


@pytest.mark.parametrize("name", ["arcodange", "dance-lessons-coach", "a_b", "a__b", "a.b", "x9"])
def test_valid_path_components(name: str) -> None:
    assert check_path_component(name, "org") == name


@pytest.mark.parametrize("name", ["Arcodange", "UPPER", "-a", "a-", "a/b", "", "a b", "a..b"])
def test_invalid_path_components(name: str) -> None:
    with pytest.raises(InvalidValue, match="invalid org"):
        check_path_component(name, "org")


def test_repository_tagged_and_pinned() -> None:
    repo = Repository("127.0.0.1:5000", "arcodange", "svc-build-cache")
    assert repo.path == "arcodange/svc-build-cache"
    assert str(repo) == "127.0.0.1:5000/arcodange/svc-build-cache"
    assert repo.tagged("1.2.3") == "127.0.0.1:5000/arcodange/svc-build-cache:1.2.3"
    assert repo.pinned(DIGEST) == f"127.0.0.1:5000/arcodange/svc-build-cache@{DIGEST}"


def test_repository_refuses_bad_parts() -> None:
    repo = Repository("registry.example.com", "org", "team/app")
    assert repo.tagged("v1") == "registry.example.com/org/team/app:v1"
    with pytest.raises(InvalidValue):
        repo.tagged("$(id)")
    with pytest.raises(InvalidValue):
        repo.pinned("sha256:" + "AB" * 32)
    with pytest.raises(InvalidValue):
        Repository("registry.example.com", "Org", "app")
    with pytest.raises(InvalidValue):
        Repository("http://registry", "org", "app")
    with pytest.raises(InvalidValue):
        Repository("registry.example.com", "org", "App")
    with pytest.raises(InvalidValue, match="longer than 255"):
        Repository("r", "org", "/".join(["a" * 60] * 5))


def test_check_hash_accepts_lowercase_hex_only() -> None:
    assert check_hash("0" * 16) == "0" * 16
    assert check_hash("abcdef0123456789" * 4) == "abcdef0123456789" * 4
    for bad in ["ABCDEF0123456789", "abc", "0" * 15, "0" * 65, "g" * 16]:
        with pytest.raises(InvalidValue, match="dependency hash"):
            check_hash(bad)


def test_check_digest() -> None:
    assert check_digest(DIGEST) == DIGEST
    for bad in ["ab" * 32, "sha256:" + "ab" * 31, "sha512:" + "ab" * 32]:
        with pytest.raises(InvalidValue):
            check_digest(bad)
