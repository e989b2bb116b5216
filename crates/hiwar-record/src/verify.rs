//! Verification of a whole record, check by check, as numbered in
//! `docs/record-spec.md` §5. Verification stops at the first failure and names it.

use ed25519_dalek::{Signature, VerifyingKey};
use serde_json::Value;

use crate::canonical::to_canonical_string;
use crate::checks::BodyChecks;
use crate::line::parse_time;
use crate::line::{line_hash, signed_message_of, FORMAT_VERSION, GENESIS_PREV, LINE_FIELDS, SIGNATURE_DOMAIN};
use crate::selection::Selection;
use crate::witness::{Checkpoint, Contradiction, Cosignature, ForkProof, Witness};

/// Largest accepted line, in bytes.
pub const MAX_LINE_BYTES: usize = 1 << 20;

/// The checks, in the order the spec numbers them.
pub const CHECKS: [(&str, &str); 28] = [
    ("R1", "the record is newline-terminated UTF-8 lines of at most 1 MiB"),
    ("R2", "each line is a JSON object with exactly the line fields, of the right types"),
    ("R3", "each line is in canonical form"),
    ("R4", "sequence numbers run 0, 1, 2, … and every line names the same dialogue"),
    ("R5", "each line's prev is the SHA-256 of the line before (zeros for the first)"),
    ("R6", "the first line is dialogue.created with the dialogue's Ed25519 key"),
    ("R7", "every line is signed by the dialogue key"),
    ("R8", "times are UTC YYYY-MM-DDTHH:MM:SSZ and never go backwards"),
    ("R9", "every event body has its kind's shape and agrees with the events before it"),
    ("R10", "an earlier copy of the record is a prefix of this one"),
    ("E1", "every election's parameters are well formed (its hash binds them)"),
    ("E2", "every trustee event is signed by its trustee; all committed before any revealed; reveals match and prove possession; shares dealt after every reveal"),
    ("E3", "no complaint stopped the key ceremony; every trustee dealt; the election key and verification keys follow from all trustees"),
    ("E4", "the credential list is signed by the credential authority and matches the electorate's size and weight"),
    ("E5", "every ballot comes from a listed credential, is signed by it at cast with a growing counter, under a tracking code seen once"),
    ("E6", "every ballot's tracking code and validity proofs verify (0/1 per option, selections within min..max)"),
    ("E7", "every challenged ballot opens to its published plaintext, names no voter, and is never cast"),
    ("E8", "the tally is the weighted sum of the last ballot of each credential"),
    ("E9", "every partial decryption is signed by its trustee and carries a valid proof"),
    ("E10", "the result is the combination of at least t verified partial decryptions"),
    ("S1", "every selection's manifest hash was published before its draw; each is drawn and seated once, by delegate invitations for exactly the drawn panel"),
    ("S2", "every draw's seed is SHA-256(manifest hash ‖ beacon) and its index follows by rejection sampling"),
    ("S3", "every manifest hashes to its published hash, its panels meet the quotas, and the drawn panel is the one at the drawn index"),
    ("T1", "every statement's published text matches the digest in the record, unless a recorded redaction removed it"),
    ("W1", "every witness is added by a convener with a valid key; every co-signature is by its witness, of a checkpoint the dialogue key signed"),
    ("W2", "every checkpoint the dialogue key signed names the head the record has at its size (else a fork proof is printed)"),
    ("W3", "no checkpoint the dialogue key signed is longer than the record (it was not cut short)"),
    ("W4", "enough of the named witnesses recently co-signed a head of this record"),
];

/// What the verifier is told besides the record.
#[derive(Debug, Default, Clone)]
pub struct Options {
    /// The dialogue key as published elsewhere (hex); without it the key in line 0 is trusted.
    pub pinned_key: Option<String>,
    /// An earlier copy of the same record, which must be a prefix of this one.
    pub previous: Option<String>,
    /// Checkpoints signed by the dialogue key, held from elsewhere: the one served beside
    /// the record, a ballot's receipt, a witness's evidence (W1–W3).
    pub checkpoints: Vec<Checkpoint>,
    /// Co-signatures served beside the record or gathered from witnesses (W1–W4).
    pub cosignatures: Vec<Cosignature>,
    /// The witnesses whose co-signatures count, and how many must have co-signed (W4).
    pub witnesses: Option<WitnessPolicy>,
}

