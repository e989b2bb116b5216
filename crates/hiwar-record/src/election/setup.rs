//! The election's set-up: its parameters (E1), the trustees' key ceremony (E2, E3)
//! and the credential list (E4). Every check here runs before the state changes, so a
//! refused event leaves it as it was (the store relies on it to refuse an anonymous
//! sender's junk without rebuilding its state from the record).
//!
//! Whoever writes the record (the server) can add, drop or reorder lines but cannot
//! sign as a trustee or as the credential authority, whose keys `election.created`
//! names: so it can neither add a credential, nor speak for a trustee, nor exclude an
//! honest one. Any complaint ends the ceremony; the election cannot open and must be
//! created again.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use hiwar_crypto::ballot::Question;
use hiwar_crypto::elgamal::ElectionKey;
use hiwar_crypto::group::point_to_hex;
use hiwar_crypto::signing;
use hiwar_crypto::threshold::{self, DealerPublic, Verdict};
use serde_json::{Map, Value};

use super::hash::{election_hash, signed_event_message};
use super::roll::Roll;
use super::wire::{
    arr, cerr, hex_bytes, nonzero_point, obj, parse_encrypted_share, parse_equality, parse_knowledge, point, s, text,
    uint, R,
};
use super::{stage, zero_tally, BallotStore, Election, Stage, Trustee, WorkerElection};
use crate::fingerprint::Fingerprints;

/// Who made the credentials of a list: the credential authority (and printed them), or
/// the members themselves (their devices; the authority only checked and signed).
pub const MADE_BY: [&str; 2] = ["authority", "members"];

/// Checks the signature in `body` by `key` for an event of `kind`.
pub(super) fn signed_by(kind: &str, e: &Election, body: &Map<String, Value>, key: &[u8; 32], who: &str) -> R<()> {
    let signature: [u8; 64] = hex_bytes(&body["signature"], "signature")?;
    signing::verify("signature", key, &signed_event_message(kind, &e.hash, body), &signature)
        .map_err(|_| format!("the signature is not {who}'s"))
}

/// A strict Ed25519 public key (canonical, prime order).
fn public_key(v: &Value, what: &'static str) -> R<[u8; 32]> {
    let bytes: [u8; 32] = hex_bytes(v, what)?;
    signing::public_key(what, &bytes).map_err(|e| format!("{} {}: {e}", what, hex::encode(bytes)))?;
    Ok(bytes)
}

/// The strictly decoded keys of a credential list, in order; the subgroup check of
/// each (a scalar multiplication) runs on every core, since a national list has
/// millions. The first bad key in list order is the one named.
fn strict_keys(list: &[Value]) -> R<Vec<[u8; 32]>> {
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let part = list.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        let parts: Vec<_> = list
            .chunks(part)
            .map(|chunk| scope.spawn(move || chunk.iter().map(|c| public_key(c, "credential")).collect::<R<Vec<_>>>()))
            .collect();
        let mut keys = Vec::with_capacity(list.len());
        for part in parts {
            keys.extend(part.join().map_err(|_| "a credential check stopped".to_string())??);
        }
        Ok(keys)
    })
}

