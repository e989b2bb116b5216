//! Witness checks W1–W4 (record spec §9): the test vector, and a failing case for each
//! check.

use ed25519_dalek::SigningKey;
use hiwar_crypto::signing::Signer25519;
use hiwar_record::events::{bilingual, body};
use hiwar_record::verify::WitnessPolicy;
use hiwar_record::witness::{Checkpoint, Cosignature};
use hiwar_record::{line_hash, verify, Event, Options, GENESIS_PREV};
use serde_json::{json, Value};

const DIALOGUE: &str = "vector";

fn dialogue_key() -> SigningKey {
    SigningKey::from_bytes(&[1u8; 32])
}

fn witness() -> Signer25519 {
    Signer25519::from_seed(&[2u8; 32])
}

/// Seals `events`, calling `cosign` before each line with the lines so far so that it
/// can co-sign a head of the record being built.
fn build(events: &[(&str, Value)]) -> Vec<String> {
    let key = dialogue_key();
    let mut prev = GENESIS_PREV.to_string();
    let mut lines: Vec<String> = Vec::new();
    for (seq, (kind, body)) in events.iter().enumerate() {
        let mut body = body.clone();
        if *kind == "witness.cosigned" && body["cosignature"].is_null() {
            let size = body["size"].as_u64().unwrap();
            body = json!({"witness": body["witness"], "cosignature": cosign(&lines[..size as usize]).to_value()});
        }
        let sealed = Event {
            dialogue: DIALOGUE.into(),
            seq: seq as u64,
            prev: prev.clone(),
            time: format!("2026-01-01T00:00:{seq:02}Z"),
            kind: kind.to_string(),
            body,
        }
        .seal(&key)
        .unwrap();
        prev = hex::encode(sealed.hash);
        lines.push(sealed.text);
    }
    lines
}

fn checkpoint_of(lines: &[String]) -> Checkpoint {
    let head = hex::encode(line_hash(lines.last().unwrap()));
    Checkpoint::sign(DIALOGUE, lines.len() as u64, &head, "2026-01-01T00:01:00Z", &dialogue_key())
}

fn cosign(lines: &[String]) -> Cosignature {
    Cosignature::sign(&checkpoint_of(lines), "2026-01-01T00:01:30Z", &witness())
}

fn honest_events() -> Vec<(&'static str, Value)> {
    let public = hex::encode(dialogue_key().verifying_key().to_bytes());
    vec![
        ("dialogue.created", body::dialogue_created(&bilingual("حوار", "Dialogue"), &bilingual("", ""), &public)),
        ("member.joined", body::member_joined("m-1", "Convener", "convener", None)),
        (
            "witness.added",
            json!({"witness": "w-1", "name": "مرصد Observatory", "key": hex::encode(witness().public()), "by": "m-1"}),
        ),
        ("witness.cosigned", json!({"witness": "w-1", "size": 3})),
    ]
}

fn join(lines: &[String]) -> String {
    lines.iter().map(|l| format!("{l}\n")).collect()
}

fn fails(record: &str, options: &Options, check: &str) {
    let failure = verify(record, options).expect_err("must fail");
    assert_eq!(failure.check, check, "{failure}");
}

/// The vector of §9.4: a record whose witness co-signed its first three lines, and the
/// checkpoint document a server would serve beside it. `HIWAR_BLESS=1` rewrites it.
#[test]
fn witness_test_vector() {
    let lines = build(&honest_events());
    let record = join(&lines);
    let document = json!({"checkpoint": checkpoint_of(&lines).to_value(), "cosignatures": [cosign(&lines).to_value()]});
    let document = serde_json::to_string_pretty(&document).unwrap() + "\n";
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors");
    if std::env::var_os("HIWAR_BLESS").is_some() {
        std::fs::write(format!("{dir}/witness-v1.jsonl"), &record).unwrap();
        std::fs::write(format!("{dir}/witness-v1-checkpoint.json"), &document).unwrap();
    }
    assert_eq!(record, include_str!("vectors/witness-v1.jsonl"), "the witness encoding changed");
    assert_eq!(document, include_str!("vectors/witness-v1-checkpoint.json"));
    let doc: Value = serde_json::from_str(&document).unwrap();
    let options = Options {
        checkpoints: vec![Checkpoint::from_value(&doc["checkpoint"]).unwrap()],
        cosignatures: vec![Cosignature::from_value(&doc["cosignatures"][0]).unwrap()],
        witnesses: Some(WitnessPolicy {
            keys: vec![hex::encode(witness().public())],
            quorum: 1,
            now: "2026-01-01T00:02:00Z".into(),
            max_age_secs: 60,
        }),
        ..Default::default()
    };
    let summary = verify(&record, &options).unwrap();
    let witnessed = summary.witnessed.unwrap();
    assert_eq!((witnessed.size, witnessed.content_lines, witnessed.age_secs), (3, 3, 30));
    // The same co-signatures, a day later: a record frozen since then would show just these.
    let mut stale = options.clone();
    stale.witnesses.as_mut().unwrap().now = "2026-01-02T00:02:00Z".into();
    fails(&record, &stale, "W4");
    assert_eq!(summary.checkpoints_checked, 2);
}

