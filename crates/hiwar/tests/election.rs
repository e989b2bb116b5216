//! `hiwar election simulate` and `hiwar verify` on its record (protocol v2): an honest
//! election verifies; every attack — by an operator who re-signs the whole record with
//! the dialogue key, alone or with a colluding voter, trustee or credential authority —
//! fails the named check in both verifiers.

mod common;

use std::path::Path;

use common::{assert_fails, events, hiwar, python_verify, reseal, verify};
use hiwar_crypto::ballot::{self, BallotContext, Credential, Question};
use hiwar_crypto::elgamal::ElectionKey;
use hiwar_crypto::group::scalar_from_hex;
use hiwar_crypto::signing::Signer25519;
use hiwar_crypto::threshold::ShareKey;
use hiwar_record::election::wire::parse_encrypted_share;
use hiwar_record::election::{
    ballot_json, cast_message, choices_json, election_hash, equality_json, nonces_json, sign_event, tracking_code,
};
use rand::SeedableRng;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

type Events = Vec<(String, Value)>;

/// Simulates an election with 3 options and trustees 2/3; returns its events and the
/// directory holding the roles' keys.
fn simulate(voters: u64, select: &str, seed: u64) -> (Events, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("e.jsonl");
    let run = hiwar()
        .args(["election", "simulate", "--voters", &voters.to_string(), "--options", "3", "--select", select])
        .args(["--trustees", "2/3", "--seed", &seed.to_string(), "--out", out.to_str().unwrap()])
        .args(["--keys", dir.path().join("keys").to_str().unwrap()])
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let record = std::fs::read_to_string(&out).unwrap();
    let (code, stdout) = verify(&record);
    assert_eq!(code, 0, "{stdout}");
    (events(&record), dir)
}

fn position(events: &[(String, Value)], kind: &str) -> usize {
    events.iter().position(|(k, _)| k == kind).unwrap_or_else(|| panic!("no {kind}"))
}

fn last_position(events: &[(String, Value)], kind: &str) -> usize {
    events.iter().rposition(|(k, _)| k == kind).unwrap_or_else(|| panic!("no {kind}"))
}

fn hash_of(events: &[(String, Value)]) -> [u8; 32] {
    election_hash("simulation", &events[position(events, "election.created")].1)
}

fn key_file(dir: &Path, name: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("keys").join(name)).unwrap()).unwrap()
}

fn signer(dir: &Path, name: &str) -> Signer25519 {
    let seed: [u8; 32] =
        hex::decode(key_file(dir, name)["signing_seed"].as_str().unwrap()).unwrap().try_into().unwrap();
    Signer25519::from_seed(&seed)
}

/// Voter `i` of a simulation with `seed` (the simulator's documented derivation): a
/// voter who colludes with the operator.
struct Voter {
    credential: Credential,
    hash: [u8; 32],
    key: ElectionKey,
}

impl Voter {
    fn new(events: &[(String, Value)], seed: u64, i: u64) -> Voter {
        let mut h = Sha256::new();
        h.update(b"hiwar/simulate/credential");
        h.update(seed.to_le_bytes());
        h.update(i.to_le_bytes());
        let credential = Credential::from_secret(&h.finalize().into());
        let key = ElectionKey::from_hex(events[position(events, "election.opened")].1["public_key"].as_str().unwrap())
            .unwrap();
        Voter { credential, hash: hash_of(events), key }
    }

    fn encrypt(
        &self,
        question: Question,
        choice: Vec<bool>,
        hash: &[u8; 32],
        key: &ElectionKey,
    ) -> (ballot::Ballot, ballot::BallotNonces) {
        let public = self.credential.public();
        let ctx = BallotContext { election_hash: hash, key, credential: &public };
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(5);
        ballot::encrypt(&ctx, &[question], &[choice], &mut rng).unwrap()
    }

