//! Tries to break the record: every change, removal, reordering or re-signing of a
//! line must fail verification with the right check.

use ed25519_dalek::SigningKey;
use hiwar_record::events::{bilingual, body};
use hiwar_record::{verify, Event, Options, GENESIS_PREV};
use proptest::prelude::*;
use serde_json::Value;

fn key(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

/// A small honest record signed with `key(1)`.
fn honest_record() -> String {
    let k = key(1);
    let pk = hex::encode(k.verifying_key().to_bytes());
    let events: Vec<(&str, Value)> = vec![
        ("dialogue.created", body::dialogue_created(&bilingual("حوار", "Dialogue"), &bilingual("وصف", "About"), &pk)),
        ("member.joined", body::member_joined("m-conv", "Convener", "convener", None)),
        ("phase.added", body::phase_added(0, "deliberation", &bilingual("نقاش", "Talk"), "2026-12-01", "2026-12-20")),
        ("phase.changed", body::phase_changed(Some(0))),
        ("codes.issued", body::codes_issued("b-1", "participant", 3)),
        ("member.joined", body::member_joined("m-p1", "سلمى", "participant", Some("b-1"))),
        ("member.joined", body::member_joined("m-p2", "Omar", "participant", Some("b-1"))),
        ("role.granted", body::role_changed("m-p1", "delegate", "m-conv")),
        ("codes.revoked", body::codes_revoked("b-1", 1)),
    ];
    seal_all(&k, &events)
}

fn seal_all(k: &SigningKey, events: &[(&str, Value)]) -> String {
    let mut prev = GENESIS_PREV.to_string();
    let mut out = String::new();
    for (seq, (kind, body)) in events.iter().enumerate() {
        let sealed = Event {
            dialogue: "d-test".into(),
            seq: seq as u64,
            prev: prev.clone(),
            time: format!("2026-11-23T10:00:{:02}Z", seq),
            kind: kind.to_string(),
            body: body.clone(),
        }
        .seal(k)
        .unwrap();
        prev = hex::encode(sealed.hash);
        out.push_str(&sealed.text);
        out.push('\n');
    }
    out
}

fn lines(record: &str) -> Vec<String> {
    record.lines().map(String::from).collect()
}

fn join(lines: &[String]) -> String {
    lines.iter().map(|l| format!("{l}\n")).collect()
}

fn check_of(record: &str) -> &'static str {
    verify(record, &Options::default()).unwrap_err().check
}

#[test]
fn honest_record_verifies() {
    let summary = verify(&honest_record(), &Options::default()).unwrap();
    assert_eq!(summary.lines, 9);
    assert_eq!(summary.members, 3);
    assert_eq!(summary.dialogue, "d-test");
}

#[test]
fn changed_line_fails() {
    let mut l = lines(&honest_record());
    l[5] = l[5].replace("سلمى", "سلمي");
    assert_eq!(check_of(&join(&l)), "R7");
}

#[test]
fn removed_line_fails() {
    // Removing the last line is a truncation: see the next test.
    for i in 0..8 {
        let mut l = lines(&honest_record());
        l.remove(i);
        let check = check_of(&join(&l));
        assert!(["R4", "R6"].contains(&check), "removing line {i} gave {check}");
    }
}

#[test]
fn truncated_record_verifies_but_an_earlier_copy_exposes_a_rewrite() {
    let record = honest_record();
    let l = lines(&record);
    // Dropping the tail is indistinguishable without an earlier copy or head hash…
    let shorter = join(&l[..7]);
    assert!(verify(&shorter, &Options::default()).is_ok());
    // …but whoever holds the longer copy sees it.
    let opts = Options { previous: Some(record.clone()), ..Default::default() };
    assert_eq!(verify(&shorter, &opts).unwrap_err().check, "R10");
    // A genuine extension of an earlier copy passes.
    let opts = Options { previous: Some(shorter), ..Default::default() };
    assert!(verify(&record, &opts).unwrap().previous_checked);
}

#[test]
fn reordered_lines_fail() {
    let mut l = lines(&honest_record());
    l.swap(5, 6);
    assert_eq!(check_of(&join(&l)), "R4");
}

#[test]
fn line_resigned_with_another_key_fails() {
    let record = honest_record();
    let mut l = lines(&record);
    // Re-seal line 5 with the same content but another key, fixing seq and prev.
    let v: Value = serde_json::from_str(&l[5]).unwrap();
    let resealed = Event {
        dialogue: "d-test".into(),
        seq: 5,
        prev: v["prev"].as_str().unwrap().into(),
        time: v["time"].as_str().unwrap().into(),
        kind: v["kind"].as_str().unwrap().into(),
        body: v["body"].clone(),
    }
    .seal(&key(2))
    .unwrap();
    l[5] = resealed.text;
    assert_eq!(check_of(&join(&l)), "R7");
}

#[test]
fn whole_record_resigned_with_another_key_fails_against_the_pinned_key() {
    let record = honest_record();
    let real_key = hex::encode(key(1).verifying_key().to_bytes());
    // An attacker rewrites everything under a key of their own.
    let mut events = Vec::new();
    for line in record.lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        events.push((v["kind"].as_str().unwrap().to_string(), v["body"].clone()));
    }
    events[0].1["public_key"] = Value::String(hex::encode(key(2).verifying_key().to_bytes()));
    let events: Vec<(&str, Value)> = events.iter().map(|(k, b)| (k.as_str(), b.clone())).collect();
    let forged = seal_all(&key(2), &events);
    assert!(verify(&forged, &Options::default()).is_ok(), "self-consistent forgery");
    let opts = Options { pinned_key: Some(real_key), ..Default::default() };
    assert_eq!(verify(&forged, &opts).unwrap_err().check, "R6");
    assert!(verify(&record, &opts).is_ok());
}

