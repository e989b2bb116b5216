//! The event kinds of the record, the shape of each body, and the rules that tie
//! events together (a role is granted only to a member who joined; a batch of
//! invitations seats at most as many members as it announced). `docs/record-spec.md` §4.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Map, Value};

/// Roles a member can hold in a dialogue (DESIGN §2).
pub const ROLES: [&str; 5] = ["convener", "participant", "delegate", "trustee", "observer"];
/// What an invitation batch can grant: a member's role, or an organisation's
/// registration as a signatory (`signatory.registered`, §10).
pub const INVITED_ROLES: [&str; 6] = ["convener", "participant", "delegate", "trustee", "observer", "organisation"];
/// Kinds of phase a dialogue can move through.
pub const PHASE_KINDS: [&str; 6] = ["registration", "selection", "deliberation", "decision", "declaration", "closed"];

/// A bilingual text as it appears in the record: `{"ar": …, "en": …}`.
pub fn bilingual(ar: &str, en: &str) -> Value {
    json!({"ar": ar, "en": en})
}

/// Event bodies the platform writes. Each constructor is the one place a body's shape
/// is defined; [`State::apply`] is the one place it is checked.
pub mod body {
    use super::*;

    pub fn dialogue_created(title: &Value, description: &Value, public_key_hex: &str) -> Value {
        json!({"title": title, "description": description, "public_key": public_key_hex})
    }
    pub fn phase_added(index: u64, kind: &str, name: &Value, starts: &str, ends: &str) -> Value {
        json!({"index": index, "kind": kind, "name": name, "starts": starts, "ends": ends})
    }
    pub fn phase_changed(index: Option<u64>) -> Value {
        json!({ "index": index })
    }
    pub fn codes_issued(batch: &str, role: &str, count: u64) -> Value {
        json!({"batch": batch, "role": role, "count": count})
    }
    pub fn codes_revoked(batch: &str, count: u64) -> Value {
        json!({"batch": batch, "count": count})
    }
    pub fn member_joined(member: &str, pseudonym: &str, role: &str, batch: Option<&str>) -> Value {
        json!({"member": member, "pseudonym": pseudonym, "role": role, "batch": batch})
    }
    pub fn role_changed(member: &str, role: &str, by: &str) -> Value {
        json!({"member": member, "role": role, "by": by})
    }
    /// A statement put to the deliberation (its author is not published).
    /// The record carries the statement's salted digest, not its text (see
    /// [`statement_digest`]), so a text can later be redacted without breaking the chain.
    pub fn statement_posted(statement: &str, digest: &[u8; 32]) -> Value {
        json!({"statement": statement, "digest": hex::encode(digest)})
    }
    /// A convener removes a statement's text for good (it stays hidden), with a public reason.
    pub fn statement_redacted(statement: &str, reason: &str, by: &str) -> Value {
        json!({"statement": statement, "reason": reason, "by": by})
    }
    /// A convener hides or restores a statement, giving the reason publicly.
    pub fn statement_moderated(statement: &str, hidden: bool, reason: &str, by: &str) -> Value {
        json!({"statement": statement, "hidden": hidden, "reason": reason, "by": by})
    }
    /// A statement put forward for the dialogue's agenda (its author is not published).
    pub fn agenda_proposed(statement: &str) -> Value {
        json!({ "statement": statement })
    }
    /// A convener adopts or rejects an agenda item, giving the reason publicly.
    pub fn agenda_decided(statement: &str, adopted: bool, reason: &str, by: &str) -> Value {
        json!({"statement": statement, "adopted": adopted, "reason": reason, "by": by})
    }
    /// Vote counts per statement at a moment (never who voted what): `(statement, agree, disagree, pass)`.
    pub fn votes_tallied(counts: &[(String, u64, u64, u64)]) -> Value {
        let statements: Vec<Value> =
            counts.iter().map(|(s, a, d, p)| json!({"statement": s, "agree": a, "disagree": d, "pass": p})).collect();
        json!({ "statements": statements })
    }
}

