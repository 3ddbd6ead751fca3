"""dlc_tasks.model.gobuildinfo, .sbom and .provenance: ``go version -m`` read, an SPDX 2.3
document spdx-tools validates, an SLSA v1 statement the in-toto package validates."""

from __future__ import annotations

import base64
import hashlib

import pytest

from dlc_tasks.errors import InvalidValue
from dlc_tasks.model import provenance, sbom
from dlc_tasks.model.gobuildinfo import Module, parse
from dlc_tasks.model.oci.descriptor import Descriptor
from dlc_tasks.model.oci.platform import Platform
from tests.support.publishing import check_statement, spdx_errors

H1 = "h1:" + base64.b64encode(hashlib.sha256(b"x/text").digest()).decode()
OUTPUT = (
    "/work/.dlc/bin/server: go1.27.3\n"
    "\tpath\texample.com/svc/cmd/server\n"
    "\tmod\texample.com/svc\t(devel)\t\n"
    f"\tdep\tgolang.org/x/text\tv0.14.0\t{H1}\n"
    "\tdep\texample.com/old\tv1.0.0\n"
    f"\t=>\texample.com/new\tv1.1.0+incompatible\t{H1}\n"
    "\tdep\texample.com/vendored\tv0.3.0\n"
    "\tbuild\t-buildmode=exe\n"
    '\tbuild\t-gcflags="all=-N -l \\"quoted\\""\n'
    '\tbuild\t"odd key"=1\n'
    "\tbuild\tCGO_ENABLED=0\n"
    "\tbuild\tGOARCH=arm64\n"
    "\tbuild\tGOOS=linux\n"
)
EPOCH = 1_790_000_000
ARM64 = Platform.parse("linux/arm64")


def test_go_version_m_is_read_whole() -> None:
    info = parse(OUTPUT)
    assert info.go_version == "go1.27.3"
    assert info.path == "example.com/svc/cmd/server"
    assert info.main == Module("example.com/svc", "(devel)", "")
    assert info.deps[0] == Module("golang.org/x/text", "v0.14.0", H1)
    assert info.deps[1].effective == Module("example.com/new", "v1.1.0+incompatible", H1)
    assert info.deps[2].sum == ""  # vendored: no sum
    assert info.setting("-gcflags") == 'all=-N -l "quoted"'
    assert info.setting("odd key") == "1"
    assert info.setting("GOARCH") == "arm64"


@pytest.mark.parametrize(
    "text", ["", "not go output", "x: go1.27\n\tmystery\tline\n", "x: go1.27\n\tbuild\tnoequals\n"]
)
def test_other_output_is_refused(text: str) -> None:
    with pytest.raises(InvalidValue):
        parse(text)


def document() -> dict[str, object]:
    return sbom.document(
        parse(OUTPUT),
        image=sbom.ImageRef("registry.example:5000/acme/svc", "sha256:" + "a" * 64),
        platform=ARM64,
        base=sbom.ImageRef("registry.example:5000/dlc-local/runtime", "sha256:" + "b" * 64),
        namespace="https://registry.example:5000/acme/svc/spdx",
        epoch=EPOCH,
        tool="dlc-tasks-0.1.0",
    )


