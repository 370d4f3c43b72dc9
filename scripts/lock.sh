#!/usr/bin/env bash
# Re-lock what an archive installs: src/newsmirror/requirements.lock, every runtime dependency of
# pyproject.toml pinned with the sha256 of each of its files on PyPI (all platforms, Python 3.11,
# the workflow's). `newsmirror init` and `newsmirror upgrade` copy it into an archive's
# requirements.txt. Needs uv (pip install uv) and PyPI; run it after changing `dependencies`.
set -euo pipefail
cd "$(dirname "$0")/.."
uv pip compile pyproject.toml --quiet --universal --python-version 3.11 --generate-hashes \
  --index-url https://pypi.org/simple --no-header --annotation-style line \
  --output-file src/newsmirror/requirements.lock
