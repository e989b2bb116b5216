#!/usr/bin/env bash
# Fuzzes the whole JSON API from its own description: schemathesis (PyPI) reads
# /api/openapi.json from a running `hiwar demo` (seeded data, logged in as its
# convener) and sends generated requests — valid, boundary and malformed — to every
# operation for SECONDS. Fails on any 5xx, any status code, content type or body the
# description does not document.
#
#   tools/api-fuzz.sh [SECONDS] [HIWAR_BINARY]
#   (installs schemathesis into target/schemathesis-venv on first use; needs
#   python3 with venv, curl and jq)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
hiwar=${2:-$PWD/target/debug/hiwar}
[ -x "$hiwar" ] || { echo "no hiwar binary at $hiwar: cargo build first" >&2; exit 1; }
venv=$PWD/target/schemathesis-venv
if [ ! -x "$venv/bin/schemathesis" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet 'schemathesis>=4.3,<5'
fi
"$venv/bin/schemathesis" --version
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$work"' EXIT
port=$((20000 + RANDOM % 20000))
server=http://127.0.0.1:$port
HIWAR_LOG=warn "$hiwar" demo --data "$work/data" --listen 127.0.0.1:$port > "$work/demo.out" 2> "$work/demo.err" &
for _ in $(seq 300); do grep -q "convener key" "$work/demo.out" 2>/dev/null && curl -sf "$server/healthz" >/dev/null && break; sleep 0.5; done
key=$(grep "convener key" "$work/demo.out" | awk '{print $3}')
[ -n "$key" ] || { echo "the demo did not start:" >&2; cat "$work/demo.err" >&2; exit 1; }
token=$(curl -sf -H 'Content-Type: application/json' -d "{\"code\":\"$key\"}" "$server/api/login" | jq -r .token)
# /api/logout is left out: it would end the session the rest of the run uses.
# A request may take up to 60 s: issuing a batch of 1,000 invitation codes hashes
# 1,000 Argon2id secrets (11 s on the debug build on a busy 2-core machine), longer
# than schemathesis's default of 10 s.
"$venv/bin/schemathesis" run "$server/api/openapi.json" --url "$server" \
  -H "Authorization: Bearer $token" --exclude-path /api/logout \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
  --max-time "$seconds" --request-timeout 60 --workers 2 --seed 1
echo "server errors logged: $(grep -c 'ERROR' "$work/demo.err" || true)"
! grep -q 'ERROR' "$work/demo.err"
