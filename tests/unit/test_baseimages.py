"""dlc_tasks.clients.baseimages: what the local Go base image's root filesystem holds."""

from __future__ import annotations

import tarfile

import pytest

from dlc_tasks.clients.baseimages import _goroot_filter


@pytest.mark.parametrize(
    ("name", "kept"),
    [
        ("usr/local/go/src/net/http/server.go", True),
        ("usr/local/go/pkg/tool/linux_amd64/vet", True),
        ("usr/local/go/src/net/http/testdata/file", False),  # only `go test std` reads it
        ("usr/local/go/src/cmd/go/testdata", False),
        ("usr/local/go/__init__.py", False),  # the wheel's, not Go's
        ("usr/local/go/lib/time/zoneinfo.zip", True),
    ],
)
def test_the_goroot_keeps_what_go_builds_with(name: str, kept: bool) -> None:
    info = tarfile.TarInfo(name)
    info.uid = 1000
    result = _goroot_filter(info)
    assert (result is not None) is kept
    if result is not None:
        assert (result.uid, result.gid) == (0, 0)
