//! Verification of a whole record, check by check, as numbered in
//! `docs/record-spec.md` §5. Verification stops at the first failure and names it.

use std::collections::BTreeMap;
use std::io::BufRead as _;

use ed25519_dalek::{Signature, VerifyingKey};
use serde_json::Value;
use sha2::Digest as _;

use crate::canonical::to_canonical_string;
use crate::checks::BodyChecks;
use crate::line::parse_time;
use crate::line::{line_hash, signed_message_of, FORMAT_VERSION, GENESIS_PREV, LINE_FIELDS, SIGNATURE_DOMAIN};
use crate::selection::Selection;
use crate::witness::{Checkpoint, Contradiction, Cosignature, ForkProof, Witness};

/// Largest accepted line, in bytes.
pub const MAX_LINE_BYTES: usize = 1 << 20;

/// The checks, in the order the spec numbers them.
pub const CHECKS: [(&str, &str); 31] = [
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
    ("D1", "every signatory registered its own key (by an organisation invitation or as a member); every key change or revocation is signed by the current key or made by a convener"),
    ("D2", "every declaration version's hash is the hash of its text; signing opens on a drafted version, by a convener, until a later time"),
    ("D3", "every signature and withdrawal is by the signatory's current key over the version's hash, while signing is open, once per signatory"),
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

/// Hears how many ballots have been checked.
pub type BallotProgress = Box<dyn FnMut(u64) + Send>;
/// Reads line `i` of the record again.
pub type LineReader<'a> = Box<dyn Fn(usize) -> Option<String> + 'a>;
/// Sees each line's sequence number, kind and body.
pub type EventHook<'a> = Box<dyn FnMut(u64, &str, &Value) + 'a>;

/// What the caller of [`verify_stream`] hears while it runs, and what it can give.
#[derive(Default)]
pub struct Hooks<'a> {
    /// Called with the number of ballots whose proofs have been checked so far.
    pub on_ballots: Option<BallotProgress>,
    /// Called with the number of lines and bytes checked so far, after each chunk.
    pub on_lines: Option<Box<dyn FnMut(u64, u64) + 'a>>,
    /// Called with every line's sequence number, kind and body, before its checks (a
    /// verdict on what it saw holds only if the whole record verifies).
    pub on_event: Option<EventHook<'a>>,
    /// Reads line `i` of the record again: a co-signature in the record that contradicts
    /// an earlier line is reported with both lines, as a fork proof.
    pub line_at: Option<LineReader<'a>>,
    /// Where each election's latest ballot per credential is kept (in memory without it).
    pub ballot_store: Option<crate::election::BallotStoreFactory>,
}

/// Why a streamed verification ended without a verdict on the whole record.
#[derive(Debug)]
pub enum Stopped {
    /// A check failed.
    Failed(Failure),
    /// The record could not be read to its end (a dropped connection, a read error): no
    /// verdict on what was not read. `lines` were read and checked before it.
    Unreadable { lines: u64, error: std::io::Error },
}

/// Verifies `record` (the exact bytes served at `/dialogues/{id}/record`).
pub fn verify(record: &str, options: &Options) -> Result<Summary, Failure> {
    let hooks =
        Hooks { line_at: Some(Box::new(|i| record.split('\n').nth(i).map(str::to_string))), ..Default::default() };
    verify_stream(record.as_bytes(), options, hooks).map_err(|stopped| match stopped {
        Stopped::Failed(failure) => failure,
        Stopped::Unreadable { error, .. } => Failure { check: "R1", line: None, detail: error.to_string() },
    })
}

/// Lines per chunk handed to a worker.
const CHUNK_LINES: usize = 64;
/// Bytes after which a chunk is handed over even if it has fewer lines.
const CHUNK_BYTES: usize = 1 << 19;

/// One line as read, without its newline.
enum RawLine {
    Line(Vec<u8>),
    /// The record ended without a newline after this text.
    Unterminated,
    /// More than [`MAX_LINE_BYTES`] without a newline.
    Oversized,
}

/// Lines read from the record, numbered from `first`; `error` ends the record.
struct Chunk {
    number: u64,
    first: usize,
    lines: Vec<RawLine>,
    bytes: u64,
    error: Option<std::io::Error>,
}

