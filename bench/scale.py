"""Two scale claims, measured: the tool's memory during a big push, and a size-blind cache check.

    ./dev python bench/scale.py [--size-mb 200]

1. Peak resident memory of the ``inv push`` process while it builds and pushes a
   production image with a SIZE-MB file in it (the build context is spooled to disk
   and the push is streamed by the engine, so the tool's own memory stays flat).
2. The cache-hit check (a manifest HEAD) against a large image and a tiny one in the
   same registry: medians of 50 lookups each, and their ratio.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.bench import SERVICE_FILES, Registry, run  # noqa: E402
from dlc_tasks.clients.registry import RegistryClient  # noqa: E402

INV = str(Path(sys.executable).parent / "inv")


def peak_memory_of_push(work: Path, registry: Registry, size_mb: int) -> float:
    project = work / "big"
    project.mkdir()
    for name in SERVICE_FILES:
        src = REPO / name
        if src.is_dir():
            shutil.copytree(src, project / name)
        elif src.is_file():
            shutil.copy2(src, project / name)
    shutil.copytree(
        REPO / "docker", project / "docker", ignore=shutil.ignore_patterns("Dockerfile.prod")
    )
    with (project / "big.bin").open("wb") as handle:
        for _ in range(size_mb):
            handle.write(os.urandom(1 << 20))
    # the generic production image copies every prod_files entry into /app
    (project / "big.yaml").write_text("dlc:\n  prod_files: [config.yaml, big.bin]\n")
    git = ["git", "-c", "user.name=b", "-c", "user.email=b@example.com"]
    run(*git, "init", "-q", "-b", "main", cwd=project)
    run(*git, "add", "-A", cwd=project)
    run(*git, "commit", "-qm", "big", cwd=project)
    env = {
        **os.environ,
        "INVOKE_DLC_PROJECT_DIR": str(project),
        "INVOKE_DLC_REGISTRY": registry.address,
        "INVOKE_DLC_REPO": "bigapp",
        "NO_COLOR": "1",
    }
    process = subprocess.Popen(
        [INV, "--search-root", str(REPO), "-f", str(project / "big.yaml"), "push"],
        cwd=project,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _, status, usage = os.wait4(process.pid, 0)  # this child's own peak, not git's or docker's
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"bench: inv push failed with {process.returncode}")
    peak_kb = usage.ru_maxrss
    size = run(
        "docker",
        "image",
        "inspect",
        "-f",
        "{{.Size}}",
        f"{registry.address}/arcodange/bigapp:latest",
    ).strip()
    print(f"production image: {int(size) / 1e6:.0f} MB")
    return peak_kb / 1024


def lookup_times(client: RegistryClient, repository: str, tag: str, n: int = 50) -> float:
    times = []
    for _ in range(n):
        started = time.perf_counter()
        if not client.manifest_digest(repository, tag):
            raise SystemExit(f"bench: {repository}:{tag} is not in the registry")
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=200)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="dlc-scale-"))
    registry = Registry(work / "registry")
    try:
        registry.start()
        peak = peak_memory_of_push(work, registry, args.size_mb)
        print(f"peak RSS of the inv push process: {peak:.0f} MB (target: under 150 MB)")
        client = RegistryClient(registry.address)
        cache_repo = "arcodange/bigapp-build-cache"
        big_tag = client.tags(cache_repo)[0]
        big = lookup_times(client, cache_repo, big_tag)
        small_ref = f"{registry.address}/scale/tiny:1"
        run("docker", "tag", "dlc-local/runtime:1", small_ref)
        run("docker", "push", small_ref)
        small = lookup_times(client, "scale/tiny", "1")
        big_size = run(
            "docker",
            "image",
            "inspect",
            "-f",
            "{{.Size}}",
            f"{registry.address}/{cache_repo}:{big_tag}",
        ).strip()
        mb = int(big_size) / 1e6
        print(f"cache-hit check, {mb:.0f} MB image: {big * 1000:.2f} ms (median of 50)")
        print(f"cache-hit check,   2 MB image: {small * 1000:.2f} ms (median)")
        print(f"ratio large/small: {big / small:.2f}")
    finally:
        registry.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
