//! `hiwar election simulate` and `hiwar verify` on its record: an honest election
//! verifies; every kind of tampering — including by an operator who re-signs the
//! whole record with the dialogue key — fails the named check.

mod common;

use common::{assert_fails, hiwar, python_verify, reseal, verify};
use hiwar_crypto::ballot::{self, BallotContext, Credential, Question};
use hiwar_crypto::elgamal::ElectionKey;
use hiwar_record::election::{ballot_digest, ballot_json, election_hash};
use rand::SeedableRng;
use serde_json::{json, Value};

fn simulate(voters: u64, select: &str, seed: u64) -> Vec<(String, Value)> {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("e.jsonl");
    let run = hiwar()
        .args(["election", "simulate", "--voters", &voters.to_string(), "--options", "3", "--select", select])
        .args(["--trustees", "2/3", "--seed", &seed.to_string(), "--out", out.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let record = std::fs::read_to_string(&out).unwrap();
    let (code, stdout) = verify(&record);
    assert_eq!(code, 0, "{stdout}");
    record
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            (v["kind"].as_str().unwrap().to_string(), v["body"].clone())
        })
        .collect()
}

/// Re-signs a whole record with an operator key of our own, as a hostile server could.
fn position(events: &[(String, Value)], kind: &str) -> usize {
    events.iter().position(|(k, _)| k == kind).unwrap_or_else(|| panic!("no {kind}"))
}

/// A voter of our own: a credential added to the list, and its ballots.
struct Forger {
    credential: Credential,
    hash: [u8; 32],
    key: ElectionKey,
}

impl Forger {
    fn enrol(events: &mut [(String, Value)]) -> Forger {
        let credential = Credential::from_secret(&[42u8; 32]);
        let i = position(events, "election.credentials");
        events[i].1["credentials"].as_array_mut().unwrap().push(json!(hex::encode(credential.public())));
        let created = &events[position(events, "election.created")].1;
        let hash = election_hash("simulation", created);
        let key = ElectionKey::from_hex(events[position(events, "election.opened")].1["public_key"].as_str().unwrap())
            .unwrap();
        Forger { credential, hash, key }
    }

    /// A cast event for `ballot` (JSON), signed by our credential for this election.
    fn cast(&self, ballot: Value) -> (String, Value) {
        let public = self.credential.public();
        let digest = ballot_digest(&self.hash, &public, &ballot);
        (
            "ballot.cast".into(),
            json!({"election": "e-1", "credential": hex::encode(public), "ballot": ballot,
                   "signature": hex::encode(self.credential.sign(&digest)), "tracking": hex::encode(digest)}),
        )
    }

    fn ballot(&self, question: Question, choice: Vec<bool>) -> Value {
        let public = self.credential.public();
        let ctx = BallotContext { election_hash: &self.hash, key: &self.key, credential: &public };
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(5);
        ballot_json(&ballot::encrypt(&ctx, &[question], &[choice], &mut rng).unwrap().0)
    }
}

fn insert_before_close(events: &mut Vec<(String, Value)>, event: (String, Value)) {
    let at = position(events, "election.closed");
    events.insert(at, event);
}

const ONE_OF_THREE: Question = Question { options: 3, min: 1, max: 1 };

#[test]
fn an_honest_simulated_election_verifies_even_when_resealed() {
    let events = simulate(120, "1..1", 1);
    let (code, stdout) = verify(&reseal(&events));
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.contains("E10"));
    let (code, stdout) = python_verify(&reseal(&events));
    assert_eq!(code, 0, "python: {stdout}");
    // Re-votes and challenges happened.
    assert!(events.iter().any(|(k, _)| k == "ballot.spoiled"));
    let closed = &events[position(&events, "election.closed")].1;
    assert!(closed["superseded"].as_u64().unwrap() >= 1);
}

