// The voting page's client: makes the ballot on this device with hiwar's WebAssembly
// module (the same code as `hiwar vote`), shows its tracking code, then casts it or —
// the voter's choice — challenges it: the ballot is opened so the voter can see it says
// what they chose, published as challenged, and never counted. The credential never
// leaves this page; the server receives only the signed, encrypted ballot.
"use strict";
(async () => {
  const page = await window.hiwarPage("election");
  if (!page) return;
  const { data, t, $, say, module } = page;
  const credential = () => {
    const text = $("credential").value.trim();
    let secret = text;
    try { secret = JSON.parse(text).credential || ""; } catch (_) { /* the code from the letter */ }
    return secret.toLowerCase().replace(/[^0-9a-f]/g, "");
  };
  $("credential-file").addEventListener("change", async (e) => {
    const file = e.target.files[0];
    if (file) $("credential").value = await file.text();
  });
  const choices = () => data.created.questions.map((_, q) =>
    Array.from(document.querySelectorAll(`input[name="q${q}"]:checked`), (i) => Number(i.value)));
  const post = async (path, body) => {
    const response = await fetch(`/api/dialogues/${data.dialogue}/elections/${data.created.election}/${path}`, {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
    });
    const answer = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(answer.detail || answer.error || response.status);
    return answer;
  };
  let prepared = null;
  const show = (ready) => {
    $("prepared").hidden = !ready;
    $("prepare").disabled = ready;
  };
  $("ballot").addEventListener("submit", async (e) => {
    e.preventDefault();
    const secret = credential();
    if (secret.length !== 64) return say(t.credential, true);
    let answer;
    try {
      answer = await module.call("prepare_ballot", {
        dialogue: data.dialogue, created: data.created, public_key: data.public_key, credential: secret,
        choices: choices(), counter: Date.now(), entropy: module.entropy(),
      });
    } catch (err) {
      return say(err.message, true);
    }
    if (answer.error) return say(answer.error, true);
    prepared = answer;
    $("tracking").textContent = answer.tracking;
    say(t.prepared);
    show(true);
  });
  $("cast").addEventListener("click", async () => {
    if (!prepared) return;
    const ballot = prepared.cast;
    prepared = null;
    show(false);
    try {
      const receipt = await post("ballots", ballot);
      $("credential").value = "";
      say(`${t.cast} ${receipt.tracking} (${t.line} ${receipt.line})`);
      $("board").href = `${data.board}?q=${receipt.tracking}`;
      $("board").hidden = false;
      $("receipt").href = URL.createObjectURL(new Blob([JSON.stringify(receipt)], { type: "application/json" }));
      $("receipt").hidden = false;
    } catch (e) {
      say(`${t.failed} ${e.message}`, true);
    }
  });
  $("challenge").addEventListener("click", async () => {
    if (!prepared) return;
    const opened = prepared.spoiled;
    prepared = null;
    show(false);
    try {
      await post("spoiled", opened);
      const said = opened.plaintext.map((row, q) => data.created.questions[q].options
        .filter((_, o) => row[o] === 1).map((o) => o[data.lang] || o.en).join(", ")).join(" / ");
      say(`${t.challenged} ${opened.tracking}: ${said}. ${t.again}`);
    } catch (e) {
      say(`${t.failed} ${e.message}`, true);
    }
  });
  $("prepare").disabled = false;
})();
