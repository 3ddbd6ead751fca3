"""The ``dlc`` defaults, declared once (none names a service), and the constants beside them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

PACKAGE_TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


TEMPLATE_NAMES = {
    "dockerfile_build": "Dockerfile.build",
    "dockerfile_prod_template": "Dockerfile.prod.template",
    "dockerfile_dev": "Dockerfile",
}


DEFAULTS: dict[str, Any] = {
    # Where images go. None: start (or reuse) the local Distribution registry below.
    "registry": None,
    # None: derived (dlc_tasks/project): org and repo from go.mod's module path
    # (host/org/repo), the main package when the module has exactly one `package main`.
    "org": None,
    "repo": None,
    # The Go module the chain builds, and its main package.
    "project_dir": ".",
    "main_package": None,
    # The binary's name inside the production image (None: the main package's directory
    # name, or repo for a main package at the module root).
    "binary_name": None,
    # Paths relative to project_dir. None: the project's docker/<name> when it exists, else
    # the template the package carries (dlc_tasks/templates/).
    "dockerfile_build": None,
    "dockerfile_prod_template": None,
    "dockerfile_prod": "docker/Dockerfile.prod",
    "dockerfile_dev": None,
    # The production image of the packaged template (model/prodimage.py): base None is
    # ${RUNTIME_IMAGE}, "scratch" an empty image with CA certificates and a passwd put in;
    # ports to expose; healthcheck an argument list (none by default); entrypoint args.
    "image": {"base": None, "ports": [], "healthcheck": None, "args": [], "user": "65532:65532"},
    # Several images from one module (model/targets.py): name -> {main_package, binary_name,
    # prod_files, and dlc.image's keys, which default to dlc.image's}. Empty: one image, repo.
    "images": {},
    # The image `--image NAME` selects for prod and push (None: every image).
    "selected_image": None,
    "version_file": "VERSION",
    "hash_file": "deps_hash.env",
    "coverage_file": "coverage.out",
    # Files copied next to the binary into the production image (none by default).
    "prod_files": [],
    # Each step is an argument list run inside the cache image, in project_dir.
    "generate": [["go", "generate", "./..."]],
    # What the generators read beyond what generate observes (project/geninputs.py): glob
    # patterns relative to project_dir (`**` recurses), e.g. ["api/*.yaml", "templates/**"].
    "generate_inputs": [],
    # A file-based Go module proxy (`go help goproxy`) inside project_dir, for machines that
    # reach no module proxy: sent with the cache image's build context, GOPROXY=file:///goproxy.
    "goproxy_dir": None,
    # Passed to every Dockerfile as --build-arg (e.g. GO_IMAGE, RUNTIME_IMAGE, GOPROXY).
    "build_args": {},
    # How Go compiles (model/gobuild.py): GOPRIVATE, GONOSUMDB, extra GOFLAGS, build tags,
    # extra -ldflags ({{ version }}, {{ revision }}), CGO_ENABLED. Every command also gets
    # -mod=readonly (-mod=vendor with vendor/modules.txt), -trimpath and -buildvcs=false.
    "go": {"private": None, "nosumdb": None, "flags": [], "tags": [], "ldflags": [], "cgo": False},
    # A Go variable set to the image version with -ldflags -X (None: not set).
    "version_var": None,
    # PEM file with the CA that signed the registry's certificate.
    "ca_file": None,
    # "always" (the ADR) or "releases" (no latest for a PRERELEASE).
    "latest": "always",
    # Override the git commit used for the sha tag and the revision label.
    "revision": None,
    # Where the source lives, for org.opencontainers.image.source.
    "source_url": None,
    "local_registry": {"host": "127.0.0.1", "port": 5000, "data_dir": None},
    "retries": {"attempts": 5, "base_delay": 0.5, "max_delay": 8.0},
    # Seconds. Hard deadlines: one registry or token request (each try), a credential helper,
    # one git command. inactivity: how long a streaming step (a Go command in the cache
    # image, an image build, a push, a pull) may print nothing and make no progress.
    "timeouts": {"request": 30.0, "helper": 30.0, "git": 60.0, "inactivity": 600.0},
    # push_branches: where `inv ci` goes through push. install: what the written CI workflow
    # pip-installs before `nox -s ci` (None: nox and this dlc-tasks as it was installed here,
    # config/install.py: its git URL and commit, its wheel URL, ==VERSION from an index, or a
    # wheel of it committed beside the workflow; or name a wheel URL, a git URL or an index).
    "ci": {"push_branches": ["main"], "install": None},
    # Print what would be done; touch neither engine nor registry (`--dry-run`, `inv --dry`).
    "dry_run": False,
    # Tag and push a tree with uncommitted changes as a release (`--allow-dirty`).
    "allow_dirty": False,
    # "move" (the ADR: a push moves MAJOR.MINOR.PATCH to the new image, and says so) or
    # "immutable" (a release tag that names another image is refused: bump VERSION).
    "version_tags": "move",
}


VERSION_TAG_POLICIES = ("move", "immutable")


# Build arguments dlc.go sets (the cache image is built with the steps' Go settings)
GO_BUILD_ARGS = {
    "GOFLAGS": "dlc.go.flags, dlc.go.tags and vendor/ (-mod=vendor)",
    "CGO_ENABLED": "dlc.go.cgo",
    "GOPRIVATE": "dlc.go.private",
    "GONOSUMDB": "dlc.go.nosumdb",
}


STATE_DIR = ".dlc"


# Flags whose configuration key has another name (`--image NAME` selects; dlc.image is the
# production image's settings).
FLAG_KEYS = {"image": "selected_image"}
