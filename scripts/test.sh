#!/usr/bin/env bash
# Sets everything up (Python packages; Debian chromium and poppler for the browser and
# PDF tests) and runs the linters, the type checker and the whole test suite.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
SCREENER_APT="chromium poppler-utils fonts-dejavu-core" . scripts/setup-env.sh "dev"
.venv/bin/ruff check .
.venv/bin/ruff format --check screener tests bench
.venv/bin/mypy
.venv/bin/python -m pytest "$@"
