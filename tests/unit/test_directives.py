"""What ``dlc init`` reads before it writes ``dlc.generate``: the ``//go:generate`` directives
of the module's packages (as ``go generate`` reads them), which can run in the cache image,
and the ``-skip`` pattern that keeps the others out, checked against the real ``go generate``."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from dlc_tasks.clients.baseimages import find_goroot
from dlc_tasks.project import constraints, directives, layout
from tests.support.files import write_files

GO_MOD = "module example.com/acme/lib\n\ngo 1.24\n\nrequire example.com/dep v1.0.0\n"


def lib(root: Path, extra: dict[str, str] | None = None) -> Path:
    """A library whose directives are of every kind."""
    return write_files(
        root,
        {
            "go.mod": GO_MOD,
            # a non-Go generator, as BurntSushi/toml's `//go:generate ./gen.py`
            "lib.go": (
                "package lib\n\n//go:generate ./gen.py\n//go:generate go run ./internal/gen\n"
            ),
            "gen.py": "#!/usr/bin/env python3\n",
            "internal/gen/main.go": "package main\n\nfunc main() {}\n",
            # go run of a file excluded from the package by `ignore`: a classic generator
            "enum/enum.go": (
                "package enum\n\n"
                "//go:generate -command mock go run example.com/mock/mockgen\n"
                "//go:generate mock -source=enum.go\n"
                "//go:generate go run gen.go -out $GOFILE.txt\n"
                '//go:generate sh -c "go run example.com/dep/cmd/x > out.txt"\n'
                "//go:generate go run golang.org/x/tools/cmd/stringer@v0.20.0 -type=Kind\n"
                "//go:generate go run example.com/dep/cmd/depgen\n"
                "//go:generate go tool cover -h\n"
                "//go:generate go tool nosuch\n"
                "// go:generate not a directive (a space after //)\n"
            ),
            "enum/gen.go": "//go:build ignore\n\npackage main\n\nfunc main() {}\n",
            "enum/enum_test.go": "package enum\n\n//go:generate go env GOOS\n",
            "enum/enum_windows.go": "package enum\n\n//go:generate windows-only.exe\n",
            "enum/tagged.go": (
                "//go:build linux && !ignore\n\npackage enum\n\n//go:generate go vet\n"
            ),
            "vendor/example.com/dep/dep.go": "package dep\n\n//go:generate vendored.sh\n",
            "testdata/x.go": "package x\n\n//go:generate testdata.sh\n",
            "nested/go.mod": "module example.com/nested\n",
            "nested/n.go": "package n\n\n//go:generate nested.sh\n",
            **(extra or {}),
        },
    )


def verdicts(root: Path) -> dict[str, str]:
    """Directive text → "" when it runs, else why not."""
    return {v.directive.text: v.why for v in directives.choose(root).verdicts}


def test_directives_are_read_as_go_generate_reads_them(tmp_path: Path) -> None:
    found = directives.read_directives(lib(tmp_path))
    assert [d.where for d in found] == [
        "lib.go:3",
        "lib.go:4",
        "enum/enum.go:4",
        "enum/enum.go:5",
        "enum/enum.go:6",
        "enum/enum.go:7",
        "enum/enum.go:8",
        "enum/enum.go:9",
        "enum/enum.go:10",
        "enum/enum_test.go:3",
        "enum/tagged.go:5",
    ]  # not the ignored, Windows-only, vendored, testdata or nested module's files
    mock = found[2]
    assert mock.text == "//go:generate mock -source=enum.go"
    assert mock.words == ("go", "run", "example.com/mock/mockgen", "-source=enum.go")
    assert found[4].words == ("sh", "-c", "go run example.com/dep/cmd/x > out.txt")


def test_only_go_commands_that_can_run_offline_are_kept(tmp_path: Path) -> None:
    judged = verdicts(lib(tmp_path))
    assert judged == {
        "//go:generate ./gen.py": "./gen.py is not a Go command: the cache image runs go only "
        "(run it yourself and commit what it writes)",
        "//go:generate go run ./internal/gen": "",
        "//go:generate mock -source=enum.go": "example.com/mock/mockgen comes from no module "
        "go.mod requires: it cannot be built offline",
        "//go:generate go run gen.go -out $GOFILE.txt": "",
        '//go:generate sh -c "go run example.com/dep/cmd/x > out.txt"': "sh is a shell line: "
        "the cache image runs go only (run it yourself and commit what it writes)",
        "//go:generate go run golang.org/x/tools/cmd/stringer@v0.20.0 -type=Kind": "go run "
        "golang.org/x/tools/cmd/stringer@v0.20.0 fetches a module, and the Go steps reach no "
        "module proxy (GOPROXY=off)",
        "//go:generate go run example.com/dep/cmd/depgen": "",  # a required module: downloaded
        "//go:generate go tool cover -h": "",
        "//go:generate go tool nosuch": "go tool nosuch: neither a Go tool nor a tool of go.mod",
        "//go:generate go env GOOS": "",
        "//go:generate go vet": "",
    }


def test_a_vendored_module_runs_only_what_vendor_holds(tmp_path: Path) -> None:
    root = lib(
        tmp_path,
        {
            "go.mod": GO_MOD + "\ntool example.com/dep/cmd/depgen\n",
            "vendor/modules.txt": (
                "# example.com/dep v1.0.0\n## explicit; go 1.22\nexample.com/dep\n"
                "example.com/dep/cmd/depgen\n"
            ),
            "tool.go": (
                "package lib\n\n//go:generate go tool depgen out.txt\n"
                "//go:generate go run example.com/dep/cmd/x\n"
            ),
        },
    )
    judged = verdicts(root)
    assert judged["//go:generate go tool depgen out.txt"] == ""
    assert judged["//go:generate go run example.com/dep/cmd/depgen"] == ""
    assert judged["//go:generate go run example.com/dep/cmd/x"] == (
        "example.com/dep/cmd/x is not in vendor/modules.txt: it cannot be built offline"
    )


def test_the_generate_setting_skips_exactly_what_was_left_out(tmp_path: Path) -> None:
    """The pattern, handed to the real ``go generate -n`` (which prints what it would run)."""
    root = lib(tmp_path)
    choice = directives.choose(root)
    (argv,) = choice.argv()
    assert argv[:3] == ["go", "generate", "-skip"] and argv[-1] == "./..."
    go = find_goroot() / "bin" / "go"
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "GOFLAGS": "-mod=mod", "GOPROXY": "off"}
    env |= {"GOTOOLCHAIN": "local", "GOCACHE": str(tmp_path / "cache"), "GOWORK": "off"}
    env |= {"GOPATH": str(tmp_path / "gopath")}
    ran = subprocess.run(
        [str(go), *argv[1:3], argv[3], "-n", "./..."],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert ran.returncode == 0, ran.stderr
    printed = ran.stderr.splitlines()
    kept = [" ".join(d.words[:2]) for d in choice.kept]
    assert len(printed) == len(kept) == 6
    assert [line.split()[:2] for line in printed] == [k.split() for k in kept]
    assert not any("gen.py" in line or "stringer" in line or "sh -c" in line for line in printed)


def test_no_directive_means_nothing_to_generate_and_all_go_means_every_one(tmp_path: Path) -> None:
    root = write_files(tmp_path, {"go.mod": GO_MOD, "a.go": "package a\n"})
    assert directives.choose(root).argv() == []
    (root / "b.go").write_text("package a\n\n//go:generate go run ./gen\n")
    assert directives.choose(root).argv() == [["go", "generate", "./..."]]
    (root / "c.go").write_text("package a\n\n//go:generate protoc --go_out=. a.proto\n")
    (root / "b.go").unlink()
    assert directives.choose(root).argv() == []  # nothing left to run


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("ignore", False),
        ("linux", True),
        ("!windows && (amd64 || arm64)", True),
        ("darwin || freebsd", False),
        ("go1.21 && !purego", True),
        ("generate", False),
        ("((", True),  # unparsable: Go reports it; the chain does not guess
    ],
)
def test_build_expressions(expression: str, expected: bool) -> None:
    assert constraints.expression_allows(expression, constraints.default_tags()) is expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("a_windows.go", False),
        ("a_linux.go", True),
        ("a_linux_s390x_test.go", False),
        ("linux.go", True),  # a name that is only a suffix has no constraint
        ("a_unix.go", True),  # unix is a tag, not a GOOS of file names
    ],
)
def test_file_name_suffixes(name: str, expected: bool) -> None:
    assert constraints.name_allows(name, constraints.default_tags()) is expected


def test_an_ignored_generator_program_is_not_a_main_package(tmp_path: Path) -> None:
    root = lib(tmp_path)
    assert layout.main_packages(root) == ["./internal/gen"]  # not ./enum (gen.go is ignored)
