"""ADR 0020's pipeline, as plain docker CLI steps, against `inv push`, side by side.

    ./dev python bench/bench.py [MODULE] [--runs 3] [--main-package ./cmd/server]
        [--scenarios cold,fresh,bump,edit,noop] [--goproxy-dir goproxy] [--keep-layers]

For each scenario the two pipelines run alternately on two copies of the same Go
module (default: this repository's service), each with its own fresh local
registry, and the script prints per-step and total medians and the ratio
dlc / ADR. Scenarios:

* cold: no cache image, no production image, no Go build cache, empty registry;
* edit: warm, one .go file of the main package changed (an init() that changes
  the binary);
* fresh: a fresh CI runner: the cache image is in the registry, but the engine has
  neither it nor the production images nor any Go cache volume, the module is a
  fresh clone (no .dlc/), and one .go file changed;
* noop: warm, nothing changed since the last push;
* bump: a dependency bump on a fresh runner: the previous cache image is in the registry,
  the engine holds nothing but the two base images and no Go cache volume, the module is a
  fresh clone, and its dependency hash is new (a line appended to go.mod and committed, as a
  bump rewrites it; the proxy's modules stay): each pipeline builds a new cache image, dlc's
  from the previous one's standard-library layer (dlc_tasks/model/stdlayer.py).

Before a warm scenario that no cold one preceded, each pipeline is warmed up with what a
previous run would have left (``Pipeline.warm_up``). After an edit scenario, the native
floor: the same edit's ``go vet``, ``go test`` and ``go build`` with nothing around them,
``docker exec`` in an already running container of the toolchain with a warm Go cache
(there is no Go on the host).
A module with dependencies served by a local module proxy passes
``--goproxy-dir DIR`` (both pipelines then build against ``file:///goproxy``).

The two pipelines run on the benchmark's own Docker engine (a second dockerd with its
own data root, started and ended by the script; ``--shared-engine`` uses the default
one instead), because cold and fresh need an engine that holds nothing of either
pipeline: on a shared engine, other images keep the warm standard-library layer and
its blobs, and a cold build or a fresh pull would look cheaper than on a new runner.
Cold keeps only the two base images (``GO_IMAGE``, ``RUNTIME_IMAGE``); fresh keeps only
the runtime base (2 MB, the same for both), so each pipeline pulls its whole cache image.

The baseline is the ADR's workflow, faithfully: a `docker pull` of the cache image
as the hit check, `docker build` of the ADR's Dockerfile.build (``ADR_BUILD``: the Go
image, `go mod download && go mod verify`; its apk and `go install swag` lines need
the internet and are left out) and `docker push` on a miss, one `docker run --rm`
of the cache image for each of `go generate`, `go build ./...` and `go test ./...`,
`docker build` of a Dockerfile.prod whose builder stage is the cache image
(compiling the binary there, since the ADR's version copies one that does not
exist), then `docker tag` and `docker push` of the version, the sha and latest.
"""

from __future__ import annotations

import argparse
import hashlib
import json
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

SERVICE_FILES = ["go.mod", "go.sum", "cmd", "pkg", "internal", "config.yaml", "VERSION", "goproxy"]
INV = str(Path(sys.executable).parent / "inv")
EDIT_FILE = "zz_bench_edit.go"
ADR_BUILD = """ARG GO_IMAGE=golang:1.26.1-alpine
FROM ${GO_IMAGE}
ARG GOPROXY=https://proxy.golang.org,direct
ENV GOPROXY=${GOPROXY}
WORKDIR /workspace
COPY goproxy/ /goproxy/
COPY go.mod go.su[m] ./
RUN go mod download && go mod verify
"""
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


def remove_images(prefix: str, *, prune: bool, keep: tuple[str, ...] | None = None) -> None:
    """Remove this pipeline's images (``prefix``), or, on the bench's own engine (``keep``
    given), every image but the ``keep`` references."""
    listed = run("docker", "images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}").splitlines()
    kept_ids = {
        image_id for ref, image_id in (line.split() for line in listed) if ref in (keep or ())
    }
    doomed = [
        image_id if ref.endswith(":<none>") else ref  # a re-tagged image keeps only its ID
        for ref, image_id in (line.split() for line in listed)
        if (keep is not None and image_id not in kept_ids)
        or (keep is None and (ref.startswith(prefix) or ref.startswith("benchadr-prod")))
    ]
    if doomed:
        run("docker", "rmi", "-f", *doomed)
    # the legacy builder's layer cache is the untagged intermediate images: drop them too,
    # or a "cold" docker build would reuse every step of the previous run
    if prune:
        run("docker", "image", "prune", "-f")


def write_edit(package_dir: Path, n: int) -> None:
    """One .go file of the main package changed: an init() that changes the binary."""
    (package_dir / EDIT_FILE).write_text(
        f'package main\n\nvar benchEdit string\n\nfunc init() {{ benchEdit = "edit {n}" }}\n'
    )