/// Check W4's parameters: `quorum` of the witnesses `keys` must have co-signed, within
/// `max_age_secs` of `now`, a head consistent with the record. Only recent co-signatures
/// count: witnesses re-co-sign the head every round, so an old one is what an operator
/// serving a rolled-back prefix would have to show. Lines after the quorum's head are
/// reported as not yet witnessed.
#[derive(Debug, Clone)]
pub struct WitnessPolicy {
    /// Hex Ed25519 public keys.
    pub keys: Vec<String>,
    pub quorum: usize,
    /// The verifier's clock, `YYYY-MM-DDTHH:MM:SSZ`.
    pub now: String,
    pub max_age_secs: u64,
}

/// What W4 established.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Witnessed {
    /// The record's lines that the quorum co-signed (a prefix).
    pub size: u64,
    /// The record's lines other than trailing co-signatures.
    pub content_lines: u64,
    /// The named witnesses counted, with the largest size each co-signed.
    pub by: Vec<(String, u64)>,
    /// Seconds since the oldest of the quorum's latest co-signatures.
    pub age_secs: u64,
}

/// The first failed check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub check: &'static str,
    /// Line number counted from 0, where the failure is on one line.
    pub line: Option<usize>,
    pub detail: String,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let title = CHECKS.iter().find(|(id, _)| *id == self.check).map(|(_, t)| *t).unwrap_or("");
        match self.line {
            Some(line) => write!(f, "{} failed at line {line}: {} ({title})", self.check, self.detail),
            None => write!(f, "{} failed: {} ({title})", self.check, self.detail),
        }
    }
}

/// Facts established by a successful verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub dialogue: String,
    pub public_key: String,
    pub lines: usize,
    pub members: usize,
    /// Hex hash of the last line: publish it to let others detect a rewritten history.
    pub head: String,
    /// Whether `Options::previous` was given and checked.
    pub previous_checked: bool,
    /// Ballots whose proofs were verified.
    pub ballots: u64,
    /// The selections, for the manifest checks (S3) that need more than the record.
    pub selections: Vec<Selection>,
    /// Each statement's id, digest and whether it was redacted, for check T1 against the
    /// texts served beside the record.
    pub statements: Vec<(String, String, bool)>,
    /// The dialogue's witnesses as the record lists them.
    pub witnesses: Vec<Witness>,
    /// Checkpoints and co-signatures held beside the record that were checked (W1–W3).
    pub checkpoints_checked: usize,
    /// W4's outcome, when a witness policy was given.
    pub witnessed: Option<Witnessed>,
}

/// Verifies `record` (the exact bytes served at `/dialogues/{id}/record`).
pub fn verify(record: &str, options: &Options) -> Result<Summary, Failure> {
    verify_observed(record, options, |_| {})
}

