"""dlc_tasks.model.oci.recipe and .image: the rendered Dockerfile.prod read as a recipe, and
the image assembled from it, with the configuration ``docker build`` gives that file."""

from __future__ import annotations

import datetime
import time
from pathlib import Path
from typing import Any

import pytest

from dlc_tasks.errors import InvalidValue, NotAssemblable
from dlc_tasks.model.oci import layer as layers
from dlc_tasks.model.oci.image import BaseImage, File, assemble, index_of
from dlc_tasks.model.oci.platform import Platform
from dlc_tasks.model.oci.recipe import Healthcheck, duration, parse
from dlc_tasks.model.prodimage import ImageSettings
from dlc_tasks.model.render import label_instruction, render_text

TEMPLATE = (
    Path(__file__).resolve().parents[2] / "dlc_tasks" / "templates" / "Dockerfile.prod.template"
)
CACHE = "127.0.0.1:5000/acme/svc-build-cache@sha256:" + "c" * 64
EPOCH = 1_790_000_000
AMD64, ARM64 = Platform.parse("linux/amd64"), Platform.parse("linux/arm64")


def rendered(image: dict[str, Any], files: list[str], labels: dict[str, str] | None = None) -> str:
    settings = ImageSettings.from_mapping(image)
    text = render_text(
        TEMPLATE,
        {"cache_image": CACHE, "deps_hash": "d" * 64, "binary": "svc"},
        settings.blocks("svc", files, CACHE),
    )
    return text + label_instruction(labels or {})


def base(platform: Platform) -> BaseImage:
    """A runtime base as the engine imports it (Env, Cmd, a layer)."""
    layer = layers.build([layers.file("bin/busybox", b"bb", 0o755)], 0)
    config = {
        **platform.to_dict(),
        "created": "2026-12-02T10:00:00.123Z",
        "container_config": {"Hostname": "builder-machine"},
        "config": {"Env": ["TZ=Europe/Paris", "PATH=/usr/bin:/bin"], "Cmd": ["/bin/sh"]},
        "rootfs": {"type": "layers", "diff_ids": [layer.diff_id]},
        "history": [{"created": "2026-12-02T10:00:00Z", "created_by": "import"}],
    }
    manifest = {"layers": [layer.descriptor.to_dict()]}
    return BaseImage("dlc-local/runtime", "sha256:" + "b" * 64, manifest, config)


SERVICE = {
    "ports": [8080, "53/udp"],
    "healthcheck": ["/app/svc", "-healthcheck", "http://127.0.0.1:8080/healthz"],
    "args": ["-config", "/app/config.yaml"],
}


def test_the_packaged_template_reads_as_what_it_says() -> None:
    labels = {"org.opencontainers.image.title": 'a "quoted" $title', "io.x": "y"}
    recipe = parse(rendered(SERVICE, ["config.yaml"], labels), {"RUNTIME_IMAGE": "r:1"})
    assert recipe.base == "r:1"
    assert [(c.sources, c.dest, c.stage) for c in recipe.copies] == [
        (("config.yaml",), "/app/config.yaml", ""),
        (("svc",), "/app/svc", ""),
    ]
    assert recipe.workdir == "/app"
    assert recipe.env == (("TZ", "UTC"),)
    assert recipe.user == "65532:65532"
    assert recipe.ports == ("8080/tcp", "53/udp")
    assert recipe.healthcheck == Healthcheck(
        ("CMD", "/app/svc", "-healthcheck", "http://127.0.0.1:8080/healthz"),
        {"Interval": 30 * 10**9, "Timeout": 3 * 10**9, "StartPeriod": 5 * 10**9},
    )
    assert recipe.entrypoint == ("/app/svc", "-config", "/app/config.yaml")
    assert recipe.cmd is None
    assert recipe.labels == labels


def test_without_a_build_argument_the_arg_default_is_the_base() -> None:
    assert parse(rendered({}, [])).base == "alpine:3.18"
    assert parse(rendered({"base": "gcr.io/distroless/static:nonroot"}, [])).base == (
        "gcr.io/distroless/static:nonroot"
    )


