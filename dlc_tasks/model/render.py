"""Rendering ``Dockerfile.prod`` from its template.

The template uses ``{{ name }}`` placeholders. Rendering is strict: every
placeholder must be known, every value is checked by the caller (image
references, hex hashes, tags) and must not contain a newline or a quote, so a
value can never add an instruction to the Dockerfile.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from dlc_tasks._files import atomic_write_text
from dlc_tasks.errors import ConfigError, InvalidValue, NotFoundError

_PLACEHOLDER = re.compile(r"{{\s*([a-z_][a-z0-9_]*)\s*}}")
HEADER = "# Rendered by dlc-tasks from {template}; do not edit, run `inv prod`.\n"


def render(
    template: str,
    values: Mapping[str, str],
    source: str = "template",
    blocks: Mapping[str, str] | None = None,
) -> str:
    """Substitute every placeholder; refuse unknown names and unsafe values.

    ``blocks`` are whole instructions the library built itself from validated settings
    (:mod:`dlc_tasks.model.prodimage`); they may span lines, and are not checked here.
    """
    for name, value in values.items():
        if any(ch in value for ch in '\n\r"\\`') or not value.isprintable():
            raise InvalidValue(f"refusing to render {name}={value!r} into {source}")
    known = {**(blocks or {}), **values}
    unknown = sorted({m.group(1) for m in _PLACEHOLDER.finditer(template)} - set(known))
    if unknown:
        raise ConfigError(f"{source} uses unknown placeholders: {', '.join(unknown)}")
    return _PLACEHOLDER.sub(lambda m: known[m.group(1)], template)


def render_text(
    template_path: Path, values: Mapping[str, str], blocks: Mapping[str, str] | None = None
) -> str:
    """The rendered text of the template at ``template_path``, with the do-not-edit header."""
    try:
        template = template_path.read_text(encoding="utf-8")
    except FileNotFoundError as err:
        raise NotFoundError(
            f"{template_path} not found", hint="set dlc.dockerfile_prod_template"
        ) from err
    body = render(template, values, template_path.name, blocks)
    return HEADER.format(template=template_path.name) + body


def write_rendered(out_path: Path, text: str) -> None:
    """Write a rendered Dockerfile atomically, unless it already holds exactly ``text``."""
    if out_path.is_file() and out_path.read_text(encoding="utf-8") == text:
        return
    atomic_write_text(out_path, text)


def label_instruction(labels: Mapping[str, str]) -> str:
    """One ``LABEL`` instruction for every label (the build API's ``labels`` parameter makes
    the legacy builder commit one layer per label).

    Keys and values are double-quoted with ``\\``, ``"`` and ``$`` escaped, so a value is
    data, never an expansion; a control character is refused.
    """

    def quoted(text: str) -> str:
        if not text.isprintable():
            raise InvalidValue(f"refusing a label with a control character: {text[:40]!r}")
        escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$")
        return f'"{escaped}"'

    if not labels:
        return ""
    pairs = " ".join(f"{quoted(k)}={quoted(v)}" for k, v in sorted(labels.items()))
    return f"LABEL {pairs}\n"
