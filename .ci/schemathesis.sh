#!/usr/bin/env bash
# Property-based API tests: schemathesis (pinned) over every operation of /api/schema/ against
# a real `praxi serve` on a fresh SQLite data directory with the demo practice, as an admin.
# Checks: no 5xx, only documented status codes, documented content types, bodies that match
# the documented schemas, documented headers. Exits non-zero on any failure.
#
# Environment: PRAXI_BIN (default target/debug/praxi, built if missing),
# SCHEMATHESIS_MAX_EXAMPLES (default 25 per operation), SCHEMATHESIS_SEED (default 1).
set -euo pipefail
cd "$(dirname "$0")/.."

SCHEMATHESIS_VERSION=4.32.5
max_examples="${SCHEMATHESIS_MAX_EXAMPLES:-25}"
seed="${SCHEMATHESIS_SEED:-1}"
work="$(mktemp -d)"
venv="${SCHEMATHESIS_VENV:-${TMPDIR:-/tmp}/praxi-schemathesis-$SCHEMATHESIS_VERSION}"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

if [ ! -x "$venv/bin/schemathesis" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet "schemathesis==$SCHEMATHESIS_VERSION"
fi

# Builds the binary unless PRAXI_BIN names one.
praxi="${PRAXI_BIN:-target/debug/praxi}"
if [ -z "${PRAXI_BIN:-}" ]; then
  cargo build --quiet -p praxi
fi

port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
export PRAXI_DATA_DIR="$work/data"
export PRAXI_BIND="127.0.0.1:$port"
export PRAXI_SECRET_KEY="schemathesis-secret-key-0123456789-abcdefghijklmnop"
export PRAXI_ACCESS_MINUTES=240
unset DATABASE_URL
password="schemathesis-Passw0rd-$$"

"$praxi" migrate >"$work/migrate.log" 2>&1
"$praxi" seed-demo >"$work/seed.log" 2>&1
printf '%s\n' "$password" | "$praxi" user create st_admin --role admin --password-stdin >/dev/null
"$praxi" serve >"$work/server.log" 2>&1 &
server_pid=$!
base="http://127.0.0.1:$port"
for _ in $(seq 1 60); do
  curl -fsS "$base/api/health/" >/dev/null 2>&1 && break
  sleep 0.5
done

login="$(curl -fsS -H 'content-type: application/json' \
  -d "{\"username\": \"st_admin\", \"password\": \"$password\"}" "$base/api/auth/login/")"
token="$(printf '%s' "$login" | python3 -c 'import json, sys; print(json.load(sys.stdin)["access"])')"
# The hooks keep account operations off this admin's own account (see the hooks file).
export PRAXI_SCHEMATHESIS_ADMIN_ID="$(printf '%s' "$login" | python3 -c 'import json, sys; print(json.load(sys.stdin)["user"]["id"])')"
export PYTHONPATH="$PWD/.ci${PYTHONPATH:+:$PYTHONPATH}"
export SCHEMATHESIS_HOOKS=schemathesis_hooks

# The event stream never ends, so a request to it cannot complete: it is checked by the API
# tests (tests/api/events.rs) instead. Every other documented operation is tested.
# Run inside the scratch directory: schemathesis keeps a cache (.schemathesis/) in its cwd.
status=0
(cd "$work" && "$venv/bin/schemathesis" run "$base/api/schema/" \
  --header "Authorization: Bearer $token" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance \
  --exclude-path '/api/events/{board}/' \
  --max-examples "$max_examples" \
  --seed "$seed" \
  --workers 2 \
  --request-timeout 20 \
  --phases examples,coverage,fuzzing \
  --suppress-health-check all \
  --no-color \
  --report junit --report-dir "$work/report") || status=$?

if grep -q "panicked\|ERROR" "$work/server.log"; then
  echo "== server log errors"
  grep -n "panicked\|ERROR" "$work/server.log" | head -50
fi
if [ "$status" -ne 0 ]; then
  echo "schemathesis failed (exit $status)"
fi
exit "$status"