/// Reads the next line, at most [`MAX_LINE_BYTES`] of it.
fn read_line(reader: &mut impl std::io::BufRead) -> std::io::Result<Option<RawLine>> {
    let mut buf = Vec::new();
    let n = std::io::Read::take(&mut *reader, MAX_LINE_BYTES as u64 + 1).read_until(b'\n', &mut buf)?;
    Ok(match n {
        0 => None,
        _ if buf.last() == Some(&b'\n') => {
            buf.pop();
            Some(RawLine::Line(buf))
        }
        _ if buf.len() > MAX_LINE_BYTES => Some(RawLine::Oversized),
        _ => Some(RawLine::Unterminated),
    })
}

/// A line after the checks that need nothing but the line (and the dialogue key): R1–R3,
/// R7's signature, its hash. Runs on worker threads.
struct Prepared {
    text: String,
    seq: u64,
    dialogue: String,
    prev: String,
    time: String,
    kind: String,
    body: Value,
    /// R7's outcome when the key was known to the worker.
    signature: Option<Result<(), Failure>>,
    hash: [u8; 32],
    /// SHA-256 of a cast ballot's canonical text, cut from the line.
    ballot_digest: Option<[u8; 32]>,
}

fn prepare(raw: RawLine, i: usize, key: Option<&VerifyingKey>) -> Result<Prepared, Failure> {
    let fail = |check: &'static str, detail: String| Failure { check, line: Some(i), detail };
    let bytes = match raw {
        RawLine::Line(bytes) => bytes,
        RawLine::Unterminated => {
            return Err(Failure {
                check: "R1",
                line: None,
                detail: "the last line is not terminated by a newline".into(),
            })
        }
        RawLine::Oversized => return Err(fail("R1", format!("more than {MAX_LINE_BYTES} bytes"))),
    };
    if bytes.is_empty() {
        return Err(fail("R1", "empty line".into()));
    }
    let text = String::from_utf8(bytes).map_err(|e| fail("R1", format!("not UTF-8 ({e})")))?;

    // R2: shape.
    let mut value: Value = serde_json::from_str(&text).map_err(|e| fail("R2", format!("not JSON: {e}")))?;
    let object = value.as_object().ok_or_else(|| fail("R2", "not a JSON object".into()))?;
    for field in LINE_FIELDS {
        if !object.contains_key(field) {
            return Err(fail("R2", format!("missing field {field:?}")));
        }
    }
    if object.len() != LINE_FIELDS.len() {
        return Err(fail("R2", "unexpected extra fields".into()));
    }
    let str_field = |name: &str| {
        object[name].as_str().map(str::to_string).ok_or_else(|| fail("R2", format!("{name} is not a string")))
    };
    let (dialogue, prev, time, kind, sig) =
        (str_field("dialogue")?, str_field("prev")?, str_field("time")?, str_field("kind")?, str_field("sig")?);
    let seq = object["seq"].as_u64().ok_or_else(|| fail("R2", "seq is not a non-negative integer".into()))?;
    if object["v"].as_u64() != Some(FORMAT_VERSION) {
        return Err(fail("R2", format!("v is not {FORMAT_VERSION}")));
    }

    // R3: canonical form.
    let canonical = to_canonical_string(&value).map_err(|e| fail("R3", e.to_string()))?;
    if canonical != text {
        return Err(fail("R3", "the line differs from its canonical encoding".into()));
    }

    let signature = key.map(|key| check_signature(&text, object, &sig, &time, key, i));
    let ballot_digest = (kind == "ballot.cast").then(|| ballot_digest(&text)).flatten();
    let body = value.as_object_mut().and_then(|o| o.remove("body")).unwrap_or_default();
    let hash = line_hash(&text);
    Ok(Prepared { text, seq, dialogue, prev, time, kind, body, signature, hash, ballot_digest })
}