def test_a_scratch_image_copies_the_ca_bundle_from_the_cache_image() -> None:
    recipe = parse(rendered({"base": "scratch"}, []))
    assert recipe.base == "scratch"
    assert [(c.sources, c.dest, c.stage) for c in recipe.copies] == [
        (("/etc/ssl/certs/ca-certificates.crt",), "/etc/ssl/certs/ca-certificates.crt", CACHE),
        (("passwd",), "/etc/passwd", ""),
        (("group",), "/etc/group", ""),
        (("svc",), "/app/svc", ""),
    ]


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("FROM a\nRUN make", "line 2: RUN needs a builder"),
        ("FROM a\nADD x.tgz /", "line 2: ADD needs a builder"),
        ("FROM a\nVOLUME /data", "VOLUME needs a builder"),
        ("FROM a AS build\nCOPY x /x\nFROM b", "line 3: an earlier stage runs COPY"),
        ("FROM a\nENV A=$HOME", "variables outside FROM"),
        ("FROM a\nCOPY --chown=1:1 x /x", "COPY --chown=1:1 needs a builder"),
        ("FROM a\nCOPY *.yaml /app/", "named sources"),
        ("FROM ${IMAGE}", "$IMAGE is not a declared ARG"),
        ("# escape=`\nFROM a", "escape directive"),
        ("COPY x /x", "COPY before FROM"),
        ("", "no FROM"),
    ],
)
def test_what_only_a_builder_can_do_is_refused_naming_the_line(text: str, says: str) -> None:
    with pytest.raises(NotAssemblable, match=says.replace("$", r"\$").replace("*", r"\*")):
        parse(text)


def test_quoted_values_unescape_as_the_builder_does() -> None:
    recipe = parse('FROM a\nLABEL "k"="a \\"b\\" \\$c \\n" plain=x\\ y \'s=\\q\'\n')
    assert recipe.labels == {"k": 'a "b" $c \\n', "plain": "x y", "s": "\\q"}


def test_shell_forms_continuations_and_old_env_syntax() -> None:
    recipe = parse(
        "FROM a\n"
        "ENV LANG C.UTF-8\n"
        'ENV A=1 \\\n  # a comment inside the continuation\n  B="two words"\n'
        "WORKDIR srv\nWORKDIR data\n"
        "COPY a b ./\n"
        "HEALTHCHECK --retries=2 CMD wget -q -O- http://localhost/\n"
        'ENTRYPOINT run --flag\nCMD ["x"]\nSTOPSIGNAL SIGINT\n'
    )
    assert recipe.env == (("LANG", "C.UTF-8"), ("A", "1"), ("B", "two words"))
    assert recipe.workdir == "/srv/data"
    assert recipe.folders == ("/srv", "/srv/data")
    assert recipe.copies[0].targets() == [("a", "/srv/data/a"), ("b", "/srv/data/b")]
    assert recipe.healthcheck == Healthcheck(("CMD-SHELL", "wget -q -O- http://localhost/"), {}, 2)
    assert recipe.entrypoint == ("/bin/sh", "-c", "run --flag")
    assert recipe.cmd == ("x",)
    assert recipe.stop_signal == "SIGINT"


@pytest.mark.parametrize(
    ("text", "ns"), [("30s", 30 * 10**9), ("1m30s", 90 * 10**9), ("500ms", 5 * 10**8)]
)
def test_durations_are_go_durations(text: str, ns: int) -> None:
    assert duration(text) == ns


def assembled(platform: Platform, binary: bytes = b"\x7fELF-amd64") -> Any:
    recipe = parse(rendered(SERVICE, ["config.yaml"], {"org.opencontainers.image.title": "svc"}))
    files = {"svc": File(binary, 0o755), "config.yaml": File(b"port: 8080\n")}
    return assemble(base(platform), recipe, platform, files, EPOCH, own_layer={"svc"})


