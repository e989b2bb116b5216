//! WebAssembly entry points, without JavaScript glue, so that any host (a browser, Node)
//! can instantiate the module with no imports.
//!
//! - [`prepare_ballot`]: the voter's device makes a ballot — encrypted, proved, signed
//!   for casting, and opened for a challenge — from the election as the record gives it
//!   and the voter's credential and choices. The page shows the tracking code and then
//!   sends one of the two forms. It uses the shared
//!   [`hiwar_record::election::roles::VotingBooth`], so the browser makes exactly the
//!   ballots `hiwar vote` makes.
//! - [`trustee_keygen`], [`trustee_step`], [`trustee_decrypt`]: a trustee's keys, its
//!   next step in the key ceremony, and its partial decryption, made in the browser from
//!   the record's events with the shared [`hiwar_record::election::roles::TrusteeRole`]
//!   (the same code as `hiwar trustee`); the secret keys stay in the page.
//! - [`credential_keygen`]: a voter's credential made on the device (members register
//!   only its public key).
//! - [`signatory_keygen`], [`signatory_act`]: an organisation's (or a member's)
//!   signing key for declarations, made on the device, and what it signs — its
//!   registration, a signature of a declaration's version, a withdrawal — through the
//!   shared [`hiwar_record::declaration::SignatoryKey`] (the same code as `hiwar org`).
//! - [`encrypt_and_prove`]: a benchmark (docs/performance.md).
//!
//! Memory: the host asks for `len` bytes with [`alloc`], writes UTF-8 JSON there, calls
//! an entry point, which returns `(ptr << 32) | len` of its UTF-8 JSON answer, reads it
//! and gives both buffers back with [`dealloc`].

use hiwar_crypto::ballot::{Credential, Question};
use hiwar_crypto::elgamal::ElectionKey;
use hiwar_crypto::group::{generator, point_from_hex};
use hiwar_crypto::proofs::DisjunctiveProof;
use hiwar_crypto::transcript::Transcript;
use hiwar_crypto::Scalar;
use hiwar_record::declaration::SignatoryKey;
use hiwar_record::election::election_hash;
use hiwar_record::election::roles::{CeremonyStep, TrusteeRole, VotingBooth};
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;
use serde_json::{json, Value};
use zeroize::Zeroizing;

/// Encrypts and proves `n` 0/1 options; returns a byte of the last proof so the work
/// cannot be optimised away.
#[no_mangle]
pub extern "C" fn encrypt_and_prove(n: u32) -> u32 {
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let key = ElectionKey::new(Scalar::random(&mut rng) * generator()).expect("nonzero key");
    let mut last = 0;
    for i in 0..n {
        let m = (i % 2) as u64;
        let (ct, r) = key.encrypt(m, &mut rng);
        let mut t = Transcript::new("bench");
        t.bytes(&[1u8; 32]);
        let proof = DisjunctiveProof::prove(t, &key, &ct, &[0, 1], m as usize, &r, &mut rng);
        last = proof.branches[0].z.as_bytes()[0] as u32;
    }
    last
}

/// A buffer of `len` bytes for the host to write into.
#[no_mangle]
pub extern "C" fn alloc(len: u32) -> *mut u8 {
    let mut buffer = Vec::<u8>::with_capacity(len as usize);
    let ptr = buffer.as_mut_ptr();
    std::mem::forget(buffer);
    ptr
}

/// Gives back (and wipes) a buffer from [`alloc`] or an answer.
///
/// # Safety
/// `ptr` and `len` must be those of one buffer from this module, given back once.
#[no_mangle]
pub unsafe extern "C" fn dealloc(ptr: *mut u8, len: u32) {
    let mut buffer = Vec::from_raw_parts(ptr, len as usize, len as usize);
    zeroize::Zeroize::zeroize(&mut buffer);
}

/// Runs an entry point on the host's JSON input: its answer, or `{"error"}`; the
/// input copy is wiped afterwards (it may hold a secret).
///
/// # Safety
/// `ptr` and `len` must describe `len` initialised bytes from [`alloc`].
unsafe fn entry(ptr: *const u8, len: u32, f: impl FnOnce(&[u8]) -> Result<Value, String>) -> u64 {
    let input = Zeroizing::new(std::slice::from_raw_parts(ptr, len as usize).to_vec());
    answer(f(&input).unwrap_or_else(|e| json!({ "error": e })))
}

