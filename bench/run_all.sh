#!/usr/bin/env bash
# Every benchmark in one go, results in bench/results/ (run through ./dev: ./dev bash bench/run_all.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p bench/results
{ uname -srm; nproc; free -g | awk '/Mem:/{print $2 " GiB"}'; docker version --format 'engine {{.Server.Version}}'; } > bench/results/machine.txt
python -u bench/bench.py --runs "${RUNS:-3}" | tee bench/results/service.txt
big=$(mktemp -d)
python bench/make_module.py "$big/module"
python -u bench/bench.py "$big/module" --runs "${BIG_RUNS:-2}" | tee bench/results/large-module.txt
rm -rf "$big"
deps=$(mktemp -d)
python bench/make_module.py "$deps/module" --packages 8 --deps 4
python -u bench/bench.py "$deps/module" --runs "${BIG_RUNS:-2}" --goproxy-dir goproxy | tee bench/results/module-with-deps.txt
rm -rf "$deps"
python -u bench/scale.py | tee bench/results/scale.txt
python -u bench/startup.py | tee bench/results/startup.txt