    fn ballot(&self, question: Question, choice: Vec<bool>) -> Value {
        ballot_json(&self.encrypt(question, choice, &self.hash, &self.key).0)
    }

    /// A cast event for `ballot` (JSON) with `counter`, signed by this voter.
    fn cast(&self, ballot: Value, counter: u64) -> (String, Value) {
        let parsed = hiwar_record::election::parse_ballot(&ballot).unwrap();
        let tracking = tracking_code(&self.hash, &parsed.choices());
        (
            "ballot.cast".into(),
            json!({"election": "e-1", "credential": hex::encode(self.credential.public()), "counter": counter,
                   "ballot": ballot, "signature": hex::encode(self.credential.sign(&cast_message(&self.hash, counter, &ballot))),
                   "tracking": hex::encode(tracking)}),
        )
    }
}

fn insert_before_close(events: &mut Events, event: (String, Value)) {
    let at = position(events, "election.closed");
    events.insert(at, event);
}

const ONE_OF_THREE: Question = Question { options: 3, min: 1, max: 1 };

#[test]
fn an_honest_simulated_election_verifies_even_when_resealed() {
    let (events, _keys) = simulate(120, "1..1", 1);
    let (code, stdout) = verify(&reseal(&events));
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.contains("E10"));
    let (code, stdout) = python_verify(&reseal(&events));
    assert_eq!(code, 0, "python: {stdout}");
    // Re-votes and challenges happened; challenged ballots name no credential.
    let spoiled = &events[position(&events, "ballot.spoiled")].1;
    assert!(spoiled.get("credential").is_none() && spoiled.get("signature").is_none());
    let closed = &events[position(&events, "election.closed")].1;
    assert!(closed["superseded"].as_u64().unwrap() >= 1);
}

#[test]
fn stuffing_the_credential_list_fails_e4() {
    let (base, keys) = simulate(60, "1..1", 2);
    let i = position(&base, "election.credentials");
    let extra = hex::encode(Credential::from_secret(&[42u8; 32]).public());

    // The operator adds a credential of its own to the authority's list.
    let mut e = base.clone();
    e[i].1["credentials"].as_array_mut().unwrap().push(json!(extra));
    assert_fails(&e, "E4", "a credential added to a signed list");

    // Or a list of its own, signed with a key of its own.
    let mut e = base.clone();
    let fake = Signer25519::from_seed(&[7u8; 32]);
    let body = json!({"election": "e-1", "credentials": [extra], "weights": null, "made_by": "authority"});
    e.insert(i + 1, ("election.credentials".into(), sign_event("election.credentials", &hash_of(&base), body, &fake)));
    assert_fails(&e, "E4", "a credential list not signed by the authority");

    // A colluding authority signs an extra credential: more credentials than voters.
    let authority = signer(keys.path(), "authority.json");
    let mut e = base.clone();
    let body = json!({"election": "e-1", "credentials": [extra], "weights": null, "made_by": "authority"});
    e.insert(
        i + 1,
        ("election.credentials".into(), sign_event("election.credentials", &hash_of(&base), body, &authority)),
    );
    assert_fails(&e, "E4", "more credentials than the electorate");

    // A list must say who made its credentials: the authority or the members.
    for made_by in [json!("server"), json!(null)] {
        let mut e = base.clone();
        let mut body = e[i].1.clone();
        body.as_object_mut().unwrap().remove("signature");
        body["made_by"] = made_by.clone();
        e[i].1 = sign_event("election.credentials", &hash_of(&base), body, &authority);
        assert_fails(&e, "E4", &format!("a list made by {made_by}"));
    }

    // The operator drops the list: the election opens with fewer credentials than voters.
    let mut e = base.clone();
    e.remove(i);
    assert_fails(&e, "E4", "fewer credentials than the electorate");

    // A colluding authority lists a key with a torsion component (accepted by
    // ed25519-dalek's `is_weak`, refused by libsodium): both verifiers refuse it.
    let mut e = base.clone();
    let point = curve25519_dalek::edwards::CompressedEdwardsY(Credential::from_secret(&[43u8; 32]).public())
        .decompress()
        .unwrap();
    let mixed = hex::encode((point + curve25519_dalek::constants::EIGHT_TORSION[1]).compress().to_bytes());
    let mut body = e[i].1.clone();
    body.as_object_mut().unwrap().remove("signature");
    body["credentials"][0] = json!(mixed);
    e[i].1 = sign_event("election.credentials", &hash_of(&base), body, &authority);
    assert_fails(&e, "E4", "a credential outside the prime-order subgroup");

    // Credentials listed after opening.
    let mut e = base.clone();
    let opened = position(&e, "election.opened");
    let creds = e.remove(i);
    e.insert(opened, creds);
    assert_fails(&e, "E4", "credentials listed after opening");
}