fn answer(value: Value) -> u64 {
    let bytes = value.to_string().into_bytes().into_boxed_slice();
    let len = bytes.len() as u64;
    let ptr = Box::into_raw(bytes) as *mut u8 as u64;
    (ptr << 32) | len
}

/// Makes a ballot. Input (JSON): `dialogue`, `created` (the body of `election.created`),
/// `public_key` (from `election.opened`), `credential` (64 hex digits), `choices` (per
/// question, the chosen option numbers), `counter`, `entropy` (64 hex digits from the
/// host's cryptographic generator). Answer: `{"tracking", "cast", "spoiled"}` or
/// `{"error"}`.
///
/// # Safety
/// `ptr` and `len` must describe `len` initialised bytes from [`alloc`].
#[no_mangle]
pub unsafe extern "C" fn prepare_ballot(ptr: *const u8, len: u32) -> u64 {
    entry(ptr, len, prepare)
}

/// A voter's new credential, made on their device for an election whose members
/// register their own. Input: `{"entropy"}`. Answer: `{"secret", "public"}` (hex).
///
/// # Safety
/// As [`prepare_ballot`].
#[no_mangle]
pub unsafe extern "C" fn credential_keygen(ptr: *const u8, len: u32) -> u64 {
    entry(ptr, len, |input| {
        let input: Value = serde_json::from_slice(input).map_err(|e| e.to_string())?;
        let mut rng = ChaCha20Rng::from_seed(*hex32(&input["entropy"], "entropy")?);
        let (secret, credential) = Credential::generate(&mut rng);
        Ok(json!({"secret": hex::encode(*secret), "public": hex::encode(credential.public())}))
    })
}

/// A trustee's new long-term keys. Input: `{"entropy"}`. Answer: `{"secret": the key
/// file's contents, "public": the line to give the convener}`.
///
/// # Safety
/// As [`prepare_ballot`].
#[no_mangle]
pub unsafe extern "C" fn trustee_keygen(ptr: *const u8, len: u32) -> u64 {
    entry(ptr, len, |input| {
        let input: Value = serde_json::from_slice(input).map_err(|e| e.to_string())?;
        let mut rng = ChaCha20Rng::from_seed(*hex32(&input["entropy"], "entropy")?);
        let role = TrusteeRole::generate(&mut rng);
        Ok(json!({"secret": role.secret_json(), "public": role.public()}))
    })
}

/// A signatory's new key. Input: `{"entropy"}`. Answer: `{"secret", "public"}` (hex).
///
/// # Safety
/// As [`prepare_ballot`].
#[no_mangle]
pub unsafe extern "C" fn signatory_keygen(ptr: *const u8, len: u32) -> u64 {
    entry(ptr, len, |input| {
        let input: Value = serde_json::from_slice(input).map_err(|e| e.to_string())?;
        let mut rng = ChaCha20Rng::from_seed(*hex32(&input["entropy"], "entropy")?);
        let (secret, key) = SignatoryKey::generate(&mut rng);
        Ok(json!({"secret": hex::encode(*secret), "public": key.public()}))
    })
}

/// What a signatory's key signs. Input: `secret`, `dialogue` and `act`:
/// `"register"` (with `name` `{"ar","en"}`, `kind`, `place`), `"sign"` or `"withdraw"`
/// (with `signatory`, `declaration`, `version`, `hash`, the `title` and `text` shown,
/// whose hash must be `hash`, and for a withdrawal `reason`).
/// Answer: `{"body"}`, the event's body to send.
///
/// # Safety
/// As [`prepare_ballot`].
#[no_mangle]
pub unsafe extern "C" fn signatory_act(ptr: *const u8, len: u32) -> u64 {
    entry(ptr, len, signatory)
}

fn signatory(input: &[u8]) -> Result<Value, String> {
    let input: Value = serde_json::from_slice(input).map_err(|e| e.to_string())?;
    let key = SignatoryKey::from_hex(input["secret"].as_str().unwrap_or_default())?;
    let s = |name: &str| input[name].as_str().ok_or_else(|| format!("{name} is missing"));
    let dialogue = s("dialogue")?;
    let body = match s("act")? {
        "register" => key.register(dialogue, &input["name"], s("kind")?, s("place")?),
        act @ ("sign" | "withdraw") => {
            let version = input["version"].as_u64().ok_or("version is missing")?;
            let (signatory, declaration, hash) = (s("signatory")?, s("declaration")?, s("hash")?);
            // Sign only the text the signatory was shown: the hash is recomputed here.
            let shown = hiwar_record::declaration::version_hash(
                dialogue,
                declaration,
                version,
                &input["title"],
                &input["text"],
            );
            if hex::encode(shown) != hash {
                return Err("the page's hash is not the hash of the text it shows: not signed".into());
            }
            if act == "sign" {
                key.sign_version(dialogue, signatory, declaration, version, hash)
            } else {
                key.withdraw(dialogue, signatory, declaration, version, hash, s("reason")?)
            }
        }
        other => return Err(format!("unknown act {other:?}")),
    };
    Ok(json!({ "body": body }))
}

