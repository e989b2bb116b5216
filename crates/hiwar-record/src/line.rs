//! One line of the record: an event with its place in the chain and its signature.
//!
//! A line is the canonical JSON object
//! `{"body":…,"dialogue":…,"kind":…,"prev":…,"seq":…,"sig":…,"time":…,"v":1}`.
//! The signature is Ed25519 over `SIGNATURE_DOMAIN ‖ canonical(line without "sig")`;
//! the hash of a line is SHA-256 of its exact bytes (without the newline), and the next
//! line's `prev` is that hash. See `docs/record-spec.md` §3.

use ed25519_dalek::{Signer, SigningKey};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use crate::canonical::{to_canonical_string, CanonicalError};

/// Record format version carried in every line as `"v"`.
pub const FORMAT_VERSION: u64 = 1;
/// Prefix of the signed message, so a record signature can never be confused with any
/// other Ed25519 signature made by the same key.
pub const SIGNATURE_DOMAIN: &[u8] = b"hiwar/record/v1/line\n";
/// `prev` of the first line.
pub const GENESIS_PREV: &str = "0000000000000000000000000000000000000000000000000000000000000000";
/// The fields every line has, in canonical order.
pub const LINE_FIELDS: [&str; 8] = ["body", "dialogue", "kind", "prev", "seq", "sig", "time", "v"];

/// What goes into a line before it is sealed.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub dialogue: String,
    pub seq: u64,
    /// Hex SHA-256 of the previous line, or [`GENESIS_PREV`].
    pub prev: String,
    /// `YYYY-MM-DDTHH:MM:SSZ`.
    pub time: String,
    pub kind: String,
    pub body: Value,
}

/// A sealed line: its text (canonical JSON, no newline) and hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedLine {
    pub text: String,
    pub hash: [u8; 32],
}

impl Event {
    fn unsigned_object(&self) -> Map<String, Value> {
        let value = json!({
            "v": FORMAT_VERSION,
            "dialogue": self.dialogue,
            "seq": self.seq,
            "prev": self.prev,
            "time": self.time,
            "kind": self.kind,
            "body": self.body,
        });
        match value {
            Value::Object(map) => map,
            _ => unreachable!("json! of an object literal is an object"),
        }
    }

    /// The bytes the dialogue key signs.
    pub fn signed_message(&self) -> Result<Vec<u8>, CanonicalError> {
        signed_message_of(&self.unsigned_object())
    }

    /// Signs the event and writes its line.
    pub fn seal(&self, key: &SigningKey) -> Result<SealedLine, CanonicalError> {
        let mut object = self.unsigned_object();
        let signature = key.sign(&signed_message_of(&object)?);
        object.insert("sig".into(), Value::String(hex::encode(signature.to_bytes())));
        let text = to_canonical_string(&Value::Object(object))?;
        let hash = line_hash(&text);
        Ok(SealedLine { text, hash })
    }
}

/// `SIGNATURE_DOMAIN ‖ canonical(object)` where `object` is a line without `sig`.
pub(crate) fn signed_message_of(object: &Map<String, Value>) -> Result<Vec<u8>, CanonicalError> {
    let mut message = SIGNATURE_DOMAIN.to_vec();
    message.extend_from_slice(to_canonical_string(&Value::Object(object.clone()))?.as_bytes());
    Ok(message)
}

/// SHA-256 of a line's bytes.
pub fn line_hash(text: &str) -> [u8; 32] {
    Sha256::digest(text.as_bytes()).into()
}

/// The current time in the record's format.
pub fn now_rfc3339() -> String {
    format_time(time::OffsetDateTime::now_utc())
}

/// Parses a record time: exactly `YYYY-MM-DDTHH:MM:SSZ`, a valid UTC date and time
/// with seconds 0–59 (no other separator, no leap second), as the spec and the
/// independent verifier read it.
pub fn parse_time(s: &str) -> Option<time::OffsetDateTime> {
    let format = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    if s.len() != 20 {
        return None;
    }
    time::PrimitiveDateTime::parse(s, format).ok().map(time::PrimitiveDateTime::assume_utc)
}

/// Formats a time as `YYYY-MM-DDTHH:MM:SSZ` (UTC, whole seconds).
pub fn format_time(t: time::OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}
