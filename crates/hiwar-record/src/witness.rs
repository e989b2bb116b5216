//! Witnesses: checkpoints of the record signed by the dialogue key and co-signed by
//! independent observers. `docs/record-spec.md` §9.
//!
//! A **checkpoint** is the dialogue key's signed statement "the record of dialogue `D`
//! has `size` lines and its last line hashes to `head`", made at `time`:
//!
//! ```text
//! sig = Ed25519_dialogue("hiwar/v1/checkpoint\n" ‖ canonical({dialogue, head, size, time}))
//! ```
//!
//! Every line carries the hash of the one before (R5) and is signed by the same key
//! (R7), so a checkpoint commits to the whole prefix of `size` lines. Two checkpoints
//! of one dialogue are **consistent** when the record of the larger has, as its line
//! `size − 1` of the smaller, a line hashing to the smaller one's head; a witness holding
//! the older checkpoint checks this from the lines since it ([`check_extension`]): each
//! is well formed and signed, the first one's `prev` is the old head, and the chain ends
//! at the new head. (The alternative, an RFC 6962 Merkle tree with logarithmic
//! consistency proofs, is weighed in `docs/performance.md`.)
//!
//! A **co-signature** is a witness's Ed25519 signature, under its own key, of the
//! checkpoint it checked and the time it checked it:
//!
//! ```text
//! sig = Ed25519_witness("hiwar/v1/cosignature\n" ‖ canonical({checkpoint, time, witness}))
//! ```
//!
//! **Security property.** Assume SHA-256 is collision resistant and Ed25519 (strict
//! verification) unforgeable. If the holder of the dialogue key shows two parties
//! records that differ in a line both contain, or cuts short a record someone holds a
//! checkpoint of, then (a) an honest witness that co-signed one never co-signs the
//! other, and (b) whoever holds a checkpoint of one and a line or checkpoint of the other
//! at the same size holds a [`ForkProof`]: two statements under the dialogue key that
//! cannot both be true, checkable by anyone with the dialogue key alone. A record that
//! `k` independent witnesses co-signed recently was therefore shown to all of them alike,
//! unless `k` witnesses collude with the key holder.

use std::collections::{BTreeMap, BTreeSet};

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde_json::{json, Map, Value};

use crate::canonical::to_canonical_string;
use crate::canonical::MAX_SAFE_INTEGER;
use crate::events::{fields, hex_field, id, text, State};
use crate::fingerprint::Fingerprints;
pub use crate::line::parse_time;
use crate::line::{line_hash, signed_message_of, FORMAT_VERSION, LINE_FIELDS};

/// Domain of the dialogue key's signature on a checkpoint.
pub const CHECKPOINT_DOMAIN: &[u8] = b"hiwar/v1/checkpoint\n";
/// Domain of a witness's co-signature.
pub const COSIGNATURE_DOMAIN: &[u8] = b"hiwar/v1/cosignature\n";
/// Longest witness name, in characters.
pub const MAX_WITNESS_NAME: usize = 80;

/// The dialogue key's signed head of its record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub dialogue: String,
    /// Number of lines.
    pub size: u64,
    /// Hex SHA-256 of line `size − 1`.
    pub head: String,
    /// `YYYY-MM-DDTHH:MM:SSZ`, when the dialogue key signed it.
    pub time: String,
    /// Hex Ed25519 signature by the dialogue key.
    pub sig: String,
}

impl Checkpoint {
    fn unsigned(dialogue: &str, size: u64, head: &str, time: &str) -> Value {
        json!({"dialogue": dialogue, "head": head, "size": size, "time": time})
    }

    fn message(&self) -> Vec<u8> {
        let unsigned = Self::unsigned(&self.dialogue, self.size, &self.head, &self.time);
        [CHECKPOINT_DOMAIN, to_canonical_string(&unsigned).expect("ids, hex and integers").as_bytes()].concat()
    }

