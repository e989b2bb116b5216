//! Declare: signatories with their own keys, declarations in versions, and signatures on
//! the exact text of a version. Checks D1–D3, `docs/record-spec.md` §10.
//!
//! **What a signature proves.** A signatory (an organisation, or a member signing in
//! their own name) registers an Ed25519 key it made on its own device; the key signs its
//! own registration, so nobody — the operator included — can register a key whose holder
//! did not ask for it. A version of a declaration is in the record whole (title and text
//! in Arabic and English) under its hash
//!
//! ```text
//! H = SHA-256("hiwar/v1/declaration\n" ‖ canonical({declaration, dialogue, text, title, version}))
//! ```
//!
//! and a signature is the signatory's strict Ed25519 signature (as §6.1) of
//!
//! ```text
//! "hiwar/v1/declaration-signature\n" ‖ canonical({declaration, dialogue, hash: H, version})
//! ```
//!
//! Because `H` binds the dialogue, the declaration, the version and both texts, a
//! signature counts for exactly one text: the operator (who holds the dialogue key and
//! can re-sign any record) cannot move it to another version, to another declaration or
//! dialogue, or to a changed text — every verifier recomputes `H` from the text in the
//! record and checks the signature against it (D3). Forging a signature needs the
//! signatory's key, which never leaves its device. Each message has its own domain
//! string, so a signature made for one purpose (registering, rotating a key, revoking,
//! signing, withdrawing) is never valid for another.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use crate::canonical::to_canonical_string;
use crate::events::{fields, hex_field, id, one_of, text, uint, State};

/// What a signatory is. `member` is a member of the dialogue signing in their own name;
/// the others are organisations.
pub const SIGNATORY_KINDS: [&str; 9] =
    ["local-council", "syndicate", "ngo", "party", "coalition", "union", "media", "other", "member"];
/// Where a signatory works: inside the country, or abroad (the diaspora, refugees).
pub const PLACES: [&str; 2] = ["inside", "abroad"];
/// The role an invitation batch grants to organisations (`codes.issued`).
pub const ORGANISATION_ROLE: &str = "organisation";
/// Longest signatory name, per language, in characters.
pub const MAX_NAME_CHARS: usize = 120;
/// Longest declaration title, per language, in characters.
pub const MAX_TITLE_CHARS: usize = 200;
/// Longest declaration text, per language, in characters.
pub const MAX_TEXT_CHARS: usize = 20_000;
/// Longest reason (rotation, revocation, withdrawal), in characters.
pub const MAX_REASON_CHARS: usize = 500;

const SIGNATORY_DOMAIN: &[u8] = b"hiwar/v1/signatory\n";
const KEY_DOMAIN: &[u8] = b"hiwar/v1/signatory-key\n";
const REVOKED_DOMAIN: &[u8] = b"hiwar/v1/signatory-revoked\n";
const DECLARATION_DOMAIN: &[u8] = b"hiwar/v1/declaration\n";
const SIGNATURE_DOMAIN: &[u8] = b"hiwar/v1/declaration-signature\n";
const WITHDRAWAL_DOMAIN: &[u8] = b"hiwar/v1/declaration-withdrawal\n";

fn domain_message(domain: &[u8], value: Value) -> Vec<u8> {
    [domain, to_canonical_string(&value).expect("strings, ids and integers").as_bytes()].concat()
}

/// What the signatory's key signs to register: its identity in this dialogue.
pub fn registration_message(
    dialogue: &str,
    signatory: &str,
    name: &Value,
    kind: &str,
    place: &str,
    key: &str,
) -> Vec<u8> {
    domain_message(
        SIGNATORY_DOMAIN,
        json!({"dialogue": dialogue, "key": key, "kind": kind, "name": name, "place": place, "signatory": signatory}),
    )
}

/// What the current key signs to hand over to `key`.
pub fn rotation_message(dialogue: &str, signatory: &str, key: &str, reason: &str) -> Vec<u8> {
    domain_message(KEY_DOMAIN, json!({"dialogue": dialogue, "key": key, "reason": reason, "signatory": signatory}))
}

/// What the current key signs to revoke itself (and the signatory).
pub fn revocation_message(dialogue: &str, signatory: &str, reason: &str) -> Vec<u8> {
    domain_message(REVOKED_DOMAIN, json!({"dialogue": dialogue, "reason": reason, "signatory": signatory}))
}

/// `H`, the hash of a version (see the module's documentation).
pub fn version_hash(dialogue: &str, declaration: &str, version: u64, title: &Value, text: &Value) -> [u8; 32] {
    let unsigned =
        json!({"declaration": declaration, "dialogue": dialogue, "text": text, "title": title, "version": version});
    Sha256::digest(domain_message(DECLARATION_DOMAIN, unsigned)).into()
}

/// What a signatory signs to sign version `version`, whose hash is `hash` (hex).
pub fn signature_message(dialogue: &str, declaration: &str, version: u64, hash: &str) -> Vec<u8> {
    domain_message(
        SIGNATURE_DOMAIN,
        json!({"declaration": declaration, "dialogue": dialogue, "hash": hash, "version": version}),
    )
}

/// What a signatory signs to withdraw its signature of version `version`.
pub fn withdrawal_message(dialogue: &str, declaration: &str, version: u64, hash: &str, reason: &str) -> Vec<u8> {
    domain_message(
        WITHDRAWAL_DOMAIN,
        json!({"declaration": declaration, "dialogue": dialogue, "hash": hash, "reason": reason, "version": version}),
    )
}

/// Event bodies. Each is the one place its shape is built; [`Declarations::apply`]
/// checks it.
pub mod body {
    use super::*;