/// E1: `election.created`.
pub(super) fn created(dialogue: &str, name: &str, body: &Value, fingerprints: Fingerprints) -> R<Election> {
    let b = obj(
        body,
        "body",
        &["election", "title", "questions", "threshold", "trustees", "weighted", "electorate", "authority", "client"],
    )?;
    if name.is_empty()
        || name.len() > 64
        || !name.bytes().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
    {
        return Err(format!("election id {name:?} is not an id (a-z, 0-9, -)"));
    }
    text(&b["title"], "title")?;
    let mut trustees = Vec::new();
    let (mut signing_keys, mut share_keys) = (HashSet::new(), HashSet::new());
    for t in arr(&b["trustees"], "trustees")? {
        let m = obj(t, "trustee", &["signing_key", "share_key"])?;
        let signing_key = public_key(&m["signing_key"], "trustee signing key")?;
        let share_key = nonzero_point(&m["share_key"], "trustee share key")?;
        if !signing_keys.insert(signing_key) || !share_keys.insert(share_key.compress().to_bytes()) {
            return Err("two trustees share a key".into());
        }
        trustees.push(Trustee { signing_key, share_key });
    }
    let n = trustees.len() as u64;
    let threshold = uint(&b["threshold"], "threshold")?;
    if threshold < 1 || threshold > n || n > 1000 {
        return Err(format!("threshold {threshold} of {n} trustees is not 1 ≤ t ≤ n ≤ 1000"));
    }
    let weighted = b["weighted"].as_bool().ok_or("weighted is not a boolean")?;
    let electorate = obj(&b["electorate"], "electorate", &["voters", "total_weight", "roll"])?;
    let voters = uint(&electorate["voters"], "voters")?;
    let total_weight = uint(&electorate["total_weight"], "total_weight")?;
    hex_bytes::<32>(&electorate["roll"], "roll")?;
    if voters < 1 || total_weight < voters || (!weighted && total_weight != voters) {
        return Err(format!(
            "an electorate of {voters} voters with total weight {total_weight} is impossible{}",
            if weighted { "" } else { " (unweighted: the weight is the number of voters)" }
        ));
    }
    let authority = public_key(&b["authority"], "credential authority key")?;
    hex_bytes::<32>(&b["client"], "client")?;
    let questions = arr(&b["questions"], "questions")?
        .iter()
        .enumerate()
        .map(|(i, q)| {
            let m = obj(q, "question", &["title", "options", "min", "max"])?;
            text(&m["title"], "question title")?;
            let options = arr(&m["options"], "options")?;
            for o in options {
                text(o, "option")?;
            }
            let question = Question {
                options: options.len() as u32,
                min: uint(&m["min"], "min")? as u32,
                max: uint(&m["max"], "max")? as u32,
            };
            question.check().map_err(|e| format!("question {i}: {e}"))?;
            Ok(question)
        })
        .collect::<R<Vec<_>>>()?;
    if questions.is_empty() {
        return Err("an election needs at least one question".into());
    }
    let tally = zero_tally(&questions);
    Ok(Election {
        worker: None,
        hash: election_hash(dialogue, body),
        questions,
        trustees,
        threshold: threshold as u32,
        weighted,
        voters,
        total_weight,
        authority,
        stage: Stage::Setup,
        committed: BTreeMap::new(),
        revealed: BTreeMap::new(),
        shares: BTreeMap::new(),
        failed: None,
        verification_keys: BTreeMap::new(),
        roll: Roll::new(fingerprints),
        tracking: HashSet::new(),
        cast: 0,
        spoiled: 0,
        superseded: 0,
        removed: tally.clone(),
        counted_weight: 0,
        closed_tally: tally.clone(),
        tally,
        partials: BTreeMap::new(),
        pending: Vec::new(),
    })
}

/// E4: a part of the credential list, signed by the credential authority.
pub(super) fn credentials(e: &mut Election, body: &Value) -> R<()> {
    let b = obj(body, "body", &["election", "credentials", "weights", "made_by", "signature"])?;
    stage(e, Stage::Setup, "credentials")?;
    let made_by = s(&b["made_by"], "made_by")?;
    if !MADE_BY.contains(&made_by) {
        return Err(format!("made_by {made_by:?} is not one of {MADE_BY:?}"));
    }
    let authority = e.authority;
    signed_by("election.credentials", e, b, &authority, "the credential authority")?;
    let list = arr(&b["credentials"], "credentials")?;
    let weights: Vec<u64> = if e.weighted {
        let w = arr(&b["weights"], "weights")?;
        if w.len() != list.len() {
            return Err(format!("{} weights for {} credentials", w.len(), list.len()));
        }
        w.iter()
            .map(|x| uint(x, "weight").and_then(|x| if x == 0 { Err("a weight is 0".into()) } else { Ok(x) }))
            .collect::<R<_>>()?
    } else {
        if !b["weights"].is_null() {
            return Err("weights given for an unweighted election".into());
        }
        vec![1; list.len()]
    };
    // Everything is checked before anything is kept: a refused list changes nothing.
    let keys = strict_keys(list)?;
    let mut new = HashSet::new();
    let mut entries = Vec::with_capacity(list.len());
    let mut listed_weight = e.roll.listed_weight;
    for (bytes, weight) in keys.iter().zip(&weights) {
        let fingerprint = e.roll.fingerprint(bytes);
        if e.roll.is_listed(fingerprint) || !new.insert(fingerprint) {
            return Err(format!("credential {} is listed twice", hex::encode(bytes)));
        }
        entries.push((fingerprint, *weight));
        listed_weight = listed_weight.checked_add(*weight).ok_or("total weight overflows")?;
    }
    let listed = e.roll.len() + new.len();
    if listed as u64 > e.voters || listed_weight > e.total_weight {
        return Err(format!(
            "{listed} credentials of total weight {listed_weight} listed: the electorate has {} voters of total weight {}",
            e.voters, e.total_weight
        ));
    }
    e.roll.list(e.weighted, entries);
    e.roll.listed_weight = listed_weight;
    Ok(())
}