    /// The dialogue key signs the head of a record of `size` lines.
    pub fn sign(dialogue: &str, size: u64, head: &str, time: &str, key: &SigningKey) -> Checkpoint {
        let mut checkpoint = Checkpoint {
            dialogue: dialogue.to_string(),
            size,
            head: head.to_string(),
            time: time.to_string(),
            sig: String::new(),
        };
        checkpoint.sig = hex::encode(key.sign(&checkpoint.message()).to_bytes());
        checkpoint
    }

    pub fn to_value(&self) -> Value {
        json!({"dialogue": self.dialogue, "head": self.head, "sig": self.sig, "size": self.size, "time": self.time})
    }

    /// Reads a checkpoint, refusing anything but exactly its five members, well formed.
    pub fn from_value(value: &Value) -> Result<Checkpoint, String> {
        let b = fields(value, &["dialogue", "head", "sig", "size", "time"]).map_err(|e| format!("checkpoint: {e}"))?;
        let size = b["size"]
            .as_u64()
            .filter(|s| (1..=MAX_SAFE_INTEGER).contains(s))
            .ok_or("checkpoint: size is not an integer from 1 to 2^53 − 1")?;
        let time = record_time(b, "time").map_err(|e| format!("checkpoint: {e}"))?;
        Ok(Checkpoint {
            dialogue: id(b, "dialogue").map_err(|e| format!("checkpoint: {e}"))?,
            size,
            head: hex_field(b, "head", 32).map_err(|e| format!("checkpoint: {e}"))?,
            time,
            sig: hex_field(b, "sig", 64).map_err(|e| format!("checkpoint: {e}"))?,
        })
    }

    /// Checks the dialogue key's signature (strict Ed25519, as R7).
    pub fn verify(&self, dialogue_key: &VerifyingKey) -> Result<(), String> {
        let sig: [u8; 64] = decode_hex(&self.sig).ok_or("checkpoint: sig is not 64 bytes of hex")?;
        dialogue_key
            .verify_strict(&self.message(), &Signature::from_bytes(&sig))
            .map_err(|_| format!("the checkpoint at size {} is not signed by the dialogue key", self.size))
    }
}

/// A witness's signature on a checkpoint it checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cosignature {
    /// The witness's Ed25519 public key, hex.
    pub witness: String,
    pub checkpoint: Checkpoint,
    /// When the witness co-signed, by its own clock.
    pub time: String,
    pub sig: String,
}

impl Cosignature {
    fn message(&self) -> Vec<u8> {
        let unsigned = json!({"checkpoint": self.checkpoint.to_value(), "time": self.time, "witness": self.witness});
        [COSIGNATURE_DOMAIN, to_canonical_string(&unsigned).expect("ids, hex and integers").as_bytes()].concat()
    }

    /// The witness whose key is `signer` co-signs `checkpoint` at `time`.
    pub fn sign(checkpoint: &Checkpoint, time: &str, signer: &hiwar_crypto::signing::Signer25519) -> Cosignature {
        let mut cosignature = Cosignature {
            witness: hex::encode(signer.public()),
            checkpoint: checkpoint.clone(),
            time: time.to_string(),
            sig: String::new(),
        };
        cosignature.sig = hex::encode(signer.sign(&cosignature.message()));
        cosignature
    }

    pub fn to_value(&self) -> Value {
        json!({"checkpoint": self.checkpoint.to_value(), "sig": self.sig, "time": self.time, "witness": self.witness})
    }

    pub fn from_value(value: &Value) -> Result<Cosignature, String> {
        let b = fields(value, &["checkpoint", "sig", "time", "witness"]).map_err(|e| format!("co-signature: {e}"))?;
        Ok(Cosignature {
            witness: hex_field(b, "witness", 32).map_err(|e| format!("co-signature: {e}"))?,
            checkpoint: Checkpoint::from_value(&b["checkpoint"])?,
            time: record_time(b, "time").map_err(|e| format!("co-signature: {e}"))?,
            sig: hex_field(b, "sig", 64).map_err(|e| format!("co-signature: {e}"))?,
        })
    }