/// [`verify`], calling `on_ballots` with the number of ballots whose proofs have been
/// checked so far (for a progress bar).
pub fn verify_observed(
    record: &str,
    options: &Options,
    on_ballots: impl FnMut(u64) + Send + 'static,
) -> Result<Summary, Failure> {
    let mut on_ballots = Some(on_ballots);
    let fail = |check: &'static str, line: Option<usize>, detail: String| Failure { check, line, detail };

    // R1: framing.
    if record.is_empty() {
        return Err(fail("R1", None, "the record is empty".into()));
    }
    if !record.ends_with('\n') {
        return Err(fail("R1", None, "the last line is not terminated by a newline".into()));
    }
    let lines: Vec<&str> = record[..record.len() - 1].split('\n').collect();
    for (i, line) in lines.iter().enumerate() {
        if line.is_empty() {
            return Err(fail("R1", Some(i), "empty line".into()));
        }
        if line.len() > MAX_LINE_BYTES {
            return Err(fail("R1", Some(i), format!("{} bytes", line.len())));
        }
    }

    let mut checks: Option<BodyChecks> = None;
    let mut key: Option<VerifyingKey> = None;
    let mut dialogue = String::new();
    let mut prev_hash = GENESIS_PREV.to_string();
    let mut prev_time = String::new();
    // Lines up to the last one that is not a co-signature (W4).
    let mut content_lines = 0u64;
    // A W2 failure inside the record comes with the fork proof the record itself holds.
    let with_proof = |failure: Failure, key: Option<&VerifyingKey>| match (failure.check, failure.line, key) {
        ("W2", Some(at), Some(key)) => in_record_fork_proof(&lines, at, key)
            .map(|proof| Failure { detail: format!("{}; fork proof: {proof}", failure.detail), ..failure.clone() })
            .unwrap_or(failure),
        _ => failure,
    };

    for (i, text) in lines.iter().enumerate() {
        let at = Some(i);
        // R2: shape.
        let mut value: Value = serde_json::from_str(text).map_err(|e| fail("R2", at, format!("not JSON: {e}")))?;
        let object = value.as_object().ok_or_else(|| fail("R2", at, "not a JSON object".into()))?;
        for field in LINE_FIELDS {
            if !object.contains_key(field) {
                return Err(fail("R2", at, format!("missing field {field:?}")));
            }
        }
        if object.len() != LINE_FIELDS.len() {
            return Err(fail("R2", at, "unexpected extra fields".into()));
        }
        let str_field =
            |name: &str| object[name].as_str().ok_or_else(|| fail("R2", at, format!("{name} is not a string")));
        let (dialogue_id, prev, time, kind, sig) = (
            str_field("dialogue")?.to_string(),
            str_field("prev")?.to_string(),
            str_field("time")?.to_string(),
            str_field("kind")?.to_string(),
            str_field("sig")?.to_string(),
        );
        let seq = object["seq"].as_u64().ok_or_else(|| fail("R2", at, "seq is not a non-negative integer".into()))?;
        if object["v"].as_u64() != Some(FORMAT_VERSION) {
            return Err(fail("R2", at, format!("v is not {FORMAT_VERSION}")));
        }

        // R3: canonical form.
        let canonical = to_canonical_string(&value).map_err(|e| fail("R3", at, e.to_string()))?;
        if canonical != *text {
            return Err(fail("R3", at, "the line differs from its canonical encoding".into()));
        }

        // R4: sequence and dialogue.
        if seq != i as u64 {
            return Err(fail("R4", at, format!("seq is {seq}, expected {i}")));
        }
        if i == 0 {
            dialogue = dialogue_id;
            let mut c = BodyChecks::new(&dialogue);
            if let Some(f) = on_ballots.take() {
                c.on_ballots(f);
            }
            checks = Some(c);
        } else if dialogue_id != dialogue {
            return Err(fail("R4", at, format!("dialogue {dialogue_id:?}, expected {dialogue:?}")));
        }

        // R5: chain.
        if prev != prev_hash {
            return Err(fail("R5", at, format!("prev is {prev}, expected {prev_hash}")));
        }

        // R9 (body) runs before R6/R7 need the key, since line 0's body carries the key.
        // Election (E1–E10) and selection (S1, S2) events are checked after the signature, below.
        let checks = checks.as_mut().expect("set at line 0");
        let protocol_event = BodyChecks::is_protocol_event(seq, &kind);
        let body = value.as_object_mut().and_then(|o| o.remove("body")).unwrap_or_default();
        let mut body = Some(body);
        if !protocol_event {
            checks
                .apply(seq, &kind, body.take().expect("present"))
                .map_err(|(c, l, d)| with_proof(fail(c, Some(l), d), key.as_ref()))?;
        }
        let object = value.as_object().expect("checked above");

        // R6: the dialogue key.
        if i == 0 {
            let key_hex = checks.state.public_key.clone().expect("dialogue.created sets the key");
            if let Some(pinned) = &options.pinned_key {
                if !pinned.eq_ignore_ascii_case(&key_hex) {
                    return Err(fail("R6", at, format!("key {key_hex} is not the pinned key {pinned}")));
                }
            }
            let bytes: [u8; 32] = hex::decode(&key_hex)
                .ok()
                .and_then(|b| b.try_into().ok())
                .ok_or_else(|| fail("R6", at, "public_key is not 32 bytes of hex".into()))?;
            let parsed = VerifyingKey::from_bytes(&bytes)
                .map_err(|_| fail("R6", at, "public_key is not a valid Ed25519 point".into()))?;
            if parsed.is_weak() {
                return Err(fail("R6", at, "public_key is a weak (small-order) key".into()));
            }
            key = Some(parsed);
        }

        // R7: signature.
        let message = match unsigned_text(text, &sig, &time) {
            Some((head, tail)) => [SIGNATURE_DOMAIN, head.as_bytes(), tail.as_bytes()].concat(),
            None => {
                let mut unsigned = object.clone();
                unsigned.remove("sig");
                signed_message_of(&unsigned).map_err(|e| fail("R3", at, e.to_string()))?
            }
        };
        let sig_bytes: [u8; 64] = hex::decode(&sig)
            .ok()
            .filter(|_| sig.bytes().all(|c| !c.is_ascii_uppercase()))
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| fail("R7", at, "sig is not 64 bytes of lowercase hex".into()))?;
        let signature = Signature::from_bytes(&sig_bytes);
        key.as_ref()
            .expect("set at line 0")
            .verify_strict(&message, &signature)
            .map_err(|_| fail("R7", at, "signature does not verify under the dialogue key".into()))?;

        // R8: time.
        if crate::line::parse_time(&time).is_none() {
            return Err(fail("R8", at, format!("time {time:?} is not YYYY-MM-DDTHH:MM:SSZ")));
        }
        if time < prev_time {
            return Err(fail("R8", at, format!("time {time} is before {prev_time}")));
        }
        prev_time = time;
        let hash = line_hash(text);
        prev_hash = hex::encode(hash);

        if let Some(body) = body {
            checks.apply(seq, &kind, body).map_err(|(c, l, d)| fail(c, Some(l), d))?;
        }
        checks.line_sealed(hash);
        if kind != "witness.cosigned" {
            content_lines = seq + 1;
        }
    }

    let checks = checks.expect("a record has a line");
    let witnesses = checks.witnesses.by_id.values().cloned().collect::<Vec<_>>();
    let (state, selections, ballots) = checks.finish().map_err(|(c, l, d)| fail(c, Some(l), d))?;

    // R10: an earlier copy is a prefix.
    let previous_checked = match &options.previous {
        Some(previous) => {
            if !record.starts_with(previous.as_str()) {
                let at = previous.split('\n').zip(record.split('\n')).position(|(a, b)| a != b);
                return Err(fail(
                    "R10",
                    at,
                    "the earlier copy is not a prefix of this record: history was rewritten".into(),
                ));
            }
            true
        }
        None => false,
    };

    let key = key.expect("a record has a first line");
    let checkpoints_checked = check_held_checkpoints(&lines, &dialogue, &key, options)?;
    let witnessed = match &options.witnesses {
        Some(policy) => Some(check_quorum(policy, &witnesses, &options.cosignatures, content_lines)?),
        None => None,
    };

    Ok(Summary {
        dialogue,
        public_key: state.public_key.clone().unwrap_or_default(),
        lines: lines.len(),
        members: state.members.len(),
        head: prev_hash,
        previous_checked,
        ballots,
        selections: selections.by_id.into_values().collect(),
        statements: state.statement_digests().map(|(id, d, r)| (id.to_string(), d.to_string(), r)).collect(),
        witnesses,
        checkpoints_checked,
        witnessed,
    })
}

