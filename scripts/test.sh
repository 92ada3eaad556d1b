#!/usr/bin/env bash
# Install everything and run the whole test suite: lint, types, and pytest on SQLite and
# PostgreSQL. Usage: scripts/test.sh [pytest arguments]
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"

if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip >/dev/null
.venv/bin/python -m pip install --quiet -e '.[dev]'

# PostgreSQL: use HUIKUAN_TEST_DATABASE_URL if given, else the local server if it answers.
if [ -z "${HUIKUAN_TEST_DATABASE_URL:-}" ]; then
  candidate="postgresql://postgres@127.0.0.1:5432/test"
  if .venv/bin/python -c "import psycopg,sys; psycopg.connect(sys.argv[1], connect_timeout=3).close()" "$candidate" 2>/dev/null; then
    export HUIKUAN_TEST_DATABASE_URL="$candidate"
    echo "PostgreSQL found at 127.0.0.1:5432: tests run on SQLite and PostgreSQL"
  else
    echo "PostgreSQL not reachable: tests run on SQLite only (CI fails in this case)"
  fi
fi

echo "== ruff"
.venv/bin/ruff check src tests bench
.venv/bin/ruff format --check src tests bench
echo "== mypy"
.venv/bin/mypy
echo "== pytest"
.venv/bin/python -m pytest "$@"
