#!/usr/bin/env bash
# Download every file the shipped lock pins for this machine into build/wheelhouse (or $1), so that
# tests/test_deploy.py can run the generated workflow's install command offline. Needs PyPI.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-build/wheelhouse}"
python3 -m pip download --quiet --disable-pip-version-check --require-hashes --no-deps \
  --only-binary=:all: --dest "$out" -r src/newsmirror/requirements.lock