    /// Checks the witness's signature (strict key and signature rules). The checkpoint's
    /// own signature is checked separately, against the dialogue key.
    pub fn verify(&self) -> Result<(), String> {
        let key: [u8; 32] = decode_hex(&self.witness).ok_or("co-signature: witness is not 32 bytes of hex")?;
        let sig: [u8; 64] = decode_hex(&self.sig).ok_or("co-signature: sig is not 64 bytes of hex")?;
        hiwar_crypto::signing::verify("witness key", &key, &self.message(), &sig)
            .map_err(|e| format!("the co-signature by witness {} does not verify: {e}", short(&self.witness)))
    }
}

/// Two statements under the dialogue key that cannot both be true: a checkpoint of
/// `size` lines ending in `head`, and either another checkpoint at the same size with
/// another head, or a signed line that says otherwise — line `size − 1` hashing to
/// something else, or line `size` whose `prev` is something else.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForkProof {
    pub dialogue_key: String,
    pub checkpoint: Checkpoint,
    pub other: Contradiction,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Contradiction {
    Checkpoint(Checkpoint),
    /// The text of a signed line at `seq` `size − 1` or `size`.
    Line(String),
}

impl ForkProof {
    pub fn to_value(&self) -> Value {
        let other = match &self.other {
            Contradiction::Checkpoint(c) => json!({"checkpoint": c.to_value()}),
            Contradiction::Line(line) => json!({"line": line}),
        };
        json!({"fork_proof": {"dialogue_key": self.dialogue_key, "checkpoint": self.checkpoint.to_value(), "contradicted_by": other}})
    }

    /// Checks a fork proof read from JSON; on success says what it proves.
    pub fn check(value: &Value) -> Result<String, String> {
        let proof = value.get("fork_proof").ok_or("not a fork proof: no member \"fork_proof\"")?;
        let key_hex = proof["dialogue_key"].as_str().ok_or("fork proof: no dialogue_key")?;
        let key = dialogue_key(key_hex).ok_or("fork proof: dialogue_key is not an Ed25519 key")?;
        let checkpoint = Checkpoint::from_value(&proof["checkpoint"])?;
        checkpoint.verify(&key)?;
        let other = &proof["contradicted_by"];
        if let Some(c) = other.get("checkpoint") {
            let c = Checkpoint::from_value(c)?;
            c.verify(&key)?;
            if c.dialogue != checkpoint.dialogue || c.size != checkpoint.size || c.head == checkpoint.head {
                return Err("fork proof: the two checkpoints do not contradict each other".into());
            }
            return Ok(format!(
                "the dialogue key {key_hex} signed two different heads of dialogue {} at {} lines: {} and {}",
                c.dialogue, c.size, checkpoint.head, c.head
            ));
        }
        let line = other["line"].as_str().ok_or("fork proof: contradicted_by has neither checkpoint nor line")?;
        let object = check_signed_line(line, &key)?;
        let seq = object["seq"].as_u64().unwrap_or(u64::MAX);
        let next = seq.saturating_add(1);
        if object["dialogue"].as_str() != Some(checkpoint.dialogue.as_str()) {
            return Err("fork proof: the line is of another dialogue".into());
        }
        if next == checkpoint.size && hex::encode(line_hash(line)) != checkpoint.head {
            return Ok(format!(
                "the dialogue key {key_hex} signed a head {} for {} lines of dialogue {}, and a line {seq} hashing to {}",
                checkpoint.head,
                checkpoint.size,
                checkpoint.dialogue,
                hex::encode(line_hash(line))
            ));
        }
        if seq == checkpoint.size && object["prev"].as_str() != Some(checkpoint.head.as_str()) {
            return Ok(format!(
                "the dialogue key {key_hex} signed a head {} for {} lines of dialogue {}, and a line {seq} following {}",
                checkpoint.head,
                checkpoint.size,
                checkpoint.dialogue,
                object["prev"].as_str().unwrap_or("")
            ));
        }
        Err("fork proof: the line agrees with the checkpoint".into())
    }
}

