// Signatories' keys and signatures, made on this device by hiwar's WebAssembly module
// (the same code as `hiwar org` and `hiwar declaration`): an organisation registers with
// its invitation code, a member registers a key in their own name, and either signs or
// withdraws the exact version shown. The secret never leaves the page: it is shown and
// offered as a file to keep; only public keys and signatures are sent.
"use strict";
(async () => {
  const page = await window.hiwarPage("declare-data");
  if (!page) return;
  const { data, t, $, say, module } = page;

  const post = async (url, body, extra) => {
    const response = await fetch(url, {
      method: "POST", body: JSON.stringify(body), redirect: "manual",
      headers: Object.assign({ "Content-Type": "application/json", Accept: "application/json" }, extra || {}),
    });
    const answer = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(`${t.failed} ${answer.detail || answer.error || response.status}`);
    return answer;
  };

  // A new key and its signed registration: the secret is shown and offered as a file
  // before anything is sent, so that a lost answer never loses the key; then `send`.
  const makeKey = async (name, kind, place, send) => {
    const made = await module.call("signatory_keygen", { entropy: module.entropy() });
    if (made.error) throw new Error(made.error);
    const out = await module.call("signatory_act", { secret: made.secret, dialogue: data.dialogue, act: "register", name, kind, place });
    if (out.error) throw new Error(out.error);
    const signatory = out.body.signatory;
    const file = JSON.stringify({ dialogue: data.dialogue, signatory, secret: made.secret, public: made.public });
    $("secret").textContent = made.secret.match(/.{4}/g).join("-");
    $("download").href = URL.createObjectURL(new Blob([file], { type: "application/json" }));
    $("download").download = `${signatory}-key.json`;
    $("download").hidden = false;
    $("made").hidden = false;
    await send(out.body);
    say(`${t.registered} ${signatory}`);
  };

  const clean = (s) => s.trim().normalize("NFC");

  const form = $("register-form");
  if (form) {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      $("register-button").disabled = true;
      try {
        const name = { ar: clean($("name_ar").value), en: clean($("name_en").value) };
        await makeKey(name, $("kind").value, $("place").value, (registration) =>
          post(`/api/dialogues/${data.dialogue}/organisations`, { code: $("code").value, registration }));
      } catch (err) {
        $("register-button").disabled = false;
        say(err.message, true);
      }
    });
    $("register-button").disabled = false;
  }

  const own = $("make-own");
  if (own) {
    own.addEventListener("click", async () => {
      if (!$("place").value) return say(t.place, true);
      own.disabled = true;
      try {
        const name = { ar: data.pseudonym, en: data.pseudonym };
        await makeKey(name, "member", $("place").value, (registration) =>
          post(`/api/dialogues/${data.dialogue}/signatories/me`, registration));
      } catch (err) {
        own.disabled = false;
        say(err.message, true);
      }
    });
    own.disabled = false;
  }

  const signButton = $("sign-button");
  if (signButton) {
    $("key-file").addEventListener("change", async () => {
      const file = $("key-file").files[0];
      if (!file) return;
      try {
        const key = JSON.parse(await file.text());
        $("key-secret").value = key.secret || "";
        $("key-signatory").value = key.signatory || "";
      } catch (err) {
        say(t.key, true);
      }
    });
    const act = async (what) => {
      const secret = $("key-secret").value.replace(/[^0-9a-fA-F]/g, "").toLowerCase();
      const signatory = $("key-signatory").value.trim();
      if (secret.length !== 64 || !signatory) return say(t.key, true);
      // The module recomputes the hash from the text shown and refuses a page whose
      // hash is not that text's.
      const input = { secret, dialogue: data.dialogue, act: what, signatory, declaration: data.declaration,
        version: data.version, hash: data.hash, title: data.title, text: data.text,
        reason: clean($("withdraw-reason").value) };
      try {
        const out = await module.call("signatory_act", input);
        if (out.error) throw new Error(out.error);
        const path = what === "sign" ? "signatures" : "withdrawals";
        await post(`/api/dialogues/${data.dialogue}/declarations/${data.declaration}/${path}`, out.body);
        say(what === "sign" ? t.signed : t.withdrawn);
      } catch (err) {
        say(err.message, true);
      }
    };
    signButton.addEventListener("click", () => act("sign"));
    $("withdraw-button").addEventListener("click", () => act("withdraw"));
    signButton.disabled = false;
    $("withdraw-button").disabled = false;
  }
})();
