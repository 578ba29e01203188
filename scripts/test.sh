#!/usr/bin/env bash
# Sets everything up (Python packages; Debian chromium and poppler for the browser and
# PDF tests, PostgreSQL for the web app's database option) and runs the linters, the
# type checker, the whole test suite, then the web tests again on PostgreSQL.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
SCREENER_APT="chromium poppler-utils fonts-dejavu-core postgresql" . scripts/setup-env.sh "dev"
.venv/bin/ruff check .
.venv/bin/ruff format --check screener tests bench
.venv/bin/mypy
.venv/bin/python -m pytest "$@"
. scripts/postgres-test-server.sh
echo "web tests on PostgreSQL ($SCREENER_TEST_POSTGRES_URL)"
.venv/bin/python -m pytest tests/web -q