/// Why a record's new lines do not extend an older checkpoint; with a [`ForkProof`]
/// when the dialogue key signed both sides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inconsistency {
    pub detail: String,
    pub proof: Option<Box<ForkProof>>,
}

/// Checks that `lines` — the record's lines from `old.size` on, each ending in `\n` —
/// extend the record at checkpoint `old` to checkpoint `new`: both checkpoints signed by
/// `dialogue_key` for the same dialogue, `new.size ≥ old.size`, exactly `new.size −
/// old.size` lines, each in canonical form with the next sequence number and signed by
/// the dialogue key, the first one's `prev` equal to `old.head`, each next one's `prev`
/// the hash of the one before, and the last one hashing to `new.head`.
pub fn check_extension(
    dialogue_key: &VerifyingKey,
    old: &Checkpoint,
    new: &Checkpoint,
    lines: &str,
) -> Result<(), Inconsistency> {
    let plain = |detail: String| Inconsistency { detail, proof: None };
    let key_hex = hex::encode(dialogue_key.as_bytes());
    let proof = |other: Contradiction| {
        Some(Box::new(ForkProof { dialogue_key: key_hex.clone(), checkpoint: old.clone(), other }))
    };
    old.verify(dialogue_key).map_err(plain)?;
    new.verify(dialogue_key).map_err(plain)?;
    if new.dialogue != old.dialogue {
        return Err(plain(format!("the new checkpoint is of dialogue {}, not {}", new.dialogue, old.dialogue)));
    }
    if new.size < old.size {
        return Err(plain(format!(
            "the record went back from {} to {} lines (a stale or truncated checkpoint)",
            old.size, new.size
        )));
    }
    if new.size == old.size {
        if new.head != old.head {
            return Err(Inconsistency {
                detail: format!("two different heads at {} lines", new.size),
                proof: proof(Contradiction::Checkpoint(new.clone())),
            });
        }
        return Ok(());
    }
    let mut head = old.head.clone();
    let mut count = 0u64;
    for (i, line) in lines.split_terminator('\n').enumerate() {
        let seq = old.size + i as u64;
        let object =
            check_signed_line(line, dialogue_key).map_err(|e| plain(format!("line {seq} of the extension: {e}")))?;
        if object["seq"].as_u64() != Some(seq) || object["dialogue"].as_str() != Some(old.dialogue.as_str()) {
            return Err(plain(format!("line {seq} of the extension has another sequence number or dialogue")));
        }
        if object["prev"].as_str() != Some(head.as_str()) {
            let detail = format!("line {seq} does not follow the line before it (prev is not {head})");
            // Line `old.size` signed with another prev contradicts the old checkpoint.
            let proof = (i == 0).then(|| proof(Contradiction::Line(line.to_string()))).flatten();
            return Err(Inconsistency { detail, proof });
        }
        head = hex::encode(line_hash(line));
        count += 1;
    }
    if !lines.is_empty() && !lines.ends_with('\n') {
        return Err(plain("the extension's last line is not terminated by a newline".into()));
    }
    if count != new.size - old.size {
        return Err(plain(format!("{count} lines served, {} expected", new.size - old.size)));
    }
    if head != new.head {
        let last = lines.split_terminator('\n').next_back().unwrap_or_default().to_string();
        return Err(Inconsistency {
            detail: format!("the lines end at {head}, the new checkpoint says {}", new.head),
            proof: Some(Box::new(ForkProof {
                dialogue_key: key_hex.clone(),
                checkpoint: new.clone(),
                other: Contradiction::Line(last),
            })),
        });
    }
    Ok(())
}