/// Longest statement, in characters.
pub const MAX_STATEMENT_CHARS: usize = 280;

/// `SHA-256("hiwar/v1/statement\n" ‖ salt ‖ text)`: what the record holds of a
/// statement. The server publishes the text and the 16-byte salt beside the record
/// (`/dialogues/{id}/statements.json`); anyone can check that they match (check T1).
/// The random salt keeps a short text — a phone number — from being found by trying
/// every candidate against the digest once the text has been redacted.
pub fn statement_digest(salt: &[u8; 16], text: &str) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    Sha256::new()
        .chain_update(b"hiwar/v1/statement\n")
        .chain_update(salt)
        .chain_update(text.as_bytes())
        .finalize()
        .into()
}

/// A convener's decision on an agenda item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgendaDecision {
    pub adopted: bool,
    pub reason: String,
    /// The convener (member id).
    pub by: String,
}

/// An issued batch of invitations, as [`State::batch`] reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Batch<'a> {
    pub role: &'a str,
    pub count: u64,
    /// Joins plus revocations so far.
    pub used: u64,
    /// The number of batches issued before this one.
    pub order: u64,
}

/// Check T1: the statement texts served beside the record (`statements.json`: a list
/// `statements` of `{"statement", "text", "salt"}` or, for a redacted one,
/// `{"statement", "redacted": reason}`) against the record's `(id, digest, redacted)`.
/// Returns how many texts were checked.
pub fn check_statement_texts(record: &[(String, String, bool)], served: &Value) -> Result<usize, String> {
    let list = served["statements"].as_array().ok_or("statements.json has no list \"statements\"")?;
    let mut by_id: BTreeMap<&str, &Map<String, Value>> = BTreeMap::new();
    for entry in list {
        let e = entry.as_object().ok_or("a statement entry is not an object")?;
        let id = e.get("statement").and_then(Value::as_str).ok_or("a statement entry has no id")?;
        if by_id.insert(id, e).is_some() {
            return Err(format!("statement {id} is served twice"));
        }
    }
    let mut checked = 0;
    for (id, digest, redacted) in record {
        let e = by_id.remove(id.as_str()).ok_or_else(|| format!("statement {id} is in the record but not served"))?;
        if *redacted {
            if e.contains_key("text") {
                return Err(format!("statement {id} was redacted, but its text is still served"));
            }
            continue;
        }
        let text = e.get("text").and_then(Value::as_str).ok_or_else(|| format!("statement {id}: no text served"))?;
        let salt: [u8; 16] = e
            .get("salt")
            .and_then(Value::as_str)
            .and_then(|s| hex::decode(s).ok())
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| format!("statement {id}: the salt is not 16 bytes of hex"))?;
        if hex::encode(statement_digest(&salt, text)) != *digest {
            return Err(format!("statement {id}: the served text is not the one the record committed to"));
        }
        checked += 1;
    }
    if let Some(extra) = by_id.keys().next() {
        return Err(format!("statement {extra} is served but not in the record"));
    }
    Ok(checked)
}

/// What the events so far have established; each new event is checked against it.
#[derive(Debug, Default, Clone)]
pub struct State {
    pub public_key: Option<String>,
    pub phases: u64,
    /// member id → (pseudonym, roles)
    pub members: BTreeMap<String, (String, BTreeSet<String>)>,
    pseudonyms: BTreeSet<String>,
    /// batch id → (issued, joined, revoked)
    batches: BTreeMap<String, (u64, u64, u64)>,
    /// batch id → role its invitations grant
    batch_roles: BTreeMap<String, String>,
    /// batch id → how many batches were issued before it
    batch_order: BTreeMap<String, u64>,
    /// statement id → (hidden, digest)
    statements: BTreeMap<String, (bool, String)>,
    /// statements whose text was removed
    redacted: BTreeSet<String>,
    /// statement proposed for the agenda → the conveners' latest decision on it, if any
    pub agenda: BTreeMap<String, Option<AgendaDecision>>,
}

