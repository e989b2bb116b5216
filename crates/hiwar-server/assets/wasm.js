// Loads hiwar's WebAssembly module (no imports) and calls its entry points with JSON:
// the input is copied in, the JSON answer copied out, and both buffers are wiped and
// given back. Used by the voting and trustee pages.
"use strict";
window.hiwarModule = async () => {
  const bytes = await (await fetch("/static/hiwar_voter.wasm")).arrayBuffer();
  const m = (await WebAssembly.instantiate(bytes, {})).instance.exports;
  const call = (name, input) => {
    const text = new TextEncoder().encode(JSON.stringify(input));
    const ptr = m.alloc(text.length);
    new Uint8Array(m.memory.buffer, ptr, text.length).set(text);
    const packed = BigInt.asUintN(64, m[name](ptr, text.length));
    m.dealloc(ptr, text.length);
    const out = Number(packed >> 32n), len = Number(packed & 0xffffffffn);
    const answer = new TextDecoder().decode(new Uint8Array(m.memory.buffer, out, len).slice());
    m.dealloc(out, len);
    return JSON.parse(answer);
  };
  return { call };
};

// What a page's script starts with: its data (the JSON block `dataId`), its messages,
// a way to say something in #outcome, and the module — or null, having said that this
// browser cannot run it. The module (about 400 KB) is fetched only when first used, so
// the page itself stays light on a slow or costly connection.
window.hiwarPage = async (dataId) => {
  const data = JSON.parse(document.getElementById(dataId).textContent);
  const $ = (id) => document.getElementById(id);
  const say = (text, isError) => {
    $("outcome").textContent = text;
    $("outcome").className = isError ? "error" : "";
  };
  if (typeof WebAssembly !== "object" || !window.crypto || !crypto.getRandomValues) {
    say(data.messages.unavailable, true);
    return null;
  }
  let loading = null;
  const loaded = () => {
    loading = loading || window.hiwarModule().catch((e) => {
      loading = null;
      throw new Error(data.messages.unavailable);
    });
    return loading;
  };
  const module = {
    call: async (name, input) => (await loaded()).call(name, input),
    entropy: () => Array.from(crypto.getRandomValues(new Uint8Array(32)), (b) => b.toString(16).padStart(2, "0")).join(""),
  };
  return { data, t: data.messages, $, say, module };
};
