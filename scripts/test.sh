#!/usr/bin/env bash
# Install everything and run the whole test suite: lint, types, and pytest on SQLite and
# PostgreSQL. Usage: scripts/test.sh [pytest arguments]
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"

if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
# pip's output goes to a log, shown only if the install fails.
if ! { .venv/bin/python -m pip install --quiet --upgrade pip \
       && .venv/bin/python -m pip install --quiet -e '.[dev]'; } >.venv/install.log 2>&1; then
  cat .venv/install.log
  echo "installing the test dependencies failed" >&2
  exit 1
fi

# Browser tests use Debian's chromium (and CJK fonts so screenshots show Chinese);
# PDF letters embed the same CJK font (fonts-noto-cjk).
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
dpkg -s fonts-noto-cjk >/dev/null 2>&1 || missing+=(fonts-noto-cjk)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing ${missing[*]} for the browser tests"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

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
lint_paths=(src tests)
[ -d bench ] && lint_paths+=(bench)
.venv/bin/ruff check "${lint_paths[@]}"
.venv/bin/ruff format --check "${lint_paths[@]}"
echo "== mypy"
.venv/bin/mypy
echo "== pytest"
.venv/bin/python -m pytest "$@"