impl State {
    /// Each posted statement's digest, and whether its text was redacted.
    pub fn statement_digests(&self) -> impl Iterator<Item = (&str, &str, bool)> {
        self.statements.iter().map(|(id, (_, digest))| (id.as_str(), digest.as_str(), self.redacted.contains(id)))
    }

    /// An issued batch: its role, size, how many of its invitations were used or
    /// revoked so far, and its place among the batches issued.
    pub fn batch(&self, id: &str) -> Option<Batch<'_>> {
        let (count, joined, revoked) = *self.batches.get(id)?;
        Some(Batch { role: self.batch_roles.get(id)?, count, used: joined + revoked, order: self.batch_order[id] })
    }

    /// Whether `member` joined and holds the role `convener` now.
    pub fn is_convener(&self, member: &str) -> bool {
        self.members.get(member).is_some_and(|(_, roles)| roles.contains("convener"))
    }

    /// Counts one invitation of `batch` as used by someone joining (or, for
    /// organisations, registering) as `role`.
    pub(crate) fn use_invitation(&mut self, batch: &str, role: &str) -> Result<(), String> {
        let entry = self.batches.get_mut(batch).ok_or_else(|| format!("batch {batch} was never issued"))?;
        let granted = &self.batch_roles[batch];
        if granted != role {
            // Otherwise a writer could seat a convener through participant invitations.
            return Err(format!("batch {batch} grants {granted}, but was used as {role}"));
        }
        if entry.1 + entry.2 >= entry.0 {
            return Err(format!(
                "batch {batch}: {} joined + {} revoked exceeds {} issued",
                entry.1 + 1,
                entry.2,
                entry.0
            ));
        }
        entry.1 += 1;
        Ok(())
    }

    /// How many batches have been issued so far.
    pub fn batches_issued(&self) -> u64 {
        self.batches.len() as u64
    }

    /// Checks `body` against the schema of `kind` and the state so far, then applies it.
    /// The error names the field or rule that failed.
    pub fn apply(&mut self, seq: u64, kind: &str, body: &Value) -> Result<(), String> {
        if seq == 0 && kind != "dialogue.created" {
            return Err(format!("the first event must be dialogue.created, not {kind}"));
        }
        match kind {
            "dialogue.created" => {
                if seq != 0 {
                    return Err("dialogue.created may only be the first event".into());
                }
                let b = fields(body, &["title", "description", "public_key"])?;
                text_pair(b, "title")?;
                text_pair(b, "description")?;
                self.public_key = Some(hex_field(b, "public_key", 32)?);
            }
            "phase.added" => {
                let b = fields(body, &["index", "kind", "name", "starts", "ends"])?;
                let index = uint(b, "index")?;
                if index != self.phases {
                    return Err(format!("phase index {index}, expected {}", self.phases));
                }
                one_of(b, "kind", &PHASE_KINDS)?;
                text_pair(b, "name")?;
                let starts = date(b, "starts")?;
                let ends = date(b, "ends")?;
                if ends < starts {
                    return Err(format!("phase ends {ends} before it starts {starts}"));
                }
                self.phases += 1;
            }
            "phase.changed" => {
                let b = fields(body, &["index"])?;
                if !b["index"].is_null() {
                    let index = uint(b, "index")?;
                    if index >= self.phases {
                        return Err(format!("phase index {index} was never added"));
                    }
                }
            }
            "codes.issued" => {
                let b = fields(body, &["batch", "role", "count"])?;
                let batch = id(b, "batch")?;
                let role = one_of(b, "role", &INVITED_ROLES)?;
                let count = uint(b, "count")?;
                if count == 0 {
                    return Err("count must be at least 1".into());
                }
                if self.batches.contains_key(&batch) {
                    return Err(format!("batch {batch} was already issued"));
                }
                self.batch_order.insert(batch.clone(), self.batches.len() as u64);
                self.batches.insert(batch.clone(), (count, 0, 0));
                self.batch_roles.insert(batch, role);
            }
            "codes.revoked" => {
                let b = fields(body, &["batch", "count"])?;
                let batch = id(b, "batch")?;
                let count = uint(b, "count")?;
                let entry = self.batches.get_mut(&batch).ok_or_else(|| format!("batch {batch} was never issued"))?;
                entry.2 += count;
                if entry.1 + entry.2 > entry.0 {
                    return Err(format!(
                        "batch {batch}: {} joined + {} revoked exceeds {} issued",
                        entry.1, entry.2, entry.0
                    ));
                }
            }
            "member.joined" => {
                let b = fields(body, &["member", "pseudonym", "role", "batch"])?;
                let member = id(b, "member")?;
                let pseudonym = text(b, "pseudonym", 1, 40)?;
                let role = one_of(b, "role", &ROLES)?;
                if b["batch"].is_null() {
                    // Only the convener who created the dialogue joins without an invitation.
                    if !self.members.is_empty() || role != "convener" {
                        return Err("only the creating convener joins without a batch".into());
                    }
                } else {
                    self.use_invitation(&id(b, "batch")?, &role)?;
                }
                if self.members.contains_key(&member) {
                    return Err(format!("member {member} joined twice"));
                }
                if !self.pseudonyms.insert(pseudonym.to_lowercase()) {
                    return Err(format!("pseudonym {pseudonym:?} is already taken"));
                }
                self.members.insert(member, (pseudonym, BTreeSet::from([role])));
            }
            "role.granted" | "role.revoked" => {
                let b = fields(body, &["member", "role", "by"])?;
                let member = id(b, "member")?;
                let role = one_of(b, "role", &ROLES)?;
                let by = id(b, "by")?;
                let by_is_convener = self.is_convener(&by);
                if !by_is_convener {
                    return Err(format!("{by} is not a convener of this dialogue"));
                }
                let roles =
                    &mut self.members.get_mut(&member).ok_or_else(|| format!("member {member} never joined"))?.1;
                let changed = if kind == "role.granted" { roles.insert(role.clone()) } else { roles.remove(&role) };
                if !changed {
                    return Err(format!("{kind} {role} for {member} changes nothing"));
                }
            }
            "statement.posted" => {
                let b = fields(body, &["statement", "digest"])?;
                let statement = id(b, "statement")?;
                let digest = hex_field(b, "digest", 32)?;
                if self.statements.insert(statement.clone(), (false, digest)).is_some() {
                    return Err(format!("statement {statement} was already posted"));
                }
            }
            "statement.redacted" => {
                let b = fields(body, &["statement", "reason", "by"])?;
                let statement = id(b, "statement")?;
                text(b, "reason", 1, 500)?;
                let by = id(b, "by")?;
                if !self.is_convener(&by) {
                    return Err(format!("{by} is not a convener of this dialogue"));
                }
                let (hidden, _) = self
                    .statements
                    .get_mut(&statement)
                    .ok_or_else(|| format!("statement {statement} was never posted"))?;
                // A redacted statement is hidden for good.
                *hidden = true;
                if !self.redacted.insert(statement.clone()) {
                    return Err(format!("statement {statement} was already redacted"));
                }
            }
            "statement.moderated" => {
                let b = fields(body, &["statement", "hidden", "reason", "by"])?;
                let statement = id(b, "statement")?;
                let hidden = b["hidden"].as_bool().ok_or("hidden is not true or false")?;
                text(b, "reason", 1, 500)?;
                let by = id(b, "by")?;
                if !self.is_convener(&by) {
                    return Err(format!("{by} is not a convener of this dialogue"));
                }
                let (state, _) = self
                    .statements
                    .get_mut(&statement)
                    .ok_or_else(|| format!("statement {statement} was never posted"))?;
                if *state == hidden {
                    return Err(format!("statement.moderated for {statement} changes nothing"));
                }
                if self.redacted.contains(&statement) {
                    return Err(format!("statement {statement} was redacted and stays hidden"));
                }
                *state = hidden;
            }
            "votes.tallied" => {
                let b = fields(body, &["statements"])?;
                let list = b["statements"].as_array().ok_or("statements is not a list")?;
                let mut seen = BTreeSet::new();
                for entry in list {
                    let e = fields(entry, &["statement", "agree", "disagree", "pass"])?;
                    let statement = id(e, "statement")?;
                    if !self.statements.contains_key(&statement) {
                        return Err(format!("statement {statement} was never posted"));
                    }
                    if !seen.insert(statement.clone()) {
                        return Err(format!("statement {statement} is tallied twice"));
                    }
                    for count in ["agree", "disagree", "pass"] {
                        uint(e, count)?;
                    }
                }
            }
            "agenda.proposed" => {
                let b = fields(body, &["statement"])?;
                let statement = id(b, "statement")?;
                if !self.statements.contains_key(&statement) {
                    return Err(format!("statement {statement} was never posted"));
                }
                if self.agenda.contains_key(&statement) {
                    return Err(format!("statement {statement} was already proposed for the agenda"));
                }
                self.agenda.insert(statement, None);
            }
            "agenda.decided" => {
                let b = fields(body, &["statement", "adopted", "reason", "by"])?;
                let statement = id(b, "statement")?;
                let adopted = b["adopted"].as_bool().ok_or("adopted is not true or false")?;
                let reason = text(b, "reason", 1, 500)?;
                let by = id(b, "by")?;
                if !self.is_convener(&by) {
                    return Err(format!("{by} is not a convener of this dialogue"));
                }
                let decision = self
                    .agenda
                    .get_mut(&statement)
                    .ok_or_else(|| format!("statement {statement} was never proposed for the agenda"))?;
                if decision.as_ref().is_some_and(|d| d.adopted == adopted) {
                    return Err(format!("agenda.decided for {statement} changes nothing"));
                }
                *decision = Some(AgendaDecision { adopted, reason, by });
            }
            other => return Err(format!("unknown event kind {other:?}")),
        }
        Ok(())
    }
}

