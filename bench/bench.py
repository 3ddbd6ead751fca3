"""ADR 0020's pipeline, as plain docker CLI steps, against `inv push`, side by side.

    ./dev python bench/bench.py [MODULE] [--runs 3] [--main-package ./cmd/server]

For each scenario the two pipelines run alternately on two copies of the same Go
module (default: this repository's service), each with its own fresh local
registry, and the script prints per-step and total medians and the ratio
dlc / ADR. Scenarios:

* cold: no cache image, no production image, no Go build cache, empty registry;
* edit: warm, one .go file of the main package changed (an init() that changes
  the binary);
* noop: warm, nothing changed since the last push.

The baseline is the ADR's workflow, faithfully: a `docker pull` of the cache image
as the hit check, `docker build -f docker/Dockerfile.build` and `docker push` on a
miss, one `docker run --rm` of the cache image for each of `go generate`,
`go build ./...` and `go test ./...`, `docker build` of a Dockerfile.prod whose
builder stage is the cache image (compiling the binary there, since the ADR's
version copies one that does not exist), then `docker tag` and `docker push` of
the version, the sha and latest.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from dlc_tasks.housekeeping.base_images import user_config_path  # noqa: E402
from dlc_tasks.model.depshash import compute  # noqa: E402

SERVICE_FILES = ["go.mod", "go.sum", "cmd", "pkg", "internal", "config.yaml", "VERSION"]
INV = str(Path(sys.executable).parent / "inv")
ADR_PROD = """ARG RUNTIME_IMAGE=alpine:3.18
FROM {cache} AS builder
WORKDIR /workspace
COPY . .
RUN go build -o /workspace/app {main}

FROM ${{RUNTIME_IMAGE}}
WORKDIR /app
COPY --from=builder /workspace/app /app/app
COPY config.yaml /app/config.yaml
ENV TZ=UTC
EXPOSE 8080
ENTRYPOINT ["/app/app"]
"""


def run(*argv: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        list(argv),
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(f"bench: {' '.join(argv)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def build_args() -> dict[str, str]:
    """The machine's dlc.build_args (base images), as `inv` would read them."""
    path = user_config_path()
    data = yaml.safe_load(path.read_text()) if path.is_file() else {}
    return dict(((data or {}).get("dlc") or {}).get("build_args") or {})


