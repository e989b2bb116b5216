// Times hiwar's ballot cryptography compiled to WebAssembly, under Node:
//   tools/build-voter-wasm.sh --check    (builds target/wasm32-unknown-unknown/wasm/hiwar_wasm.wasm)
//   node tools/wasm-bench.mjs
// Prints the median time to encrypt and prove one 0/1 option (compare with
// `cargo bench -p hiwar-crypto --bench ballots`, first line).
import { readFile } from "node:fs/promises";
import { performance } from "node:perf_hooks";

const path = new URL("../target/wasm32-unknown-unknown/wasm/hiwar_wasm.wasm", import.meta.url);
const { instance } = await WebAssembly.instantiate(await readFile(path), {});
const { encrypt_and_prove } = instance.exports;
encrypt_and_prove(50); // warm up
const n = 2000;
const runs = [];
for (let i = 0; i < 7; i++) {
  const started = performance.now();
  encrypt_and_prove(n);
  runs.push((performance.now() - started) / n);
}
runs.sort((a, b) => a - b);
console.log(`wasm (Node ${process.version}): encrypt + prove one 0/1 option ${runs[3].toFixed(3)} ms`);
