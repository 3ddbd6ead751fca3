"""Write a larger, stdlib-only Go module for the benchmark: N packages of real-looking code.

    python bench/make_module.py DEST [--packages 24] [--funcs 40]

Each package has a few files of functions (parsing, sorting, hashing, string
work) and a test file that exercises them; ``cmd/server`` imports every package
and serves ``/healthz``, so the binary links all of it. The default size is
about 12,000 lines, close to the ≈10k-line module in ENVIRONMENT.md's timings.
"""

from __future__ import annotations

import argparse
from pathlib import Path

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


def write_module(dest: Path, packages: int, funcs: int) -> int:
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
    main = MAIN.format(imports="\n".join(imports), calls=", ".join(calls))
    (dest / "cmd" / "server" / "main.go").write_text(main)
    return lines + main.count("\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dest", type=Path)
    parser.add_argument("--packages", type=int, default=24)
    parser.add_argument("--funcs", type=int, default=24)
    args = parser.parse_args()
    lines = write_module(args.dest, args.packages, args.funcs)
    print(f"wrote {args.dest}: {args.packages} packages, {lines} lines of Go")


if __name__ == "__main__":
    main()