#[test]
fn tampered_ballots_fail_e5_or_e6() {
    let base = simulate(60, "1..1", 2);

    // A voter's ballot changed by the operator: its tracking code and signature no longer fit.
    let mut e = base.clone();
    let i = position(&e, "ballot.cast");
    e[i].1["ballot"]["answers"][0]["choice_proofs"][0][0]["z"] = json!(format!("{:0<64}", "01"));
    assert_fails(&e, "E5", "a changed ballot");

    // A ballot signed with a credential that is not on the list.
    let mut e = base.clone();
    let forger = Forger::enrol(&mut e);
    let ballot = forger.ballot(ONE_OF_THREE, vec![true, false, false]);
    let cast = forger.cast(ballot);
    let mut e2 = base.clone();
    insert_before_close(&mut e2, cast.clone());
    assert_fails(&e2, "E5", "an unlisted credential");

    // A proof with a field altered, re-signed by the (colluding) credential.
    for field in ["a", "b", "c", "z"] {
        let mut forged = cast.1["ballot"].clone();
        let original = forged["answers"][0]["choice_proofs"][1][0][field].as_str().unwrap().to_string();
        let other = e[position(&e, "ballot.cast")].1["ballot"]["answers"][0]["choice_proofs"][1][0][field].clone();
        assert_ne!(other.as_str().unwrap(), original);
        forged["answers"][0]["choice_proofs"][1][0][field] = other;
        let mut e3 = e.clone();
        insert_before_close(&mut e3, forger.cast(forged));
        assert_fails(&e3, "E6", &format!("proof field {field} altered"));
    }

    // An option encrypting 2: the ciphertext of option 0 doubled, proofs kept.
    let mut forged = cast.1["ballot"].clone();
    let ct = hiwar_crypto::elgamal::Ciphertext::from_hex(
        forged["answers"][0]["choices"][0]["alpha"].as_str().unwrap(),
        forged["answers"][0]["choices"][0]["beta"].as_str().unwrap(),
    )
    .unwrap();
    forged["answers"][0]["choices"][0] = hiwar_record::election::ct_json(&(ct + ct));
    let mut e3 = e.clone();
    insert_before_close(&mut e3, forger.cast(forged));
    assert_fails(&e3, "E6", "an option outside 0/1");

    // Too many selections: a ballot proven for "0 to 3 of 3" in a "1 of 3" election.
    let too_many = forger.ballot(Question { options: 3, min: 0, max: 3 }, vec![true, true, false]);
    let mut e3 = e.clone();
    insert_before_close(&mut e3, forger.cast(too_many));
    assert_fails(&e3, "E6", "too many selections");

    // Too few: a blank ballot where blank is not allowed.
    let blank = forger.ballot(Question { options: 3, min: 0, max: 1 }, vec![false, false, false]);
    let mut e3 = e.clone();
    insert_before_close(&mut e3, forger.cast(blank));
    assert_fails(&e3, "E6", "too few selections");

    // A non-canonical point (p + 1 is not a reduced field element), re-signed.
    let mut forged = cast.1["ballot"].clone();
    forged["answers"][0]["choice_proofs"][0][0]["a"] =
        json!("eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f");
    let mut e3 = e.clone();
    insert_before_close(&mut e3, forger.cast(forged));
    assert_fails(&e3, "E6", "a non-canonical point");

    // Replay: a valid ballot of another election, re-signed for this one by its voter.
    let other = simulate(10, "1..1", 3);
    let other_hash = election_hash("simulation", &other[position(&other, "election.created")].1);
    let other_key =
        ElectionKey::from_hex(other[position(&other, "election.opened")].1["public_key"].as_str().unwrap()).unwrap();
    let public = forger.credential.public();
    let ctx = BallotContext { election_hash: &other_hash, key: &other_key, credential: &public };
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(6);
    let replayed =
        ballot_json(&ballot::encrypt(&ctx, &[ONE_OF_THREE], &[vec![false, true, false]], &mut rng).unwrap().0);
    let mut e3 = e.clone();
    insert_before_close(&mut e3, forger.cast(replayed));
    assert_fails(&e3, "E6", "a ballot replayed from another election");

    // A valid ballot from our listed credential is accepted, but then the tally no longer matches.
    insert_before_close(&mut e, cast.clone());
    assert_fails(&e, "E8", "an added ballot");
}

#[test]
fn tampered_tallies_keys_and_results_fail() {
    let base = simulate(60, "0..2", 4);

    let mut e = base.clone();
    let i = e.iter().rposition(|(k, _)| k == "ballot.cast").unwrap();
    e.remove(i);
    assert_fails(&e, "E8", "a dropped ballot");

    let mut e = base.clone();
    let i = position(&e, "election.closed");
    e[i].1["superseded"] = json!(0);
    assert_fails(&e, "E8", "superseded ballots counted");

    let mut e = base.clone();
    let i = position(&e, "election.partial_decryption");
    let j = e.iter().rposition(|(k, _)| k == "election.partial_decryption").unwrap();
    let other_share = e[j].1["shares"][0][0]["share"].clone();
    e[i].1["shares"][0][0]["share"] = other_share;
    assert_fails(&e, "E9", "a wrong partial decryption");

    let mut e = base.clone();
    let i = position(&e, "election.result");
    let n = e[i].1["counts"][0][0].as_u64().unwrap();
    e[i].1["counts"][0][0] = json!(n + 1);
    assert_fails(&e, "E10", "a changed result");

    let mut e = base.clone();
    let i = position(&e, "election.result");
    e[i].1["trustees"] = json!([e[i].1["trustees"][0].clone()]);
    assert_fails(&e, "E10", "a result from fewer than t trustees");

    let mut e = base.clone();
    let i = position(&e, "election.opened");
    let vk = e[i].1["verification_keys"][1].clone();
    e[i].1["public_key"] = vk;
    assert_fails(&e, "E3", "a wrong election key");

    let mut e = base.clone();
    let reveal = position(&e, "election.trustee_revealed");
    let commit = e.iter().rposition(|(k, _)| k == "election.trustee_committed").unwrap();
    let moved = e.remove(reveal);
    e.insert(commit, moved);
    assert_fails(&e, "E2", "a reveal before every commitment");

    let mut e = base.clone();
    let opened = position(&e, "election.opened");
    let creds = e.remove(position(&e, "election.credentials"));
    e.insert(opened, creds);
    assert_fails(&e, "E4", "credentials listed after opening");

    let mut e = base.clone();
    let i = position(&e, "ballot.spoiled");
    let choices =
        e[i].1["choices"][0].as_array().unwrap().iter().map(|c| json!(1 - c.as_u64().unwrap())).collect::<Vec<_>>();
    e[i].1["choices"] = json!([choices]);
    assert_fails(&e, "E7", "a spoiled ballot's published choices");

    let mut e = base.clone();
    let i = position(&e, "election.created");
    e[i].1["threshold"] = json!(9);
    assert_fails(&e, "E1", "impossible parameters");
}