/// The fork proof in a record whose line `at` is a co-signature of a head that its line
/// `size − 1` contradicts.
fn in_record_fork_proof(lines: &[&str], at: usize, key: &VerifyingKey) -> Option<String> {
    let line: Value = serde_json::from_str(lines.get(at)?).ok()?;
    let checkpoint = Checkpoint::from_value(&line["body"]["cosignature"]["checkpoint"]).ok()?;
    let named = lines.get(usize::try_from(checkpoint.size).ok()?.checked_sub(1)?)?;
    let proof = ForkProof {
        dialogue_key: hex::encode(key.as_bytes()),
        checkpoint,
        other: Contradiction::Line(named.to_string()),
    };
    to_canonical_string(&proof.to_value()).ok()
}

/// W1–W3 for the checkpoints and co-signatures held beside the record: each co-signature
/// verifies under its witness's key, each checkpoint is of this dialogue and signed by its
/// key, none is longer than the record (W3), and each names the head the record has at
/// its size (W2, with the fork proof). Returns how many were checked.
fn check_held_checkpoints(
    lines: &[&str],
    dialogue: &str,
    key: &VerifyingKey,
    options: &Options,
) -> Result<usize, Failure> {
    let fail = |check: &'static str, detail: String| Failure { check, line: None, detail };
    for cosignature in &options.cosignatures {
        cosignature.verify().map_err(|e| fail("W1", e))?;
    }
    let held: Vec<&Checkpoint> =
        options.checkpoints.iter().chain(options.cosignatures.iter().map(|c| &c.checkpoint)).collect();
    for checkpoint in &held {
        if checkpoint.dialogue != dialogue {
            return Err(fail("W1", format!("a checkpoint of dialogue {} was given", checkpoint.dialogue)));
        }
        checkpoint.verify(key).map_err(|e| fail("W1", e))?;
    }
    // Two histories first: a fork proof says more than a record that is merely short.
    for checkpoint in held.iter().filter(|c| c.size as usize <= lines.len()) {
        let size = checkpoint.size as usize;
        let line = lines[size - 1];
        if hex::encode(line_hash(line)) != checkpoint.head {
            let proof = ForkProof {
                dialogue_key: hex::encode(key.as_bytes()),
                checkpoint: (*checkpoint).clone(),
                other: Contradiction::Line(line.to_string()),
            };
            let proof = to_canonical_string(&proof.to_value()).unwrap_or_default();
            return Err(Failure {
                check: "W2",
                line: Some(size - 1),
                detail: format!(
                    "the dialogue key signed head {} for {size} lines at {}, but line {} of this record hashes otherwise: two histories; fork proof: {proof}",
                    checkpoint.head,
                    checkpoint.time,
                    size - 1
                ),
            });
        }
    }
    if let Some(longest) = held.iter().max_by_key(|c| c.size).filter(|c| c.size as usize > lines.len()) {
        return Err(fail(
            "W3",
            format!(
                "the dialogue key signed a head of {} lines at {}, but this record has {}: it was cut short",
                longest.size,
                longest.time,
                lines.len()
            ),
        ));
    }
    let checked = held.len();
    Ok(checked)
}

