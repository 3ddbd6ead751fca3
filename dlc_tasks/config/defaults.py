"""The ``dlc`` defaults (from the one table of options, :mod:`.options`; none names a service),
and the constants beside them."""

from __future__ import annotations

from pathlib import Path

from dlc_tasks.config.options import DEFAULTS, FLAG_KEYS

PACKAGE_TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


TEMPLATE_NAMES = {
    "dockerfile_build": "Dockerfile.build",
    "dockerfile_prod_template": "Dockerfile.prod.template",
    "dockerfile_dev": "Dockerfile",
}


__all__ = ["DEFAULTS", "FLAG_KEYS", "GO_BUILD_ARGS", "PACKAGE_TEMPLATES", "STATE_DIR"]

# Build arguments dlc.go sets (the cache image is built with the steps' Go settings)
GO_BUILD_ARGS = {
    "GOFLAGS": "dlc.go.flags, dlc.go.tags and vendor/ (-mod=vendor)",
    "CGO_ENABLED": "dlc.go.cgo",
    "GOPRIVATE": "dlc.go.private",
    "GONOSUMDB": "dlc.go.nosumdb",
}


STATE_DIR = ".dlc"
