//! Declarations (record spec §10): the test vector, reproduced byte for byte and
//! accepted by both verifiers, and forged records — re-signed end to end by the holder
//! of the dialogue key — that both verifiers reject, naming the check.

use ed25519_dalek::SigningKey;
use hiwar_crypto::signing::Signer25519;
use hiwar_record::declaration::{self as decl, body};
use hiwar_record::events::{bilingual, body as events, statement_digest};
use hiwar_record::{verify, Event, Options, GENESIS_PREV};
use serde_json::{json, Value};

const DIALOGUE: &str = "vector";

fn dialogue_key() -> SigningKey {
    SigningKey::from_bytes(&[1u8; 32])
}

/// Signatory `n`'s key: the Ed25519 key of 32 bytes `n`.
fn signer(n: u8) -> Signer25519 {
    Signer25519::from_seed(&[n; 32])
}

fn register(n: u8, id: &str, en: &str, ar: &str, kind: &str, place: &str, member: Option<&str>) -> (String, Value) {
    let s = signer(n);
    let (name, key) = (bilingual(ar, en), hex::encode(s.public()));
    let sig = hex::encode(s.sign(&decl::registration_message(DIALOGUE, id, &name, kind, place, &key)));
    let batch = if member.is_some() { None } else { Some("orgs") };
    ("signatory.registered".into(), body::signatory_registered(id, &name, kind, place, &key, batch, member, &sig))
}

fn title() -> Value {
    bilingual("بيان حلب المشترك", "The Aleppo joint statement")
}

fn text(version: u64) -> Value {
    let extra = if version == 2 { " Water first." } else { "" };
    bilingual("نطالب بإعادة فتح المدارس.", &format!("We ask that the schools reopen.{extra}"))
}

fn hash(version: u64) -> String {
    hex::encode(decl::version_hash(DIALOGUE, "aleppo", version, &title(), &text(version)))
}

fn sign(n: u8, id: &str, version: u64) -> (String, Value) {
    let s = signer(n);
    let sig = hex::encode(s.sign(&decl::signature_message(DIALOGUE, "aleppo", version, &hash(version))));
    ("declaration.signed".into(), body::declaration_signed("aleppo", version, id, &hex::encode(s.public()), &sig))
}

/// Record events as `(kind, body)`, in the order they are appended.
type Events = Vec<(String, Value)>;

/// The events of the vector: three organisations and a member sign; one organisation
/// rotates its key; version 1 gets two signatures, version 2 three, one withdrawn; an
/// agenda item is proposed and adopted.
fn honest_events() -> Events {
    let public = hex::encode(dialogue_key().verifying_key().to_bytes());
    let e = |k: &str, b: Value| (k.to_string(), b);
    let rotated = hex::encode(signer(12).public());
    let rotation_sig =
        hex::encode(signer(2).sign(&decl::rotation_message(DIALOGUE, "org-a", &rotated, "a new device")));
    let withdrawal_sig = hex::encode(signer(4).sign(&decl::withdrawal_message(
        DIALOGUE,
        "aleppo",
        2,
        &hash(2),
        "our board did not approve",
    )));
    vec![
        e("dialogue.created", events::dialogue_created(&bilingual("حوار", "Dialogue"), &bilingual("", ""), &public)),
        e("member.joined", events::member_joined("m-1", "Convener", "convener", None)),
        e("codes.issued", events::codes_issued("orgs", "organisation", 3)),
        e("codes.issued", events::codes_issued("people", "participant", 1)),
        e("member.joined", events::member_joined("m-2", "Lina", "participant", Some("people"))),
        register(2, "org-a", "Aleppo Teachers' Syndicate", "نقابة معلمي حلب", "syndicate", "inside", None),
        register(3, "org-b", "Free Councils Network", "شبكة المجالس الحرة", "local-council", "inside", None),
        register(4, "org-c", "Syrians in Berlin", "سوريون في برلين", "ngo", "abroad", None),
        register(5, "s-lina", "Lina", "Lina", "member", "inside", Some("m-2")),
        e("declaration.drafted", body::declaration_drafted("aleppo", 1, &title(), &text(1), &hash(1), "m-1")),
        e("declaration.opened", body::declaration_opened("aleppo", 1, "2026-02-01T00:00:00Z", "m-1")),
        sign(2, "org-a", 1),
        sign(3, "org-b", 1),
        e("declaration.drafted", body::declaration_drafted("aleppo", 2, &title(), &text(2), &hash(2), "m-1")),
        e("declaration.opened", body::declaration_opened("aleppo", 2, "2026-02-01T00:00:00Z", "m-1")),
        e(
            "signatory.key_rotated",
            body::signatory_key_rotated("org-a", &rotated, "a new device", None, Some(&rotation_sig)),
        ),
        sign(12, "org-a", 2),
        sign(4, "org-c", 2),
        sign(5, "s-lina", 2),
        e(
            "declaration.withdrawn",
            body::declaration_withdrawn("aleppo", 2, "org-c", "our board did not approve", &withdrawal_sig),
        ),
        e("statement.posted", events::statement_posted("st-1", &statement_digest(&[5; 16], "Schools first"))),
        e("agenda.proposed", events::agenda_proposed("st-1")),
        e("agenda.decided", events::agenda_decided("st-1", true, "broad support across groups", "m-1")),
    ]
}