class Pipeline:
    """One of the two compared pipelines, on its own copy of the module."""

    name = ""

    def __init__(
        self, module: Path, workdir: Path, main_package: str, goproxy_dir: str | None
    ) -> None:
        self.origin = workdir / self.name / "origin"
        self.dir = workdir / self.name / "module"
        self.registry = Registry(workdir / self.name / "registry")
        self.main_package = main_package
        self.goproxy_dir = goproxy_dir
        shutil.rmtree(self.dir.parent, ignore_errors=True)
        self.origin.mkdir(parents=True)
        for name in SERVICE_FILES:
            src = module / name
            if src.is_dir():
                shutil.copytree(src, self.origin / name)
            elif src.is_file():
                shutil.copy2(src, self.origin / name)
        shutil.copytree(
            REPO / "docker",
            self.origin / "docker",
            ignore=shutil.ignore_patterns("Dockerfile.prod"),
        )
        self.prepare(self.origin)
        git = ["git", "-c", "user.name=b", "-c", "user.email=b@example.com"]
        run(*git, "init", "-q", "-b", "main", cwd=self.origin)
        run(*git, "add", "-A", cwd=self.origin)
        run(*git, "commit", "-qm", "bench", cwd=self.origin)
        self.sha = run("git", "rev-parse", "HEAD", cwd=self.origin).strip()
        self.clone()

    def prepare(self, root: Path) -> None:
        """Add what this pipeline needs to the module before its first commit."""

    def clone(self) -> None:
        """A fresh clone of the module, as a CI runner checks it out."""
        shutil.rmtree(self.dir, ignore_errors=True)
        run("git", "clone", "-q", str(self.origin), str(self.dir))

    def reset_cold(self) -> None:
        self.registry.stop()
        base = (ENGINE.go_image, ENGINE.runtime_image) if ENGINE.own else None
        remove_images(self.registry.address, prune=True, keep=base)
        self.registry.start()

    def clean_up(self) -> None:
        """Leave the engine as it was: this pipeline's images (and Go cache volumes) go."""
        remove_images(self.registry.address, prune=False)

    def reset_fresh(self) -> None:
        """A fresh runner: the registry keeps its images; the engine and the clone start empty."""
        base = (ENGINE.runtime_image,) if ENGINE.own else None
        remove_images(self.registry.address, prune=True, keep=base)
        self.clone()

    def reset_bump(self) -> None:
        """A fresh runner whose engine holds the base images only; the registry keeps its."""
        base = (ENGINE.go_image, ENGINE.runtime_image) if ENGINE.own else None
        remove_images(self.registry.address, prune=True, keep=base)
        self.clone()

    def bump(self, n: int) -> None:
        """A new dependency hash, committed (go.mod rewritten, as a dependency bump does)."""
        with (self.dir / "go.mod").open("a") as go_mod:
            go_mod.write(f"\n// bench dependency bump {n}\n")
        git = ["git", "-c", "user.name=b", "-c", "user.email=b@example.com"]
        run(*git, "commit", "-qam", f"bench bump {n}", cwd=self.dir)
        self.sha = run("git", "rev-parse", "HEAD", cwd=self.dir).strip()

    def edit(self, n: int) -> None:
        """The edit, committed: a CI runner builds a commit, and ``inv push`` tags honestly
        (an uncommitted change is ``SHA-dirty``, and an error under ``CI``)."""
        write_edit(self.dir / self.main_package, n)
        git = ["git", "-c", "user.name=b", "-c", "user.email=b@example.com"]
        run(*git, "add", str(self.dir / self.main_package / EDIT_FILE), cwd=self.dir)
        run(*git, "commit", "-qm", f"bench edit {n}", cwd=self.dir)
        self.sha = run("git", "rev-parse", "HEAD", cwd=self.dir).strip()

    def run(self) -> dict[str, float]:
        raise NotImplementedError

    def warm_up(self, scenario: str) -> None:
        """Leave what a previous run would have left, before a warm ``scenario``."""
        self.run()


