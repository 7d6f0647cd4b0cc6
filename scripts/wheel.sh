#!/usr/bin/env bash
# Builds the wheel (maturin, `bindings = "bin"`, a release build: several minutes) and proves it
# the way a user meets it: installed into a fresh virtual environment, its `gauntlet` on PATH runs
# the offline demo suite. Prints the wheel's path and the eval's output; exits with eval's code.
#   bash scripts/wheel.sh
set -euo pipefail
cd "$(dirname "$0")/.."

# maturin comes from PyPI into the repository's .venv (.ci/requirements.txt lists it).
if [ ! -x .venv/bin/maturin ]; then
  [ -x .venv/bin/python ] || python3 -m venv .venv
  .venv/bin/pip install -q --disable-pip-version-check maturin
fi

rm -f target/wheels/gauntlet_rs-*.whl
.venv/bin/maturin build --release --out target/wheels
wheel=$(ls target/wheels/gauntlet_rs-*.whl)
echo "wheel: $wheel ($(du -h "$wheel" | cut -f1))"

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
python3 -m venv "$scratch/venv"
"$scratch/venv/bin/pip" install -q --disable-pip-version-check --no-index "$wheel"
# Only the fresh environment on PATH: the gauntlet that runs is the installed one.
export PATH="$scratch/venv/bin:/usr/bin:/bin"
echo "installed: $(command -v gauntlet) — $(gauntlet --version)"
gauntlet eval suites/support.yaml --out "$scratch/reports"