#[test]
fn w1_refuses_witnesses_and_cosignatures_that_are_not_what_they_claim() {
    let mut events = honest_events();
    events[2].1["by"] = json!("m-2");
    fails(&join(&build(&events)), &Options::default(), "W1");
    let mut events = honest_events();
    events[2].1["key"] = json!("ff".repeat(32));
    fails(&join(&build(&events)), &Options::default(), "W1");
    let mut events = honest_events();
    events[3].1["witness"] = json!("w-9");
    fails(&join(&build(&events)), &Options::default(), "W1");
    // A co-signature whose signature was made over another time.
    let mut lines = build(&honest_events()[..3]);
    let mut cosignature = cosign(&lines).to_value();
    cosignature["time"] = json!("2026-01-01T00:02:00Z");
    let mut events = honest_events();
    events[3].1 = json!({"witness": "w-1", "cosignature": cosignature});
    fails(&join(&build(&events)), &Options::default(), "W1");
    // A checkpoint the dialogue key did not sign, co-signed.
    let stranger = Checkpoint::sign(
        DIALOGUE,
        3,
        &hex::encode(line_hash(&lines[2])),
        "2026-01-01T00:01:00Z",
        &SigningKey::from_bytes(&[3; 32]),
    );
    let events = [&honest_events()[..3], &[("witness.cosigned", json!({"witness": "w-1", "cosignature": Cosignature::sign(&stranger, "2026-01-01T00:01:30Z", &witness()).to_value()}))]].concat();
    fails(&join(&build(&events)), &Options::default(), "W1");
    // A forged co-signature held beside the record.
    lines = build(&honest_events());
    let mut forged = cosign(&lines[..3]);
    forged.time = "2026-01-01T00:03:00Z".into();
    fails(&join(&lines), &Options { cosignatures: vec![forged], ..Default::default() }, "W1");
}

#[test]
fn w2_names_a_rewritten_line_with_a_fork_proof() {
    let lines = build(&honest_events());
    let held = checkpoint_of(&lines[..3]);
    let mut events = honest_events();
    events[1].1["pseudonym"] = json!("Someone else");
    events[3].1 = json!({"witness": "w-1", "cosignature": cosign(&lines[..3]).to_value()});
    let rewritten = join(&build(&events));
    let failure = verify(&rewritten, &Options::default()).unwrap_err();
    assert_eq!((failure.check, failure.line), ("W2", Some(3)), "{failure}");
    let proof: Value = serde_json::from_str(failure.detail.split("fork proof: ").nth(1).unwrap()).unwrap();
    assert!(hiwar_record::witness::ForkProof::check(&proof).is_ok());
    // The same rewrite without the co-signature line, against a head held beside it.
    let without = join(&build(&events[..3]));
    fails(&without, &Options { checkpoints: vec![held], ..Default::default() }, "W2");
}

#[test]
fn w3_and_w4_catch_a_record_cut_short_and_missing_or_stale_witnesses() {
    let lines = build(&honest_events());
    let full = checkpoint_of(&lines);
    fails(&join(&lines[..3]), &Options { checkpoints: vec![full], ..Default::default() }, "W3");
    let policy = |keys: Vec<String>, now: &str| WitnessPolicy { keys, quorum: 1, now: now.into(), max_age_secs: 60 };
    // A witness not in the verifier's list counts for nothing.
    let others =
        Options { witnesses: Some(policy(vec!["11".repeat(32)], "2026-01-01T00:02:00Z")), ..Default::default() };
    fails(&join(&lines), &others, "W4");
    // A record grown past its last co-signature: recent co-signatures count, stale ones do not.
    let grown = join(&build(&[honest_events(), vec![("phase.changed", body::phase_changed(None))]].concat()));
    let key = vec![hex::encode(witness().public())];
    assert!(verify(
        &grown,
        &Options { witnesses: Some(policy(key.clone(), "2026-01-01T00:02:00Z")), ..Default::default() }
    )
    .is_ok());
    fails(&grown, &Options { witnesses: Some(policy(key, "2026-01-02T00:00:00Z")), ..Default::default() }, "W4");
}