#[test]
fn trustees_cannot_be_framed_or_impersonated() {
    let (base, keys) = simulate(30, "1..1", 3);
    let hash = hash_of(&base);

    // The operator complains in trustee 2's name that trustee 1 dealt a wrong share.
    let mut e = base.clone();
    let at = position(&e, "election.opened");
    let complaint = json!({"election": "e-1", "trustee": 2, "dealer": 1, "key": hiwar_crypto::group::point_to_hex(&hiwar_crypto::group::generator()),
        "proof": {"a1": hiwar_crypto::group::point_to_hex(&hiwar_crypto::group::generator()), "a2": hiwar_crypto::group::point_to_hex(&hiwar_crypto::group::generator()), "z": format!("01{}", "00".repeat(31))}});
    let fake = Signer25519::from_seed(&[7u8; 32]);
    e.insert(
        at,
        ("election.trustee_complaint".into(), sign_event("election.trustee_complaint", &hash, complaint, &fake)),
    );
    assert_fails(&e, "E3", "a complaint forged in a trustee's name");

    // The operator changes a share in transit.
    let mut e = base.clone();
    let i = position(&e, "election.trustee_shares");
    e[i].1["shares"][1]["share"] = json!("00".repeat(32));
    assert_fails(&e, "E2", "a share changed in transit");

    // The operator swaps in commitments of its own.
    let mut e = base.clone();
    let i = position(&e, "election.trustee_revealed");
    let other = e[i + 1].1["commitments"].clone();
    e[i].1["commitments"] = other;
    assert_fails(&e, "E2", "a reveal altered by the operator");

    // A real complaint, signed by trustee 2 with a valid proof about an honest share: the
    // ceremony has failed (the complaint was false), so the election cannot open.
    let mut e = base.clone();
    let trustee = key_file(keys.path(), "trustee-2.json");
    let share_key = ShareKey::from_scalar(scalar_from_hex("s", trustee["share_secret"].as_str().unwrap()).unwrap());
    let dealt = parse_encrypted_share(&e[position(&e, "election.trustee_shares")].1["shares"][1]).unwrap();
    let (shared, proof) = share_key.complain(&hash, 1, 2, &dealt, &mut rand_chacha::ChaCha20Rng::seed_from_u64(1));
    let complaint = json!({"election": "e-1", "trustee": 2, "dealer": 1,
        "key": hiwar_crypto::group::point_to_hex(&shared), "proof": equality_json(&proof)});
    let signed = sign_event("election.trustee_complaint", &hash, complaint, &signer(keys.path(), "trustee-2.json"));
    e.insert(position(&e, "election.opened"), ("election.trustee_complaint".into(), signed.clone()));
    assert_fails(&e, "E3", "an election opened after a complaint");
    // The complaint itself verifies (the record up to it is sound).
    let upto: Events = e[..position(&e, "election.opened")].to_vec();
    assert_eq!(verify(&reseal(&upto)).0, 0);
    assert_eq!(python_verify(&reseal(&upto)).0, 0);
    // A complaint with a wrong proof (another point) fails E3.
    let mut bad = signed.clone();
    bad.as_object_mut().unwrap().remove("signature");
    bad["key"] = json!(hiwar_crypto::group::point_to_hex(&(shared + hiwar_crypto::group::generator())));
    let bad = sign_event("election.trustee_complaint", &hash, bad, &signer(keys.path(), "trustee-2.json"));
    let mut e2 = upto.clone();
    e2.pop();
    e2.push(("election.trustee_complaint".into(), bad));
    assert_fails(&e2, "E3", "a complaint whose proof fails");

    // A trustee that never dealt its shares: the election cannot open.
    let mut e = base.clone();
    e.remove(last_position(&e, "election.trustee_shares"));
    assert_fails(&e, "E3", "an opening without every trustee's shares");

    // A reveal before every commitment.
    let mut e = base.clone();
    let reveal = position(&e, "election.trustee_revealed");
    let commit = last_position(&e, "election.trustee_committed");
    let moved = e.remove(reveal);
    e.insert(commit, moved);
    assert_fails(&e, "E2", "a reveal before every commitment");

    // A partial decryption the operator made up in a trustee's name.
    let mut e = base.clone();
    let i = position(&e, "election.partial_decryption");
    let mut body = e[i].1.clone();
    body.as_object_mut().unwrap().remove("signature");
    e[i].1 = sign_event("election.partial_decryption", &hash, body, &fake);
    assert_fails(&e, "E9", "a partial decryption not signed by its trustee");
}

