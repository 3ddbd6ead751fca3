"""dlc_tasks.model.render: strict placeholder substitution into Dockerfile.prod."""

from __future__ import annotations

from pathlib import Path

import pytest

from dlc_tasks.errors import ConfigError, InvalidValue, NotFoundError
from dlc_tasks.model.render import (
    HEADER,
    label_instruction,
    render,
    render_text,
    write_rendered,
)


def test_substitutes_placeholders_with_or_without_spaces() -> None:
    template = "FROM {{cache_image}}\nCOPY {{ binary }} /app/{{  binary  }}\n"
    text = render(template, {"cache_image": "r:5000/o/c:abc", "binary": "svc"})
    assert text == "FROM r:5000/o/c:abc\nCOPY svc /app/svc\n"


def test_text_without_placeholders_is_unchanged() -> None:
    template = "ARG RUNTIME_IMAGE=alpine\nFROM ${RUNTIME_IMAGE}\n{ not_a_placeholder }\n"
    assert render(template, {}) == template


def test_unknown_placeholder_raises_config_error() -> None:
    with pytest.raises(ConfigError, match="unknown placeholders: missing, other") as caught:
        render("{{ binary }} {{ missing }} {{other}}", {"binary": "svc"})
    assert type(caught.value) is ConfigError


@pytest.mark.parametrize(
    "value", ["svc\nRUN rm -rf /", "svc\rx", 'svc"', "a\\b", "`id`", "tab\there"]
)
def test_unsafe_values_are_refused(value: str) -> None:
    with pytest.raises(InvalidValue, match="refusing to render binary"):
        render("COPY {{ binary }} /app/\n", {"binary": value})


def render_file(template: Path, out: Path, values: dict[str, str]) -> str:
    text = render_text(template, values)
    write_rendered(out, text)
    return text


def test_render_file_writes_header_and_is_atomic(tmp_path: Path) -> None:
    template = tmp_path / "Dockerfile.prod.template"
    template.write_text("FROM {{ image }}\n")
    out = tmp_path / "out" / "Dockerfile.prod"
    text = render_file(template, out, {"image": "alpine:3.20"})
    expected_header = HEADER.format(template="Dockerfile.prod.template")
    assert out.read_text() == text == expected_header + "FROM alpine:3.20\n"
    assert text.splitlines()[0].startswith("# Rendered by dlc-tasks from Dockerfile.prod.template")
    assert [p.name for p in out.parent.iterdir()] == ["Dockerfile.prod"]


def test_render_file_does_not_touch_the_output_on_error(tmp_path: Path) -> None:
    template = tmp_path / "t"
    template.write_text("FROM {{ image }}\n")
    out = tmp_path / "Dockerfile.prod"
    out.write_text("previous\n")
    with pytest.raises(InvalidValue):
        render_file(template, out, {"image": "x\ny"})
    assert out.read_text() == "previous\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Dockerfile.prod", "t"]


def test_an_unchanged_rendering_leaves_the_file_alone(tmp_path: Path) -> None:
    template = tmp_path / "t"
    template.write_text("FROM {{ image }}\n")
    out = tmp_path / "Dockerfile.prod"
    render_file(template, out, {"image": "a:1"})
    before = out.stat().st_mtime_ns
    render_file(template, out, {"image": "a:1"})
    assert out.stat().st_mtime_ns == before
    render_file(template, out, {"image": "a:2"})
    assert out.read_text().endswith("FROM a:2\n")


def test_render_file_with_missing_template(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="not found"):
        render_file(tmp_path / "nope", tmp_path / "out", {})


def test_labels_are_one_instruction_and_stay_data() -> None:
    line = label_instruction({"b": 'say "$HOME"', "a": "1"})
    assert line == 'LABEL "a"="1" "b"="say \\"\\$HOME\\""\n'
    with pytest.raises(InvalidValue, match="control character"):
        label_instruction({"a": "line\nRUN rm -rf /"})
    assert label_instruction({}) == ""
