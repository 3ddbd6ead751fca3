"""Lint the production Dockerfile as it is built: render the template, then run hadolint on it.

hadolint on the template alone misreads it (placeholders, an ``ARG`` in ``FROM``);
``python -m dlc_tasks.checks.lintprod [TEMPLATE]`` renders it with example values into a
temporary file and lints that. The ``lint`` nox session runs it.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from dlc_tasks.config import PACKAGE_TEMPLATES
from dlc_tasks.model.prodimage import ImageSettings
from dlc_tasks.model.render import HEADER, render

EXAMPLE = {
    "cache_image": "registry.example.com/org/app-build-cache@sha256:" + "0" * 64,
    "deps_hash": "0" * 64,
    "binary": "app",
}
# Every block of the generic template in use: a file, a port, a health check, arguments.
EXAMPLE_IMAGE = ImageSettings.from_mapping(
    {"ports": [8080], "healthcheck": ["/app/app", "-healthcheck"], "args": ["-config", "/app/c"]}
)


def main(argv: list[str]) -> int:
    """Render and lint; return hadolint's exit code."""
    from plumbum import local  # noqa: PLC0415

    template = Path(argv[0]) if argv else PACKAGE_TEMPLATES / "Dockerfile.prod.template"
    blocks = EXAMPLE_IMAGE.blocks(EXAMPLE["binary"], ["c"], EXAMPLE["cache_image"])
    text = HEADER.format(template=template.name) + render(
        template.read_text(), EXAMPLE, template.name, blocks
    )
    with tempfile.TemporaryDirectory() as tmp:
        rendered = Path(tmp, "Dockerfile.prod")
        rendered.write_text(text)
        code, out, err = local["hadolint"][str(rendered)].run(retcode=None)
    sys.stdout.write(out.replace(str(rendered), f"{template} (rendered)") + err)
    print(f"hadolint on rendered {template}: {'ok' if code == 0 else 'findings above'}")
    return int(code)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