/// W4: `policy.quorum` of the named witnesses co-signed (in the record or beside it),
/// within `policy.max_age_secs`, a head of this record.
/// Every co-signature counted was already checked for consistency (W2).
fn check_quorum(
    policy: &WitnessPolicy,
    recorded: &[Witness],
    served: &[Cosignature],
    content_lines: u64,
) -> Result<Witnessed, Failure> {
    let fail = |detail: String| Failure { check: "W4", line: None, detail };
    let now =
        parse_time(&policy.now).ok_or_else(|| fail(format!("the verifier's clock {:?} is not a time", policy.now)))?;
    let named: std::collections::BTreeSet<&str> = policy.keys.iter().map(String::as_str).collect();
    // Per named witness: the largest size it co-signed, and its latest co-signing time.
    let mut best: std::collections::BTreeMap<&str, (u64, time::OffsetDateTime)> = Default::default();
    let recorded = recorded.iter().filter_map(|w| w.cosigned.as_ref().map(|(size, t)| (w.key.as_str(), *size, t)));
    let served = served.iter().map(|c| (c.witness.as_str(), c.checkpoint.size, &c.time));
    for (witness, size, at) in recorded.chain(served) {
        let Some(at) = parse_time(at) else { continue };
        if !named.contains(witness) {
            continue;
        }
        let entry = best.entry(witness).or_insert((size, at));
        entry.0 = entry.0.max(size);
        entry.1 = entry.1.max(at);
    }
    let max_age = time::Duration::seconds(policy.max_age_secs.min(i64::MAX as u64) as i64);
    let mut counted: Vec<(String, u64, time::Duration)> = best
        .iter()
        .map(|(key, (size, at))| (key.to_string(), *size, (now - *at).abs()))
        .filter(|(_, _, age)| *age <= max_age)
        .collect();
    counted.sort_by_key(|c| std::cmp::Reverse(c.1));
    let quorum = policy.quorum.max(1);
    if counted.len() < quorum {
        return Err(fail(format!(
            "{} of the {} named witnesses co-signed this record within the last {} s, {} needed",
            counted.len(),
            named.len(),
            policy.max_age_secs,
            policy.quorum
        )));
    }
    let size = counted[quorum - 1].1.min(content_lines);
    let age_secs = counted[..quorum].iter().map(|c| c.2.whole_seconds().max(0) as u64).max().unwrap_or(0);
    let counted = counted.into_iter().map(|(key, size, _)| (key, size)).collect();
    Ok(Witnessed { size, content_lines, by: counted, age_secs })
}

/// The canonical text of a line without its signature, cut from the line itself: in a
/// canonical line the last members are always `,"sig":"<128 hex>","time":"<20>","v":1}`,
/// so removing `,"sig":"…"` leaves exactly the canonical unsigned object. Returns the
/// text before and after the signature member, or `None` if the line does not end that
/// way (then the caller re-encodes the object instead).
fn unsigned_text<'a>(text: &'a str, sig: &str, time: &str) -> Option<(&'a str, &'a str)> {
    let tail = format!(",\"time\":\"{time}\",\"v\":1}}");
    let member = format!(",\"sig\":\"{sig}\"");
    let before_tail = text.strip_suffix(tail.as_str())?;
    let head = before_tail.strip_suffix(member.as_str())?;
    Some((head, &text[text.len() - tail.len()..]))
}