#[test]
fn tampered_ballots_fail_e5_or_e6() {
    let (base, _keys) = simulate(60, "1..1", 2);
    let voter = Voter::new(&base, 2, 0);

    // A voter's ballot changed by the operator: the voter's signature no longer fits.
    let mut e = base.clone();
    let i = position(&e, "ballot.cast");
    e[i].1["ballot"]["answers"][0]["choice_proofs"][0][0]["z"] = json!(format!("{:0<64}", "01"));
    assert_fails(&e, "E5", "a changed ballot");

    // A ballot signed with a credential that is not on the list.
    let outsider = Voter { credential: Credential::from_secret(&[42u8; 32]), ..Voter::new(&base, 2, 0) };
    let mut e = base.clone();
    insert_before_close(&mut e, outsider.cast(outsider.ballot(ONE_OF_THREE, vec![true, false, false]), 1));
    assert_fails(&e, "E5", "an unlisted credential");

    // A colluding voter's ballots with broken proofs.
    let honest = voter.ballot(ONE_OF_THREE, vec![true, false, false]);
    for field in ["a", "b", "c", "z"] {
        let mut forged = honest.clone();
        let other =
            base[position(&base, "ballot.cast")].1["ballot"]["answers"][0]["choice_proofs"][1][0][field].clone();
        assert_ne!(other, forged["answers"][0]["choice_proofs"][1][0][field]);
        forged["answers"][0]["choice_proofs"][1][0][field] = other;
        let mut e = base.clone();
        insert_before_close(&mut e, voter.cast(forged, 10));
        assert_fails(&e, "E6", &format!("proof field {field} altered"));
    }

    // An option encrypting 2: the ciphertext of option 0 doubled, proofs kept.
    let mut forged = honest.clone();
    let ct = hiwar_crypto::elgamal::Ciphertext::from_hex(
        forged["answers"][0]["choices"][0]["alpha"].as_str().unwrap(),
        forged["answers"][0]["choices"][0]["beta"].as_str().unwrap(),
    )
    .unwrap();
    forged["answers"][0]["choices"][0] = hiwar_record::election::ct_json(&(ct + ct));
    let mut e = base.clone();
    insert_before_close(&mut e, voter.cast(forged, 10));
    assert_fails(&e, "E6", "an option outside 0/1");

    // Too many selections, and a blank where blank is not allowed.
    for (q, choice, what) in [
        (Question { options: 3, min: 0, max: 3 }, vec![true, true, false], "too many selections"),
        (Question { options: 3, min: 0, max: 1 }, vec![false, false, false], "too few selections"),
    ] {
        let mut e = base.clone();
        insert_before_close(&mut e, voter.cast(voter.ballot(q, choice), 10));
        assert_fails(&e, "E6", what);
    }

    // A non-canonical point (p + 1 is not a reduced field element).
    let mut forged = honest.clone();
    forged["answers"][0]["choice_proofs"][0][0]["a"] =
        json!("eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f");
    let mut e = base.clone();
    insert_before_close(&mut e, voter.cast(forged, 10));
    assert_fails(&e, "E6", "a non-canonical point");

    // Replay: a ballot made for another election, signed for this one.
    let (other, _k) = simulate(10, "1..1", 3);
    let other_key =
        ElectionKey::from_hex(other[position(&other, "election.opened")].1["public_key"].as_str().unwrap()).unwrap();
    let replayed = ballot_json(&voter.encrypt(ONE_OF_THREE, vec![false, true, false], &hash_of(&other), &other_key).0);
    let mut e = base.clone();
    insert_before_close(&mut e, voter.cast(replayed, 10));
    assert_fails(&e, "E6", "a ballot replayed from another election");

    // A valid extra ballot of a colluding voter is accepted, but then the tally no longer matches.
    let mut e = base.clone();
    insert_before_close(&mut e, voter.cast(honest, 10));
    assert_fails(&e, "E8", "an added ballot without a recomputed tally");
}

