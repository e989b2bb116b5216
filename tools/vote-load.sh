#!/usr/bin/env bash
# Deliberation votes per second over HTTP: a release `hiwar serve` on SQLite or
# PostgreSQL, a dialogue in its deliberation phase with MEMBERS members (each joined
# with an invitation code and logged in through the API) and 100 statements; then wrk
# with CONNECTIONS connections on loopback for SECONDS, each request a real vote (a new
# one or a flipped one, tools/vote-load.lua), answered only once its group of votes has
# committed. Prints wrk's figures (with the latency distribution) and the stored count.
#
#   tools/vote-load.sh sqlite|postgres [SECONDS] [CONNECTIONS] [MEMBERS]
#   (needs: cargo build --release, wrk, jq, curl)
set -euo pipefail
cd "$(dirname "$0")/.."
backend=${1:?sqlite or postgres}
seconds=${2:-20}
connections=${3:-256}
members=${4:-1000}
EXTRA_SERVE_ARGS="--logins-per-minute 1000000"
. tools/load-common.sh
json() { curl -sf -H 'Content-Type: application/json' "$@"; }
token=$(json -d "{\"code\":\"$key\"}" "$server/api/login" | jq -r .token)
api() { json -H "Authorization: Bearer $token" "$@"; }
dialogue=$(api -d '{"title_ar":"حمل","title_en":"Load","listed":false,"pseudonym":"Convener"}' "$server/api/dialogues" | jq -r .id)
api -d '{"kind":"deliberation","name_ar":"نقاش","name_en":"Deliberation","starts":"2026-01-01","ends":"2027-12-31"}' \
  "$server/api/dialogues/$dialogue/phases" >/dev/null
api -d '{"index":0}' "$server/api/dialogues/$dialogue/phase" >/dev/null
api -d "{\"role\":\"participant\",\"count\":$members}" "$server/api/dialogues/$dialogue/codes" | jq -r '.codes[]' > "$work/codes"
# Members join and log in, 16 at a time (each code is hashed with argon2).
nl -ba "$work/codes" | xargs -P 16 -L 1 sh -c \
  "curl -sf -H 'Content-Type: application/json' -d \"{\\\"code\\\":\\\"\$1\\\",\\\"pseudonym\\\":\\\"Member \$0\\\"}\" $server/api/login | jq -r .token" \
  > "$work/tokens"
[ "$(wc -l < "$work/tokens")" -eq "$members" ] || { echo "only $(wc -l < "$work/tokens") of $members members logged in" >&2; exit 1; }
# 100 statements: 50 by the convener, 50 by the first member (50 each at most).
first=$(head -1 "$work/tokens")
for i in $(seq 1 100); do
  t=$token; [ "$i" -gt 50 ] && t=$first
  json -H "Authorization: Bearer $t" -d "{\"text\":\"Load statement number $i\"}" "$server/api/dialogues/$dialogue/statements" | jq -r .id
done > "$work/statements"

echo "== $backend: $members members, 100 statements, $connections connections for $seconds s, $("$hiwar" --version)"
TOKENS=$work/tokens STATEMENTS=$work/statements DIALOGUE=$dialogue THREADS=2 \
  wrk -t2 -c"$connections" -d"${seconds}s" --latency -s tools/vote-load.lua "$server"
echo "server warnings and errors: $(grep -ciE 'warn|error' "$work/serve.log" || true)"
