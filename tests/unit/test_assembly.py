"""The assembled path's pure parts and ``push``'s tag rule for an assembled image (issue 18):
references split, the Go build information read from a binary's bytes, and
``version_tags: immutable`` accepting a release tag that already names the same digest."""

from __future__ import annotations

from pathlib import Path

import pytest

from dlc_tasks.errors import InvalidValue, NotFoundError
from dlc_tasks.model import gobinary
from dlc_tasks.model.stamps import AssembledStamp, ProdStamp
from dlc_tasks.steps import make_step
from dlc_tasks.steps.assemble import split_reference
from dlc_tasks.steps.push import VersionTagTaken
from tests.support.fakes import World, make_project

INDEX = "sha256:" + "1" * 64
OTHER = "sha256:" + "2" * 64
REPO = "acme/fake"


@pytest.mark.parametrize(
    ("ref", "parts"),
    [
        ("dlc-local/runtime:1", (None, "dlc-local/runtime", "1")),
        ("alpine", (None, "alpine", "latest")),
        (f"127.0.0.1:5000/acme/x@{INDEX}", ("127.0.0.1:5000", "acme/x", INDEX)),
        ("registry.test/acme/x:1.0", ("registry.test", "acme/x", "1.0")),
        ("localhost:5000/x", ("localhost:5000", "x", "latest")),
    ],
)
def test_references_split_into_registry_repository_and_reference(
    ref: str, parts: tuple[str | None, str, str]
) -> None:
    assert split_reference(ref) == parts


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def test_the_build_information_is_read_from_the_binary_as_go_version_m_prints_it() -> None:
    modinfo = "path\texample.com/svc\nmod\texample.com/svc\t(devel)\t\nbuild\tCGO_ENABLED=0\n"
    wrapped = "0" * 16 + modinfo + "1" * 16
    header = gobinary.MAGIC + b"\x08\x02" + b"\x00" * 16
    blob = b"\x00" * 48 + header + _varint(8) + b"go1.27.3" + _varint(len(wrapped))
    blob += wrapped.encode() + b"\x00" * 7
    assert gobinary.version_m(blob, "svc") == (
        "svc: go1.27.3\n\tpath\texample.com/svc\n\tmod\texample.com/svc\t(devel)\t\n"
        "\tbuild\tCGO_ENABLED=0\n"
    )
    with pytest.raises(InvalidValue, match="no Go build information"):
        gobinary.version_m(b"\x7fELF" + b"\x00" * 64, "svc")


@pytest.fixture
def world(tmp_path: Path) -> World:
    return World(make_project(tmp_path / "module"))


def _assembled(world: World, **values: object) -> None:
    """As prod leaves an assembled image: its stamp, its index in the registry by digest."""
    run = world.run(**values)
    stamp = AssembledStamp("k", INDEX, 10, REPO, {"linux/amd64": "sha256:" + "3" * 64}, {}, "")
    run.state.save("prod", stamp)
    world.registry.manifests[(REPO, INDEX)] = INDEX


def test_an_assembled_stamp_is_not_an_engine_image_and_back() -> None:
    assert AssembledStamp.from_json(ProdStamp("k", "sha256:ab", 1).to_json()) is None
    stamp = AssembledStamp("k", INDEX, 10, REPO, {}, {}, "")
    assert ProdStamp.from_json(stamp.to_json()) == ProdStamp("k", INDEX, 10)


def test_immutable_accepts_a_release_tag_already_naming_the_same_digest(world: World) -> None:
    values = {"platforms": ["linux/amd64"], "version_tags": "immutable"}
    _assembled(world, **values)
    world.registry.manifests[(REPO, "1.2.3")] = INDEX  # another runner finished the release
    decision = make_step("push").decide(world.run(**values))
    assert decision.run
    ((_, part),) = decision.planned().parts
    plan = part.planned()
    assert "1.2.3" in plan.done and plan.previous is None and plan.assembled


def test_immutable_refuses_a_release_tag_naming_another_digest(world: World) -> None:
    values = {"platforms": ["linux/amd64"], "version_tags": "immutable"}
    _assembled(world, **values)
    world.registry.manifests[(REPO, "1.2.3")] = OTHER
    with pytest.raises(VersionTagTaken, match="another image"):
        make_step("push").decide(world.run(**values))


def test_push_of_an_assembled_image_needs_it_in_the_registry(world: World) -> None:
    _assembled(world, platforms=["linux/amd64"])
    del world.registry.manifests[(REPO, INDEX)]
    with pytest.raises(NotFoundError, match="is not in the registry"):
        make_step("push").decide(world.run(platforms=["linux/amd64"]))