def test_the_configuration_is_the_bases_with_what_the_dockerfile_says() -> None:
    image = assembled(AMD64)
    config = image.config.json()
    created = datetime.datetime.fromtimestamp(EPOCH, tz=datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert config["created"] == created
    assert (config["os"], config["architecture"]) == ("linux", "amd64")
    assert "container_config" not in config  # the base builder's machine, not this image's
    settings = config["config"]
    assert settings["Env"] == ["TZ=UTC", "PATH=/usr/bin:/bin"]  # replaced in place, as Docker
    assert settings["WorkingDir"] == "/app"
    assert settings["User"] == "65532:65532"
    assert settings["ExposedPorts"] == {"53/udp": {}, "8080/tcp": {}}
    assert settings["Healthcheck"]["Test"][0] == "CMD"
    assert settings["Entrypoint"] == ["/app/svc", "-config", "/app/config.yaml"]
    assert settings["Cmd"] is None  # an ENTRYPOINT without CMD drops the base's
    assert settings["Labels"] == {"org.opencontainers.image.title": "svc"}
    # base layer, then the files (with /app) and the binary in a layer of its own
    assert len(config["rootfs"]["diff_ids"]) == 3
    assert [h["created"] for h in config["history"][1:]] == [created] * 3
    assert [h.get("empty_layer", False) for h in config["history"]] == [False, False, False, True]
    files, binary = (layers.read_entries(layer.blob.data) for layer in image.new_layers)
    assert sorted(files) == ["app", "app/config.yaml"]
    assert sorted(binary) == ["app", "app/svc"]
    manifest = image.manifest.json()
    assert manifest["config"]["digest"] == image.config.digest
    assert [layer["digest"] for layer in manifest["layers"]][1:] == [
        layer.blob.digest for layer in image.new_layers
    ]


def test_the_same_inputs_at_two_wall_clock_times_give_the_same_digests(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first = index_of([assembled(AMD64), assembled(ARM64, b"\x7fELF-arm64")])
    monkeypatch.setattr(time, "time", lambda: 4_102_444_800.0)  # 2100-01-01

    class Later(datetime.datetime):
        @classmethod
        def now(cls, tz: datetime.tzinfo | None = None) -> Later:
            return cls(2100, 1, 1, tzinfo=tz)

    monkeypatch.setattr(datetime, "datetime", Later)
    second = index_of([assembled(AMD64), assembled(ARM64, b"\x7fELF-arm64")])
    assert second.digest == first.digest
    assert second.data == first.data


def test_the_base_must_be_the_platforms() -> None:
    recipe = parse(rendered({}, []))
    with pytest.raises(InvalidValue, match="the base image is linux/arm64/v8, not linux/amd64"):
        assemble(base(ARM64), recipe, AMD64, {"svc": File(b"")}, EPOCH)


def test_a_file_the_recipe_copies_must_be_given() -> None:
    with pytest.raises(InvalidValue, match=r"config\.yaml is not in the build context"):
        assemble(
            base(AMD64), parse(rendered({}, ["config.yaml"])), AMD64, {"svc": File(b"")}, EPOCH
        )


def test_an_index_names_each_platform_once() -> None:
    with pytest.raises(InvalidValue, match="one platform twice"):
        index_of([assembled(AMD64), assembled(AMD64)])


def test_a_scratch_image_takes_the_ca_bundle_given_for_the_cache_image() -> None:
    recipe = parse(rendered({"base": "scratch"}, []))
    stage_files = {(CACHE, "/etc/ssl/certs/ca-certificates.crt"): b"-----BEGIN CERTIFICATE-----"}
    files = {"svc": File(b"bin", 0o755), "passwd": File(b"root:x:0:0"), "group": File(b"root:x:0:")}
    image = assemble(
        BaseImage.scratch(AMD64),
        recipe,
        AMD64,
        files,
        EPOCH,
        own_layer={"svc"},
        stage_files=stage_files,
    )
    contents = [sorted(layers.read_entries(layer.blob.data)) for layer in image.new_layers]
    assert contents == [
        ["app", "etc", "etc/ssl", "etc/ssl/certs", "etc/ssl/certs/ca-certificates.crt"],
        ["etc", "etc/group", "etc/passwd"],
        ["app", "app/svc"],
    ]
    assert image.base_layers == []