/// The events of one election, as `(kind, body)`.
type Events = Vec<(String, Value)>;

/// The trustee of `secret` and the events of one election: `(dialogue, events as
/// [{"kind", "body"}], role, generator)`.
fn trustee_input(input: &[u8]) -> Result<(String, Events, TrusteeRole, ChaCha20Rng), String> {
    let input: Value = serde_json::from_slice(input).map_err(|e| format!("the input is not JSON: {e}"))?;
    let secret = &input["secret"];
    let seed = hex32(&secret["signing_seed"], "the key file's signing_seed")?;
    let share =
        hiwar_crypto::group::scalar_from_hex("share_secret", secret["share_secret"].as_str().unwrap_or_default())
            .map_err(|e| format!("the key file: {e}"))?;
    let events = input["events"]
        .as_array()
        .ok_or("no events")?
        .iter()
        .map(|e| (e["kind"].as_str().unwrap_or_default().to_string(), e["body"].clone()))
        .collect();
    let rng = ChaCha20Rng::from_seed(*hex32(&input["entropy"], "entropy")?);
    Ok((input["dialogue"].as_str().unwrap_or_default().to_string(), events, TrusteeRole::new(&seed, share), rng))
}

/// The trustee's next step in the ceremony. Input: `{"dialogue", "events", "secret",
/// "entropy"}`. Answer: `{"send": {"kind", "body"}}`, `{"wait": why}`, `{"done": true}`,
/// `{"failed": why}` or `{"error"}`.
///
/// # Safety
/// As [`prepare_ballot`].
#[no_mangle]
pub unsafe extern "C" fn trustee_step(ptr: *const u8, len: u32) -> u64 {
    entry(ptr, len, |input| {
        let (dialogue, events, role, mut rng) = trustee_input(input)?;
        Ok(match role.next_step(&dialogue, &events, &mut rng)? {
            CeremonyStep::Send(kind, body) => json!({"send": {"kind": kind, "body": body}}),
            CeremonyStep::Wait(why) => json!({ "wait": why }),
            CeremonyStep::Done => json!({"done": true}),
            CeremonyStep::Failed(why) => json!({ "failed": why }),
        })
    })
}

/// The trustee's partial decryption of the closed tally, recounted from the events
/// first. Input as [`trustee_step`]. Answer: `{"send": {"kind", "body"}}` or `{"error"}`.
///
/// # Safety
/// As [`prepare_ballot`].
#[no_mangle]
pub unsafe extern "C" fn trustee_decrypt(ptr: *const u8, len: u32) -> u64 {
    entry(ptr, len, |input| {
        let (dialogue, events, role, mut rng) = trustee_input(input)?;
        let body = role.decrypt(&dialogue, &events, &mut rng)?;
        Ok(json!({"send": {"kind": "election.partial_decryption", "body": body}}))
    })
}

fn hex32(v: &Value, what: &str) -> Result<Zeroizing<[u8; 32]>, String> {
    let mut out = Zeroizing::new([0u8; 32]);
    hex::decode_to_slice(v.as_str().unwrap_or_default(), &mut *out)
        .map_err(|_| format!("{what} is not 64 hex digits"))?;
    Ok(out)
}

