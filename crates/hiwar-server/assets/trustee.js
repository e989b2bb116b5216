// The trustee's pages: make long-term trustee keys in the browser (the secret is shown
// and downloaded, never sent), take part in an election's key ceremony, and decrypt
// the closed tally — each step decided by hiwar's WebAssembly module from the public
// record (the same code as `hiwar trustee`), and only the signed public step sent.
"use strict";
(async () => {
  const page = await window.hiwarPage("trustee-data");
  if (!page) return;
  const { data, t, $, say, module } = page;
  if ($("keygen")) {
    $("keygen").addEventListener("click", async () => {
      let keys;
      try {
        keys = await module.call("trustee_keygen", { entropy: module.entropy() });
      } catch (err) {
        return say(err.message, true);
      }
      if (keys.error) return say(keys.error, true);
      const secret = JSON.stringify(keys.secret);
      $("secret").value = secret;
      $("public").textContent = JSON.stringify(keys.public);
      const link = $("download");
      link.href = URL.createObjectURL(new Blob([secret], { type: "application/json" }));
      link.hidden = false;
      $("made").hidden = false;
      $("keygen").disabled = true;
    });
    $("keygen").disabled = false;
    return;
  }
  $("key-file").addEventListener("change", async (e) => {
    const file = e.target.files[0];
    if (file) $("key").value = await file.text();
  });
  const secret = () => {
    try { return JSON.parse($("key").value); } catch (_) { return null; }
  };
  const events = async () => {
    const text = await (await fetch(`/dialogues/${data.dialogue}/record`)).text();
    return text.split("\n").filter((l) => l).map((l) => JSON.parse(l))
      .filter((l) => l.body && l.body.election === data.election).map((l) => ({ kind: l.kind, body: l.body }));
  };
  const send = async (step) => {
    const response = await fetch(`/api/dialogues/${data.dialogue}/elections/${data.election}/events`, {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(step),
    });
    if (!response.ok) {
      const answer = await response.json().catch(() => ({}));
      throw new Error(answer.detail || answer.error || response.status);
    }
  };
  const run = async (entry, once) => {
    const key = secret();
    if (!key) return say(t.key, true);
    $("ceremony").disabled = true;
    $("decrypt").disabled = true;
    for (;;) {
      let answer;
      try {
        answer = await module.call(entry, { dialogue: data.dialogue, events: await events(), secret: key, entropy: module.entropy() });
        if (answer.send) {
          await send(answer.send);
          say(`${t.sent} ${answer.send.kind}`);
          if (once || answer.send.kind === "election.trustee_complaint") break;
          continue;
        }
      } catch (e) {
        say(`${t.failed} ${e.message}`, true);
        break;
      }
      if (answer.error || answer.failed) { say(answer.error || answer.failed, true); break; }
      if (answer.done) { say(t.done); break; }
      say(answer.wait);
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    $("ceremony").disabled = false;
    $("decrypt").disabled = false;
  };
  $("ceremony").addEventListener("click", () => run("trustee_step", false));
  $("decrypt").addEventListener("click", () => run("trustee_decrypt", true));
  $("ceremony").disabled = false;
  $("decrypt").disabled = false;
})();