#[test]
fn a_re_vote_cannot_be_reverted_and_a_challenged_ballot_cannot_be_cast() {
    let (base, _keys) = simulate(60, "1..1", 2);
    // Voter 0 voted twice (counters 1 and 2). The operator appends the first ballot again
    // so that it would be the last one.
    let credential = hex::encode(Voter::new(&base, 2, 0).credential.public());
    let first = base.iter().find(|(k, b)| k == "ballot.cast" && b["credential"] == credential).unwrap().clone();
    assert_eq!(first.1["counter"], 1);
    let mut e = base.clone();
    insert_before_close(&mut e, first.clone());
    assert_fails(&e, "E5", "an earlier ballot replayed after a re-vote");
    // The same ballot under a higher counter needs the voter's signature.
    let mut e = base.clone();
    let mut replay = first.clone();
    replay.1["counter"] = json!(3);
    insert_before_close(&mut e, replay);
    assert_fails(&e, "E5", "an earlier ballot replayed under a new counter");

    // A challenged ballot (its nonces public) cast later, even with the voter's collusion.
    let voter = Voter::new(&base, 2, 0);
    let (b, nonces) = voter.encrypt(ONE_OF_THREE, vec![false, false, true], &voter.hash, &voter.key);
    let tracking = hex::encode(tracking_code(&voter.hash, &b.choices()));
    let spoiled = json!({"election": "e-1", "tracking": tracking, "choices": choices_json(&b),
        "nonces": nonces_json(&nonces), "plaintext": [[0, 0, 1]]});
    let mut e = base.clone();
    insert_before_close(&mut e, ("ballot.spoiled".into(), spoiled.clone()));
    assert_eq!(verify(&reseal(&e)).0, 0, "a challenged ballot on its own is fine");
    insert_before_close(&mut e, voter.cast(ballot_json(&b), 10));
    assert_fails(&e, "E5", "a challenged ballot cast");
    // And the other way: a cast ballot published as challenged.
    let mut e = base.clone();
    insert_before_close(&mut e, voter.cast(ballot_json(&b), 10));
    insert_before_close(&mut e, ("ballot.spoiled".into(), spoiled));
    assert_fails(&e, "E7", "a cast ballot published as challenged");

    // A spoiled ballot whose published plaintext is not what its nonces open to.
    let mut e = base.clone();
    let i = position(&e, "ballot.spoiled");
    let flipped: Vec<Value> =
        e[i].1["plaintext"][0].as_array().unwrap().iter().map(|c| json!(1 - c.as_u64().unwrap())).collect();
    e[i].1["plaintext"] = json!([flipped]);
    assert_fails(&e, "E7", "a spoiled ballot's published choices");
}

