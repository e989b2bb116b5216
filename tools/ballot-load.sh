#!/usr/bin/env bash
# Ballots per second over HTTP: a release `hiwar serve` on SQLite or PostgreSQL, an
# open election of VOTERS voters set up through the real flow (three trustees'
# ceremony, the credential authority's list), every ballot made in advance by
# `hiwar vote --batch --bodies`, then cast by wrk with 64 connections on loopback, each
# request a distinct real ballot. Prints wrk's figures and checks the server's count.
#
#   tools/ballot-load.sh sqlite|postgres [VOTERS] [SECONDS]
#   (needs: cargo build --release, wrk, jq, curl; VOTERS must exceed what the server
#   takes in SECONDS, or the script says the ballots ran out)
set -euo pipefail
cd "$(dirname "$0")/.."
backend=${1:?sqlite or postgres}
voters=${2:-50000}
seconds=${3:-10}
. tools/load-common.sh
api() { curl -sf -H "Authorization: Bearer $token" -H 'Content-Type: application/json' "$@"; }
token=$(curl -sf -H 'Content-Type: application/json' -d "{\"code\":\"$key\"}" "$server/api/login" | jq -r .token)
dialogue=$(api -d '{"title_ar":"حمل","title_en":"Load","listed":false,"pseudonym":"Convener"}' "$server/api/dialogues" | jq -r .id)

for j in 1 2 3; do "$hiwar" trustee keygen --out "$work/trustee-$j.json" > "$work/trustee-$j.pub" 2>/dev/null; done
"$hiwar" election authority --out "$work/authority.json" 2>/dev/null | jq -r .authority > "$work/authority.pub"
jq -n --argjson n "$voters" --slurpfile t1 "$work/trustee-1.pub" --slurpfile t2 "$work/trustee-2.pub" \
  --slurpfile t3 "$work/trustee-3.pub" --arg authority "$(cat "$work/authority.pub")" '{
    id: "load", title: {ar: "استفتاء", en: "Referendum"},
    questions: [{title: {ar: "هل توافق؟", en: "Do you agree?"},
      options: [{ar: "نعم", en: "Yes"}, {ar: "لا", en: "No"}, {ar: "ممتنع", en: "Abstain"}], min: 1, max: 1}],
    electorate: {list: [range(1; $n + 1) | {voter: "voter-\(.)"}]},
    trustees: ($t1 + $t2 + $t3), threshold: 2, authority: $authority}' > "$work/election.json"
api -d @"$work/election.json" "$server/api/dialogues/$dialogue/elections" >/dev/null
target=(--server "$server" --dialogue "$dialogue" --election load)
for j in 1 2 3; do "$hiwar" trustee ceremony "${target[@]}" --key "$work/trustee-$j.json" 2>/dev/null & done
wait $(jobs -p | tail -3)
{ echo voter,weight; seq -f 'voter-%.0f,1' 1 "$voters"; } > "$work/roll.csv"
"$hiwar" election credentials "${target[@]}" --authority "$work/authority.json" --voters "$work/roll.csv" \
  --out "$work/credentials" --upload 2>/dev/null
api -X POST "$server/api/dialogues/$dialogue/elections/load/open" >/dev/null
{ echo credential,choices; for i in $(seq 1 "$voters"); do echo "$work/credentials/voters/voter-$i.json,$((i % 3))"; done; } > "$work/batch.csv"
"$hiwar" vote "${target[@]}" --batch "$work/batch.csv" --bodies "$work/bodies.jsonl" 2>/dev/null

echo "== $backend: $voters ballots ready, 64 connections for $seconds s, $("$hiwar" --version)"
BODIES=$work/bodies.jsonl THREADS=2 BALLOTS_PATH=/api/dialogues/$dialogue/elections/load/ballots \
  wrk -t2 -c64 -d"${seconds}s" -s tools/ballot-load.lua "$server"
curl -sf "$server/api/dialogues/$dialogue/elections/load" | jq -c '{stage, ballots}'