class Registry:
    """A fresh Distribution registry on a free loopback port."""

    def __init__(self, root: Path) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.address = f"127.0.0.1:{self.port}"
        self.root = root
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)
        (self.root / "storage").mkdir(parents=True)
        config = self.root / "config.yml"
        config.write_text(
            f"version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n"
            f"    rootdirectory: {self.root / 'storage'}\nhttp:\n  addr: {self.address}\n"
        )
        self.process = subprocess.Popen(
            ["docker-registry", "serve", str(config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)  # polling until the registry listens
        raise SystemExit("bench: registry did not start")

    def stop(self) -> None:
        if self.process:
            self.process.terminate()
            self.process.wait(10)


def remove_images(prefix: str) -> None:
    refs = run("docker", "images", "--format", "{{.Repository}}:{{.Tag}}").split()
    doomed = [r for r in refs if r.startswith(prefix) or r.startswith("benchadr-prod")]
    if doomed:
        run("docker", "rmi", "-f", *doomed)
    # the legacy builder's layer cache is the untagged intermediate images: drop them too,
    # or a "cold" docker build would reuse every step of the previous run
    run("docker", "image", "prune", "-f")


class Pipeline:
    """One of the two compared pipelines, on its own copy of the module."""

    name = ""

    def __init__(self, module: Path, workdir: Path, main_package: str) -> None:
        self.dir = workdir / self.name / "module"
        self.registry = Registry(workdir / self.name / "registry")
        self.main_package = main_package
        shutil.rmtree(self.dir.parent, ignore_errors=True)
        self.dir.mkdir(parents=True)
        for name in SERVICE_FILES:
            src = module / name
            if src.is_dir():
                shutil.copytree(src, self.dir / name)
            elif src.is_file():
                shutil.copy2(src, self.dir / name)
        shutil.copytree(
            REPO / "docker", self.dir / "docker", ignore=shutil.ignore_patterns("Dockerfile.prod")
        )
        git = ["git", "-c", "user.name=b", "-c", "user.email=b@example.com"]
        run(*git, "init", "-q", "-b", "main", cwd=self.dir)
        run(*git, "add", "-A", cwd=self.dir)
        run(*git, "commit", "-qm", "bench", cwd=self.dir)
        self.sha = run("git", "rev-parse", "HEAD", cwd=self.dir).strip()

    def reset_cold(self) -> None:
        self.registry.stop()
        remove_images(self.registry.address)
        self.registry.start()

    def edit(self, n: int) -> None:
        pkg = self.dir / self.main_package
        (pkg / "zz_bench_edit.go").write_text(
            f'package main\n\nvar benchEdit string\n\nfunc init() {{ benchEdit = "edit {n}" }}\n'
        )

    def run(self) -> dict[str, float]:
        raise NotImplementedError


class AdrPipeline(Pipeline):
    """The ADR's steps as plain docker CLI commands."""

    name = "adr"

    def run(self) -> dict[str, float]:
        times: dict[str, float] = {}
        args = build_args()
        arg_flags = [f for k, v in args.items() for f in ("--build-arg", f"{k}={v}")]

        def step(name: str, fn: Callable[[], object]) -> None:
            t = time.monotonic()
            fn()
            times[name] = time.monotonic() - t

        deps = compute(self.dir, self.dir / "docker" / "Dockerfile.build", args).value
        cache = f"{self.registry.address}/bench/app-build-cache:{deps}"
        mount = ["-v", f"{self.dir}:/workspace", "-w", "/workspace"]

        def check_and_build_cache() -> None:
            pulled = subprocess.run(["docker", "pull", cache], capture_output=True, check=False)
            if pulled.returncode != 0:
                run(
                    "docker",
                    "build",
                    "--file",
                    "docker/Dockerfile.build",
                    "--tag",
                    cache,
                    *arg_flags,
                    ".",
                    cwd=self.dir,
                )
                run("docker", "push", cache)

        step(
            "hash",
            lambda: hashlib.sha256(
                b"".join((self.dir / f).read_bytes() for f in ("go.mod", "docker/Dockerfile.build"))
            ).hexdigest(),
        )
        step("cache", check_and_build_cache)
        step(
            "generate",
            lambda: run("docker", "run", "--rm", *mount, cache, "go", "generate", "./..."),
        )
        step("build", lambda: run("docker", "run", "--rm", *mount, cache, "go", "build", "./..."))
        step(
            "test",
            lambda: run("docker", "run", "--rm", *mount, cache, "go", "test", "-cover", "./..."),
        )
        (self.dir / "Dockerfile.prod").write_text(
            ADR_PROD.format(cache=cache, main=self.main_package)
        )
        runtime = args.get("RUNTIME_IMAGE", "alpine:3.18")
        step(
            "prod",
            lambda: run(
                "docker",
                "build",
                "-t",
                "benchadr-prod",
                "-f",
                "Dockerfile.prod",
                "--build-arg",
                f"RUNTIME_IMAGE={runtime}",
                ".",
                cwd=self.dir,
            ),
        )

        def push() -> None:
            for tag in ("0.0.0", self.sha, "latest"):
                ref = f"{self.registry.address}/bench/app:{tag}"
                run("docker", "tag", "benchadr-prod", ref)
                run("docker", "push", ref)

        step("push", push)
        return times


class DlcPipeline(Pipeline):
    """`inv push`, with its own per-step figures read from the summary."""

    name = "dlc"

    def reset_cold(self) -> None:
        super().reset_cold()
        shutil.rmtree(self.dir / ".dlc", ignore_errors=True)
        volumes = run(
            "docker", "volume", "ls", "-q", "--filter", "name=dlc-gocache-benchapp"
        ).split()
        if volumes:
            run("docker", "volume", "rm", "-f", *volumes)

    def run(self) -> dict[str, float]:
        env = {
            "INVOKE_DLC_PROJECT_DIR": str(self.dir),
            "INVOKE_DLC_REGISTRY": self.registry.address,
            "INVOKE_DLC_ORG": "bench",
            "INVOKE_DLC_REPO": "benchapp",
            "INVOKE_DLC_MAIN_PACKAGE": self.main_package,
            "NO_COLOR": "1",
        }
        started = time.monotonic()
        out = run(INV, "--search-root", str(REPO), "push", cwd=self.dir, env=env)
        total = time.monotonic() - started
        times: dict[str, float] = {}
        in_summary = False
        for line in out.splitlines():
            if line.rstrip().endswith("summary:"):
                in_summary = True
                continue
            if in_summary:
                parts = line.split("]", 1)[-1].split()
                if len(parts) >= 3 and parts[2].endswith("s"):
                    times[parts[0]] = float(parts[2][:-1])
        times["(start-up)"] = max(0.0, total - sum(times.values()))
        return times


def median_table(results: dict[str, list[dict[str, float]]]) -> list[tuple[str, float, float]]:
    rows = []
    for name in ("adr", "dlc"):
        for r in results[name]:
            r["TOTAL"] = sum(v for k, v in r.items() if k != "TOTAL")
    steps = [*sorted({k for r in results["adr"] + results["dlc"] for k in r} - {"TOTAL"}), "TOTAL"]
    for step in steps:
        adr = statistics.median(r.get(step, 0.0) for r in results["adr"])
        dlc = statistics.median(r.get(step, 0.0) for r in results["dlc"])
        rows.append((step, adr, dlc))
    return rows


def run_scenario(
    pipelines: list[Pipeline], scenario: str, runs: int, first_edit: int
) -> dict[str, list[dict[str, float]]]:
    """Run both pipelines alternately ``runs`` times in one scenario."""
    results: dict[str, list[dict[str, float]]] = {"adr": [], "dlc": []}
    for i in range(runs):
        for p in pipelines:  # alternate: adr, dlc, adr, dlc, ...
            if scenario == "cold":
                p.reset_cold()
            elif scenario == "edit":
                p.edit(first_edit + i)
            results[p.name].append(p.run())
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description="ADR pipeline vs inv push, side by side")
    parser.add_argument("module", nargs="?", type=Path, default=REPO)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--main-package", default="./cmd/server")
    parser.add_argument("--scenarios", default="cold,edit,noop")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="dlc-bench-"))
    pipelines = [
        AdrPipeline(args.module.resolve(), work, args.main_package),
        DlcPipeline(args.module.resolve(), work, args.main_package),
    ]
    print(f"module {args.module.resolve()}, {args.runs} runs per scenario, {os.cpu_count()} cores")
    summary = []
    try:
        for p in pipelines:
            p.registry.start()
        for number, scenario in enumerate(args.scenarios.split(",")):
            if scenario != "cold" and number == 0:
                for p in pipelines:
                    p.run()  # warm both up first when no cold scenario ran before
            results = run_scenario(pipelines, scenario, args.runs, number * args.runs)
            print(f"\n{scenario}: median seconds over {args.runs} runs")
            print(f"  {'step':<12}{'ADR':>9}{'dlc':>9}{'dlc/ADR':>9}")
            for step, adr, dlc in median_table(results):
                ratio = f"{dlc / adr:.2f}" if adr > 0.05 else "-"
                print(f"  {step:<12}{adr:9.2f}{dlc:9.2f}{ratio:>9}")
                if step == "TOTAL":
                    summary.append((scenario, adr, dlc))
        print("\nsummary (total wall time, median):")
        for scenario, adr, dlc in summary:
            print(f"  {scenario:<6} ADR {adr:7.2f}s  dlc {dlc:7.2f}s  ratio {dlc / adr:.3f}")
    finally:
        for p in pipelines:
            p.registry.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