pub(crate) fn fields<'a>(body: &'a Value, names: &[&str]) -> Result<&'a Map<String, Value>, String> {
    let map = body.as_object().ok_or_else(|| "body is not an object".to_string())?;
    for name in names {
        if !map.contains_key(*name) {
            return Err(format!("body lacks field {name:?}"));
        }
    }
    if let Some(extra) = map.keys().find(|k| !names.contains(&k.as_str())) {
        return Err(format!("body has unexpected field {extra:?}"));
    }
    Ok(map)
}

pub(crate) fn text(b: &Map<String, Value>, name: &str, min: usize, max: usize) -> Result<String, String> {
    let s = b[name].as_str().ok_or_else(|| format!("{name} is not a string"))?;
    let n = s.chars().count();
    if n < min || n > max {
        return Err(format!("{name} has {n} characters, allowed {min}..={max}"));
    }
    Ok(s.to_string())
}

fn text_pair(b: &Map<String, Value>, name: &str) -> Result<(), String> {
    let pair = b[name].as_object().ok_or_else(|| format!("{name} is not an object"))?;
    for lang in ["ar", "en"] {
        if !pair.get(lang).is_some_and(Value::is_string) {
            return Err(format!("{name}.{lang} is missing or not a string"));
        }
    }
    if pair.len() != 2 {
        return Err(format!("{name} has fields other than ar and en"));
    }
    Ok(())
}

