"""dlc_tasks.model.prodimage: dlc.image validated, and the instructions of the generic template."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dlc_tasks.config import PACKAGE_TEMPLATES
from dlc_tasks.errors import ConfigError, InvalidValue
from dlc_tasks.model.prodimage import ImageSettings
from dlc_tasks.model.render import render

CACHE = "r:5000/acme/tool-build-cache@sha256:" + "0" * 64


def rendered(image: ImageSettings, files: list[str] | None = None) -> str:
    template = (PACKAGE_TEMPLATES / "Dockerfile.prod.template").read_text()
    values = {"cache_image": CACHE, "deps_hash": "0" * 64, "binary": "tool"}
    return render(template, values, "t", image.blocks("tool", files or [], CACHE))


def instructions(text: str) -> list[str]:
    return [line for line in text.splitlines() if line and not line.startswith("#")]


def test_the_default_image_ships_only_the_binary_as_a_non_root_user() -> None:
    lines = instructions(rendered(ImageSettings.from_mapping(None)))
    assert lines == [
        "ARG RUNTIME_IMAGE=alpine:3.18",
        "FROM ${RUNTIME_IMAGE}",
        "WORKDIR /app",
        "COPY tool /app/tool",
        "ENV TZ=UTC",
        "USER 65532:65532",
        'ENTRYPOINT ["/app/tool"]',
    ]


def test_ports_healthcheck_args_and_files_come_from_configuration() -> None:
    image = ImageSettings.from_mapping(
        {
            "ports": [8080, "53/udp"],
            "healthcheck": ["/app/tool", "-healthcheck", "http://127.0.0.1:8080/healthz"],
            "args": ["-config", "/app/config.yaml"],
            "base": "gcr.io/distroless/static:nonroot",
        }
    )
    text = rendered(image, ["config.yaml"])
    assert "FROM gcr.io/distroless/static:nonroot\n" in text
    assert 'COPY ["config.yaml", "/app/config.yaml"]\n' in text
    assert "EXPOSE 8080 53/udp\n" in text
    health = text.split("HEALTHCHECK ", 1)[1].split("\n", 2)
    assert json.loads(health[1].strip().removeprefix("CMD ")) == image.healthcheck
    assert 'ENTRYPOINT ["/app/tool", "-config", "/app/config.yaml"]' in text


def test_scratch_gets_certificates_from_the_cache_image_and_a_passwd() -> None:
    image = ImageSettings.from_mapping({"base": "scratch"})
    text = rendered(image)
    assert f"FROM {CACHE} AS certificates\nFROM scratch\n" in text
    assert "COPY passwd /etc/passwd\n" in text
    assert set(image.context_texts()) == {"passwd", "group"}
    assert "nonroot:x:65532:65532:" in image.context_texts()["passwd"]
    assert ImageSettings.from_mapping(None).context_texts() == {}


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        ({"ports": ["80; rm"]}, InvalidValue),
        ({"ports": [70000]}, InvalidValue),
        ({"user": "root\nRUN x"}, InvalidValue),
        ({"base": "alpine\nRUN x"}, InvalidValue),
        ({"healthcheck": "curl localhost"}, ConfigError),
        ({"args": ["a\nRUN x"]}, InvalidValue),
        ({"port": [80]}, ConfigError),  # a typo is refused, not ignored
    ],
)
def test_configuration_is_data_never_an_instruction(raw: dict[str, object], error: type) -> None:
    with pytest.raises(error):
        ImageSettings.from_mapping(raw)


def test_a_file_name_that_would_expand_is_refused() -> None:
    with pytest.raises(InvalidValue):
        ImageSettings.from_mapping(None).blocks("tool", ["$HOME"], CACHE)


def test_packaged_templates_are_package_data() -> None:
    names = {p.name for p in Path(PACKAGE_TEMPLATES).iterdir()}
    assert {"Dockerfile.build", "Dockerfile.prod.template", "Dockerfile"} <= names