class AdrPipeline(Pipeline):
    """The ADR's steps as plain docker CLI commands."""

    name = "adr"
    cache = ""
    cache_only = False

    def warm_up(self, scenario: str) -> None:
        """The ADR's pipeline keeps nothing between runs but its cache image (in the registry
        and the engine) and the legacy builder's layer cache of its Dockerfile.prod. Before an
        edit (which invalidates that layer cache: `COPY . .`) or a fresh runner (which has
        none), a previous run leaves only the cache image, so only that is made; before
        nothing changed, the whole pipeline runs once, so its prod build can be a layer hit."""
        if scenario == "noop":
            self.run()
            return
        self.cache_only = True
        try:
            self.run()
        finally:
            self.cache_only = False

    def prepare(self, root: Path) -> None:
        (root / "Dockerfile.adr-build").write_text(ADR_BUILD)
        if not (root / "goproxy").is_dir():
            (root / "goproxy").mkdir()
            (root / "goproxy" / "README").write_text("no local module proxy\n")

    def run(self) -> dict[str, float]:
        times: dict[str, float] = {}
        args = build_args()
        if self.goproxy_dir:
            args["GOPROXY"] = "file:///goproxy"
        arg_flags = [f for k, v in args.items() for f in ("--build-arg", f"{k}={v}")]

        def step(name: str, fn: Callable[[], object]) -> None:
            t = time.monotonic()
            fn()
            times[name] = time.monotonic() - t

        deps = compute(self.dir, self.dir / "Dockerfile.adr-build", args).value
        cache = f"{self.registry.address}/bench/app-build-cache:{deps}"
        self.cache = cache
        mount = ["-v", f"{self.dir}:/workspace", "-w", "/workspace"]

        def check_and_build_cache() -> None:
            pulled = subprocess.run(["docker", "pull", cache], capture_output=True, check=False)
            if pulled.returncode != 0:
                run(
                    "docker",
                    "build",
                    "--file",
                    "Dockerfile.adr-build",
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
                b"".join((self.dir / f).read_bytes() for f in ("go.mod", "Dockerfile.adr-build"))
            ).hexdigest(),
        )
        step("cache", check_and_build_cache)
        if self.cache_only:
            return times
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
        self.remove_volumes()

    def reset_fresh(self) -> None:
        super().reset_fresh()
        self.remove_volumes()

    def reset_bump(self) -> None:
        super().reset_bump()
        self.remove_volumes()

    def clean_up(self) -> None:
        super().clean_up()
        self.remove_volumes()

    def cache_image(self) -> str:
        """The cache image the last ``inv push`` used, pinned by digest (from its stamp)."""
        stamp = json.loads((self.dir / ".dlc" / "state.json").read_text())["cache"]
        return f"{stamp['ref'].rsplit(':', 1)[0]}@{stamp['digest']}"

    def remove_volumes(self) -> None:
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
        if self.goproxy_dir:
            env["INVOKE_DLC_GOPROXY_DIR"] = self.goproxy_dir
        started = time.monotonic()
        out = run(INV, "--search-root", str(REPO), "push", cwd=self.dir, env=env)
        total = time.monotonic() - started
        if "std layer reused from" in out:
            print("  (dlc: the new cache image reused the previous one's std layer)")
        times = summary_times(out)
        times["(start-up)"] = max(0.0, total - sum(times.values()))
        return times


def summary_times(out: str) -> dict[str, float]:
    """Each step's seconds from ``inv``'s summary: the plain one-line form (``summary: hash
    skipped 0.0s, cache miss 12.3s, … (15.2s)``) or the terminal's table."""
    times: dict[str, float] = {}
    in_table = False
    for line in out.splitlines():
        text = line.split("] ", 1)[-1].strip()
        if text.startswith("summary: "):
            for item in text.removeprefix("summary: ").rsplit(" (", 1)[0].split(", "):
                parts = item.split()
                if len(parts) == 3 and parts[2].endswith("s"):
                    times[parts[0]] = float(parts[2][:-1])
        elif text == "summary:":
            in_table = True
        elif in_table:
            parts = text.split()
            if len(parts) >= 3 and parts[2].endswith("s"):
                times[parts[0]] = float(parts[2][:-1])
    return times


class NativeGo:
    """The floor: the edit's ``go vet``, ``go test`` and ``go build`` and nothing else.

    There is no Go on the host: the commands are ``docker exec``s in a container started
    once, on a clone of its own, whose Go cache stays warm. The image is dlc's cache image
    (the same toolchain as the ADR's; its Go cache is warm already, so the warm-up compiles
    only the module, not the standard library too).
    """

    def __init__(self, adr: AdrPipeline, dlc: DlcPipeline, workdir: Path) -> None:
        self.adr = adr
        self.dir = workdir / "native" / "module"
        shutil.rmtree(self.dir.parent, ignore_errors=True)
        run("git", "clone", "-q", str(adr.origin), str(self.dir))
        self.container = run(
            "docker", "run", "-d", "-v", f"{self.dir}:/workspace", "-w", "/workspace",
            "-e", "CGO_ENABLED=0", "-e", "GOFLAGS=-mod=readonly", "-e", "GOPROXY=off",
            dlc.cache_image(), "tail", "-f", "/dev/null",
        ).strip()  # fmt: skip
        self.go()  # warm its Go cache: the floor is a warm edit

    def go(self) -> float:
        started = time.monotonic()
        for argv in (
            ["go", "vet", "./..."],
            ["go", "test", "-cover", "./..."],
            ["go", "build", "-o", "/dev/null", self.adr.main_package],
        ):
            run("docker", "exec", self.container, *argv)
        return time.monotonic() - started

    def edit_times(self, first_edit: int, runs: int) -> list[float]:
        times = []
        for i in range(runs):
            write_edit(self.dir / self.adr.main_package, first_edit + i)
            times.append(self.go())
        return times

    def stop(self) -> None:
        run("docker", "rm", "-f", self.container)