#[test]
fn the_small_election_vector_is_reproduced_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("v.jsonl");
    let run = hiwar()
        .args(["election", "simulate", "--voters", "12", "--options", "3", "--select", "0..2", "--trustees", "2/3"])
        .args(["--seed", "7", "--time", "2026-01-01T00:00:00Z", "--out", out.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(run.status.success());
    let expected = include_str!("vectors/election-small.jsonl");
    assert!(
        std::fs::read_to_string(&out).unwrap() == expected,
        "the election encoding changed: update spec and vector deliberately"
    );
    assert_eq!(verify(expected).0, 0);
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]
    /// Any single-byte change to a simulated election record fails verification.
    #[test]
    fn any_single_byte_change_to_an_election_record_fails(position in proptest::prelude::any::<proptest::sample::Index>(), byte in proptest::prelude::any::<u8>()) {
        let record = include_str!("vectors/election-small.jsonl");
        let mut bytes = record.as_bytes().to_vec();
        let i = position.index(bytes.len());
        proptest::prop_assume!(bytes[i] != byte);
        bytes[i] = byte;
        if let Ok(tampered) = String::from_utf8(bytes) {
            proptest::prop_assert!(hiwar_record::verify(&tampered, &Default::default()).is_err());
        }
    }
}

#[test]
fn weighted_elections_count_weights_and_disputes_exclude_bad_dealers() {
    let simulate_to_text = |weighted: bool| {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("w.jsonl");
        let mut command = hiwar();
        command
            .args(["election", "simulate", "--voters", "30", "--options", "3", "--select", "0..2", "--trustees", "2/3"])
            .args(["--seed", "8", "--out", out.to_str().unwrap()]);
        if weighted {
            command.arg("--weighted");
        }
        let run = command.output().unwrap();
        assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
        std::fs::read_to_string(&out).unwrap()
    };
    let events_of = |text: &str| -> Vec<(String, Value)> {
        text.lines()
            .map(|l| {
                let v: Value = serde_json::from_str(l).unwrap();
                (v["kind"].as_str().unwrap().to_string(), v["body"].clone())
            })
            .collect()
    };
    let weighted = simulate_to_text(true);
    assert_eq!(verify(&weighted).0, 0);
    assert_eq!(python_verify(&weighted).0, 0);
    let w = events_of(&weighted);
    let plain = events_of(&simulate_to_text(false));
    // Same voters and ballots; the weights change the count.
    let result = |e: &[(String, Value)]| e[position(e, "election.result")].1["counts"].clone();
    assert_ne!(result(&w), result(&plain));
    // Changing a weight breaks the tally check; dropping the weights breaks the list.
    let mut e = w.clone();
    let i = position(&e, "election.credentials");
    e[i].1["weights"][0] = json!(7);
    assert_fails(&e, "E8", "a changed weight");
    let mut e = w.clone();
    e[i].1["weights"] = Value::Null;
    assert_fails(&e, "E4", "weights missing in a weighted election");

    // A dealer whose published share is wrong is disqualified: an opening that still
    // counts it fails.
    let mut e = plain.clone();
    let opened = position(&e, "election.opened");
    let dispute = json!({"election": "e-1", "dealer": 1, "trustee": 2, "share": format!("01{}", "00".repeat(31))});
    e.insert(opened, ("election.share_disputed".into(), dispute));
    assert_fails(&e, "E3", "an opening that keeps a disqualified dealer");
}