def test_the_sbom_is_valid_spdx_and_names_every_module() -> None:
    doc = document()
    assert spdx_errors(doc) == []
    packages = {p["SPDXID"]: p for p in doc["packages"]}  # type: ignore[attr-defined]
    purls = {i: p["externalRefs"][0]["referenceLocator"] for i, p in packages.items()}
    assert purls["SPDXRef-Dep-1"] == "pkg:golang/golang.org/x/text@v0.14.0"
    assert purls["SPDXRef-Dep-2"] == "pkg:golang/example.com/new@v1.1.0%2Bincompatible"
    assert purls["SPDXRef-Go"] == "pkg:golang/stdlib@1.27.3"
    assert purls["SPDXRef-Base"].startswith("pkg:oci/runtime@sha256%3Abbbb")
    assert packages["SPDXRef-Dep-1"]["checksums"] == [
        {"algorithm": "SHA256", "checksumValue": hashlib.sha256(b"x/text").hexdigest()}
    ]
    assert "checksums" not in packages["SPDXRef-Dep-3"]  # no sum recorded
    assert packages["SPDXRef-Dep-2"]["comment"] == "replaces example.com/old v1.0.0"
    settings = [a["comment"] for a in packages["SPDXRef-Main"]["annotations"]]
    assert "build GOARCH=arm64" in settings
    assert doc["creationInfo"] == {
        "created": "2026-09-21T14:13:20Z",
        "creators": ["Tool: dlc-tasks-0.1.0"],
    }


def test_the_sbom_artifact_refers_to_its_platforms_manifest() -> None:
    subject = Descriptor("application/vnd.oci.image.manifest.v1+json", "sha256:" + "a" * 64, 500)
    manifest, blobs = sbom.artifact(document(), subject, EPOCH)
    body = manifest.json()
    assert body["artifactType"] == "application/spdx+json"
    assert body["subject"]["digest"] == subject.digest
    assert [b.digest for b in blobs] == [body["config"]["digest"], body["layers"][0]["digest"]]
    assert sbom.artifact(document(), subject, EPOCH)[0].digest == manifest.digest


def statement() -> dict[str, object]:
    return provenance.statement(
        name="registry.example:5000/acme/svc",
        index="sha256:" + "1" * 64,
        platforms=[
            (Platform.parse("linux/amd64"), "sha256:" + "2" * 64),
            (ARM64, "sha256:" + "3" * 64),
        ],
        repository="https://git.example/acme/svc",
        commit="c" * 40,
        configuration={"image": {"ports": ["8080"]}, "go": {"tags": []}},
        dependencies=[
            provenance.Dependency(
                "cache image", "oci://r/acme/svc-build-cache", {"sha256": "4" * 64}
            ),
            provenance.Dependency(
                "go.sum", "git+https://git.example/acme/svc@cccc#go.sum", {"sha256": "5" * 64}
            ),
        ],
        builder_id="https://git.example/acme/svc/actions/runs/7",
        started=EPOCH + 60,
        finished=EPOCH + 90,
        invocation_id="run-7",
    )


def test_the_provenance_is_an_in_toto_statement_with_slsa_v1_provenance() -> None:
    doc = statement()
    predicate = check_statement(doc)  # type: ignore[arg-type]
    assert [s["digest"]["sha256"][0] for s in doc["subject"]] == ["1", "2", "3"]  # type: ignore[attr-defined]
    external = predicate["buildDefinition"]["externalParameters"]
    assert external["platforms"] == ["linux/amd64", "linux/arm64/v8"]
    assert external["commit"] == "c" * 40
    assert predicate["runDetails"]["metadata"]["startedOn"] == "2026-09-21T14:14:20Z"


def test_a_statement_without_a_subject_digest_or_builder_fails_the_checks() -> None:
    doc = statement()
    doc["subject"] = [{"name": "x"}]
    with pytest.raises(ValueError, match="digest"):
        check_statement(doc)  # type: ignore[arg-type]
    doc = statement()
    doc["predicate"]["runDetails"]["builder"] = {"id": ""}  # type: ignore[index]
    with pytest.raises(AssertionError):
        check_statement(doc)  # type: ignore[arg-type]


def test_the_provenance_artifact_refers_to_the_index() -> None:
    index = Descriptor("application/vnd.oci.image.index.v1+json", "sha256:" + "1" * 64, 700)
    manifest, _ = provenance.artifact(statement(), index, EPOCH)
    body = manifest.json()
    assert body["subject"] == index.to_dict()
    assert body["annotations"]["in-toto.io/predicate-type"] == "https://slsa.dev/provenance/v1"
