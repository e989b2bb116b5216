# Sourced by the load scripts (tools/ballot-load.sh, tools/vote-load.sh): checks the
# release binary and the tools, makes a work directory removed at exit, creates the
# database for BACKEND (sqlite or postgres), adds a convener and starts `hiwar serve`
# with EXTRA_SERVE_ARGS. Sets: hiwar, work, server, store (the store flags), key (the
# convener's login key).
hiwar=$PWD/target/release/hiwar
[ -x "$hiwar" ] || { echo "build first: cargo build --release" >&2; exit 1; }
for tool in wrk jq curl; do command -v $tool >/dev/null || { echo "needs $tool (apt-get install $tool)" >&2; exit 1; }; done
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$work"' EXIT
port=$((20000 + RANDOM % 20000))
server=http://127.0.0.1:$port

case $backend in
  sqlite) store=(--data "$work/data") ;;
  postgres)
    db=hiwar_load_$$
    psql -h 127.0.0.1 -U postgres -qc "CREATE DATABASE $db"
    store=(--database-url "postgres://postgres@127.0.0.1:5432/$db") ;;
  *) echo "sqlite or postgres" >&2; exit 2 ;;
esac

key=$("$hiwar" convener add "${store[@]}" | tail -1)
# shellcheck disable=SC2086 # EXTRA_SERVE_ARGS is a list of flags
HIWAR_LOG=warn "$hiwar" serve "${store[@]}" --listen 127.0.0.1:$port ${EXTRA_SERVE_ARGS:-} > "$work/serve.log" 2>&1 &
for _ in $(seq 50); do curl -sf "$server/healthz" >/dev/null && break; sleep 0.2; done