fn trustee_index(e: &Election, v: &Value) -> R<u32> {
    let i = uint(v, "trustee")?;
    if i < 1 || i > e.n() as u64 {
        return Err(format!("trustee {i} is not in 1..={}", e.n()));
    }
    Ok(i as u32)
}

/// The trustee index of a trustee event, after checking the trustee's signature.
fn signing_trustee(kind: &str, e: &Election, b: &Map<String, Value>, field: &str) -> R<u32> {
    let i = trustee_index(e, &b[field])?;
    signed_by(kind, e, b, &e.trustees[i as usize - 1].signing_key, &format!("trustee {i}"))?;
    Ok(i)
}

/// E2: step 1, a hash commitment.
pub(super) fn trustee_committed(e: &mut Election, body: &Value) -> R<()> {
    let b = obj(body, "body", &["election", "trustee", "hash", "signature"])?;
    stage(e, Stage::Setup, "a trustee commitment")?;
    let i = signing_trustee("election.trustee_committed", e, b, "trustee")?;
    if !e.revealed.is_empty() {
        return Err(format!("trustee {i} committed after a trustee revealed"));
    }
    let hash = hex_bytes(&b["hash"], "hash")?;
    if e.committed.contains_key(&i) {
        return Err(format!("trustee {i} committed twice"));
    }
    e.committed.insert(i, hash);
    Ok(())
}

/// E2: step 2, the reveal of the commitments and the proof of possession.
pub(super) fn trustee_revealed(e: &mut Election, body: &Value) -> R<()> {
    let b = obj(body, "body", &["election", "trustee", "commitments", "proof", "signature"])?;
    stage(e, Stage::Setup, "a trustee reveal")?;
    let i = signing_trustee("election.trustee_revealed", e, b, "trustee")?;
    if e.committed.len() != e.trustees.len() {
        return Err(format!("trustee {i} revealed before all {} trustees committed", e.n()));
    }
    let commitments =
        arr(&b["commitments"], "commitments")?.iter().map(|c| point(c, "trustee commitment")).collect::<R<Vec<_>>>()?;
    let public = DealerPublic { index: i, commitments, proof: parse_knowledge(&b["proof"])? };
    if public.commitment_hash() != e.committed[&i] {
        return Err(format!("trustee {i}'s reveal does not match its commitment"));
    }
    public.verify(&e.hash, e.threshold).map_err(|d| format!("trustee {i}: {d}"))?;
    if e.revealed.contains_key(&i) {
        return Err(format!("trustee {i} revealed twice"));
    }
    e.revealed.insert(i, public);
    Ok(())
}

/// E2: step 3, the dealer's shares, one per trustee (itself included), each encrypted
/// to its recipient's share key.
pub(super) fn trustee_shares(e: &mut Election, body: &Value) -> R<()> {
    let b = obj(body, "body", &["election", "trustee", "shares", "signature"])?;
    stage(e, Stage::Setup, "a trustee's shares")?;
    let i = signing_trustee("election.trustee_shares", e, b, "trustee")?;
    if e.revealed.len() != e.trustees.len() {
        return Err(format!("trustee {i} dealt shares before all {} trustees revealed", e.n()));
    }
    let shares = arr(&b["shares"], "shares")?.iter().map(parse_encrypted_share).collect::<R<Vec<_>>>()?;
    if shares.len() != e.trustees.len() {
        return Err(format!("trustee {i} dealt {} shares for {} trustees", shares.len(), e.n()));
    }
    if e.shares.contains_key(&i) {
        return Err(format!("trustee {i} dealt shares twice"));
    }
    e.shares.insert(i, shares);
    Ok(())
}