class BenchEngine:
    """The engine the pipelines run on: the bench's own dockerd, or the default one."""

    own = False
    go_image = ""
    runtime_image = ""
    second: object | None = None

    def start(self, work: Path, shared: bool) -> None:
        args = build_args()
        self.go_image = args.get("GO_IMAGE", "golang:1.26.1-alpine")
        self.runtime_image = args.get("RUNTIME_IMAGE", "alpine:3.18")
        if shared:
            return
        from tests.support.dockerd import SecondEngine  # noqa: PLC0415  (the suite's helper)

        octet = os.getpid() % 200 + 20
        engine = SecondEngine(
            work / "engine", bridge=f"dlcbench{octet}", cidr=f"10.214.{octet}.1/24"
        )
        engine.start()
        self.second, self.own = engine, True
        saved = subprocess.run(
            ["docker", "save", self.go_image, self.runtime_image], capture_output=True, check=True
        ).stdout
        os.environ.update(engine.client_env())  # every docker and inv command from here on
        subprocess.run(["docker", "load", "-q"], input=saved, capture_output=True, check=True)

    def stop(self) -> None:
        if self.second is not None:
            os.environ.pop("DOCKER_HOST", None)
            self.second.stop()  # type: ignore[attr-defined]


ENGINE = BenchEngine()


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
            elif scenario == "fresh":
                p.reset_fresh()
                p.edit(first_edit + i)
            elif scenario == "bump":
                p.reset_bump()
                p.bump(first_edit + i)
            elif scenario == "edit":
                p.edit(first_edit + i)
            results[p.name].append(p.run())
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description="ADR pipeline vs inv push, side by side")
    parser.add_argument("module", nargs="?", type=Path, default=REPO)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--main-package", default="./cmd/server")
    parser.add_argument("--scenarios", default="cold,fresh,bump,edit,noop")
    parser.add_argument("--goproxy-dir", help="the module's local module proxy (dlc.goproxy_dir)")
    parser.add_argument(
        "--shared-engine",
        action="store_true",
        help="run on the default engine (enough for edit and noop; cold and fresh flatter both)",
    )
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="dlc-bench-"))
    ENGINE.start(work, args.shared_engine)
    adr = AdrPipeline(args.module.resolve(), work, args.main_package, args.goproxy_dir)
    dlc = DlcPipeline(args.module.resolve(), work, args.main_package, args.goproxy_dir)
    pipelines: list[Pipeline] = [adr, dlc]
    native: NativeGo | None = None
    where = "the default engine" if args.shared_engine else "the bench's own engine"
    print(
        f"module {args.module.resolve()}, {args.runs} runs per scenario, {os.cpu_count()} cores,"
        f" {where}"
    )
    summary = []
    try:
        for p in pipelines:
            p.registry.start()
        for number, scenario in enumerate(args.scenarios.split(",")):
            if scenario != "cold" and number == 0:
                for p in pipelines:
                    p.warm_up(scenario)  # when no cold scenario ran before
            results = run_scenario(pipelines, scenario, args.runs, number * args.runs)
            print(f"\n{scenario}: median seconds over {args.runs} runs")
            print(f"  {'step':<12}{'ADR':>9}{'dlc':>9}{'dlc/ADR':>9}")
            for step, adr_total, dlc_total in median_table(results):
                ratio = f"{dlc_total / adr_total:.2f}" if adr_total > 0.05 else "-"
                print(f"  {step:<12}{adr_total:9.2f}{dlc_total:9.2f}{ratio:>9}")
                if step == "TOTAL":
                    summary.append((scenario, adr_total, dlc_total))
            if scenario == "edit":
                native = NativeGo(adr, dlc, work)
                floor = statistics.median(native.edit_times(number * args.runs, args.runs))
                print(f"  native Go for the same edit (vet, test, build; the floor): {floor:.2f}s")
        print("\nsummary (total wall time, median):")
        for scenario, adr_total, dlc_total in summary:
            print(
                f"  {scenario:<6} ADR {adr_total:7.2f}s  dlc {dlc_total:7.2f}s"
                f"  ratio {dlc_total / adr_total:.3f}"
            )
        if native is not None:
            print(f"  native Go, one file changed: {floor:.2f}s")
    finally:
        if native is not None:
            native.stop()
        for p in pipelines:
            p.registry.stop()
            p.clean_up()
        ENGINE.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