/// Seals `events` under `key`, one second apart from 2026-01-01T00:00:00Z.
fn seal(key: &SigningKey, events: &[(String, Value)]) -> String {
    let mut prev = GENESIS_PREV.to_string();
    let mut out = String::new();
    for (seq, (kind, body)) in events.iter().enumerate() {
        let mut body = body.clone();
        if seq == 0 {
            body["public_key"] = json!(hex::encode(key.verifying_key().to_bytes()));
        }
        let sealed = Event {
            dialogue: DIALOGUE.into(),
            seq: seq as u64,
            prev: prev.clone(),
            time: format!("2026-01-01T00:00:{seq:02}Z"),
            kind: kind.clone(),
            body,
        }
        .seal(key)
        .unwrap();
        prev = hex::encode(sealed.hash);
        out.push_str(&sealed.text);
        out.push('\n');
    }
    out
}

/// The Python verifier's exit code and output, if Python with PyNaCl is here (CI
/// installs it; `./test` demands it through the platform's tests).
fn python(record: &str) -> Option<(i32, String)> {
    let dir = std::env::temp_dir().join(format!("hiwar-decl-{}-{}", std::process::id(), record.len()));
    std::fs::write(&dir, record).unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tools/verify_record.py");
    let out = std::process::Command::new("python3").arg(script).arg(&dir).output().ok()?;
    std::fs::remove_file(&dir).ok();
    let stderr = String::from_utf8_lossy(&out.stderr);
    if stderr.contains("ModuleNotFoundError") {
        assert!(std::env::var_os("CI").is_none(), "CI must have PyNaCl: {stderr}");
        return None;
    }
    Some((out.status.code().unwrap(), String::from_utf8_lossy(&out.stdout).into_owned()))
}

/// Both verifiers reject `record`, naming `check`.
fn both_reject(record: &str, check: &str, why: &str) {
    let failure = verify(record, &Options::default()).expect_err(why);
    assert_eq!(failure.check, check, "{why}: {failure}");
    if let Some((code, out)) = python(record) {
        assert_eq!(code, 1, "{why}: the Python verifier accepted it: {out}");
        assert!(out.contains(&format!("{check} failed")), "{why}: Python named another check: {out}");
    }
}

/// The vector of §10.5. `HIWAR_BLESS=1` rewrites it.
#[test]
fn declaration_test_vector() {
    let record = seal(&dialogue_key(), &honest_events());
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors/declaration-v1.jsonl");
    if std::env::var_os("HIWAR_BLESS").is_some() {
        std::fs::write(path, &record).unwrap();
    }
    assert_eq!(record, include_str!("vectors/declaration-v1.jsonl"), "the declaration encoding changed");
    let summary = verify(&record, &Options::default()).unwrap();
    assert_eq!(summary.lines, 23);
    if let Some((code, out)) = python(&record) {
        assert_eq!(code, 0, "{out}");
    }
}