/// E3: a trustee's complaint about a share it received. It must carry a valid proof
/// that it opens that share; then anyone can tell who lied. Either way the ceremony
/// has failed.
pub(super) fn trustee_complaint(e: &mut Election, line: usize, body: &Value) -> R<()> {
    let b = obj(body, "body", &["election", "trustee", "dealer", "key", "proof", "signature"])?;
    stage(e, Stage::Setup, "a complaint")?;
    let j = signing_trustee("election.trustee_complaint", e, b, "trustee")?;
    let dealer = trustee_index(e, &b["dealer"])?;
    let share = *e
        .shares
        .get(&dealer)
        .ok_or_else(|| format!("trustee {j} complained about trustee {dealer}, who dealt no shares"))?
        .get(j as usize - 1)
        .expect("one share per trustee");
    let shared = point(&b["key"], "complaint key")?;
    let proof = parse_equality(&b["proof"], "complaint proof")?;
    let verdict = threshold::decide_complaint(
        &e.hash,
        &e.revealed[&dealer],
        j,
        &e.trustees[j as usize - 1].share_key,
        &share,
        &shared,
        &proof,
    )
    .map_err(|d| format!("trustee {j}'s complaint: {d}"))?;
    let finding = match verdict {
        Verdict::DealerAtFault => format!("trustee {dealer} dealt trustee {j} a wrong share"),
        Verdict::ComplainantAtFault => format!("trustee {j} complained falsely about trustee {dealer}'s share"),
    };
    e.failed.get_or_insert(format!("the key ceremony failed at line {line}: {finding}"));
    Ok(())
}

/// E3 and E4: the election opens with a complete ceremony and a complete credential list.
pub(super) fn opened(
    e: &mut Election,
    body: &Value,
    ballots: Box<dyn BallotStore>,
) -> Result<(), (&'static str, String)> {
    let e3 = |d: String| ("E3", d);
    let b = obj(body, "body", &["election", "public_key", "verification_keys"]).map_err(e3)?;
    stage(e, Stage::Setup, "opening").map_err(e3)?;
    if let Some(failure) = &e.failed {
        return Err(("E3", format!("{failure}; the election cannot open (create a new one)")));
    }
    if e.shares.len() != e.trustees.len() {
        return Err(e3(format!("{} of {} trustees dealt their shares", e.shares.len(), e.n())));
    }
    let publics: Vec<DealerPublic> = e.revealed.values().cloned().collect();
    let key = threshold::election_key(&publics);
    if point_to_hex(&key) != s(&b["public_key"], "public_key").map_err(e3)? {
        return Err(e3("public_key is not the sum of the trustees' constant commitments".into()));
    }
    let vks = arr(&b["verification_keys"], "verification_keys").map_err(e3)?;
    if vks.len() != e.trustees.len() {
        return Err(e3(format!("{} verification keys for {} trustees", vks.len(), e.n())));
    }
    let mut verification_keys = BTreeMap::new();
    for (j, vk) in (1..=e.n()).zip(vks) {
        let expected = threshold::verification_key(&publics, j);
        if point_to_hex(&expected) != s(vk, "verification key").map_err(e3)? {
            return Err(e3(format!("verification key of trustee {j} does not follow from the commitments")));
        }
        verification_keys.insert(j, expected);
    }
    if e.roll.len() as u64 != e.voters || e.roll.listed_weight != e.total_weight {
        return Err((
            "E4",
            format!(
                "{} credentials of total weight {} listed; the electorate has {} voters of total weight {}",
                e.roll.len(),
                e.roll.listed_weight,
                e.voters,
                e.total_weight
            ),
        ));
    }
    let key = ElectionKey::new(key).map_err(cerr).map_err(e3)?;
    e.verification_keys = verification_keys;
    e.roll.seal(ballots);
    // Every listed credential may cast once; re-votes and challenges grow it beyond.
    e.tracking.reserve(e.roll.len());
    e.worker = Some(WorkerElection { hash: e.hash, key: Arc::new(key), questions: e.questions.clone() });
    e.stage = Stage::Open;
    Ok(())
}
