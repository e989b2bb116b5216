// A member makes their own voting credential on this device (hiwar's WebAssembly
// module), keeps the secret (shown and downloaded, never sent), and registers only the
// public key for the credential authority to check against the roll and sign.
"use strict";
(async () => {
  const page = await window.hiwarPage("register-data");
  if (!page || !page.$("make")) return;
  const { data, t, $, say, module } = page;
  $("make").addEventListener("click", async () => {
    let made;
    try {
      made = await module.call("credential_keygen", { entropy: module.entropy() });
    } catch (err) {
      return say(err.message, true);
    }
    if (made.error) return say(made.error, true);
    $("make").disabled = true;
    const file = JSON.stringify({ server: data.server, dialogue: data.dialogue, election: data.election,
      voter: data.voter, credential: made.secret });
    $("secret").textContent = made.secret.match(/.{4}/g).join("-");
    $("download").href = URL.createObjectURL(new Blob([file], { type: "application/json" }));
    $("download").hidden = false;
    $("made").hidden = false;
    const form = new URLSearchParams({ csrf: data.csrf, credential: made.public });
    const response = await fetch(`/dialogues/${data.dialogue}/decide/${data.election}/register`, {
      method: "POST", body: form, redirect: "manual",
      headers: { "Content-Type": "application/x-www-form-urlencoded", Accept: "application/json" },
    });
    if (response.ok || response.type === "opaqueredirect") return say(t.registered);
    const answer = await response.json().catch(() => ({}));
    say(`${t.failed} ${answer.detail || answer.error || response.status}`, true);
  });
  $("make").disabled = false;
})();
