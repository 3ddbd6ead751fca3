"""dlc_tasks.model.depshash: what names the build-cache image, and what must not."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from dlc_tasks.errors import NotFoundError
from dlc_tasks.model.depshash import compute, declared_args, write_env_file

GO_MOD = "module example.com/hello\n\ngo 1.22\n\nrequire github.com/x/y v1.0.0\n"
GO_SUM = "github.com/x/y v1.0.0 h1:abc=\ngithub.com/x/y v1.0.0/go.mod h1:def=\n"
DOCKERFILE = (
    "ARG GO_IMAGE=golang:1.22\n"
    "FROM ${GO_IMAGE}\n"
    "ARG GOPROXY\n"
    "WORKDIR /src\n"
    "COPY go.mod go.sum ./\n"
    "RUN go mod download\n"
)
ARGS = {"GO_IMAGE": "golang:1.22", "GOPROXY": "https://proxy.golang.org", "UNUSED": "one"}


def make_module(root: Path, *, newline: str = "\n", go_sum: bool = True) -> Path:
    """A Go module with go.mod, go.sum, a .go file and docker/Dockerfile.build; returns root."""
    (root / "docker").mkdir(parents=True)
    (root / "go.mod").write_bytes(GO_MOD.replace("\n", newline).encode())
    if go_sum:
        (root / "go.sum").write_bytes(GO_SUM.replace("\n", newline).encode())
    (root / "main.go").write_text("package main\n\nfunc main() {}\n")
    (root / "docker" / "Dockerfile.build").write_bytes(DOCKERFILE.replace("\n", newline).encode())
    return root


def hash_of(root: Path, build_args: dict[str, str] | None = None) -> str:
    args = ARGS if build_args is None else build_args
    return compute(root, root / "docker" / "Dockerfile.build", args).value


@pytest.fixture
def module(tmp_path: Path) -> Path:
    return make_module(tmp_path / "mod")


def test_hash_is_64_lowercase_hex(module: Path) -> None:
    assert re.fullmatch(r"[0-9a-f]{64}", hash_of(module))


def test_same_module_in_two_directories_hashes_the_same(tmp_path: Path) -> None:
    first = make_module(tmp_path / "a")
    second = make_module(tmp_path / "elsewhere" / "b")
    assert hash_of(first) == hash_of(second)
    assert hash_of(first) == hash_of(first)


def test_crlf_checkout_hashes_like_lf(tmp_path: Path) -> None:
    lf = make_module(tmp_path / "lf")
    crlf = make_module(tmp_path / "crlf", newline="\r\n")
    assert (crlf / "go.mod").read_bytes() != (lf / "go.mod").read_bytes()
    assert hash_of(lf) == hash_of(crlf)


def test_changes_when_go_mod_changes(module: Path) -> None:
    before = hash_of(module)
    (module / "go.mod").write_text(GO_MOD.replace("v1.0.0", "v1.0.1"))
    assert hash_of(module) != before


def test_changes_when_go_sum_changes(module: Path) -> None:
    before = hash_of(module)
    (module / "go.sum").write_text(GO_SUM.replace("h1:abc=", "h1:xyz="))
    assert hash_of(module) != before


def test_changes_when_go_sum_is_added(tmp_path: Path) -> None:
    root = make_module(tmp_path / "mod", go_sum=False)
    before = hash_of(root)
    (root / "go.sum").write_text(GO_SUM)
    assert hash_of(root) != before


def test_changes_when_build_dockerfile_changes(module: Path) -> None:
    before = hash_of(module)
    dockerfile = module / "docker" / "Dockerfile.build"
    dockerfile.write_text(DOCKERFILE + "RUN go build std\n")
    assert hash_of(module) != before


@pytest.mark.parametrize("name", ["GO_IMAGE", "GOPROXY"])
def test_changes_when_a_declared_build_arg_changes(module: Path, name: str) -> None:
    before = hash_of(module)
    assert hash_of(module, {**ARGS, name: "something-else"}) != before


def test_changes_when_a_declared_build_arg_is_set_at_all(module: Path) -> None:
    without = {k: v for k, v in ARGS.items() if k != "GOPROXY"}
    assert hash_of(module, without) != hash_of(module)


def test_ignores_build_args_the_dockerfile_does_not_declare(module: Path) -> None:
    before = hash_of(module)
    assert hash_of(module, {**ARGS, "UNUSED": "two"}) == before
    assert hash_of(module, {**ARGS, "RUNTIME_IMAGE": "alpine:3.20"}) == before


def test_ignores_go_source_files(module: Path) -> None:
    before = hash_of(module)
    (module / "main.go").write_text("package main\n\nfunc main() { println(1) }\n")
    (module / "extra.go").write_text("package main\n")
    assert hash_of(module) == before


def test_inputs_name_each_part(module: Path) -> None:
    deps = compute(module, module / "docker" / "Dockerfile.build", ARGS)
    assert set(deps.inputs) == {
        "scheme",
        "go.mod",
        "go.sum",
        "Dockerfile.build",
        "build-arg:GO_IMAGE",
        "build-arg:GOPROXY",
    }


def test_declared_args_ignores_comments_and_is_sorted() -> None:
    text = "# ARG COMMENTED\nARG B\n  arg a=1\nFROM x\nARG B\n"
    assert declared_args(text) == ["B", "a"]


def test_every_name_on_a_multi_argument_arg_line_counts(module: Path) -> None:
    """BUG: BuildKit accepts ``ARG A=1 B=2`` (moby/buildkit#1692), but only A is hashed.

    The regex in depshash takes the first name of an ARG line, so a change of B
    (here GOPROXY) does not change the hash and the stale cache image is reused;
    engine._declared_only drops B from the build arguments for the same reason.
    """
    dockerfile = module / "docker" / "Dockerfile.build"
    dockerfile.write_text("ARG GO_IMAGE=golang:1.22 GOPROXY=off\nFROM ${GO_IMAGE}\n")
    assert declared_args(dockerfile.read_text()) == ["GOPROXY", "GO_IMAGE"]
    assert hash_of(module, {**ARGS, "GOPROXY": "direct"}) != hash_of(module)


def test_missing_go_mod_raises_not_found(module: Path) -> None:
    (module / "go.mod").unlink()
    with pytest.raises(NotFoundError, match=r"no go\.mod"):
        hash_of(module)


def test_missing_dockerfile_raises_not_found(module: Path) -> None:
    shutil.rmtree(module / "docker")
    with pytest.raises(NotFoundError, match="Dockerfile"):
        hash_of(module)


def test_write_env_file_writes_exactly_one_line(module: Path, tmp_path: Path) -> None:
    deps = compute(module, module / "docker" / "Dockerfile.build", ARGS)
    target = tmp_path / "deps_hash.env"
    target.write_text("DEPS_HASH=old\nstale\n")
    write_env_file(target, deps)
    assert target.read_bytes() == f"DEPS_HASH={deps.value}\n".encode()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["deps_hash.env", "mod"]


def test_a_local_module_proxy_is_an_input_when_configured(tmp_path: Path) -> None:
    (tmp_path / "go.mod").write_text("module example.com/m\n\ngo 1.22\n")
    dockerfile = tmp_path / "Dockerfile.build"
    dockerfile.write_text("ARG GOPROXY=x\nFROM scratch\n")
    proxy = tmp_path / "goproxy" / "example.com" / "dep" / "@v"
    proxy.mkdir(parents=True)
    (proxy / "list").write_text("v1.0.0\n")
    without = compute(tmp_path, dockerfile, {})
    first = compute(tmp_path, dockerfile, {}, tmp_path / "goproxy")
    (proxy / "list").write_text("v1.0.0\nv1.0.1\n")
    second = compute(tmp_path, dockerfile, {}, tmp_path / "goproxy")
    assert "goproxy" not in without.inputs
    assert len({without.value, first.value, second.value}) == 3


def test_vendor_modules_txt_is_an_input_of_a_vendored_module(module: Path) -> None:
    before = hash_of(module)
    vendor = module / "vendor"
    vendor.mkdir()
    (vendor / "modules.txt").write_text("# example.com/dep v1.0.0\n## explicit\nexample.com/dep\n")
    vendored = hash_of(module)
    assert vendored != before
    deps = compute(module, module / "docker" / "Dockerfile.build", ARGS)
    assert "vendor/modules.txt" in deps.inputs
    (vendor / "modules.txt").write_text("# example.com/dep v1.0.1\n## explicit\nexample.com/dep\n")
    assert hash_of(module) != vendored
    (vendor / "dep.go").write_text("package dep\n")  # the tree itself: modules.txt stands for it
    changed = hash_of(module)
    (vendor / "dep.go").write_text("package dep // edited\n")
    assert hash_of(module) == changed