/// Parses one line and checks its shape, canonical form and signature by the dialogue
/// key (R2, R3, R7 of one line); returns its members.
pub fn check_signed_line(line: &str, dialogue_key: &VerifyingKey) -> Result<Map<String, Value>, String> {
    let value: Value = serde_json::from_str(line).map_err(|e| format!("not JSON: {e}"))?;
    let mut object = match value {
        Value::Object(o) if o.len() == LINE_FIELDS.len() && LINE_FIELDS.iter().all(|f| o.contains_key(*f)) => o,
        _ => return Err("not a record line".into()),
    };
    if object["v"].as_u64() != Some(FORMAT_VERSION) {
        return Err("not a version 1 line".into());
    }
    if to_canonical_string(&Value::Object(object.clone())).ok().as_deref() != Some(line) {
        return Err("not in canonical form".into());
    }
    let sig: [u8; 64] = object["sig"].as_str().and_then(decode_hex).ok_or("sig is not 64 bytes of hex")?;
    let sig_value = object.remove("sig").expect("checked");
    let message = signed_message_of(&object).map_err(|e| e.to_string())?;
    dialogue_key
        .verify_strict(&message, &Signature::from_bytes(&sig))
        .map_err(|_| "not signed by the dialogue key".to_string())?;
    object.insert("sig".into(), sig_value);
    Ok(object)
}

/// A registered witness, as the record says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Witness {
    pub id: String,
    pub name: String,
    /// Hex Ed25519 public key.
    pub key: String,
    /// The largest size it co-signed in the record, and when.
    pub cosigned: Option<(u64, String)>,
}

/// The witness checks W1 and W2 over the record's own `witness.*` events.
#[derive(Debug, Default)]
pub struct Witnesses {
    /// A 64-bit keyed fingerprint of every line's hash so far, for W2 (8 bytes a line,
    /// see [`crate::fingerprint`]).
    heads: Vec<u64>,
    fingerprints: Fingerprints,
    pub by_id: BTreeMap<String, Witness>,
    keys: BTreeSet<String>,
}

impl Witnesses {
    pub fn handles(kind: &str) -> bool {
        matches!(kind, "witness.added" | "witness.cosigned")
    }

    /// Called after every line, with its hash.
    pub fn line_sealed(&mut self, hash: [u8; 32]) {
        self.heads.push(self.fingerprints.fp64(&hash));
    }

    /// Whether line `seq` is in the record and hashes to `head` (hex).
    pub fn line_hashes_to(&self, seq: u64, head: &str) -> bool {
        let Some(seen) = usize::try_from(seq).ok().and_then(|i| self.heads.get(i)) else { return false };
        decode_hex::<32>(head).is_some_and(|head| self.fingerprints.fp64(&head) == *seen)
    }

    /// Number of lines seen.
    pub fn lines(&self) -> u64 {
        self.heads.len() as u64
    }