fn prepare(input: &[u8]) -> Result<Value, String> {
    let input: Value = serde_json::from_slice(input).map_err(|e| format!("the input is not JSON: {e}"))?;
    let created = &input["created"];
    let election = created["election"].as_str().ok_or("created has no election id")?;
    let hash = election_hash(input["dialogue"].as_str().ok_or("no dialogue")?, created);
    let key = point_from_hex("public_key", input["public_key"].as_str().unwrap_or_default())
        .and_then(ElectionKey::new)
        .map_err(|e| e.to_string())?;
    let questions: Vec<Question> = created["questions"]
        .as_array()
        .ok_or("created has no questions")?
        .iter()
        .map(|q| Question {
            options: q["options"].as_array().map_or(0, Vec::len) as u32,
            min: q["min"].as_u64().unwrap_or(0) as u32,
            max: q["max"].as_u64().unwrap_or(0) as u32,
        })
        .collect();
    let chosen = input["choices"].as_array().ok_or("no choices")?;
    if chosen.len() != questions.len() {
        return Err(format!("{} answers for {} questions", chosen.len(), questions.len()));
    }
    let choices: Vec<Vec<bool>> = chosen
        .iter()
        .zip(&questions)
        .enumerate()
        .map(|(q, (picked, question))| {
            let mut row = vec![false; question.options as usize];
            for o in picked.as_array().ok_or("choices are lists of option numbers")? {
                let o = o.as_u64().filter(|o| (*o as usize) < row.len()).ok_or("an option number is out of range")?;
                row[o as usize] = true;
            }
            let n = row.iter().filter(|c| **c).count() as u32;
            if n < question.min || n > question.max {
                return Err(format!("question {}: choose from {} to {} options", q + 1, question.min, question.max));
            }
            Ok(row)
        })
        .collect::<Result<_, String>>()?;
    let secret = hex32(&input["credential"], "the credential")?;
    let credential = Credential::from_secret(&secret);
    let mut rng = ChaCha20Rng::from_seed(*hex32(&input["entropy"], "entropy")?);
    let counter = input["counter"].as_u64().filter(|c| *c > 0).ok_or("the counter must be a positive integer")?;
    let booth = VotingBooth { election, hash: &hash, key: &key, questions: &questions };
    let prepared = booth.prepare(&credential, &choices, counter, &mut rng)?;
    Ok(json!({"tracking": prepared.tracking, "cast": prepared.cast, "spoiled": prepared.spoiled}))
}

/// The module never asks the OS for randomness (the host passes entropy in); the
/// record crate's verifier, which would, is not reachable from these entry points.
#[cfg(target_arch = "wasm32")]
fn no_os_randomness(_: &mut [u8]) -> Result<(), getrandom::Error> {
    Err(getrandom::Error::UNSUPPORTED)
}
#[cfg(target_arch = "wasm32")]
getrandom::register_custom_getrandom!(no_os_randomness);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signatory_signs_only_the_text_it_was_shown() {
        let (title, text) = (json!({"ar": "ع", "en": "T"}), json!({"ar": "ن", "en": "Text"}));
        let hash = hex::encode(hiwar_record::declaration::version_hash("d-1", "dec-1", 1, &title, &text));
        let input = |text: &Value| {
            json!({"secret": "07".repeat(32), "dialogue": "d-1", "act": "sign", "signatory": "org-1",
                   "declaration": "dec-1", "version": 1, "hash": hash, "title": title, "text": text})
            .to_string()
        };
        let signed = signatory(input(&text).as_bytes()).unwrap();
        assert_eq!(signed["body"]["signatory"], "org-1");
        let other = json!({"ar": "ن", "en": "Another text"});
        assert!(signatory(input(&other).as_bytes()).unwrap_err().contains("not the hash"));
    }

    #[test]
    fn a_prepared_ballot_passes_the_record_checks_and_opens_to_the_choices() {
        let mut rng = ChaCha20Rng::seed_from_u64(3);
        let key = ElectionKey::new(Scalar::random(&mut rng) * generator()).unwrap();
        let created = json!({"election": "e", "questions": [{"options": ["a", "b", "c"], "min": 1, "max": 2}]});
        let input = json!({"dialogue": "d", "created": created, "public_key": hiwar_crypto::group::point_to_hex(key.point()),
            "credential": "11".repeat(32), "choices": [[0, 2]], "counter": 5, "entropy": "22".repeat(32)});
        let out = prepare(input.to_string().as_bytes()).unwrap();
        assert_eq!(out["cast"]["tracking"], out["tracking"]);
        assert_eq!(out["spoiled"]["plaintext"], json!([[1, 0, 1]]));
        let mut too_many = input.clone();
        too_many["choices"] = json!([[0, 1, 2]]);
        assert!(prepare(too_many.to_string().as_bytes()).unwrap_err().contains("choose from 1 to 2"));
        let mut no_entropy = input;
        no_entropy["entropy"] = json!("00");
        assert!(prepare(no_entropy.to_string().as_bytes()).unwrap_err().contains("entropy"));
    }
}
