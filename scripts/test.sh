#!/usr/bin/env bash
# Sets up everything and runs the whole test suite, twice:
#   1. the embedded default: SQLite, jobs on fakeredis in-process;
#   2. production mode: a real PostgreSQL and a real Redis with real rq workers.
# On a fresh machine (Python 3.11, root) it installs PostgreSQL and Redis with apt-get and
# the Python dependencies into .venv. Extra arguments go to pytest (e.g. -k owner).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

say() { printf '\n=== %s\n' "$*"; }

# --- Python dependencies -------------------------------------------------------------------
if [ ! -x .venv/bin/python ]; then
  say "creating .venv"
  if ! python3 -m venv .venv 2>/dev/null; then
    # Debian's system Python keeps venv in a separate package
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
    rm -rf .venv && python3 -m venv .venv
  fi
fi
. .venv/bin/activate
say "installing Opiekun and its test dependencies"
python -m pip install -q --upgrade pip setuptools wheel
python -m pip install -q -e ".[dev]"
for partner in examples/*/; do
  [ -f "$partner/pyproject.toml" ] && python -m pip install -q -e "$partner"
done

# --- PostgreSQL, Redis (production-mode tests) and Chromium (browser tests) -------------------
need_packages=()
command -v redis-server >/dev/null 2>&1 || need_packages+=(redis-server)
ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || need_packages+=(postgresql)
command -v chromium >/dev/null 2>&1 || need_packages+=(chromium)   # the browser tests' Chromium
command -v npm >/dev/null 2>&1 || need_packages+=(npm)             # a second client generator (TypeScript)
if [ ${#need_packages[@]} -gt 0 ]; then
  say "installing ${need_packages[*]} with apt-get"
  if [ "$(id -u)" -ne 0 ]; then echo "need root to apt-get install ${need_packages[*]}" >&2; exit 1; fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_packages[@]}" >/dev/null
fi
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
say "installing the TypeScript client generator (openapi-typescript, tsc) into .node-tools"
npm install --prefix .node-tools --no-audit --no-fund --silent openapi-typescript@7 typescript@5 >/dev/null

RUN_DIR=$(mktemp -d /tmp/opiekun-tests.XXXXXX)
chmod 755 "$RUN_DIR"
PG_PORT=${OPIEKUN_TEST_PG_PORT:-54329}
REDIS_PORT=${OPIEKUN_TEST_REDIS_PORT:-63799}
as_postgres() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

cleanup() {
  as_postgres "$PG_BIN/pg_ctl" -D "$RUN_DIR/pg" -m immediate stop >/dev/null 2>&1 || true
  [ -f "$RUN_DIR/redis.pid" ] && kill "$(cat "$RUN_DIR/redis.pid")" 2>/dev/null || true
  rm -rf "$RUN_DIR"
}
trap cleanup EXIT

say "starting PostgreSQL on port $PG_PORT and Redis on port $REDIS_PORT"
mkdir -p "$RUN_DIR/pg"
[ "$(id -u)" -eq 0 ] && chown postgres "$RUN_DIR/pg"
as_postgres "$PG_BIN/initdb" -D "$RUN_DIR/pg" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
as_postgres "$PG_BIN/pg_ctl" -D "$RUN_DIR/pg" -l "$RUN_DIR/pg/server.log" -w \
  -o "-p $PG_PORT -k $RUN_DIR/pg -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" start >/dev/null
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
  --pidfile "$RUN_DIR/redis.pid" --logfile "$RUN_DIR/redis.log" >/dev/null

status=0
say "tests on the embedded default (SQLite, in-process jobs), browser tests included"
# the browser tests save screenshots of their last page to test-results/screenshots/
OPIEKUN_REQUIRE_BROWSER=1 OPIEKUN_REQUIRE_NODE_TOOLS=1 python -m pytest -q -p no:cacheprovider "$@" || status=$?

say "tests in production mode (PostgreSQL, Redis, rq workers); the browser tests ran above"
OPIEKUN_TEST_DATABASE_URL="postgresql://postgres@127.0.0.1:$PG_PORT/postgres" \
OPIEKUN_TEST_REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0" \
OPIEKUN_TEST_PG_BIN="$PG_BIN" \
  python -m pytest -q -p no:cacheprovider -m "not browser" "$@" || status=$?

if [ "$status" -ne 0 ]; then say "FAILED"; else say "all tests passed on both databases"; fi
exit "$status"
