#!/usr/bin/env bash
# Builds the voter's WebAssembly module (crates/hiwar-wasm) that the voting page runs,
# and puts it where the server embeds it: crates/hiwar-server/assets/hiwar_voter.wasm,
# with the compiler's version beside it. Paths are remapped so the bytes do not depend
# on where the sources or Cargo's cache are. Commit both files after a change to the
# ballot code; `./test` rebuilds and compares them.
#
#   tools/build-voter-wasm.sh           build and install the module
#   tools/build-voter-wasm.sh --check   build, and fail if the committed module differs
set -euo pipefail
cd "$(dirname "$0")/.."
rustup target add wasm32-unknown-unknown >/dev/null
RUSTFLAGS="--remap-path-prefix=$PWD=/hiwar --remap-path-prefix=${CARGO_HOME:-$HOME/.cargo}=/cargo" \
  cargo build --locked -q -p hiwar-wasm --profile wasm --target wasm32-unknown-unknown
built=target/wasm32-unknown-unknown/wasm/hiwar_wasm.wasm
asset=crates/hiwar-server/assets/hiwar_voter.wasm
version=$(rustc --version)
if [ "${1:-}" = "--check" ]; then
  committed=$(cat "$asset.rustc")
  if cmp -s "$built" "$asset"; then
    echo "ok: the committed voter module is the one these sources build ($version)"
  elif [ "$committed" != "$version" ]; then
    echo "warning: the committed voter module was built with $committed, this machine has $version:" \
      "the bytes cannot be compared; the browser tests use the committed module" >&2
  else
    echo "the committed voter module ($asset) is not what these sources build: run tools/build-voter-wasm.sh and commit it" >&2
    exit 1
  fi
else
  cp "$built" "$asset"
  echo "$version" > "$asset.rustc"
  echo "installed $asset ($(wc -c < "$asset") bytes, $version); sha256 $(sha256sum "$asset" | cut -c1-64)"
fi
