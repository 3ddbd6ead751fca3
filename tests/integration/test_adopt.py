"""Adopting the library in a Go module nobody here wrote: no docker/, no service settings.

The module is made by the test outside this repository: a command-line tool in
``cmd/NAME`` with no configuration file and no port. ``dlc init`` writes its ``tasks.py``,
``noxfile.py`` and ``invoke.yaml``, so nothing of this repository's ``invoke.yaml``
applies; base images come from the user's ``~/.invoke.yaml`` as on any machine. ``dlc``,
``inv`` and ``nox`` run from the module, as its user would run them.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import docker

from tests.integration.adoption import (
    BIN,
    IGNORED,
    assert_every_step_skipped,
    commit,
    inv_here,
    push_twice,
    skopeo_config,
    skopeo_inspect,
    write_files,
)
from tests.integration.conftest import Registry, _inv_env, git_sha, ok

TOOL = """// Command greeter prints who it runs as and how many CA certificates it trusts.
package main

import (
\t"crypto/x509"
\t"fmt"
\t"os/user"

\t"example.com/acme/greeter/internal/words"
)

func main() {
\tname := "unknown"
\tif u, err := user.Current(); err == nil {
\t\tname = u.Username
\t}
\tpool, err := x509.SystemCertPool()
\tcerts := 0
\tif err == nil && pool != nil && !pool.Equal(x509.NewCertPool()) {
\t\tcerts = 1
\t}
\tfmt.Printf("%s %s certs=%d\\n", words.Hello(), name, certs)
}
"""
WORDS = 'package words\n\n// Hello is the greeting.\nfunc Hello() string { return "hello" }\n'
WORDS_TEST = (
    'package words\n\nimport "testing"\n\n'
    "func TestHello(t *testing.T) {\n"
    '\tif Hello() != "hello" {\n\t\tt.Fatal(Hello())\n\t}\n}\n'
)


def make_tool(root: Path) -> Path:
    """A fresh module with cmd/greeter, an internal package with a test, VERSION."""
    return write_files(
        root,
        {
            "go.mod": "module example.com/acme/greeter\n\ngo 1.22\n",
            "cmd/greeter/main.go": TOOL,
            "internal/words/words.go": WORDS,
            "internal/words/words_test.go": WORDS_TEST,
            "VERSION": "MAJOR=0\nMINOR=2\nPATCH=0\n",
            ".gitignore": IGNORED,
        },
    )


def test_a_cli_module_without_docker_files_is_pushed_with_derived_names(
    tmp_path: Path, registry: Registry, engine: docker.DockerClient
) -> None:
    module = make_tool(tmp_path / "greeter")
    ok(inv_here("init", module=module, registry=registry, tool="dlc"))
    out = push_twice(
        module, registry, "cmd/NAME CLI", "dlc init; git commit; dlc push; dlc push; nox -s ci"
    )
    sha = git_sha(module)
    # names from go.mod's module path; the binary from cmd/greeter
    assert registry.tags("acme/greeter") == sorted(["0.2.0", "latest", sha])
    assert "acme/greeter-build-cache" in out
    config = skopeo_config(registry, "acme/greeter:0.2.0")
    assert config["Entrypoint"] == ["/app/greeter"]
    assert config["User"] == "65532:65532"
    assert "ExposedPorts" not in config
    assert "Healthcheck" not in config
    ran = engine.containers.run(f"{registry.address}/acme/greeter:0.2.0", remove=True)
    assert ran.decode().strip().endswith("certs=1")  # the runtime base (alpine-like) has its own

    # the second run, through the written noxfile's ci session, skips every step
    assert_every_step_skipped(
        ok(inv_here("-s", "ci", module=module, registry=registry, tool="nox"))
    )

    # a static binary on scratch: CA certificates and a passwd entry are put in
    scratch = ok(
        inv_here("push", module=module, registry=registry, env={"INVOKE_DLC_IMAGE_BASE": "scratch"})
    )
    assert "prod: ran" in scratch
    assert "test: ran" not in scratch  # only the production image changed
    ran = engine.containers.run(f"{registry.address}/acme/greeter:0.2.0", remove=True)
    assert ran.decode().strip() == "hello nonroot certs=1"
    layers = skopeo_inspect(registry, f"acme/greeter:{sha}")["Layers"]
    assert (
        isinstance(layers, list) and len(layers) <= 6
    )  # certs, passwd, group, binary: nothing else


def test_a_wheel_in_a_fresh_virtualenv_is_all_a_module_needs(
    tmp_path: Path, registry: Registry
) -> None:
    """``pip wheel .``, installed alone in a new virtualenv: ``dlc init && dlc push`` work in
    a module outside this repository (the templates travel as package data)."""
    repo = Path(__file__).resolve().parents[2]
    # Built from a copy: setuptools leaves build/ and *.egg-info beside the sources it builds.
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(repo / name, source / name)
    shutil.copytree(
        repo / "dlc_tasks", source / "dlc_tasks", ignore=shutil.ignore_patterns("__pycache__")
    )
    wheels = tmp_path / "wheels"
    subprocess.run(
        [str(BIN / "pip"), "wheel", str(source), "--no-deps", "-q", "-w", str(wheels)],
        check=True,
        timeout=600,
    )
    venv = tmp_path / "venv"
    subprocess.run(["python3", "-m", "venv", str(venv)], check=True)
    (wheel,) = wheels.glob("dlc_tasks-*.whl")
    subprocess.run(
        [str(venv / "bin" / "pip"), "install", "-q", str(wheel)], check=True, timeout=600
    )
    module = make_tool(tmp_path / "greeter")
    env = {**_inv_env(module, registry.address, None), "PATH": f"{venv / 'bin'}:/usr/bin:/bin"}

    def dlc(*args: str) -> str:
        result = subprocess.run(
            [str(venv / "bin" / "dlc"), *args],
            cwd=module,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        return ok(result)

    dlc("init")
    commit(module)
    out = dlc("push")
    assert "push: ran" in out
    assert registry.tags("acme/greeter") == sorted(["0.2.0", "latest", git_sha(module)])