    #[allow(clippy::too_many_arguments)]
    pub fn signatory_registered(
        signatory: &str,
        name: &Value,
        kind: &str,
        place: &str,
        key: &str,
        batch: Option<&str>,
        member: Option<&str>,
        sig: &str,
    ) -> Value {
        json!({"signatory": signatory, "name": name, "kind": kind, "place": place, "key": key,
               "batch": batch, "member": member, "sig": sig})
    }
    /// `by` a convener (with `sig` `None`) or `sig` by the current key (with `by` `None`).
    pub fn signatory_key_rotated(
        signatory: &str,
        key: &str,
        reason: &str,
        by: Option<&str>,
        sig: Option<&str>,
    ) -> Value {
        json!({"signatory": signatory, "key": key, "reason": reason, "by": by, "sig": sig})
    }
    /// As [`signatory_key_rotated`], without a new key.
    pub fn signatory_revoked(signatory: &str, reason: &str, by: Option<&str>, sig: Option<&str>) -> Value {
        json!({"signatory": signatory, "reason": reason, "by": by, "sig": sig})
    }
    pub fn declaration_drafted(
        declaration: &str,
        version: u64,
        title: &Value,
        text: &Value,
        hash: &str,
        by: &str,
    ) -> Value {
        json!({"declaration": declaration, "version": version, "title": title, "text": text, "hash": hash, "by": by})
    }
    pub fn declaration_opened(declaration: &str, version: u64, closes: &str, by: &str) -> Value {
        json!({"declaration": declaration, "version": version, "closes": closes, "by": by})
    }
    pub fn declaration_signed(declaration: &str, version: u64, signatory: &str, key: &str, sig: &str) -> Value {
        json!({"declaration": declaration, "version": version, "signatory": signatory, "key": key, "sig": sig})
    }
    pub fn declaration_withdrawn(declaration: &str, version: u64, signatory: &str, reason: &str, sig: &str) -> Value {
        json!({"declaration": declaration, "version": version, "signatory": signatory, "reason": reason, "sig": sig})
    }
}

/// The id a signatory's key gives it: `org-` (an organisation) or `s-` (a member)
/// followed by the first 12 hex digits of the key. The key's holder can compute it
/// before registering, so the registration signature can name it.
pub fn signatory_id(kind: &str, key: &str) -> String {
    let prefix = if kind == "member" { "s" } else { "org" };
    format!("{prefix}-{}", &key[..key.len().min(12)])
}

/// A signatory's own side, on its own device: its key and what the key signs. The
/// browser's module and `hiwar org`/`hiwar declaration` use this one type, so both make
/// the same messages.
pub struct SignatoryKey {
    signer: hiwar_crypto::signing::Signer25519,
}

impl SignatoryKey {
    pub fn generate(rng: &mut impl rand_core::CryptoRngCore) -> (zeroize::Zeroizing<[u8; 32]>, SignatoryKey) {
        let (seed, signer) = hiwar_crypto::signing::Signer25519::generate(rng);
        (seed, SignatoryKey { signer })
    }

    /// The key whose secret is `secret` (64 hex digits).
    pub fn from_hex(secret: &str) -> Result<SignatoryKey, String> {
        let mut seed = zeroize::Zeroizing::new([0u8; 32]);
        hex::decode_to_slice(secret.trim(), &mut *seed).map_err(|_| "the signatory's secret is not 64 hex digits")?;
        Ok(SignatoryKey { signer: hiwar_crypto::signing::Signer25519::from_seed(&seed) })
    }

    pub fn public(&self) -> String {
        hex::encode(self.signer.public())
    }

    fn sign(&self, message: &[u8]) -> String {
        hex::encode(self.signer.sign(message))
    }

    /// A `signatory.registered` body with `batch` and `member` null: the server fills in
    /// the invitation's batch or the member (neither is in the signed message).
    pub fn register(&self, dialogue: &str, name: &Value, kind: &str, place: &str) -> Value {
        let key = self.public();
        let id = signatory_id(kind, &key);
        let sig = self.sign(&registration_message(dialogue, &id, name, kind, place, &key));
        body::signatory_registered(&id, name, kind, place, &key, None, None, &sig)
    }

    /// A `declaration.signed` body for the version whose hash is `hash`.
    pub fn sign_version(&self, dialogue: &str, signatory: &str, declaration: &str, version: u64, hash: &str) -> Value {
        let sig = self.sign(&signature_message(dialogue, declaration, version, hash));
        body::declaration_signed(declaration, version, signatory, &self.public(), &sig)
    }

    /// A `declaration.withdrawn` body.
    pub fn withdraw(
        &self,
        dialogue: &str,
        signatory: &str,
        declaration: &str,
        version: u64,
        hash: &str,
        reason: &str,
    ) -> Value {
        let sig = self.sign(&withdrawal_message(dialogue, declaration, version, hash, reason));
        body::declaration_withdrawn(declaration, version, signatory, reason, &sig)
    }

    /// A `signatory.key_rotated` body handing over to `next`.
    pub fn rotate(&self, dialogue: &str, signatory: &str, next: &str, reason: &str) -> Value {
        let sig = self.sign(&rotation_message(dialogue, signatory, next, reason));
        body::signatory_key_rotated(signatory, next, reason, None, Some(&sig))
    }

    /// A `signatory.revoked` body, signed by this key.
    pub fn revoke(&self, dialogue: &str, signatory: &str, reason: &str) -> Value {
        let sig = self.sign(&revocation_message(dialogue, signatory, reason));
        body::signatory_revoked(signatory, reason, None, Some(&sig))
    }
}

/// A registered signatory.
#[derive(Debug, Clone)]
pub struct Signatory {
    pub id: String,
    /// `{"ar", "en"}`.
    pub name: Value,
    pub kind: String,
    pub place: String,
    /// The current key (hex).
    pub key: String,
    /// The member, for a member signing in their own name.
    pub member: Option<String>,
    /// Why it was revoked, if it was; a revoked signatory signs nothing more and its
    /// signatures no longer count.
    pub revoked: Option<String>,
    /// Every change of key or revocation, in record order.
    pub changes: Vec<KeyChange>,
}

