#!/usr/bin/env bash
# The platform at national scale: fills a database with PARTICIPANTS × STATEMENTS and
# VOTES generated votes (crates/hiwar/examples/fill_deliberation.rs), starts a release
# `hiwar serve` on it, waits for the first analysis, then for SECONDS runs at once,
# each connection pausing between requests so that the latency measured is the
# server's (a closed loop at full speed would only measure the queue it builds):
#   - votes: wrk, 64 connections, VOTE_DELAY_MS (50) apart, each a real vote
#     (tools/vote-load.lua) — about 1,100 votes a second;
#   - the results page: wrk, 8 connections, 100 ms apart (tools/paced.lua);
#   - the next statement: wrk, 16 connections, 40 ms apart, GET
#     /api/dialogues/ID/deliberation/next for 1,000 members in turn (tools/next-load.lua);
# and prints each one's figures with its latency distribution. FULL_SPEED=1 drops the
# pauses (the machine's saturation throughput). FLOOR=1 also asks for /healthz (8
# connections, 40 ms apart): what a request that reads nothing takes under the same
# load. KEEP=DIR keeps the filled database
# and its tokens in DIR, and a later run with the same KEEP uses them instead of
# filling again (the votes of each run stay in it).
#
#   tools/national-load.sh sqlite|postgres [PARTICIPANTS] [STATEMENTS] [VOTES] [SECONDS]
#   (needs: cargo build --release -p hiwar --bins --examples, wrk, curl)
set -euo pipefail
cd "$(dirname "$0")/.."
backend=${1:?sqlite or postgres}
participants=${2:-100000}
statements=${3:-2000}
votes=${4:-5000000}
seconds=${5:-30}
hiwar=$PWD/target/release/hiwar
fill=$PWD/target/release/examples/fill_deliberation
[ -x "$hiwar" ] && [ -x "$fill" ] || { echo "build first: cargo build --release -p hiwar --bins --examples" >&2; exit 1; }
for tool in wrk curl; do command -v $tool >/dev/null || { echo "needs $tool (apt-get install $tool)" >&2; exit 1; }; done
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$work"' EXIT
port=$((20000 + RANDOM % 20000))
server=http://127.0.0.1:$port

fill_dir=${KEEP:-$work/fill}
if [ -s "$fill_dir/url" ]; then
  url=$(cat "$fill_dir/url")
  echo "== reusing the database filled in $fill_dir"
else
  case $backend in
    sqlite)
      mkdir -p "$fill_dir" && mkdir -m 700 "$fill_dir/data"
      url="sqlite://$fill_dir/data/hiwar.sqlite3?mode=rwc" ;;
    postgres)
      db=hiwar_national_$$
      psql -h 127.0.0.1 -U postgres -qc "CREATE DATABASE $db"
      url="postgres://postgres@127.0.0.1:5432/$db" ;;
    *) echo "sqlite or postgres" >&2; exit 2 ;;
  esac
  echo "== filling: $participants participants × $statements statements, $votes votes"
  /usr/bin/time -f "filled in %e s, peak %M KiB" "$fill" "$url" "$participants" "$statements" "$votes" 1000 "$fill_dir" 2>&1 \
    | grep -v 'schema migration'
  echo "$url" > "$fill_dir/url"
fi
case $url in
  sqlite*) data=${url#sqlite://}; store=(--data "$(dirname "${data%%\?*}")") ;;
  *) store=(--database-url "$url") ;;
esac
dialogue=$(cat "$fill_dir/dialogue")
HIWAR_LOG=warn,hiwar_server::deliberate=info "$hiwar" serve "${store[@]}" --listen 127.0.0.1:$port > "$work/serve.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do curl -sf "$server/healthz" >/dev/null && break; sleep 0.2; done
results=$server/dialogues/$dialogue/deliberation/results
/usr/bin/time -f "first analysis served in %e s" curl -sf -o /dev/null "$results"
curl -sf -o /dev/null "$results?groups=hiwar"

echo "== $seconds s of votes, results pages and next statements at once, $("$hiwar" --version)"
export TOKENS=$fill_dir/tokens STATEMENTS=$fill_dir/statements DIALOGUE=$dialogue THREADS=1
pause() { if [ "${FULL_SPEED:-0}" = 1 ]; then echo 0; else echo "$1"; fi; }
DELAY_MS=$(pause "${VOTE_DELAY_MS:-50}") wrk -t1 -c64 -d"${seconds}s" --latency -s tools/vote-load.lua "$server" > "$work/votes.txt" & loads=($!)
DELAY_MS=$(pause 100) wrk -t1 -c8 -d"${seconds}s" --latency -s tools/paced.lua "$results" > "$work/results.txt" & loads+=($!)
DELAY_MS=$(pause 40) wrk -t1 -c16 -d"${seconds}s" --latency -s tools/next-load.lua "$server" > "$work/next.txt" & loads+=($!)
parts=(votes results next)
if [ "${FLOOR:-0}" = 1 ]; then
  # The machine's floor under the same load: a request that reads nothing.
  DELAY_MS=$(pause 40) wrk -t1 -c8 -d"${seconds}s" --latency -s tools/paced.lua "$server/healthz" > "$work/healthz.txt" & loads+=($!)
  parts+=(healthz)
fi
wait "${loads[@]}"
for part in "${parts[@]}"; do
  echo "-- $part"
  grep -E 'Latency|50%|90%|99%|requests in|Requests/sec|Non-2xx' "$work/$part.txt"
done
echo "-- the results page says: $(curl -sf "$results?lang=en" | grep -o 'computed at [^(]*')"
echo "-- analysis updates (warm, in the background):"
grep -o 'analysis updated.*' "$work/serve.log" | sed 's/\x1b\[[0-9;]*m//g' | tail -5
echo "-- server: peak memory $(grep VmHWM /proc/$server_pid/status | awk '{print $2, $3}'), warnings and errors: $(grep -cE 'WARN|ERROR' "$work/serve.log" || true)"
grep -E 'WARN|ERROR' "$work/serve.log" | sed 's/\x1b\[[0-9;]*m//g' | head -5