/// R7 for one line.
fn check_signature(
    text: &str,
    object: &serde_json::Map<String, Value>,
    sig: &str,
    time: &str,
    key: &VerifyingKey,
    i: usize,
) -> Result<(), Failure> {
    let fail = |check: &'static str, detail: String| Failure { check, line: Some(i), detail };
    let message = match unsigned_text(text, sig, time) {
        Some((head, tail)) => [SIGNATURE_DOMAIN, head.as_bytes(), tail.as_bytes()].concat(),
        None => {
            let mut unsigned = object.clone();
            unsigned.remove("sig");
            signed_message_of(&unsigned).map_err(|e| fail("R3", e.to_string()))?
        }
    };
    let sig_bytes: [u8; 64] = hex::decode(sig)
        .ok()
        .filter(|_| sig.bytes().all(|c| !c.is_ascii_uppercase()))
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| fail("R7", "sig is not 64 bytes of lowercase hex".into()))?;
    key.verify_strict(&message, &Signature::from_bytes(&sig_bytes))
        .map_err(|_| fail("R7", "signature does not verify under the dialogue key".into()))
}

/// SHA-256 of the `ballot` member of a canonical `ballot.cast` line, cut from the text:
/// the body's first member is `ballot` (members are sorted), and a member of a
/// canonical object is itself in canonical form, so these are the bytes the voter's
/// credential signed the digest of — without encoding the ballot again.
fn ballot_digest(text: &str) -> Option<[u8; 32]> {
    let rest = text.strip_prefix(r#"{"body":{"ballot":"#)?;
    let mut de = serde_json::Deserializer::from_str(rest);
    let raw: &serde_json::value::RawValue = serde::Deserialize::deserialize(&mut de).ok()?;
    Some(sha2::Sha256::digest(raw.get().as_bytes()).into())
}

/// The state carried from line to line.
struct Walk<'a> {
    options: &'a Options,
    hooks_line_at: Option<LineReader<'a>>,
    on_event: Option<EventHook<'a>>,
    checks: Option<BodyChecks>,
    /// What the body checks get once line 0 creates them.
    pending_hooks: Option<(Option<BallotProgress>, Option<crate::election::BallotStoreFactory>)>,
    key: Option<VerifyingKey>,
    dialogue: String,
    prev_hash: String,
    prev_time: String,
    lines: usize,
    /// Lines up to the last one that is not a co-signature (W4).
    content_lines: u64,
    /// Heads of the checkpoints held beside the record, by size (W2 at the end).
    held_heads: BTreeMap<u64, Vec<String>>,
    /// The text of each line a held checkpoint contradicts, by size.
    contradicted: BTreeMap<u64, String>,
    /// R10: how much of the earlier copy matched so far, and where it first differed.
    previous_at: usize,
    previous_differs: Option<usize>,
}

impl<'a> Walk<'a> {
    fn fail(check: &'static str, line: Option<usize>, detail: String) -> Failure {
        Failure { check, line, detail }
    }

