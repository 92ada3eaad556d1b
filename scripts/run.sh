#!/usr/bin/env bash
# Install Huikuan, build the demo company on the embedded SQLite database (first time only)
# and serve the web app on http://127.0.0.1:8000/. Usage: scripts/run.sh [--port N]
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"

if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
if ! { .venv/bin/python -m pip install --quiet --upgrade pip \
       && .venv/bin/python -m pip install --quiet -e .; } >.venv/install.log 2>&1; then
  cat .venv/install.log
  echo "installing Huikuan failed" >&2
  exit 1
fi

# PDF letters and statements embed a Chinese font from Debian's fonts-noto-cjk.
if command -v apt-get >/dev/null 2>&1 && ! dpkg -s fonts-noto-cjk >/dev/null 2>&1; then
  echo "installing fonts-noto-cjk for PDF letters"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq fonts-noto-cjk >/dev/null
fi

export HUIKUAN_DATABASE_URL="${HUIKUAN_DATABASE_URL:-sqlite:///huikuan.db}"
.venv/bin/huikuan init --company demo --company-name "示例贸易有限公司" >/dev/null
.venv/bin/huikuan demo --if-empty
exec .venv/bin/huikuan serve "$@"
