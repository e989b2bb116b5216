//! The test vector of `docs/record-spec.md` §6: exact bytes and head hash of a
//! two-line record signed with the Ed25519 secret key of 32 bytes 0x01.

use ed25519_dalek::SigningKey;
use hiwar_record::events::{bilingual, body};
use hiwar_record::{line_hash, verify, Event, Options, GENESIS_PREV};

fn build() -> String {
    let key = SigningKey::from_bytes(&[1u8; 32]);
    let public = hex::encode(key.verifying_key().to_bytes());
    let first = Event {
        dialogue: "vector".into(),
        seq: 0,
        prev: GENESIS_PREV.into(),
        time: "2026-01-01T00:00:00Z".into(),
        kind: "dialogue.created".into(),
        body: body::dialogue_created(&bilingual("حوار", "Dialogue"), &bilingual("", "A \"test\"\n"), &public),
    }
    .seal(&key)
    .unwrap();
    let second = Event {
        dialogue: "vector".into(),
        seq: 1,
        prev: hex::encode(first.hash),
        time: "2026-01-01T00:00:01Z".into(),
        kind: "member.joined".into(),
        body: body::member_joined("m-1", "Convener", "convener", None),
    }
    .seal(&key)
    .unwrap();
    format!("{}\n{}\n", first.text, second.text)
}

#[test]
fn record_test_vector() {
    let record = build();
    let expected = include_str!("vectors/record-v1.jsonl");
    assert_eq!(record, expected, "the record encoding changed: update the spec and vector only deliberately");
    let summary = verify(&record, &Options::default()).unwrap();
    assert_eq!(summary.head, hex::encode(line_hash(record.lines().last().unwrap())));
    assert_eq!(summary.head, include_str!("vectors/record-v1.head").trim());
}
