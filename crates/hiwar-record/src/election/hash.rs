//! The hashes and signed messages of an election (record-spec §6.1). Each signed
//! message begins with its own domain, so no signature serves two purposes.

use hiwar_crypto::elgamal::Ciphertext;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::canonical::to_canonical_string;

fn canonical_bytes(v: &Value) -> Vec<u8> {
    to_canonical_string(v).unwrap_or_default().into_bytes()
}

/// `H_E = SHA-256("hiwar/v2/election\n" ‖ dialogue ‖ "\n" ‖ canonical(body of election.created))`.
pub fn election_hash(dialogue: &str, created: &Value) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"hiwar/v2/election\n");
    h.update(dialogue.as_bytes());
    h.update(b"\n");
    h.update(canonical_bytes(created));
    h.finalize().into()
}

/// The tracking code of a ballot, from its ciphertexts alone:
/// `SHA-256("hiwar/v2/tracking\n" ‖ H_E ‖ for each question: options (4 bytes LE) ‖ α₀ ‖ β₀ ‖ α₁ ‖ β₁ ‖ …)`.
/// The voter sees it before choosing to cast or challenge; a challenged ballot is
/// published under it without its proofs (which are bound to the credential and would
/// identify the voter).
pub fn tracking_code(election_hash: &[u8; 32], choices: &[Vec<Ciphertext>]) -> [u8; 32] {
    let encodings: Vec<[u8; 32]> = choices
        .iter()
        .flatten()
        .flat_map(|ct| [ct.alpha.compress().to_bytes(), ct.beta.compress().to_bytes()])
        .collect();
    tracking_code_of(election_hash, choices.iter().map(Vec::len), &encodings)
}

/// [`tracking_code`] from the ciphertexts' 32-byte encodings as the ballot carries them
/// (`alpha`, `beta` of each option, question after question; `options` per question):
/// a canonical encoding decodes to a point that encodes back to the same bytes, so both
/// give the same code, and this one needs no point arithmetic.
pub fn tracking_code_of(
    election_hash: &[u8; 32],
    options: impl Iterator<Item = usize>,
    encodings: &[[u8; 32]],
) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"hiwar/v2/tracking\n");
    h.update(election_hash);
    let mut rest = encodings;
    for n in options {
        h.update((n as u32).to_le_bytes());
        let (question, tail) = rest.split_at((2 * n).min(rest.len()));
        for encoding in question {
            h.update(encoding);
        }
        rest = tail;
    }
    h.finalize().into()
}

/// What a credential signs to cast a ballot:
/// `"hiwar/v2/cast\n" ‖ H_E ‖ counter (8 bytes LE) ‖ SHA-256(canonical(ballot))`. The
/// counter must grow with each ballot of the credential, so an old ballot cannot be
/// replayed to undo a re-vote.
pub fn cast_message(election_hash: &[u8; 32], counter: u64, ballot: &Value) -> Vec<u8> {
    cast_message_of(election_hash, counter, &Sha256::digest(canonical_bytes(ballot)).into())
}

/// [`cast_message`] from `SHA-256(canonical(ballot))`, when the canonical text is at hand.
pub fn cast_message_of(election_hash: &[u8; 32], counter: u64, ballot_digest: &[u8; 32]) -> Vec<u8> {
    let mut m = b"hiwar/v2/cast\n".to_vec();
    m.extend_from_slice(election_hash);
    m.extend_from_slice(&counter.to_le_bytes());
    m.extend_from_slice(ballot_digest);
    m
}

/// What the credential authority or a trustee signs for an event of `kind`:
/// `"hiwar/v2/" ‖ kind ‖ "\n" ‖ H_E ‖ canonical(body without its "signature" member)`.
pub fn signed_event_message(kind: &str, election_hash: &[u8; 32], body: &Map<String, Value>) -> Vec<u8> {
    let mut unsigned = body.clone();
    unsigned.remove("signature");
    let mut m = format!("hiwar/v2/{kind}\n").into_bytes();
    m.extend_from_slice(election_hash);
    m.extend_from_slice(&canonical_bytes(&Value::Object(unsigned)));
    m
}

/// The hash an election commits to for its roll of voters:
/// `SHA-256("hiwar/v2/roll\n" ‖ canonical([{"member": id, "weight": w}, …]))`, in the
/// order given. The roll itself may stay private; its size and total weight are public.
pub fn roll_hash(roll: &[(String, u64)]) -> [u8; 32] {
    let list: Vec<Value> = roll.iter().map(|(m, w)| serde_json::json!({"member": m, "weight": w})).collect();
    let mut h = Sha256::new();
    h.update(b"hiwar/v2/roll\n");
    h.update(canonical_bytes(&Value::Array(list)));
    h.finalize().into()
}

/// Adds `signature` to an event body: `signer`'s signature of [`signed_event_message`].
pub fn sign_event(
    kind: &str,
    election_hash: &[u8; 32],
    mut body: Value,
    signer: &hiwar_crypto::signing::Signer25519,
) -> Value {
    let map = body.as_object_mut().expect("an event body is an object");
    let signature = signer.sign(&signed_event_message(kind, election_hash, map));
    map.insert("signature".into(), Value::String(hex::encode(signature)));
    body
}