    /// Checks a `witness.*` event at `seq` against the record so far and applies it.
    pub fn apply(
        &mut self,
        dialogue: &str,
        seq: u64,
        kind: &str,
        body: &Value,
        state: &State,
    ) -> Result<(), (&'static str, String)> {
        let w1 = |e: String| ("W1", format!("{kind}: {e}"));
        match kind {
            "witness.added" => {
                let b = fields(body, &["witness", "name", "key", "by"]).map_err(w1)?;
                let witness = id(b, "witness").map_err(w1)?;
                let name = text(b, "name", 1, MAX_WITNESS_NAME).map_err(w1)?;
                let key = hex_field(b, "key", 32).map_err(w1)?;
                let by = id(b, "by").map_err(w1)?;
                if !state.is_convener(&by) {
                    return Err(w1(format!("{by} is not a convener of this dialogue")));
                }
                let bytes: [u8; 32] = decode_hex(&key).expect("checked as hex");
                hiwar_crypto::signing::public_key("witness key", &bytes).map_err(|e| w1(e.to_string()))?;
                if self.by_id.contains_key(&witness) {
                    return Err(w1(format!("witness {witness} was already added")));
                }
                if !self.keys.insert(key.clone()) {
                    return Err(w1(format!("the key {} is already a witness's", short(&key))));
                }
                self.by_id.insert(witness.clone(), Witness { id: witness, name, key, cosigned: None });
            }
            "witness.cosigned" => {
                let b = fields(body, &["witness", "cosignature"]).map_err(w1)?;
                let witness = id(b, "witness").map_err(w1)?;
                let cosignature = Cosignature::from_value(&b["cosignature"]).map_err(w1)?;
                let dialogue_key = state
                    .public_key
                    .as_deref()
                    .and_then(dialogue_key)
                    .ok_or_else(|| w1("the dialogue key is unknown".into()))?;
                let entry = self.by_id.get(&witness).ok_or_else(|| w1(format!("witness {witness} was never added")))?;
                if cosignature.witness != entry.key {
                    return Err(w1(format!("the co-signature is by another key than witness {witness}'s")));
                }
                cosignature.verify().map_err(w1)?;
                let checkpoint = &cosignature.checkpoint;
                if checkpoint.dialogue != dialogue {
                    return Err(w1(format!("the checkpoint is of dialogue {}", checkpoint.dialogue)));
                }
                checkpoint.verify(&dialogue_key).map_err(w1)?;
                if checkpoint.size > seq {
                    return Err(w1(format!("co-signs {} lines from line {seq}", checkpoint.size)));
                }
                if let Some((size, _)) = &entry.cosigned {
                    if checkpoint.size < *size {
                        return Err(w1(format!(
                            "witness {witness} went back from {size} to {} lines",
                            checkpoint.size
                        )));
                    }
                }
                if !self.line_hashes_to(checkpoint.size - 1, &checkpoint.head) {
                    return Err((
                        "W2",
                        format!(
                            "witness {witness} co-signed head {} at {} lines, but line {} hashes otherwise",
                            checkpoint.head,
                            checkpoint.size,
                            checkpoint.size - 1
                        ),
                    ));
                }
                let entry = self.by_id.get_mut(&witness).expect("found above");
                entry.cosigned = Some((checkpoint.size, cosignature.time.clone()));
            }
            other => return Err(w1(format!("unknown witness event {other}"))),
        }
        Ok(())
    }
}

/// The time of a checkpoint or co-signature: `YYYY-MM-DDTHH:MM:SSZ`, a valid UTC time.
fn record_time(b: &Map<String, Value>, name: &str) -> Result<String, String> {
    let s = text(b, name, 20, 20)?;
    parse_time(&s).ok_or_else(|| format!("{name} {s:?} is not YYYY-MM-DDTHH:MM:SSZ"))?;
    Ok(s)
}

/// A dialogue key from its 64 lowercase hex digits (as `dialogue.created` holds it).
pub fn dialogue_key(hex_key: &str) -> Option<VerifyingKey> {
    decode_hex(hex_key).and_then(|b: [u8; 32]| VerifyingKey::from_bytes(&b).ok())
}

fn decode_hex<const N: usize>(s: &str) -> Option<[u8; N]> {
    if s.bytes().any(|c| c.is_ascii_uppercase()) {
        return None;
    }
    hex::decode(s).ok()?.try_into().ok()
}