/// A change of a signatory's key (`key` set) or its revocation, and who made it.
#[derive(Debug, Clone)]
pub struct KeyChange {
    pub key: Option<String>,
    pub reason: String,
    /// The convener who recorded it, or `None` when the signatory's own key signed it.
    pub by: Option<String>,
    pub line: u64,
    pub time: String,
}

/// A signature of a version, as the record holds it.
#[derive(Debug, Clone)]
pub struct Signing {
    pub signatory: String,
    /// The key that signed (the signatory's key at that line).
    pub key: String,
    pub sig: String,
    /// The line it entered.
    pub line: u64,
    pub time: String,
    /// `(reason, line)` of its withdrawal, if withdrawn.
    pub withdrawn: Option<(String, u64)>,
    /// The convener who recorded the key that signed, when the key was not the
    /// signatory's own registration or hand-over: pages say so beside the signature.
    pub key_by_convener: Option<String>,
}

/// One version of a declaration.
#[derive(Debug, Clone)]
pub struct Version {
    pub title: Value,
    pub text: Value,
    /// `H`, hex.
    pub hash: String,
    /// The member who drafted it.
    pub by: String,
    pub line: u64,
    pub time: String,
    /// Signatures in record order (a withdrawn one stays, marked).
    pub signatures: Vec<Signing>,
}

/// A declaration: its versions (1, 2, …) and the one open for signing, if any.
#[derive(Debug, Clone, Default)]
pub struct Declaration {
    pub id: String,
    pub versions: Vec<Version>,
    /// `(version, closes)`: signing is open on that version until `closes`.
    pub open: Option<(u64, String)>,
}

impl Declaration {
    /// The version numbered `n` (from 1).
    pub fn version(&self, n: u64) -> Option<&Version> {
        n.checked_sub(1).and_then(|i| self.versions.get(i as usize))
    }
}

/// Whether `s` holds a character that overrides or embeds a text direction (U+202A–202E)
/// or, in names, any of [`is_invisible_in_names`]. Names may hold none (a name is an
/// identity: an override could make one organisation's name read as another's); texts
/// may hold no override or embedding (isolates are how bidirectional text is written well).
fn has_direction_control(s: &str, isolates_too: bool) -> Option<char> {
    s.chars().find(|c| matches!(c, '\u{202A}'..='\u{202E}') || isolates_too && is_invisible_in_names(*c))
}

/// Characters a name may not hold besides overrides: isolates, marks and invisible
/// characters that would let one name pose as another ("Free Council" + U+200B).
fn is_invisible_in_names(c: char) -> bool {
    matches!(c, '\u{2066}'..='\u{2069}' | '\u{200B}'..='\u{200F}' | '\u{061C}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}' | '\u{00AD}')
}

/// What two names must not share: each language's name, lower-cased.
fn name_keys(name: &Value) -> [String; 2] {
    ["ar", "en"].map(|l| name[l].as_str().unwrap_or_default().to_lowercase())
}

/// A bilingual text `{"ar", "en"}` of 1..=`max` characters in each language, without the
/// direction controls [`has_direction_control`] refuses.
pub fn bilingual_text(b: &Map<String, Value>, name: &str, max: usize, isolates_too: bool) -> Result<Value, String> {
    let pair = fields(&b[name], &["ar", "en"]).map_err(|e| format!("{name}: {e}"))?;
    for lang in ["ar", "en"] {
        let s = text(pair, lang, 1, max).map_err(|e| format!("{name}.{e}"))?;
        if let Some(c) = has_direction_control(&s, isolates_too) {
            return Err(format!("{name}.{lang} holds the direction control U+{:04X}", c as u32));
        }
    }
    Ok(b[name].clone())
}

fn key_bytes(key: &str) -> [u8; 32] {
    hex::decode(key).expect("checked as hex").try_into().expect("checked as 32 bytes")
}

fn check_signature(key: &str, message: &[u8], sig: &str, what: &'static str) -> Result<(), String> {
    let sig: [u8; 64] = hex::decode(sig).expect("checked as hex").try_into().expect("checked as 64 bytes");
    hiwar_crypto::signing::verify(what, &key_bytes(key), message, &sig)
        .map_err(|_| format!("the {what} does not verify under its key"))
}

/// The checks D1–D3 over the record's `signatory.*` and `declaration.*` events.
#[derive(Debug, Default, Clone)]
pub struct Declarations {
    pub signatories: BTreeMap<String, Signatory>,
    /// Every key ever registered or rotated to: a key names one signatory, once.
    keys: BTreeSet<String>,
    /// member → signatory
    members: BTreeMap<String, String>,
    pub declarations: BTreeMap<String, Declaration>,
}

