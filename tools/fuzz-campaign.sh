#!/usr/bin/env bash
# A campaign over every cargo-fuzz target (fuzz/fuzz_targets): each runs SECONDS with
# libFuzzer, JOBS targets at a time, from its seeds (fuzz/corpus_seed/TARGET, and the
# corpus earlier campaigns left in target/fuzz-corpus/TARGET). Prints, per target, the
# inputs tried, the coverage reached and whether it crashed (a crashing input is kept
# in fuzz/artifacts/TARGET/). Leak detection is off: LeakSanitizer reports the
# thread-local of std's channels in the verifier's worker threads (docs/reliability.md).
# Needs the nightly toolchain and cargo-fuzz
# (`cargo install cargo-fuzz`).
#
# SAVE=1 keeps what the campaign found: each target's corpus, minimised by libFuzzer's
# greedy set cover (`-set_cover_merge=1`: a small set of inputs that reach every feature
# the corpus reaches; about half the files of `cargo fuzz cmin`), replaces the
# campaign-found seeds in fuzz/corpus_seed/TARGET (hand-written seeds, which are not named
# by their SHA-1, stay), so that the next campaign, on any machine, starts where this one
# ended instead of from the hand-written seeds alone.
#
#   [SAVE=1] tools/fuzz-campaign.sh [SECONDS] [JOBS]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-300}
jobs=${2:-2}
command -v cargo-fuzz >/dev/null || { echo "needs cargo-fuzz: cargo install cargo-fuzz" >&2; exit 1; }
targets=$(ls fuzz/fuzz_targets | sed 's/\.rs$//')
(cd fuzz && cargo +nightly fuzz build $targets >/dev/null 2>&1) || (cd fuzz && cargo +nightly fuzz build)
logs=target/fuzz-logs
# What a fuzzer prints when its target crashed, panicked or broke a sanitizer.
crashed='ERROR: libFuzzer|panicked|deadly signal'
mkdir -p "$logs"
run() {
  local t=$1 corpus=target/fuzz-corpus/$1
  mkdir -p "$corpus"
  [ -d "fuzz/corpus_seed/$t" ] && cp -n "fuzz/corpus_seed/$t"/* "$corpus"/ 2>/dev/null || true
  (cd fuzz && cargo +nightly fuzz run "$t" "../$corpus" -- -max_total_time="$seconds" -print_final_stats=1 -detect_leaks=0) \
    > "$logs/$t.log" 2>&1 && echo "$t ok" || echo "$t FAILED"
}
export -f run
export seconds logs
echo "$targets" | xargs -P "$jobs" -I{} bash -c 'run {}'
printf '\n%-20s %14s %8s %8s  %s\n' target runs cov corpus result
for t in $targets; do
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$logs/$t.log" | awk '{print $2}' | tail -1)
  cov=$(grep -oE 'cov: [0-9]+' "$logs/$t.log" | tail -1 | awk '{print $2}')
  size=$(ls "target/fuzz-corpus/$t" | wc -l)
  result=$(grep -qE "$crashed" "$logs/$t.log" && echo CRASH || echo "no crash")
  printf '%-20s %14s %8s %8s  %s\n' "$t" "${runs:-?}" "${cov:-?}" "$size" "$result"
done
if grep -lE "$crashed" "$logs"/*.log; then
  echo "a target crashed: its input is in fuzz/artifacts/" >&2
  exit 1
fi
if [ "${SAVE:-0}" = 1 ]; then
  host=$(rustc -vV | sed -n 's/^host: //p')
  for t in $targets; do
    kept=target/fuzz-kept/$t
    rm -rf "$kept" && mkdir -p "$kept"
    "fuzz/target/$host/release/$t" -set_cover_merge=1 -detect_leaks=0 "$kept" "target/fuzz-corpus/$t" \
      > "$logs/$t.merge.log" 2>&1 || { echo "minimising $t failed: $logs/$t.merge.log" >&2; exit 1; }
    mkdir -p "fuzz/corpus_seed/$t"
    find "fuzz/corpus_seed/$t" -type f -regextype egrep -regex '.*/[0-9a-f]{40}' -delete
    cp -n "$kept"/* "fuzz/corpus_seed/$t"/
    echo "$t: $(ls "fuzz/corpus_seed/$t" | wc -l) seeds, $(du -sh --apparent-size "fuzz/corpus_seed/$t" | cut -f1)"
  done
fi