#[test]
fn tampered_tallies_keys_and_results_fail() {
    let (base, _keys) = simulate(60, "0..2", 4);

    let mut e = base.clone();
    e.remove(last_position(&e, "ballot.cast"));
    assert_fails(&e, "E8", "a dropped ballot");

    let mut e = base.clone();
    let i = position(&e, "election.closed");
    e[i].1["superseded"] = json!(0);
    assert_fails(&e, "E8", "superseded ballots counted");

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

    for (field, value, what) in [
        ("threshold", json!(9), "impossible parameters"),
        ("client", json!("not a hash"), "no hash of the voting client"),
        (
            "electorate",
            json!({"voters": 60, "total_weight": 61, "roll": "00".repeat(32)}),
            "an unweighted electorate with extra weight",
        ),
    ] {
        let mut e = base.clone();
        let i = position(&e, "election.created");
        e[i].1[field] = value;
        assert_fails(&e, "E1", what);
    }
}

#[test]
fn a_trustee_decrypts_only_a_tally_it_recomputed() {
    let (base, keys) = simulate(40, "1..1", 5);
    let decided = position(&base, "election.partial_decryption");
    let closed: Events = base[..decided].to_vec();
    let dir = tempfile::tempdir().unwrap();
    let record = dir.path().join("closed.jsonl");
    std::fs::write(&record, reseal(&closed)).unwrap();
    let mut with_result = closed.clone();
    for j in [1, 3] {
        let out = dir.path().join(format!("partial-{j}.json"));
        let run = hiwar()
            .args(["trustee", "decrypt", "--record", record.to_str().unwrap()])
            .args(["--key", keys.path().join("keys").join(format!("trustee-{j}.json")).to_str().unwrap()])
            .args(["--out", out.to_str().unwrap()])
            .output()
            .unwrap();
        assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
        let body: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
        with_result.push(("election.partial_decryption".into(), body));
    }
    let mut result = base[position(&base, "election.result")].1.clone();
    result["trustees"] = json!([1, 3]);
    with_result.push(("election.result".into(), result));
    assert_eq!(verify(&reseal(&with_result)).0, 0, "{}", verify(&reseal(&with_result)).1);
    assert_eq!(python_verify(&reseal(&with_result)).0, 0);

    // The operator presents one voter's ballot as the tally, hoping the trustees decrypt it.
    let mut e = closed.clone();
    let i = position(&e, "election.closed");
    let ballot = &base[position(&base, "ballot.cast")].1["ballot"]["answers"][0]["choices"];
    e[i].1["tally"] = json!([ballot.clone()]);
    std::fs::write(&record, reseal(&e)).unwrap();
    let run = hiwar()
        .args(["trustee", "decrypt", "--record", record.to_str().unwrap()])
        .args(["--key", keys.path().join("keys").join("trustee-1.json").to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!run.status.success());
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(stderr.contains("E8"), "the refusal names the failed check: {stderr}");
}

#[test]
fn a_voter_checks_their_credential_and_ballot() {
    let (base, keys) = simulate(30, "1..1", 6);
    let dir = tempfile::tempdir().unwrap();
    let record = dir.path().join("r.jsonl");
    std::fs::write(&record, reseal(&base)).unwrap();
    let _ = keys;
    let voter = Voter::new(&base, 6, 0);
    let credential = hex::encode(voter.credential.public());
    let last = base.iter().rev().find(|(k, b)| k == "ballot.cast" && b["credential"] == credential).unwrap();
    let tracking = last.1["tracking"].as_str().unwrap();
    let run = hiwar()
        .args(["vote", "check", "--record", record.to_str().unwrap(), "--election", "e-1"])
        .args(["--credential", &credential, "--tracking", tracking])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(run.status.success(), "{stdout}");
    assert!(stdout.contains("is on the credential authority's list"));
    assert!(stdout.contains(&format!("ballot {tracking} (counter 2): counts")), "{stdout}");
    // A credential that is not listed.
    let run = hiwar()
        .args(["vote", "check", "--record", record.to_str().unwrap(), "--election", "e-1"])
        .args(["--credential", &"ab".repeat(32)])
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(1));
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
    let produced = std::fs::read_to_string(&out).unwrap();
    if std::env::var_os("HIWAR_BLESS").is_some() {
        std::fs::write(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors/election-small.jsonl"), &produced).unwrap();
    }
    let expected = include_str!("vectors/election-small.jsonl");
    assert!(produced == expected, "the election encoding changed: update spec and vector deliberately (HIWAR_BLESS=1)");
    assert_eq!(verify(expected).0, 0);
    assert_eq!(python_verify(expected).0, 0);
}

/// The verdict of reading `bytes` as a stream, a few bytes at a time (so lines and
/// chunks break at every place), each credential's latest ballot kept in a store the
/// caller made (as `hiwar verify` does with its file).
fn streamed_check(bytes: &[u8], capacity: usize) -> Option<&'static str> {
    let hooks = hiwar_record::Hooks {
        ballot_store: Some(std::sync::Arc::new(|_, _| {
            Ok(Box::new(hiwar_record::election::MemoryBallots::default()) as _)
        })),
        ..Default::default()
    };
    match hiwar_record::verify_stream(std::io::BufReader::with_capacity(capacity, bytes), &Default::default(), hooks) {
        Ok(_) => None,
        Err(hiwar_record::Stopped::Failed(f)) => Some(f.check),
        Err(hiwar_record::Stopped::Unreadable { error, .. }) => panic!("a slice is always readable: {error}"),
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]
    /// Any single-byte change to a simulated election record fails verification, with
    /// the same named check whether the record is verified from memory or streamed.
    #[test]
    fn any_single_byte_change_to_an_election_record_fails(position in proptest::prelude::any::<proptest::sample::Index>(), byte in proptest::prelude::any::<u8>(), capacity in 1usize..4096) {
        let record = include_str!("vectors/election-small.jsonl");
        proptest::prop_assert_eq!(streamed_check(record.as_bytes(), capacity), None);
        let mut bytes = record.as_bytes().to_vec();
        let i = position.index(bytes.len());
        proptest::prop_assume!(bytes[i] != byte);
        bytes[i] = byte;
        let streamed = streamed_check(&bytes, capacity);
        match String::from_utf8(bytes) {
            Ok(tampered) => {
                let in_memory = hiwar_record::verify(&tampered, &Default::default()).map_err(|f| f.check).err();
                proptest::prop_assert!(in_memory.is_some());
                proptest::prop_assert_eq!(streamed, in_memory);
            }
            Err(_) => proptest::prop_assert_eq!(streamed, Some("R1")),
        }
    }
}

#[test]
fn weighted_elections_count_weights() {
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
    let weighted = simulate_to_text(true);
    assert_eq!(verify(&weighted).0, 0);
    assert_eq!(python_verify(&weighted).0, 0);
    let w = events(&weighted);
    let plain = events(&simulate_to_text(false));
    let result = |e: &[(String, Value)]| e[position(e, "election.result")].1["counts"].clone();
    assert_ne!(result(&w), result(&plain));
    // The operator changes a weight on the authority's signed list.
    let mut e = w.clone();
    let i = position(&e, "election.credentials");
    e[i].1["weights"][0] = json!(7);
    assert_fails(&e, "E4", "a changed weight");
}