pub(crate) fn uint(b: &Map<String, Value>, name: &str) -> Result<u64, String> {
    b[name].as_u64().ok_or_else(|| format!("{name} is not a non-negative integer"))
}

pub(crate) fn id(b: &Map<String, Value>, name: &str) -> Result<String, String> {
    let s = text(b, name, 1, 64)?;
    if !s.bytes().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-') {
        return Err(format!("{name} {s:?} is not an id (a-z, 0-9, -)"));
    }
    Ok(s)
}

pub(crate) fn one_of(b: &Map<String, Value>, name: &str, allowed: &[&str]) -> Result<String, String> {
    let s = text(b, name, 1, 64)?;
    if !allowed.contains(&s.as_str()) {
        return Err(format!("{name} {s:?} is not one of {allowed:?}"));
    }
    Ok(s)
}

/// Lowercase hex of exactly `bytes` bytes.
pub fn hex_field(b: &Map<String, Value>, name: &str, bytes: usize) -> Result<String, String> {
    let s = text(b, name, 0, 4 * bytes)?;
    if s.len() != 2 * bytes || !s.bytes().all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c)) {
        return Err(format!("{name} is not {} lowercase hex digits", 2 * bytes));
    }
    Ok(s)
}

fn date(b: &Map<String, Value>, name: &str) -> Result<String, String> {
    let s = text(b, name, 10, 10)?;
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(&s, format).map_err(|_| format!("{name} {s:?} is not a date YYYY-MM-DD"))?;
    Ok(s)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn created() -> Value {
        body::dialogue_created(&bilingual("ع", "t"), &bilingual("و", "d"), &"ab".repeat(32))
    }

    #[test]
    fn a_batch_cannot_seat_more_members_than_it_announced() {
        let mut s = State::default();
        s.apply(0, "dialogue.created", &created()).unwrap();
        s.apply(1, "member.joined", &body::member_joined("m-a", "A", "convener", None)).unwrap();
        s.apply(2, "codes.issued", &body::codes_issued("b-1", "participant", 1)).unwrap();
        s.apply(3, "member.joined", &body::member_joined("m-b", "B", "participant", Some("b-1"))).unwrap();
        let err =
            s.apply(4, "member.joined", &body::member_joined("m-c", "C", "participant", Some("b-1"))).unwrap_err();
        assert!(err.contains("exceeds 1 issued"), "{err}");
    }

    #[test]
    fn only_conveners_grant_roles_and_only_to_members() {
        let mut s = State::default();
        s.apply(0, "dialogue.created", &created()).unwrap();
        s.apply(1, "member.joined", &body::member_joined("m-a", "A", "convener", None)).unwrap();
        s.apply(2, "codes.issued", &body::codes_issued("b-1", "participant", 5)).unwrap();
        let err = s.apply(3, "member.joined", &body::member_joined("m-x", "X", "convener", Some("b-1"))).unwrap_err();
        assert!(err.contains("grants participant"), "a convener seated through participant invitations: {err}");
        s.apply(3, "member.joined", &body::member_joined("m-b", "B", "participant", Some("b-1"))).unwrap();
        assert!(s
            .apply(4, "role.granted", &body::role_changed("m-b", "delegate", "m-b"))
            .unwrap_err()
            .contains("not a convener"));
        assert!(s
            .apply(4, "role.granted", &body::role_changed("m-z", "delegate", "m-a"))
            .unwrap_err()
            .contains("never joined"));
        s.apply(4, "role.granted", &body::role_changed("m-b", "delegate", "m-a")).unwrap();
        assert!(s
            .apply(5, "member.joined", &body::member_joined("m-c", "b", "participant", Some("b-1")))
            .unwrap_err()
            .contains("already taken"));
    }

    #[test]
    fn rejects_malformed_bodies_by_name() {
        let mut s = State::default();
        assert!(s.apply(0, "phase.added", &json!({})).unwrap_err().contains("first event"));
        s.apply(0, "dialogue.created", &created()).unwrap();
        let bad_phase = body::phase_added(0, "deliberation", &bilingual("a", "b"), "2026-02-30", "2026-03-01");
        assert!(s.apply(1, "phase.added", &bad_phase).unwrap_err().contains("starts"));
        assert!(s.apply(1, "no.such", &json!({})).unwrap_err().contains("unknown event kind"));
        let mut extra = created();
        extra["x"] = json!(1);
        assert!(State::default().apply(0, "dialogue.created", &extra).unwrap_err().contains("unexpected field"));
    }

    #[test]
    fn statements_are_posted_once_moderated_by_conveners_and_tallied_by_count() {
        let mut s = State::default();
        s.apply(0, "dialogue.created", &created()).unwrap();
        s.apply(1, "member.joined", &body::member_joined("m-c", "Convener", "convener", None)).unwrap();
        let digest = statement_digest(&[7; 16], "Roads before walls");
        s.apply(2, "statement.posted", &body::statement_posted("st-1", &digest)).unwrap();
        assert!(s.apply(3, "statement.posted", &body::statement_posted("st-1", &digest)).is_err());
        let mut bad = body::statement_posted("st-2", &digest);
        bad["digest"] = json!("AB".repeat(32));
        assert!(s.apply(3, "statement.posted", &bad).is_err(), "not lowercase hex");
        let hide = body::statement_moderated("st-1", true, "a personal attack", "m-c");
        assert!(s.apply(3, "statement.moderated", &body::statement_moderated("st-1", false, "r", "m-c")).is_err());
        assert!(s.apply(3, "statement.moderated", &body::statement_moderated("st-1", true, "r", "m-x")).is_err());
        assert!(s.apply(3, "statement.moderated", &body::statement_moderated("st-9", true, "r", "m-c")).is_err());
        s.apply(3, "statement.moderated", &hide).unwrap();
        let tally = body::votes_tallied(&[("st-1".into(), 3, 1, 0)]);
        s.apply(4, "votes.tallied", &tally).unwrap();
        assert!(s.apply(5, "votes.tallied", &body::votes_tallied(&[("st-9".into(), 1, 0, 0)])).is_err());
        let twice = body::votes_tallied(&[("st-1".into(), 1, 0, 0), ("st-1".into(), 1, 0, 0)]);
        assert!(s.apply(5, "votes.tallied", &twice).is_err());
        // Redaction: by a convener, once; the statement then stays hidden.
        assert!(s.apply(5, "statement.redacted", &body::statement_redacted("st-1", "a phone number", "m-x")).is_err());
        assert!(s.apply(5, "statement.redacted", &body::statement_redacted("st-9", "a phone number", "m-c")).is_err());
        s.apply(5, "statement.redacted", &body::statement_redacted("st-1", "a phone number", "m-c")).unwrap();
        assert!(s.apply(6, "statement.redacted", &body::statement_redacted("st-1", "again", "m-c")).is_err());
        assert!(s.apply(6, "statement.moderated", &body::statement_moderated("st-1", false, "undo", "m-c")).is_err());
    }

    #[test]
    fn served_statement_texts_must_match_their_digests() {
        let salt = [3u8; 16];
        let record = [
            ("st-1".to_string(), hex::encode(statement_digest(&salt, "Roads"))),
            ("st-2".to_string(), hex::encode(statement_digest(&salt, "+963 11 555"))),
        ];
        let with = |redacted: bool| {
            record.iter().map(|(i, d)| (i.clone(), d.clone(), redacted && i == "st-2")).collect::<Vec<_>>()
        };
        let served = json!({"statements": [
            {"statement": "st-1", "text": "Roads", "salt": hex::encode(salt)},
            {"statement": "st-2", "text": "+963 11 555", "salt": hex::encode(salt)}]});
        assert_eq!(check_statement_texts(&with(false), &served), Ok(2));
        let mut changed = served.clone();
        changed["statements"][0]["text"] = json!("Walls");
        assert!(check_statement_texts(&with(false), &changed).is_err(), "a changed text");
        let redacted = json!({"statements": [
            {"statement": "st-1", "text": "Roads", "salt": hex::encode(salt)},
            {"statement": "st-2", "redacted": "a phone number"}]});
        assert_eq!(check_statement_texts(&with(true), &redacted), Ok(1));
        assert!(check_statement_texts(&with(false), &redacted).is_err(), "a text withheld without a redaction");
        assert!(check_statement_texts(&with(true), &served).is_err(), "a redacted text still served");
        let missing = json!({"statements": [{"statement": "st-1", "text": "Roads", "salt": hex::encode(salt)}]});
        assert!(check_statement_texts(&with(false), &missing).is_err());
    }
}
