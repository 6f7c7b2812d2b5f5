#!/usr/bin/env bash
# Sets up Opiekun on the embedded default (SQLite in ./instance, jobs in-process, no Redis),
# loads demo data and serves it on http://127.0.0.1:5000/admin. Ctrl+C stops it.
# Optional: OPIEKUN_ADMIN_EMAIL, OPIEKUN_ADMIN_PASSWORD, OPIEKUN_PORT.
set -euo pipefail
cd "$(dirname "$0")/.."

ADMIN_EMAIL=${OPIEKUN_ADMIN_EMAIL:-admin@opiekun.local}
ADMIN_PASSWORD=${OPIEKUN_ADMIN_PASSWORD:-opiekun-admin-1}
PORT=${OPIEKUN_PORT:-5000}

if [ ! -x .venv/bin/python ]; then
  if ! python3 -m venv .venv 2>/dev/null; then
    # Debian's system Python keeps venv in a separate package
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
    rm -rf .venv && python3 -m venv .venv
  fi
fi
. .venv/bin/activate
python -m pip install -q --upgrade pip setuptools wheel
python -m pip install -q -e .

opiekun init
opiekun create-admin --email "$ADMIN_EMAIL" --password "$ADMIN_PASSWORD" --name "Administrator"
opiekun demo

cat <<INFO

  Opiekun is starting on http://127.0.0.1:$PORT/admin
  Log in as   $ADMIN_EMAIL   with password   $ADMIN_PASSWORD
  API:        http://127.0.0.1:$PORT/api/v1/openapi.json

INFO
exec opiekun serve --host 127.0.0.1 --port "$PORT"