#[test]
fn non_canonical_and_malformed_lines_fail() {
    let l = lines(&honest_record());
    let mut spaced = l.clone();
    spaced[2] = spaced[2].replacen("{", "{ ", 1);
    assert_eq!(check_of(&join(&spaced)), "R3");
    let mut garbage = l.clone();
    garbage[3] = "not json".into();
    assert_eq!(check_of(&join(&garbage)), "R2");
    assert_eq!(check_of(join(&l).trim_end()), "R1");
    assert_eq!(check_of(""), "R1");
    let mut blank = l.clone();
    blank.insert(2, String::new());
    assert_eq!(check_of(&join(&blank)), "R1");
}

#[test]
fn bodies_that_break_the_rules_fail_even_when_signed() {
    // The key holder itself cannot seat more members than a batch announced.
    let k = key(1);
    let pk = hex::encode(k.verifying_key().to_bytes());
    let events: Vec<(&str, Value)> = vec![
        ("dialogue.created", body::dialogue_created(&bilingual("a", "b"), &bilingual("c", "d"), &pk)),
        ("member.joined", body::member_joined("m-c", "C", "convener", None)),
        ("codes.issued", body::codes_issued("b-1", "participant", 1)),
        ("member.joined", body::member_joined("m-1", "x", "participant", Some("b-1"))),
        ("member.joined", body::member_joined("m-2", "y", "participant", Some("b-1"))),
    ];
    let failure = verify(&seal_all(&k, &events), &Options::default()).unwrap_err();
    assert_eq!((failure.check, failure.line), ("R9", Some(4)));
}

#[test]
fn time_going_backwards_fails() {
    let k = key(1);
    let pk = hex::encode(k.verifying_key().to_bytes());
    let mut prev = GENESIS_PREV.to_string();
    let mut out = String::new();
    let bodies = [
        (
            "dialogue.created",
            body::dialogue_created(&bilingual("a", "b"), &bilingual("c", "d"), &pk),
            "2026-11-23T10:00:05Z",
        ),
        ("phase.changed", body::phase_changed(None), "2026-11-23T10:00:04Z"),
    ];
    for (seq, (kind, body, time)) in bodies.into_iter().enumerate() {
        let s = Event {
            dialogue: "d".into(),
            seq: seq as u64,
            prev: prev.clone(),
            time: time.into(),
            kind: kind.into(),
            body,
        }
        .seal(&k)
        .unwrap();
        prev = hex::encode(s.hash);
        out.push_str(&s.text);
        out.push('\n');
    }
    assert_eq!(check_of(&out), "R8");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]
    /// Any single-byte change anywhere in the record fails verification.
    #[test]
    fn any_single_byte_change_fails(position in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let record = honest_record();
        let mut bytes = record.clone().into_bytes();
        let i = position.index(bytes.len());
        prop_assume!(bytes[i] != byte);
        bytes[i] = byte;
        match String::from_utf8(bytes) {
            Err(_) => {} // not even text: a reader rejects it before verification
            Ok(tampered) => prop_assert!(verify(&tampered, &Options::default()).is_err()),
        }
    }
}

/// A connection that delivers `cut` bytes of the record and then drops.
struct DroppedConnection<'a> {
    data: &'a [u8],
    at: usize,
    cut: usize,
}

impl std::io::Read for DroppedConnection<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.at >= self.cut {
            return Err(std::io::Error::new(std::io::ErrorKind::ConnectionReset, "connection reset by peer"));
        }
        let n = buf.len().min(self.cut - self.at).min(7);
        buf[..n].copy_from_slice(&self.data[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

#[test]
fn a_dropped_connection_is_reported_as_unreadable_not_as_a_forged_record() {
    let record = honest_record();
    for cut in [0, 1, 100, record.len() / 2, record.len() - 1] {
        let reader = std::io::BufReader::with_capacity(16, DroppedConnection { data: record.as_bytes(), at: 0, cut });
        match hiwar_record::verify_stream(reader, &Options::default(), Default::default()) {
            Err(hiwar_record::Stopped::Unreadable { lines, error }) => {
                assert!(lines < record.lines().count() as u64, "cut at {cut}: {lines} lines");
                assert_eq!(error.kind(), std::io::ErrorKind::ConnectionReset);
            }
            other => panic!("cut at {cut}: {other:?}"),
        }
    }
    // The same bytes, ended cleanly in the middle of a line, are a record that does not verify.
    let cut = &record[..record.len() / 2];
    assert_eq!(check_of(cut), "R1");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]
    /// Streaming the record in reads of any size gives the verdict of verifying it whole.
    #[test]
    fn streamed_and_whole_verification_agree(position in any::<prop::sample::Index>(), byte in any::<u8>(), capacity in 1usize..600) {
        let record = honest_record();
        let mut bytes = record.clone().into_bytes();
        let i = position.index(bytes.len());
        bytes[i] = byte;
        let streamed = match hiwar_record::verify_stream(std::io::BufReader::with_capacity(capacity, &bytes[..]), &Options::default(), Default::default()) {
            Ok(_) => None,
            Err(hiwar_record::Stopped::Failed(f)) => Some((f.check, f.line)),
            Err(other) => panic!("{other:?}"),
        };
        if let Ok(text) = String::from_utf8(bytes) {
            prop_assert_eq!(streamed, verify(&text, &Options::default()).err().map(|f| (f.check, f.line)));
        }
    }
}