fn short(key: &str) -> &str {
    &key[..key.len().min(16)]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::{bilingual, body};
    use crate::line::{Event, GENESIS_PREV};
    use hiwar_crypto::signing::Signer25519;

    /// A record of `n` lines signed by `key`, as a list of line texts.
    pub(crate) fn record(key: &SigningKey, n: u64, tweak: Option<u64>) -> Vec<String> {
        let public = hex::encode(key.verifying_key().as_bytes());
        let mut prev = GENESIS_PREV.to_string();
        let mut lines = Vec::new();
        for seq in 0..n {
            let (kind, body) = if seq == 0 {
                ("dialogue.created", body::dialogue_created(&bilingual("ع", "t"), &bilingual("و", "d"), &public))
            } else {
                let phase = if tweak == Some(seq) { "other" } else { "phase" };
                (
                    "phase.added",
                    body::phase_added(seq - 1, "deliberation", &bilingual(phase, "p"), "2026-01-01", "2026-01-02"),
                )
            };
            let event = Event {
                dialogue: "d-test".into(),
                seq,
                prev: prev.clone(),
                time: "2026-12-02T10:00:00Z".into(),
                kind: kind.into(),
                body,
            };
            let sealed = event.seal(key).unwrap();
            prev = hex::encode(sealed.hash);
            lines.push(sealed.text);
        }
        lines
    }

    fn checkpoint_of(key: &SigningKey, lines: &[String]) -> Checkpoint {
        let head = hex::encode(line_hash(lines.last().unwrap()));
        Checkpoint::sign("d-test", lines.len() as u64, &head, "2026-12-02T10:01:00Z", key)
    }

    fn joined(lines: &[String]) -> String {
        lines.iter().map(|l| format!("{l}\n")).collect()
    }

    #[test]
    fn a_checkpoint_and_a_cosignature_verify_and_any_change_breaks_them() {
        let key = SigningKey::from_bytes(&[7; 32]);
        let lines = record(&key, 3, None);
        let checkpoint = checkpoint_of(&key, &lines);
        checkpoint.verify(&key.verifying_key()).unwrap();
        assert_eq!(Checkpoint::from_value(&checkpoint.to_value()).unwrap(), checkpoint);
        let other = SigningKey::from_bytes(&[8; 32]);
        assert!(checkpoint.verify(&other.verifying_key()).is_err(), "another key");
        let mut moved = checkpoint.clone();
        moved.size = 2;
        assert!(moved.verify(&key.verifying_key()).is_err(), "a changed size");

        let witness = Signer25519::from_seed(&[9; 32]);
        let cosignature = Cosignature::sign(&checkpoint, "2026-12-02T10:02:00Z", &witness);
        cosignature.verify().unwrap();
        assert_eq!(Cosignature::from_value(&cosignature.to_value()).unwrap(), cosignature);
        let mut later = cosignature.clone();
        later.time = "2026-12-03T10:02:00Z".into();
        assert!(later.verify().is_err(), "a replayed co-signature with a fresher time");
        let mut forged = cosignature.clone();
        forged.witness = hex::encode(Signer25519::from_seed(&[10; 32]).public());
        assert!(forged.verify().is_err(), "another witness's key");
        let mut upper = cosignature.to_value();
        upper["sig"] = json!(cosignature.sig.to_uppercase());
        assert!(Cosignature::from_value(&upper).is_err(), "non-canonical hex");
    }

    #[test]
    fn an_extension_is_accepted_and_every_inconsistency_is_named_with_proof_where_signed() {
        let key = SigningKey::from_bytes(&[7; 32]);
        let vk = key.verifying_key();
        let lines = record(&key, 6, None);
        let old = checkpoint_of(&key, &lines[..3]);
        let new = checkpoint_of(&key, &lines);
        check_extension(&vk, &old, &new, &joined(&lines[3..])).unwrap();
        check_extension(&vk, &old, &old, "").unwrap();

        // A rewritten line 1, re-signed: the new lines do not follow the old head.
        let forked = record(&key, 6, Some(1));
        let forked_head = checkpoint_of(&key, &forked);
        let err = check_extension(&vk, &old, &forked_head, &joined(&forked[3..])).unwrap_err();
        let proof = err.proof.expect("both sides are signed");
        assert!(ForkProof::check(&proof.to_value()).unwrap().contains("following"));

        // Two heads at one size.
        let other3 = checkpoint_of(&key, &forked[..3]);
        let err = check_extension(&vk, &old, &other3, "").unwrap_err();
        assert!(ForkProof::check(&err.proof.unwrap().to_value()).unwrap().contains("two different heads"));

        // Going back (a stale checkpoint replayed), too few lines, a forged line.
        assert!(check_extension(&vk, &new, &old, "").unwrap_err().detail.contains("went back"));
        assert!(check_extension(&vk, &old, &new, &joined(&lines[3..5])).unwrap_err().detail.contains("2 lines served"));
        let at = lines[3].find("\"sig\":\"").unwrap() + 7;
        let flipped = if &lines[3][at..at + 1] == "0" { "1" } else { "0" };
        let bad = format!("{}{flipped}{}", &lines[3][..at], &lines[3][at + 1..]);
        let with_bad = format!("{bad}\n{}", joined(&lines[4..]));
        assert!(check_extension(&vk, &old, &new, &with_bad).is_err());
        // A checkpoint whose head is not where the served lines end: proof with the last line.
        let mut lying = Checkpoint::sign("d-test", 6, &old.head, "2026-12-02T10:01:00Z", &key);
        lying.head = hex::encode([1u8; 32]);
        let lying = Checkpoint::sign("d-test", 6, &lying.head, &lying.time, &key);
        let err = check_extension(&vk, &old, &lying, &joined(&lines[3..])).unwrap_err();
        assert!(ForkProof::check(&err.proof.unwrap().to_value()).unwrap().contains("hashing to"));
        // A checkpoint not signed by the dialogue key.
        let stranger = checkpoint_of(&SigningKey::from_bytes(&[3; 32]), &lines);
        assert!(check_extension(&vk, &old, &stranger, &joined(&lines[3..])).is_err());
    }

    #[test]
    fn hostile_checkpoints_and_times_are_refused_not_panicked_on() {
        let key = SigningKey::from_bytes(&[7; 32]);
        let mut value = checkpoint_of(&key, &record(&key, 2, None)).to_value();
        value["size"] = json!(1u64 << 53);
        assert!(Checkpoint::from_value(&value).unwrap_err().contains("2^53"));
        value["size"] = json!(u64::MAX);
        assert!(Checkpoint::from_value(&value).is_err());
        value["size"] = json!(0);
        assert!(Checkpoint::from_value(&value).is_err());
        for bad in ["2026-01-01 00:00:00Z", "2026-01-01t00:00:00Z", "2026-12-31T23:59:60Z", "2026-02-30T00:00:00Z"] {
            assert!(parse_time(bad).is_none(), "{bad}");
        }
        assert!(parse_time("2026-12-31T23:59:59Z").is_some());
    }

    #[test]
    fn a_fork_proof_that_proves_nothing_is_refused() {
        let key = SigningKey::from_bytes(&[7; 32]);
        let lines = record(&key, 3, None);
        let checkpoint = checkpoint_of(&key, &lines);
        let honest = ForkProof {
            dialogue_key: hex::encode(key.verifying_key().as_bytes()),
            checkpoint: checkpoint.clone(),
            other: Contradiction::Line(lines[2].clone()),
        };
        assert!(ForkProof::check(&honest.to_value()).unwrap_err().contains("agrees"));
        let same = ForkProof { other: Contradiction::Checkpoint(checkpoint.clone()), ..honest.clone() };
        assert!(ForkProof::check(&same.to_value()).is_err());
        let unsigned = ForkProof {
            other: Contradiction::Line(record(&SigningKey::from_bytes(&[1; 32]), 3, Some(2))[2].clone()),
            ..honest
        };
        assert!(ForkProof::check(&unsigned.to_value()).unwrap_err().contains("not signed"));
    }
}
