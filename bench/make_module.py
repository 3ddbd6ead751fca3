"""Write a larger, stdlib-only Go module for the benchmark: N packages of real-looking code.

    python bench/make_module.py DEST [--packages 24] [--funcs 40] [--deps 0]

Each package has a few files of functions (parsing, sorting, hashing, string
work) and a test file that exercises them; ``cmd/server`` imports every package
and serves ``/healthz``, so the binary links all of it. The default size is
about 12,000 lines, close to the ≈10k-line module in ENVIRONMENT.md's timings.

``--deps N`` adds N dependency modules (``example.com/benchdepN``, six packages of the
same code each) served from ``DEST/goproxy`` as a file-based module proxy, with their
go.sum lines; ``cmd/server`` imports them too. Bench it with ``--goproxy-dir goproxy``.
"""

from __future__ import annotations

import argparse
import io
import sys
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.goproxy import hash1

FUNC = """
// F{i} folds the words of s into a checksum, sorted, trimmed and hashed ({pkg} #{i}).
func F{i}(s string) (string, error) {{
	words := strings.Fields(strings.ToLower(s))
	if len(words) == 0 {{
		return "", fmt.Errorf("{pkg}.F{i}: empty input")
	}}
	sort.Strings(words)
	var b strings.Builder
	for n, w := range words {{
		if n > 0 {{
			b.WriteByte(' ')
		}}
		b.WriteString(strings.TrimFunc(w, func(r rune) bool {{ return !unicode.IsLetter(r) }}))
	}}
	sum := sha256.Sum256([]byte(b.String() + strconv.Itoa({i})))
	return hex.EncodeToString(sum[:4]), nil
}}
"""

TEST = """
func TestF{i}(t *testing.T) {{
	got, err := F{i}("Banana apple, cherry!")
	if err != nil || len(got) != 8 {{
		t.Fatalf("F{i} = %q, %v", got, err)
	}}
	if _, err := F{i}("   "); err == nil {{
		t.Fatal("F{i} accepted empty input")
	}}
}}
"""

HEADER = """// Package {pkg} is generated benchmark code.
package {pkg}

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode"
)
"""

MAIN = """// Command server links every generated package and answers /healthz.
package main

import (
	"flag"
	"fmt"
	"net/http"
	"os"

{imports}
)

var version = "dev"

func main() {{
	_ = flag.String("config", "", "ignored")
	health := flag.String("healthcheck", "", "GET this URL and exit 0 on 200")
	flag.Parse()
	if *health != "" {{
		resp, err := http.Get(*health)
		if err != nil || resp.StatusCode != http.StatusOK {{
			os.Exit(1)
		}}
		os.Exit(0)
	}}
	sums := []func(string) (string, error){{{calls}}}
	http.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {{
		s, _ := sums[0]("health check")
		fmt.Fprintf(w, `{{"status":"ok","version":%q,"sum":%q}}`, version, s)
	}})
	_ = http.ListenAndServe(":8080", nil)
}}
"""


def write_module(dest: Path, packages: int, funcs: int, deps: int = 0) -> int:
    """Write the module; return its line count."""
    module = "example.com/benchmod"
    (dest / "cmd" / "server").mkdir(parents=True, exist_ok=True)
    (dest / "go.mod").write_text(f"module {module}\n\ngo 1.22\n")
    (dest / "config.yaml").write_text("# benchmark module\n")
    (dest / "VERSION").write_text("MAJOR=0\nMINOR=1\nPATCH=0\nPRERELEASE=\n")
    lines = 0
    imports, calls = [], []
    for p in range(packages):
        pkg = f"pkg{p:02d}"
        folder = dest / "internal" / pkg
        folder.mkdir(parents=True, exist_ok=True)
        per_file = 10
        for f in range(0, funcs, per_file):
            body = HEADER.format(pkg=pkg) + "".join(
                FUNC.format(i=i, pkg=pkg) for i in range(f, min(f + per_file, funcs))
            )
            (folder / f"f{f:03d}.go").write_text(body)
            lines += body.count("\n")
        tests = f'package {pkg}\n\nimport "testing"\n' + "".join(
            TEST.format(i=i) for i in range(funcs)
        )
        (folder / f"{pkg}_test.go").write_text(tests)
        lines += tests.count("\n")
        imports.append(f'\t"{module}/internal/{pkg}"')
        calls.append(f"{pkg}.F0")
    if deps:
        dep_imports, dep_calls, dep_lines = write_deps(dest, deps, funcs)
        imports += dep_imports
        calls += dep_calls
        lines += dep_lines
    main = MAIN.format(imports="\n".join(imports), calls=", ".join(calls))
    (dest / "cmd" / "server" / "main.go").write_text(main)
    return lines + main.count("\n")


def package_files(pkg: str, funcs: int) -> dict[str, str]:
    """One generated package: file name → Go source (tests included)."""
    files, per_file = {}, 10
    for f in range(0, funcs, per_file):
        files[f"f{f:03d}.go"] = HEADER.format(pkg=pkg) + "".join(
            FUNC.format(i=i, pkg=pkg) for i in range(f, min(f + per_file, funcs))
        )
    files[f"{pkg}_test.go"] = f'package {pkg}\n\nimport "testing"\n' + "".join(
        TEST.format(i=i) for i in range(funcs)
    )
    return files


def write_deps(dest: Path, deps: int, funcs: int) -> tuple[list[str], list[str], int]:
    """Dependency modules in DEST/goproxy, go.mod/go.sum lines; return (imports, calls, lines)."""
    version = "v1.0.0"
    requires, sums, imports, calls, lines = [], [], [], [], 0
    for d in range(deps):
        module = f"example.com/benchdep{d}"
        go_mod = f"module {module}\n\ngo 1.22\n"
        members = {f"{module}@{version}/go.mod": go_mod.encode()}
        for p in range(6):
            pkg = f"dep{d}pkg{p}"
            for name, text in package_files(pkg, funcs).items():
                members[f"{module}@{version}/{pkg}/{name}"] = text.encode()
                lines += text.count("\n")
            imports.append(f'\t"{module}/{pkg}"')
            calls.append(f"{pkg}.F0")
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            for name, data in members.items():
                archive.writestr(name, data)
        versions = dest / "goproxy" / module / "@v"
        versions.mkdir(parents=True, exist_ok=True)
        (versions / "list").write_text(f"{version}\n")
        (versions / f"{version}.info").write_text(f'{{"Version":"{version}"}}\n')
        (versions / f"{version}.mod").write_text(go_mod)
        (versions / f"{version}.zip").write_bytes(buffer.getvalue())
        requires.append(f"require {module} {version}\n")
        sums.append(f"{module} {version} {hash1(members)}\n")
        sums.append(f"{module} {version}/go.mod {hash1({'go.mod': go_mod.encode()})}\n")
    with (dest / "go.mod").open("a") as go_mod_file:
        go_mod_file.write("\n" + "".join(requires))
    (dest / "go.sum").write_text("".join(sums))
    return imports, calls, lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dest", type=Path)
    parser.add_argument("--packages", type=int, default=24)
    parser.add_argument("--funcs", type=int, default=24)
    parser.add_argument("--deps", type=int, default=0, help="dependency modules, via goproxy/")
    args = parser.parse_args()
    lines = write_module(args.dest, args.packages, args.funcs, args.deps)
    print(
        f"wrote {args.dest}: {args.packages} packages, {args.deps} dependency modules,"
        f" {lines} lines of Go"
    )


if __name__ == "__main__":
    main()