    /// R4–R10 and the body checks of one prepared line, in the order of the spec.
    fn apply(&mut self, line: Prepared, i: usize) -> Result<(), Failure> {
        let fail = Self::fail;
        let at = Some(i);
        let Prepared { text, seq, dialogue, prev, time, kind, body, signature, hash, ballot_digest } = line;
        if let Some(f) = self.on_event.as_mut() {
            f(seq, &kind, &body);
        }

        // R4: sequence and dialogue.
        if seq != i as u64 {
            return Err(fail("R4", at, format!("seq is {seq}, expected {i}")));
        }
        if i == 0 {
            self.dialogue = dialogue;
            let mut c = BodyChecks::new(&self.dialogue);
            if let Some((on_ballots, store)) = self.pending_hooks.take() {
                if let Some(f) = on_ballots {
                    c.on_ballots(f);
                }
                if let Some(factory) = store {
                    c.keep_ballots_in(factory);
                }
            }
            self.checks = Some(c);
        } else if dialogue != self.dialogue {
            return Err(fail("R4", at, format!("dialogue {dialogue:?}, expected {:?}", self.dialogue)));
        }

        // R5: chain.
        if prev != self.prev_hash {
            return Err(fail("R5", at, format!("prev is {prev}, expected {}", self.prev_hash)));
        }

        // R9 (body) runs before R6/R7 need the key, since line 0's body carries the key.
        // Election (E1–E10) and selection (S1, S2) events are checked after the signature, below.
        let checks = self.checks.as_mut().expect("set at line 0");
        let protocol_event = BodyChecks::is_protocol_event(seq, &kind);
        let mut body = Some(body);
        if !protocol_event {
            let key = self.key;
            let line_at = &self.hooks_line_at;
            checks
                .apply(seq, &kind, body.take().expect("present"))
                .map_err(|(c, l, d)| with_proof(fail(c, Some(l), d), key.as_ref(), line_at))?;
        }

        // R6: the dialogue key.
        if i == 0 {
            let key_hex = checks.state.public_key.clone().expect("dialogue.created sets the key");
            if let Some(pinned) = &self.options.pinned_key {
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
            self.key = Some(parsed);
        }

        // R7: signature, checked on a worker when the key was known there.
        let key = self.key.as_ref().expect("set at line 0");
        match signature {
            Some(outcome) => outcome?,
            None => {
                let value: Value = serde_json::from_str(&text).map_err(|e| fail("R2", at, format!("not JSON: {e}")))?;
                let object = value.as_object().expect("checked by prepare");
                let sig = object["sig"].as_str().unwrap_or_default();
                check_signature(&text, object, sig, &time, key, i)?;
            }
        }

        // R8: time.
        if crate::line::parse_time(&time).is_none() {
            return Err(fail("R8", at, format!("time {time:?} is not YYYY-MM-DDTHH:MM:SSZ")));
        }
        if time < self.prev_time {
            return Err(fail("R8", at, format!("time {time} is before {}", self.prev_time)));
        }
        self.prev_time = time;
        self.prev_hash = hex::encode(hash);

        checks.at_time(&self.prev_time);
        if let Some(body) = body {
            checks.apply_line(seq, &kind, body, ballot_digest).map_err(|(c, l, d)| fail(c, Some(l), d))?;
        }
        checks.line_sealed(hash);
        if kind != "witness.cosigned" {
            self.content_lines = seq + 1;
        }

        // W2 of the checkpoints held beside the record, reported after every line is checked.
        if let Some(heads) = self.held_heads.get(&(seq + 1)) {
            if heads.iter().any(|h| *h != self.prev_hash) {
                self.contradicted.insert(seq + 1, text.clone());
            }
        }
        // R10: the earlier copy is a prefix, reported after every line is checked.
        if let (Some(previous), None) = (&self.options.previous, self.previous_differs) {
            let previous = previous.as_bytes();
            let rest = &previous[self.previous_at.min(previous.len())..];
            let mine = [text.as_bytes(), b"\n"].concat();
            let n = rest.len().min(mine.len());
            if rest[..n] != mine[..n] {
                self.previous_differs = Some(i);
            }
            self.previous_at += mine.len();
        }
        self.lines = i + 1;
        Ok(())
    }
}

impl Walk<'_> {
    /// The checks that need the whole record: ballots still in flight and the tally
    /// (E5–E10), R10, and W1–W4 of what is held beside the record.
    fn finish(self) -> Result<Summary, Stopped> {
        let fail =
            |check: &'static str, line: Option<usize>, detail: String| Stopped::Failed(Failure { check, line, detail });
        let checks = self.checks.expect("a record has a line");
        let witnesses = checks.witnesses.by_id.values().cloned().collect::<Vec<_>>();
        let (state, selections, ballots) = checks.finish().map_err(|(c, l, d)| fail(c, Some(l), d))?;

        // R10: an earlier copy is a prefix.
        let previous_checked = match &self.options.previous {
            Some(previous) => {
                let differs = self.previous_differs.or((self.previous_at < previous.len()).then_some(self.lines));
                if let Some(at) = differs {
                    return Err(fail(
                        "R10",
                        Some(at),
                        "the earlier copy is not a prefix of this record: history was rewritten".into(),
                    ));
                }
                true
            }
            None => false,
        };

        let key = self.key.expect("a record has a first line");
        let checkpoints_checked =
            check_held_checkpoints(self.lines, &self.contradicted, &self.dialogue, &key, self.options)
                .map_err(Stopped::Failed)?;
        let witnessed = match &self.options.witnesses {
            Some(policy) => Some(
                check_quorum(policy, &witnesses, &self.options.cosignatures, self.content_lines)
                    .map_err(Stopped::Failed)?,
            ),
            None => None,
        };

        Ok(Summary {
            dialogue: self.dialogue,
            public_key: state.public_key.clone().unwrap_or_default(),
            lines: self.lines,
            members: state.members.len(),
            head: self.prev_hash,
            previous_checked,
            ballots,
            selections: selections.by_id.into_values().collect(),
            statements: state.statement_digests().map(|(id, d, r)| (id.to_string(), d.to_string(), r)).collect(),
            witnesses,
            checkpoints_checked,
            witnessed,
        })
    }
}