/// The operator holds the dialogue key and re-signs every line after a change: only the
/// declaration checks can tell.
#[test]
fn forged_declarations_re_signed_by_the_operator_fail_both_verifiers() {
    let key = dialogue_key();
    let honest = honest_events();
    let at = |kind: &str, nth: usize| honest.iter().enumerate().filter(|(_, (k, _))| k == kind).nth(nth).unwrap().0;
    let forge = |f: &dyn Fn(&mut Events)| {
        let mut events = honest.clone();
        f(&mut events);
        seal(&key, &events)
    };

    // The text of version 2 changed after signing, its hash recomputed: the signatures fail.
    let changed = forge(&|e| {
        let i = at("declaration.drafted", 1);
        let t = bilingual("نطالب بإعادة فتح المدارس.", "We ask that the schools stay closed.");
        e[i].1["text"] = t.clone();
        e[i].1["hash"] = json!(hex::encode(decl::version_hash(DIALOGUE, "aleppo", 2, &title(), &t)));
    });
    both_reject(&changed, "D3", "a text changed under its signatures");
    // The text changed, the hash left: the version's hash is not its text's.
    let changed = forge(&|e| e[at("declaration.drafted", 0)].1["text"]["en"] = json!("We ask for nothing."));
    both_reject(&changed, "D2", "a text changed, its hash kept");
    // A signature inserted with a key the operator made: the organisation never registered it.
    let inserted = forge(&|e| {
        let fake = signer(99);
        let sig = hex::encode(fake.sign(&decl::signature_message(DIALOGUE, "aleppo", 1, &hash(1))));
        let i = at("declaration.signed", 1) + 1;
        e.insert(
            i,
            (
                "declaration.signed".into(),
                body::declaration_signed("aleppo", 1, "org-c", &hex::encode(fake.public()), &sig),
            ),
        );
    });
    both_reject(&inserted, "D3", "a signature by a key that is not the signatory's");
    // A signature moved from version 1 to version 2.
    let moved = forge(&|e| {
        let i = at("declaration.signed", 1);
        e[i].1["version"] = json!(2);
        let j = at("declaration.opened", 1);
        let signed = e.remove(i);
        e.insert(j, signed);
    });
    both_reject(&moved, "D3", "a signature moved to another version");
    // A withdrawn signature replayed (signatures are deterministic and public).
    let replayed_after_withdrawal = forge(&|e| {
        let signed = e[at("declaration.signed", 3)].clone();
        let i = at("declaration.withdrawn", 0) + 1;
        e.insert(i, signed);
    });
    both_reject(&replayed_after_withdrawal, "D3", "a withdrawn signature replayed");
    // A member's key attached to another member.
    let misattributed = forge(&|e| {
        let i = at("signatory.registered", 3);
        e[i].1["member"] = json!("m-1");
    });
    both_reject(&misattributed, "D1", "a member's key attached to another member");
    // A signature replayed: the same signatory twice on a version.
    let replayed = forge(&|e| {
        let i = at("declaration.signed", 0);
        let again = e[i].clone();
        e.insert(i + 1, again);
    });
    both_reject(&replayed, "D3", "a duplicate signature");
    // A withdrawal erased leaves the record valid but shows a signature the organisation
    // withdrew; erasing any line changes every later hash, so this is what witnesses and
    // earlier copies (R10, W2) catch. A withdrawal forged by the operator fails here.
    let forged_withdrawal = forge(&|e| {
        let i = at("declaration.withdrawn", 0);
        e[i].1["signatory"] = json!("s-lina");
    });
    both_reject(&forged_withdrawal, "D3", "a withdrawal not signed by the signatory");
    // An organisation registered with a key whose holder did not sign the registration.
    let planted = forge(&|e| {
        let i = at("signatory.registered", 2);
        e[i].1["key"] = json!(hex::encode(signer(98).public()));
    });
    both_reject(&planted, "D1", "a key registered without its holder");
    // A fourth organisation through an invitation batch of three.
    let extra = forge(&|e| {
        let i = at("signatory.registered", 3);
        e.insert(i, register(7, "org-d", "Extra", "إضافية", "ngo", "inside", None));
    });
    both_reject(&extra, "D1", "more organisations than invitations");
    // A key rotation the old key did not sign and no convener made.
    let rotation = forge(&|e| {
        let i = at("signatory.key_rotated", 0);
        e[i].1["sig"] = json!(hex::encode(signer(12).sign(b"anything")));
    });
    both_reject(&rotation, "D1", "a key rotation not signed by the old key");
    // Signing closed before the signature's line.
    let late = forge(&|e| {
        let i = at("declaration.opened", 1);
        e[i].1["closes"] = json!("2026-01-01T00:00:15Z");
    });
    both_reject(&late, "D3", "a signature after the deadline");
    // An agenda item adopted by a member who is not a convener.
    let agenda = forge(&|e| {
        let i = at("agenda.decided", 0);
        e[i].1["by"] = json!("m-2");
    });
    both_reject(&agenda, "R9", "an agenda decision by a participant");
}