type Failure = (&'static str, String);

impl Declarations {
    pub fn handles(kind: &str) -> bool {
        kind.starts_with("signatory.") || kind.starts_with("declaration.")
    }

    /// Checks the event of `kind` at line `seq`, written at `time`, against the record
    /// so far and applies it. `state` holds the dialogue's members and invitations (a
    /// registration uses one).
    pub fn apply(
        &mut self,
        dialogue: &str,
        seq: u64,
        time: &str,
        kind: &str,
        body: &Value,
        state: &mut State,
    ) -> Result<(), Failure> {
        let d1 = |e: String| ("D1", format!("{kind}: {e}"));
        let d2 = |e: String| ("D2", format!("{kind}: {e}"));
        let d3 = |e: String| ("D3", format!("{kind}: {e}"));
        if time.is_empty() {
            return Err(d2("the line's time is not known to the check".into()));
        }
        match kind {
            "signatory.registered" => {
                let b = fields(body, &["signatory", "name", "kind", "place", "key", "batch", "member", "sig"])
                    .map_err(d1)?;
                let signatory = id(b, "signatory").map_err(d1)?;
                let name = bilingual_text(b, "name", MAX_NAME_CHARS, true).map_err(d1)?;
                let kind_of = one_of(b, "kind", &SIGNATORY_KINDS).map_err(d1)?;
                let place = one_of(b, "place", &PLACES).map_err(d1)?;
                let key = self.new_key(b, "key").map_err(d1)?;
                let sig = hex_field(b, "sig", 64).map_err(d1)?;
                if self.signatories.contains_key(&signatory) {
                    return Err(d1(format!("signatory {signatory} was already registered")));
                }
                let message = registration_message(dialogue, &signatory, &name, &kind_of, &place, &key);
                check_signature(&key, &message, &sig, "registration signature").map_err(d1)?;
                let member = match (kind_of.as_str(), &b["batch"], &b["member"]) {
                    ("member", Value::Null, Value::String(_)) => {
                        let member = id(b, "member").map_err(d1)?;
                        if !state.members.contains_key(&member) {
                            return Err(d1(format!("member {member} never joined")));
                        }
                        if self.members.contains_key(&member) {
                            return Err(d1(format!("member {member} already has a signatory key")));
                        }
                        // The key signed the name, and the pseudonym names one member.
                        let pseudonym = &state.members[&member].0;
                        if name != crate::events::bilingual(pseudonym, pseudonym) {
                            return Err(d1(format!(
                                "a member signs under their pseudonym, {pseudonym:?}, in both languages"
                            )));
                        }
                        Some(member)
                    }
                    ("member", _, _) => return Err(d1("a member signs with member set and batch null".into())),
                    (_, Value::String(_), Value::Null) => None,
                    _ => return Err(d1("an organisation registers with batch set and member null".into())),
                };
                let keys = name_keys(&name);
                if let Some(other) = self
                    .signatories
                    .values()
                    .find(|o| o.revoked.is_none() && name_keys(&o.name).iter().zip(&keys).any(|(a, b)| a == b))
                {
                    return Err(d1(format!("signatory {} already goes by that name", other.id)));
                }
                if member.is_none() {
                    // The last check: it counts the invitation as used.
                    state.use_invitation(&id(b, "batch").map_err(d1)?, ORGANISATION_ROLE).map_err(d1)?;
                }
                self.keys.insert(key.clone());
                if let Some(m) = &member {
                    self.members.insert(m.clone(), signatory.clone());
                }
                self.signatories.insert(
                    signatory.clone(),
                    Signatory {
                        id: signatory,
                        name,
                        kind: kind_of,
                        place,
                        key,
                        member,
                        revoked: None,
                        changes: Vec::new(),
                    },
                );
            }
            "signatory.key_rotated" | "signatory.revoked" => {
                let rotated = kind == "signatory.key_rotated";
                let names: &[&str] = if rotated {
                    &["signatory", "key", "reason", "by", "sig"]
                } else {
                    &["signatory", "reason", "by", "sig"]
                };
                let b = fields(body, names).map_err(d1)?;
                let signatory = id(b, "signatory").map_err(d1)?;
                let reason = text(b, "reason", 1, MAX_REASON_CHARS).map_err(d1)?;
                let current = self.live(&signatory).map_err(d1)?.key.clone();
                let new_key = if rotated { Some(self.new_key(b, "key").map_err(d1)?) } else { None };
                let by = match (&b["by"], &b["sig"]) {
                    (Value::String(_), Value::Null) => {
                        let by = id(b, "by").map_err(d1)?;
                        if !state.is_convener(&by) {
                            return Err(d1(format!("{by} is not a convener of this dialogue")));
                        }
                        Some(by)
                    }
                    (Value::Null, Value::String(_)) => {
                        let sig = hex_field(b, "sig", 64).map_err(d1)?;
                        let message = match &new_key {
                            Some(key) => rotation_message(dialogue, &signatory, key, &reason),
                            None => revocation_message(dialogue, &signatory, &reason),
                        };
                        check_signature(&current, &message, &sig, "signatory's own signature").map_err(d1)?;
                        None
                    }
                    _ => return Err(d1("exactly one of by (a convener) and sig (the current key) is set".into())),
                };
                let entry = self.signatories.get_mut(&signatory).expect("live above");
                entry.changes.push(KeyChange {
                    key: new_key.clone(),
                    reason: reason.clone(),
                    by,
                    line: seq,
                    time: time.to_string(),
                });
                match new_key {
                    Some(key) => {
                        self.keys.insert(key.clone());
                        entry.key = key;
                    }
                    None => entry.revoked = Some(reason),
                }
            }
            "declaration.drafted" => {
                let b = fields(body, &["declaration", "version", "title", "text", "hash", "by"]).map_err(d2)?;
                let declaration = id(b, "declaration").map_err(d2)?;
                let version = uint(b, "version").map_err(d2)?;
                let title = bilingual_text(b, "title", MAX_TITLE_CHARS, false).map_err(d2)?;
                let text_of = bilingual_text(b, "text", MAX_TEXT_CHARS, false).map_err(d2)?;
                let hash = hex_field(b, "hash", 32).map_err(d2)?;
                let by = id(b, "by").map_err(d2)?;
                if !state.members.contains_key(&by) {
                    return Err(d2(format!("{by} is not a member of this dialogue")));
                }
                let expected = self.declarations.get(&declaration).map_or(0, |d| d.versions.len() as u64) + 1;
                if version != expected {
                    return Err(d2(format!("declaration {declaration}: version {version}, expected {expected}")));
                }
                let computed = hex::encode(version_hash(dialogue, &declaration, version, &title, &text_of));
                if computed != hash {
                    return Err(d2(format!(
                        "declaration {declaration} version {version}: hash {hash}, but its text hashes to {computed}"
                    )));
                }
                let entry = self
                    .declarations
                    .entry(declaration.clone())
                    .or_insert_with(|| Declaration { id: declaration.clone(), ..Declaration::default() });
                entry.versions.push(Version {
                    title,
                    text: text_of,
                    hash,
                    by,
                    line: seq,
                    time: time.to_string(),
                    signatures: Vec::new(),
                });
            }
            "declaration.opened" => {
                let b = fields(body, &["declaration", "version", "closes", "by"]).map_err(d2)?;
                let (declaration, version) = self.version_of(b).map_err(d2)?;
                let closes = text(b, "closes", 20, 20).map_err(d2)?;
                crate::line::parse_time(&closes)
                    .ok_or_else(|| d2(format!("closes {closes:?} is not YYYY-MM-DDTHH:MM:SSZ")))?;
                if closes.as_str() <= time {
                    return Err(d2(format!("signing would close at {closes}, not after this line's time {time}")));
                }
                let by = id(b, "by").map_err(d2)?;
                if !state.is_convener(&by) {
                    return Err(d2(format!("{by} is not a convener of this dialogue")));
                }
                self.declarations.get_mut(&declaration).expect("found above").open = Some((version, closes));
            }
            "declaration.signed" => {
                let b = fields(body, &["declaration", "version", "signatory", "key", "sig"]).map_err(d3)?;
                let (declaration, version) = self.version_of(b).map_err(d3)?;
                let signatory = id(b, "signatory").map_err(d3)?;
                let key = hex_field(b, "key", 32).map_err(d3)?;
                let sig = hex_field(b, "sig", 64).map_err(d3)?;
                let current = &self.live(&signatory).map_err(d3)?.key;
                if key != *current {
                    return Err(d3(format!("signed with a key that is not signatory {signatory}'s current key")));
                }
                let entry = &self.declarations[&declaration];
                match &entry.open {
                    Some((open, closes)) if *open == version => {
                        if time > closes.as_str() {
                            return Err(d3(format!("signed at {time}, after signing closed at {closes}")));
                        }
                    }
                    _ => {
                        return Err(d3(format!("declaration {declaration} version {version} is not open for signing")))
                    }
                }
                let v = entry.version(version).expect("found above");
                // Once per signatory and version, withdrawn or not: signatures are
                // deterministic and public, so a withdrawn one could otherwise be replayed
                // by anyone, and a withdrawal is final.
                if let Some(earlier) = v.signatures.iter().find(|s| s.signatory == signatory) {
                    let withdrawn = if earlier.withdrawn.is_some() { ", and withdrew it" } else { "" };
                    return Err(d3(format!("signatory {signatory} already signed version {version}{withdrawn}")));
                }
                let message = signature_message(dialogue, &declaration, version, &v.hash);
                check_signature(&key, &message, &sig, "declaration signature").map_err(d3)?;
                let key_by_convener = self.signatories[&signatory]
                    .changes
                    .iter()
                    .rev()
                    .find(|c| c.key.as_deref() == Some(key.as_str()))
                    .and_then(|c| c.by.clone());
                let v = self.version_mut(&declaration, version);
                v.signatures.push(Signing {
                    signatory,
                    key,
                    sig,
                    line: seq,
                    time: time.to_string(),
                    withdrawn: None,
                    key_by_convener,
                });
            }
            "declaration.withdrawn" => {
                let b = fields(body, &["declaration", "version", "signatory", "reason", "sig"]).map_err(d3)?;
                let (declaration, version) = self.version_of(b).map_err(d3)?;
                let signatory = id(b, "signatory").map_err(d3)?;
                let reason = text(b, "reason", 0, MAX_REASON_CHARS).map_err(d3)?;
                let sig = hex_field(b, "sig", 64).map_err(d3)?;
                let key = self.live(&signatory).map_err(d3)?.key.clone();
                let hash = self.declarations[&declaration].version(version).expect("found above").hash.clone();
                let message = withdrawal_message(dialogue, &declaration, version, &hash, &reason);
                check_signature(&key, &message, &sig, "withdrawal signature").map_err(d3)?;
                let v = self.version_mut(&declaration, version);
                let standing =
                    v.signatures.iter_mut().find(|s| s.signatory == signatory && s.withdrawn.is_none()).ok_or_else(
                        || d3(format!("signatory {signatory} has no standing signature of version {version}")),
                    )?;
                standing.withdrawn = Some((reason, seq));
            }
            other => return Err(d2(format!("unknown declaration event {other}"))),
        }
        Ok(())
    }

    /// The signatory `id`, registered and not revoked.
    fn live(&self, id: &str) -> Result<&Signatory, String> {
        let s = self.signatories.get(id).ok_or_else(|| format!("signatory {id} was never registered"))?;
        match &s.revoked {
            Some(reason) => Err(format!("signatory {id} was revoked ({reason})")),
            None => Ok(s),
        }
    }

    /// A strict Ed25519 key (§6.1) no signatory has held before.
    fn new_key(&self, b: &Map<String, Value>, name: &str) -> Result<String, String> {
        let key = hex_field(b, name, 32)?;
        hiwar_crypto::signing::public_key("signatory key", &key_bytes(&key)).map_err(|e| e.to_string())?;
        if self.keys.contains(&key) {
            return Err(format!("the key {} was already registered", &key[..16]));
        }
        Ok(key)
    }

    /// `declaration` and `version` of a body, naming a version that was drafted.
    fn version_of(&self, b: &Map<String, Value>) -> Result<(String, u64), String> {
        let declaration = id(b, "declaration")?;
        let version = uint(b, "version")?;
        let entry = self
            .declarations
            .get(&declaration)
            .ok_or_else(|| format!("declaration {declaration} was never drafted"))?;
        entry.version(version).ok_or_else(|| format!("declaration {declaration} has no version {version}"))?;
        Ok((declaration, version))
    }

    fn version_mut(&mut self, declaration: &str, version: u64) -> &mut Version {
        let entry = self.declarations.get_mut(declaration).expect("checked by version_of");
        &mut entry.versions[version as usize - 1]
    }

    /// The signatory a member registered, if any.
    pub fn signatory_of_member(&self, member: &str) -> Option<&Signatory> {
        self.members.get(member).and_then(|s| self.signatories.get(s))
    }

    /// Whether a signature counts now: not withdrawn, and its signatory not revoked.
    pub fn counts(&self, signing: &Signing) -> bool {
        signing.withdrawn.is_none() && self.signatories.get(&signing.signatory).is_some_and(|s| s.revoked.is_none())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::{bilingual, body as events};
    use hiwar_crypto::signing::Signer25519;

    const D: &str = "d-test";
    const T: &str = "2026-12-03T10:00:00Z";

    struct World {
        state: State,
        decl: Declarations,
        seq: u64,
    }

    impl World {
        fn new() -> World {
            let mut state = State::default();
            let created = crate::events::tests::created();
            state.apply(0, "dialogue.created", &created).unwrap();
            state.apply(1, "member.joined", &events::member_joined("m-c", "Convener", "convener", None)).unwrap();
            state.apply(2, "codes.issued", &events::codes_issued("b-org", ORGANISATION_ROLE, 3)).unwrap();
            state.apply(3, "codes.issued", &events::codes_issued("b-p", "participant", 3)).unwrap();
            state.apply(4, "member.joined", &events::member_joined("m-p", "P", "participant", Some("b-p"))).unwrap();
            World { state, decl: Declarations::default(), seq: 5 }
        }

        fn apply_at(&mut self, time: &str, kind: &str, body: &Value) -> Result<(), Failure> {
            let out = self.decl.apply(D, self.seq, time, kind, body, &mut self.state);
            self.seq += 1;
            out
        }

        fn apply(&mut self, kind: &str, body: &Value) -> Result<(), Failure> {
            self.apply_at(T, kind, body)
        }
    }

    fn signer(n: u8) -> Signer25519 {
        Signer25519::from_seed(&[n; 32])
    }

    fn registration(s: &Signer25519, id: &str, kind: &str, batch: Option<&str>, member: Option<&str>) -> Value {
        let name = if kind == "member" { bilingual("P", "P") } else { bilingual(&format!("منظمة {id}"), id) };
        let key = hex::encode(s.public());
        let sig = hex::encode(s.sign(&registration_message(D, id, &name, kind, "inside", &key)));
        body::signatory_registered(id, &name, kind, "inside", &key, batch, member, &sig)
    }

    fn draft(w: &mut World, version: u64, text: &str) -> String {
        let (title, text) = (bilingual("بيان", "Statement"), bilingual("نص", text));
        let hash = hex::encode(version_hash(D, "dec-1", version, &title, &text));
        w.apply("declaration.drafted", &body::declaration_drafted("dec-1", version, &title, &text, &hash, "m-c"))
            .unwrap();
        hash
    }

    fn signature(s: &Signer25519, id: &str, version: u64, hash: &str) -> Value {
        let sig = hex::encode(s.sign(&signature_message(D, "dec-1", version, hash)));
        body::declaration_signed("dec-1", version, id, &hex::encode(s.public()), &sig)
    }

    fn check(r: Result<(), Failure>, check: &str, words: &str) {
        let (c, detail) = r.unwrap_err();
        assert_eq!(c, check, "{detail}");
        assert!(detail.contains(words), "{detail:?} lacks {words:?}");
    }

    #[test]
    fn a_signatory_registers_its_own_key_through_an_organisation_invitation_or_as_a_member() {
        let mut w = World::new();
        let a = signer(1);
        w.apply("signatory.registered", &registration(&a, "org-a", "ngo", Some("b-org"), None)).unwrap();
        // Registered twice; the same key again; a key whose holder did not sign.
        check(
            w.apply("signatory.registered", &registration(&signer(2), "org-a", "ngo", Some("b-org"), None)),
            "D1",
            "already registered",
        );
        check(
            w.apply("signatory.registered", &registration(&a, "org-b", "ngo", Some("b-org"), None)),
            "D1",
            "already registered",
        );
        let mut stolen = registration(&signer(3), "org-c", "ngo", Some("b-org"), None);
        stolen["key"] = json!(hex::encode(signer(4).public()));
        check(w.apply("signatory.registered", &stolen), "D1", "does not verify");
        // Another role's invitation; an invitation never issued; too many registrations.
        check(
            w.apply("signatory.registered", &registration(&signer(5), "org-d", "ngo", Some("b-p"), None)),
            "D1",
            "grants participant",
        );
        check(
            w.apply("signatory.registered", &registration(&signer(5), "org-d", "ngo", Some("b-x"), None)),
            "D1",
            "never issued",
        );
        // A member, once, and only a member who joined.
        w.apply("signatory.registered", &registration(&signer(6), "s-p", "member", None, Some("m-p"))).unwrap();
        check(
            w.apply("signatory.registered", &registration(&signer(7), "s-p2", "member", None, Some("m-p"))),
            "D1",
            "already has",
        );
        check(
            w.apply("signatory.registered", &registration(&signer(7), "s-x", "member", None, Some("m-x"))),
            "D1",
            "never joined",
        );
        check(
            w.apply("signatory.registered", &registration(&signer(7), "s-y", "member", Some("b-org"), None)),
            "D1",
            "member set",
        );
        // A name with a direction override (it could make one name read as another's).
        let s = signer(8);
        let name = bilingual("منظمة", "Free \u{202E}gro");
        let key = hex::encode(s.public());
        let sig = hex::encode(s.sign(&registration_message(D, "org-e", &name, "ngo", "inside", &key)));
        let body = body::signatory_registered("org-e", &name, "ngo", "inside", &key, Some("b-org"), None, &sig);
        check(w.apply("signatory.registered", &body), "D1", "U+202E");
        // A small-order key is refused before anything else.
        let mut weak = registration(&signer(9), "org-f", "ngo", Some("b-org"), None);
        weak["key"] = json!(format!("01{}", "00".repeat(31)));
        check(w.apply("signatory.registered", &weak), "D1", "signatory key");
        // Another organisation under the same name (in either language, any case).
        let s13 = signer(13);
        let (name, key) = (bilingual("أخرى", "ORG-A"), hex::encode(s13.public()));
        let sig = hex::encode(s13.sign(&registration_message(D, "org-z", &name, "ngo", "inside", &key)));
        let twin = body::signatory_registered("org-z", &name, "ngo", "inside", &key, Some("b-org"), None, &sig);
        check(w.apply("signatory.registered", &twin), "D1", "already goes by that name");
        // A member's key under another name than their pseudonym.
        let s15 = signer(15);
        let (name, key) = (bilingual("P", "P"), hex::encode(s15.public()));
        let sig = hex::encode(s15.sign(&registration_message(D, "s-r", &name, "member", "inside", &key)));
        let other = body::signatory_registered("s-r", &name, "member", "inside", &key, None, Some("m-c"), &sig);
        check(w.apply("signatory.registered", &other), "D1", "pseudonym");
        let s14 = signer(14);
        let (name, key) = (bilingual("Convener", "Convener"), hex::encode(s14.public()));
        let sig = hex::encode(s14.sign(&registration_message(D, "s-q", &name, "member", "inside", &key)));
        let posing = body::signatory_registered("s-q", &name, "member", "inside", &key, None, Some("m-c"), &sig);
        w.apply("signatory.registered", &posing).unwrap();
        w.apply("signatory.registered", &registration(&signer(10), "org-g", "party", Some("b-org"), None)).unwrap();
        w.apply("signatory.registered", &registration(&signer(11), "org-h", "party", Some("b-org"), None)).unwrap();
        check(
            w.apply("signatory.registered", &registration(&signer(12), "org-i", "party", Some("b-org"), None)),
            "D1",
            "exceeds 3 issued",
        );
    }

    #[test]
    fn a_key_changes_only_by_its_own_signature_or_a_convener_and_a_revoked_signatory_signs_nothing() {
        let mut w = World::new();
        let (old, new) = (signer(1), signer(2));
        w.apply("signatory.registered", &registration(&old, "org-a", "ngo", Some("b-org"), None)).unwrap();
        let new_key = hex::encode(new.public());
        let forged = hex::encode(new.sign(&rotation_message(D, "org-a", &new_key, "lost")));
        check(
            w.apply(
                "signatory.key_rotated",
                &body::signatory_key_rotated("org-a", &new_key, "lost", None, Some(&forged)),
            ),
            "D1",
            "does not verify",
        );
        check(
            w.apply(
                "signatory.key_rotated",
                &body::signatory_key_rotated("org-a", &new_key, "lost", Some("m-p"), None),
            ),
            "D1",
            "not a convener",
        );
        check(
            w.apply("signatory.key_rotated", &body::signatory_key_rotated("org-a", &new_key, "lost", None, None)),
            "D1",
            "exactly one",
        );
        let own = hex::encode(old.sign(&rotation_message(D, "org-a", &new_key, "lost")));
        w.apply("signatory.key_rotated", &body::signatory_key_rotated("org-a", &new_key, "lost", None, Some(&own)))
            .unwrap();
        assert_eq!(w.decl.signatories["org-a"].key, new_key);
        // The old key is spent for good.
        check(
            w.apply(
                "signatory.key_rotated",
                &body::signatory_key_rotated("org-a", &hex::encode(old.public()), "back", Some("m-c"), None),
            ),
            "D1",
            "already registered",
        );
        let hash = draft(&mut w, 1, "text");
        w.apply("declaration.opened", &body::declaration_opened("dec-1", 1, "2026-12-31T00:00:00Z", "m-c")).unwrap();
        check(
            w.apply("declaration.signed", &signature(&old, "org-a", 1, &hash)),
            "D3",
            "not signatory org-a's current key",
        );
        w.apply("signatory.revoked", &body::signatory_revoked("org-a", "compromised", Some("m-c"), None)).unwrap();
        check(w.apply("declaration.signed", &signature(&new, "org-a", 1, &hash)), "D3", "revoked");
        check(
            w.apply("signatory.revoked", &body::signatory_revoked("org-a", "again", Some("m-c"), None)),
            "D1",
            "revoked",
        );
    }

    #[test]
    fn a_signature_counts_for_one_version_while_signing_is_open_once_per_signatory() {
        let mut w = World::new();
        let (a, b) = (signer(1), signer(2));
        w.apply("signatory.registered", &registration(&a, "org-a", "ngo", Some("b-org"), None)).unwrap();
        w.apply("signatory.registered", &registration(&b, "org-b", "union", Some("b-org"), None)).unwrap();
        let h1 = draft(&mut w, 1, "first");
        check(w.apply("declaration.signed", &signature(&a, "org-a", 1, &h1)), "D3", "not open");
        // Only a convener opens, only a drafted version, only until a later time.
        check(
            w.apply("declaration.opened", &body::declaration_opened("dec-1", 1, "2026-12-31T00:00:00Z", "m-p")),
            "D2",
            "not a convener",
        );
        check(
            w.apply("declaration.opened", &body::declaration_opened("dec-1", 2, "2026-12-31T00:00:00Z", "m-c")),
            "D2",
            "no version 2",
        );
        check(
            w.apply("declaration.opened", &body::declaration_opened("dec-1", 1, "2026-12-01T00:00:00Z", "m-c")),
            "D2",
            "not after",
        );
        w.apply("declaration.opened", &body::declaration_opened("dec-1", 1, "2026-12-31T00:00:00Z", "m-c")).unwrap();
        w.apply("declaration.signed", &signature(&a, "org-a", 1, &h1)).unwrap();
        check(w.apply("declaration.signed", &signature(&a, "org-a", 1, &h1)), "D3", "already signed");
        // A signature over another text, by another key than the one named, after the deadline.
        let other =
            hex::encode(version_hash(D, "dec-1", 1, &bilingual("بيان", "Statement"), &bilingual("نص", "changed")));
        check(w.apply("declaration.signed", &signature(&b, "org-b", 1, &other)), "D3", "does not verify");
        let mut wrong_key = signature(&b, "org-b", 1, &h1);
        wrong_key["key"] = json!(hex::encode(a.public()));
        check(w.apply("declaration.signed", &wrong_key), "D3", "current key");
        check(
            w.apply_at("2026-12-31T00:00:01Z", "declaration.signed", &signature(&b, "org-b", 1, &h1)),
            "D3",
            "after signing closed",
        );
        check(w.apply("declaration.signed", &signature(&signer(9), "org-z", 1, &h1)), "D3", "never registered");
        // A new version does not carry the signatures over; the old one is no longer open.
        let h2 = draft(&mut w, 2, "second");
        w.apply("declaration.opened", &body::declaration_opened("dec-1", 2, "2026-12-31T00:00:00Z", "m-c")).unwrap();
        check(w.apply("declaration.signed", &signature(&b, "org-b", 1, &h1)), "D3", "not open");
        check(w.apply("declaration.signed", &signature(&b, "org-b", 2, &h1)), "D3", "does not verify");
        w.apply("declaration.signed", &signature(&b, "org-b", 2, &h2)).unwrap();
        let d = &w.decl.declarations["dec-1"];
        assert_eq!((d.versions[0].signatures.len(), d.versions[1].signatures.len()), (1, 1));
        // Withdrawal: by the signatory's own key, of a standing signature, recorded.
        let withdraw = |s: &Signer25519, id: &str, v: u64, hash: &str| {
            let sig = hex::encode(s.sign(&withdrawal_message(D, "dec-1", v, hash, "changed our mind")));
            body::declaration_withdrawn("dec-1", v, id, "changed our mind", &sig)
        };
        check(w.apply("declaration.withdrawn", &withdraw(&b, "org-a", 1, &h1)), "D3", "does not verify");
        check(w.apply("declaration.withdrawn", &withdraw(&a, "org-a", 2, &h2)), "D3", "no standing signature");
        w.apply("declaration.withdrawn", &withdraw(&a, "org-a", 1, &h1)).unwrap();
        check(w.apply("declaration.withdrawn", &withdraw(&a, "org-a", 1, &h1)), "D3", "no standing signature");
        let signing = &w.decl.declarations["dec-1"].versions[0].signatures[0];
        assert!(signing.withdrawn.is_some() && !w.decl.counts(signing));
    }

    #[test]
    fn a_version_is_numbered_in_order_and_its_hash_is_its_text() {
        let mut w = World::new();
        let (title, text) = (bilingual("بيان", "Statement"), bilingual("نص", "text"));
        let hash = hex::encode(version_hash(D, "dec-1", 1, &title, &text));
        check(
            w.apply("declaration.drafted", &body::declaration_drafted("dec-1", 2, &title, &text, &hash, "m-c")),
            "D2",
            "expected 1",
        );
        check(
            w.apply(
                "declaration.drafted",
                &body::declaration_drafted("dec-1", 1, &title, &bilingual("نص", "other"), &hash, "m-c"),
            ),
            "D2",
            "hashes to",
        );
        check(
            w.apply("declaration.drafted", &body::declaration_drafted("dec-1", 1, &title, &text, &hash, "m-x")),
            "D2",
            "not a member",
        );
        let empty = bilingual("", "text");
        check(
            w.apply("declaration.drafted", &body::declaration_drafted("dec-1", 1, &title, &empty, &hash, "m-c")),
            "D2",
            "text.ar",
        );
        let long = bilingual(&"ن".repeat(MAX_TEXT_CHARS + 1), "text");
        check(
            w.apply("declaration.drafted", &body::declaration_drafted("dec-1", 1, &title, &long, &hash, "m-c")),
            "D2",
            "characters",
        );
        let overridden = bilingual("نص", "text \u{202D}evil");
        check(
            w.apply("declaration.drafted", &body::declaration_drafted("dec-1", 1, &title, &overridden, &hash, "m-c")),
            "D2",
            "U+202D",
        );
        // Isolates are how mixed-direction text is written: allowed in texts.
        let isolated = bilingual("نص \u{2068}ABC\u{2069}", "text");
        let h = hex::encode(version_hash(D, "dec-1", 1, &title, &isolated));
        w.apply("declaration.drafted", &body::declaration_drafted("dec-1", 1, &title, &isolated, &h, "m-c")).unwrap();
        // Another dialogue's hash of the same text differs (no replay across dialogues).
        assert_ne!(
            version_hash("d-other", "dec-1", 1, &title, &isolated),
            version_hash(D, "dec-1", 1, &title, &isolated)
        );
        // No time, no check.
        let out = w.decl.apply(D, 99, "", "declaration.opened", &json!({}), &mut w.state);
        assert!(out.unwrap_err().1.contains("time"));
    }
}