/// A W2 failure inside the record comes with the fork proof the record itself holds.
fn with_proof(failure: Failure, key: Option<&VerifyingKey>, line_at: &Option<LineReader<'_>>) -> Failure {
    match (failure.check, failure.line, key, line_at) {
        ("W2", Some(at), Some(key), Some(line_at)) => in_record_fork_proof(line_at, at, key)
            .map(|proof| Failure { detail: format!("{}; fork proof: {proof}", failure.detail), ..failure.clone() })
            .unwrap_or(failure),
        _ => failure,
    }
}

/// Verifies a record read from `reader` (a file, an HTTP response), holding only the
/// state the checks need: the credential lists' fingerprints and counters, the
/// tracking codes' fingerprints, 8 bytes per line for W2, and the lines in flight.
///
/// Both cores work from the first line: a reader thread cuts the record into chunks of
/// lines, one worker per core parses each line and checks R1–R3 and its signature (R7),
/// and this thread applies the checks that follow the chain (R4–R10, the event rules)
/// in order, handing ballot proofs to the election workers. Failures are reported in
/// line order, and the first one ends the run.
pub fn verify_stream<R: std::io::BufRead + Send>(
    mut reader: R,
    options: &Options,
    hooks: Hooks<'_>,
) -> Result<Summary, Stopped> {
    let Hooks { on_ballots, mut on_lines, on_event, line_at, ballot_store } = hooks;
    let mut walk = Walk {
        options,
        hooks_line_at: line_at,
        on_event,
        checks: None,
        pending_hooks: Some((on_ballots, ballot_store)),
        key: None,
        dialogue: String::new(),
        prev_hash: GENESIS_PREV.to_string(),
        prev_time: String::new(),
        lines: 0,
        content_lines: 0,
        held_heads: BTreeMap::new(),
        contradicted: BTreeMap::new(),
        previous_at: 0,
        previous_differs: None,
    };
    for checkpoint in options.checkpoints.iter().chain(options.cosignatures.iter().map(|c| &c.checkpoint)) {
        walk.held_heads.entry(checkpoint.size).or_default().push(checkpoint.head.clone());
    }
    let failed = Stopped::Failed;

    // Line 0 here: it carries the key the workers check signatures with.
    let first = match read_line(&mut reader) {
        Ok(Some(line)) => line,
        Ok(None) => return Err(failed(Walk::fail("R1", None, "the record is empty".into()))),
        Err(error) => return Err(Stopped::Unreadable { lines: 0, error }),
    };
    let first_bytes = match &first {
        RawLine::Line(b) => b.len() as u64 + 1,
        _ => 0,
    };
    walk.apply(prepare(first, 0, None).map_err(failed)?, 0).map_err(failed)?;
    if let Some(f) = on_lines.as_mut() {
        f(1, first_bytes);
    }
    let key = walk.key.expect("line 0 sets the key");

    let workers = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
    std::thread::scope(|scope| {
        let (prepared_tx, prepared_rx) =
            std::sync::mpsc::sync_channel::<(Chunk, Vec<Result<Prepared, Failure>>)>(2 * workers);
        let mut to_workers = Vec::new();
        for _ in 0..workers {
            let (tx, rx) = std::sync::mpsc::sync_channel::<Chunk>(2);
            let prepared_tx = prepared_tx.clone();
            scope.spawn(move || {
                for mut chunk in rx {
                    let first = chunk.first;
                    let lines = std::mem::take(&mut chunk.lines);
                    let prepared =
                        lines.into_iter().enumerate().map(|(k, raw)| prepare(raw, first + k, Some(&key))).collect();
                    if prepared_tx.send((chunk, prepared)).is_err() {
                        return;
                    }
                }
            });
            to_workers.push(tx);
        }
        drop(prepared_tx);
        scope.spawn(move || {
            let (mut number, mut next_line) = (0u64, 1usize);
            loop {
                let mut chunk = Chunk { number, first: next_line, lines: Vec::new(), bytes: 0, error: None };
                let mut done = false;
                while chunk.lines.len() < CHUNK_LINES && chunk.bytes < CHUNK_BYTES as u64 {
                    match read_line(&mut reader) {
                        Ok(Some(line)) => {
                            let ends = !matches!(line, RawLine::Line(_));
                            if let RawLine::Line(b) = &line {
                                chunk.bytes += b.len() as u64 + 1;
                            }
                            chunk.lines.push(line);
                            if ends {
                                done = true;
                                break;
                            }
                        }
                        Ok(None) => {
                            done = true;
                            break;
                        }
                        Err(error) => {
                            chunk.error = Some(error);
                            done = true;
                            break;
                        }
                    }
                }
                next_line += chunk.lines.len();
                let worker = number as usize % to_workers.len();
                number += 1;
                if to_workers[worker].send(chunk).is_err() || done {
                    return;
                }
            }
        });

        // Chunks come back in any order; they are applied in the order read.
        let (mut next, mut waiting) = (0u64, BTreeMap::new());
        let mut bytes_read = first_bytes;
        for (chunk, prepared) in prepared_rx.iter() {
            waiting.insert(chunk.number, (chunk, prepared));
            while let Some((chunk, prepared)) = waiting.remove(&next) {
                next += 1;
                for (k, line) in prepared.into_iter().enumerate() {
                    let i = chunk.first + k;
                    walk.apply(line.map_err(failed)?, i).map_err(failed)?;
                }
                bytes_read += chunk.bytes;
                if let Some(f) = on_lines.as_mut() {
                    f(walk.lines as u64, bytes_read);
                }
                if let Some(error) = chunk.error {
                    return Err(Stopped::Unreadable { lines: walk.lines as u64, error });
                }
            }
        }
        Ok(())
    })?;
    walk.finish()
}
/// The fork proof in a record whose line `at` is a co-signature of a head that its line
/// `size − 1` contradicts.
fn in_record_fork_proof(line_at: &dyn Fn(usize) -> Option<String>, at: usize, key: &VerifyingKey) -> Option<String> {
    let line: Value = serde_json::from_str(&line_at(at)?).ok()?;
    let checkpoint = Checkpoint::from_value(&line["body"]["cosignature"]["checkpoint"]).ok()?;
    let named = line_at(usize::try_from(checkpoint.size).ok()?.checked_sub(1)?)?;
    let proof = ForkProof { dialogue_key: hex::encode(key.as_bytes()), checkpoint, other: Contradiction::Line(named) };
    // A line read again from a server may not be the one checked: offer only a proof that holds.
    ForkProof::check(&proof.to_value()).ok()?;
    to_canonical_string(&proof.to_value()).ok()
}

/// W1–W3 for the checkpoints and co-signatures held beside the record: each co-signature
/// verifies under its witness's key, each checkpoint is of this dialogue and signed by its
/// key, none is longer than the record (W3), and each names the head the record has at
/// its size (W2, with the fork proof). Returns how many were checked.
fn check_held_checkpoints(
    lines: usize,
    contradicted: &BTreeMap<u64, String>,
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
    for checkpoint in held.iter().filter(|c| c.size as usize <= lines) {
        let size = checkpoint.size as usize;
        let Some(line) = contradicted.get(&checkpoint.size) else { continue };
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
    if let Some(longest) = held.iter().max_by_key(|c| c.size).filter(|c| c.size as usize > lines) {
        return Err(fail(
            "W3",
            format!(
                "the dialogue key signed a head of {} lines at {}, but this record has {}: it was cut short",
                longest.size, longest.time, lines
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
