//! Ballots, the tally and the result: checks E5–E10.
//!
//! A ballot counts only if a listed credential signed it at cast time, with a counter
//! higher than any earlier ballot of that credential (so nobody can replay an old
//! ballot to undo a re-vote), under a tracking code never seen before in the election
//! (so a challenged ballot can never be cast). The last ballot of each credential
//! counts; the tally is recomputed, never trusted.

use hiwar_crypto::ballot::{self, Ballot, BallotContext};
use hiwar_crypto::batch::BatchVerifier;
use hiwar_crypto::elgamal::Ciphertext;
use hiwar_crypto::group::point_from_bytes;
use hiwar_crypto::signing;
use hiwar_crypto::threshold::{self, PartialDecryption};
use serde_json::{Map, Value};

use super::hash::{cast_message, cast_message_of, tracking_code, tracking_code_of};
use super::setup::signed_by;
use super::wire::{
    arr, cerr, hex_bytes, obj, parse_ballot, parse_choices, parse_ct, parse_equality, parse_nonces, point, uint, R,
};
use super::{add_into, stage, BatchResult, Election, Job, Stage, WorkerElection};

/// E5 (signature) and E6 (tracking code, proofs, into `batch`) of one cast ballot,
/// whose state checks passed on the main thread.
pub(super) fn check_ballot(
    e: &WorkerElection,
    job: &Job,
    batch: &mut BatchVerifier,
    rng: &mut impl rand_core::CryptoRngCore,
) -> Result<Ballot, (&'static str, String)> {
    let body = job.body.as_object().expect("checked");
    let tracking = hex::encode(job.tracking);
    let signature: [u8; 64] =
        hex_bytes(&body["signature"], "signature").map_err(|d| ("E5", format!("ballot {tracking}: {d}")))?;
    let message = match &job.ballot_digest {
        Some(digest) => cast_message_of(&e.hash, job.counter, digest),
        None => cast_message(&e.hash, job.counter, &body["ballot"]),
    };
    // The credential is on the list, whose keys E4 checked strictly.
    signing::verify_checked_key("ballot signature", &job.credential, &message, &signature)
        .map_err(|d| ("E5", format!("ballot {tracking}: {d}")))?;
    let ballot = parse_ballot(&body["ballot"]).map_err(|d| ("E6", format!("ballot {tracking}: {d}")))?;
    // parse_ballot decoded each of these encodings, so they are canonical.
    if tracking_code_of(&e.hash, ballot.answers.iter().map(|a| a.choices.len()), &job.encodings) != job.tracking {
        return Err(("E6", format!("ballot {tracking}: the tracking code is not the digest of its ciphertexts")));
    }
    let ctx = BallotContext { election_hash: &e.hash, key: &e.key, credential: &job.credential };
    ballot
        .verify_into(&ctx, &e.questions, Some(&job.encodings), batch, rng)
        .map_err(|d| ("E6", format!("ballot {tracking}: {d}")))?;
    Ok(ballot)
}

pub(super) fn run_batch(election: String, e: &WorkerElection, jobs: &[Job]) -> BatchResult {
    // The batch's random weights: a generator seeded once from the system per batch,
    // not a system call per weight.
    let mut rng = <rand_chacha::ChaCha20Rng as rand_core::SeedableRng>::from_rng(rand_core::OsRng)
        .expect("the system's generator works");
    let mut batch = BatchVerifier::new(&e.key);
    let mut ballots = Vec::with_capacity(jobs.len());
    let mut failure = None;
    for job in jobs {
        match check_ballot(e, job, &mut batch, &mut rng) {
            Ok(b) => ballots.push((b, job.weight)),
            Err((check, detail)) => {
                failure = Some((job.line, check, detail));
                break;
            }
        }
    }
    if failure.is_none() && !batch.holds() {
        // The batch fails: check one by one to name the first bad ballot.
        for job in jobs {
            let mut single = BatchVerifier::new(&e.key);
            let ok = check_ballot(e, job, &mut single, &mut rng).is_ok() && single.holds();
            if !ok {
                let tracking = hex::encode(job.tracking);
                failure = Some((job.line, "E6", format!("ballot {tracking}: a validity proof does not verify")));
                break;
            }
        }
        // Every ballot passed alone (negligibly likely for honest ballots): still a failure.
        if failure.is_none() {
            let first = &jobs[0];
            failure = Some((
                first.line,
                "E6",
                format!("the batch from ballot {} fails though each ballot passes alone", hex::encode(first.tracking)),
            ));
        }
    }
    let tally = ballot::tally(&e.questions, ballots.iter().map(|(b, w)| (b, *w)));
    BatchResult { election, ballots: jobs.len(), failure, tally }
}

/// Bytes of a credential's latest ballot in the [`super::BallotStore`]: its ciphertexts' encodings.
pub(super) fn slot_size(e: &Election) -> usize {
    64 * e.questions.iter().map(|q| q.options as usize).sum::<usize>()
}

/// The E5 checks that need the election's state; the rest run on a worker. The
/// credential's previous ballot, if any, leaves the tally here.
pub(super) fn cast(
    e: &mut Election,
    line: usize,
    body: Value,
    ballot_digest: Option<[u8; 32]>,
) -> Result<Job, (&'static str, String)> {
    let e5 = |d: String| ("E5", d);
    let b =
        obj(&body, "body", &["election", "credential", "counter", "ballot", "signature", "tracking"]).map_err(e5)?;
    if e.stage != Stage::Open {
        return Err(e5(format!("a ballot cast in stage {:?}", e.stage)));
    }
    let tracking: [u8; 32] = hex_bytes(&b["tracking"], "tracking").map_err(e5)?;
    let credential: [u8; 32] = hex_bytes(&b["credential"], "credential").map_err(e5)?;
    let counter = uint(&b["counter"], "counter").map_err(e5)?;
    let listed = e.roll.listed.as_ref().expect("sealed when the election opened");
    let (index, weight) = listed.find(&credential).ok_or_else(|| {
        e5(format!("ballot {}: credential {} is not on the list", hex::encode(tracking), hex::encode(credential)))
    })?;
    let previous = e.roll.counters[index];
    if counter <= previous {
        return Err(e5(format!(
            "ballot {}: counter {counter} does not exceed {previous} of the credential's previous ballot (a replay)",
            hex::encode(tracking),
        )));
    }
    let tracking_fp = e.roll.fingerprint(&tracking);
    if e.tracking.contains(&tracking_fp) {
        return Err(e5(format!("tracking code {} appears a second time", hex::encode(tracking))));
    }
    let encodings = compressed_choices(&b["ballot"]).map_err(|d| ("E6", d))?;
    let slot: Vec<u8> = encodings.concat();
    if slot.len() != slot_size(e) {
        return Err(("E6", format!("ballot {}: not the election's questions and options", hex::encode(tracking))));
    }
    let store = e.roll.latest.as_mut().expect("sealed when the election opened");
    let io = |err: std::io::Error| ("IO", format!("keeping the ballots: {err}"));
    if previous > 0 {
        let mut old = vec![0u8; slot.len()];
        store.read(index, &mut old).map_err(io)?;
        subtract(&mut e.removed, &old, weight)?;
        e.superseded += 1;
    } else {
        e.counted_weight += weight;
    }
    // Every check above leaves the state as it was: a refused ballot changes nothing.
    store.write(index, &slot).map_err(io)?;
    e.tracking.insert(tracking_fp);
    e.roll.counters[index] = counter;
    e.cast += 1;
    Ok(Job { line, credential, counter, tracking, weight, body, ballot_digest, encodings })
}

/// Takes `weight` times the ballot whose ciphertexts are `encodings` out of `removed`.
fn subtract(removed: &mut [Vec<Ciphertext>], encodings: &[u8], weight: u64) -> Result<(), (&'static str, String)> {
    let mut chunks = encodings.chunks_exact(32).map(|c| <[u8; 32]>::try_from(c).expect("32 bytes"));
    for option in removed.iter_mut().flatten() {
        let (alpha, beta) = (chunks.next().unwrap_or_default(), chunks.next().unwrap_or_default());
        let alpha = point_from_bytes("ciphertext alpha", &alpha).map_err(|e| ("E6", e.to_string()))?;
        let beta = point_from_bytes("ciphertext beta", &beta).map_err(|e| ("E6", e.to_string()))?;
        *option = *option + Ciphertext { alpha: -alpha, beta: -beta } * weight;
    }
    Ok(())
}

/// The ballot's choice ciphertexts as 32-byte encodings, in order.
pub(super) fn compressed_choices(ballot: &Value) -> R<Vec<[u8; 32]>> {
    let mut out = Vec::new();
    for answer in arr(ballot.get("answers").unwrap_or(&Value::Null), "answers")? {
        for ct in arr(answer.get("choices").unwrap_or(&Value::Null), "choices")? {
            out.push(hex_bytes(ct.get("alpha").unwrap_or(&Value::Null), "alpha")?);
            out.push(hex_bytes(ct.get("beta").unwrap_or(&Value::Null), "beta")?);
        }
    }
    Ok(out)
}

/// E7: a challenged ballot, published without credential, signature or proofs.
pub(super) fn spoiled(e: &mut Election, body: &Value) -> R<()> {
    let b = obj(body, "body", &["election", "tracking", "choices", "nonces", "plaintext"])?;
    stage(e, Stage::Open, "a spoiled ballot")?;
    let tracking: [u8; 32] = hex_bytes(&b["tracking"], "tracking")?;
    let tracking_fp = e.roll.fingerprint(&tracking);
    if e.tracking.contains(&tracking_fp) {
        return Err(format!("tracking code {} appears a second time", hex::encode(tracking)));
    }
    let choices = parse_choices(&b["choices"])?;
    let shape_ok = choices.len() == e.questions.len()
        && choices.iter().zip(&e.questions).all(|(c, q)| c.len() == q.options as usize);
    if !shape_ok {
        return Err("the spoiled ballot does not have the election's questions and options".into());
    }
    if tracking_code(&e.hash, &choices) != tracking {
        return Err(format!(
            "spoiled ballot {}: the tracking code is not the digest of its ciphertexts",
            hex::encode(tracking)
        ));
    }
    let nonces = parse_nonces(&b["nonces"])?;
    let key = &e.worker.as_ref().expect("open elections have a key").key;
    // Opening needs no credential: the proofs, which would name it, are not published.
    let opened = ballot::open(key, &choices, &nonces).map_err(cerr)?;
    let claimed: Vec<Vec<bool>> = arr(&b["plaintext"], "plaintext")?
        .iter()
        .map(|o| {
            arr(o, "plaintext")?
                .iter()
                .map(|c| match c.as_u64() {
                    Some(0) => Ok(false),
                    Some(1) => Ok(true),
                    _ => Err("a plaintext choice is not 0 or 1".to_string()),
                })
                .collect()
        })
        .collect::<R<_>>()?;
    if opened != claimed {
        return Err(format!(
            "spoiled ballot {}: its nonces open to other choices than published",
            hex::encode(tracking)
        ));
    }
    e.tracking.insert(tracking_fp);
    e.spoiled += 1;
    Ok(())
}

fn parse_tally(e: &Election, v: &Value) -> R<Vec<Vec<Ciphertext>>> {
    let t = arr(v, "tally")?;
    if t.len() != e.questions.len() {
        return Err("tally has the wrong number of questions".into());
    }
    t.iter()
        .zip(&e.questions)
        .map(|(q, question)| {
            let cts = arr(q, "tally")?;
            if cts.len() != question.options as usize {
                return Err("tally has the wrong number of options".into());
            }
            cts.iter().map(|c| parse_ct(c, "tally", false)).collect()
        })
        .collect()
}

/// E8: the published tally is the weighted sum of the last ballot of each credential.
pub(super) fn closed(e: &mut Election, body: &Value) -> R<()> {
    let b = obj(body, "body", &["election", "counted", "superseded", "tally"])?;
    stage(e, Stage::Open, "closing")?;
    let expected = counted_tally(e);
    if uint(&b["superseded"], "superseded")? != e.superseded || uint(&b["counted"], "counted")? != e.cast - e.superseded
    {
        return Err(format!("{} ballots cast, {} superseded: the counts in the event differ", e.cast, e.superseded));
    }
    let published = parse_tally(e, &b["tally"])?;
    if published != expected {
        return Err("the tally is not the weighted sum of the last ballot of each credential".into());
    }
    e.closed_tally = published;
    e.stage = Stage::Closed;
    Ok(())
}

/// The weighted sum of the last ballot of each credential: the sum of every cast
/// ballot (from the workers) minus the superseded ones.
pub(super) fn counted_tally(e: &Election) -> Vec<Vec<Ciphertext>> {
    let mut expected = e.tally.clone();
    add_into(&mut expected, &e.removed);
    expected
}

/// E9: a trustee's signed partial decryption of the closed tally.
pub(super) fn partial(e: &mut Election, body: &Value) -> R<()> {
    let b: &Map<String, Value> = obj(body, "body", &["election", "trustee", "shares", "signature"])?;
    stage(e, Stage::Closed, "a partial decryption")?;
    let j = uint(&b["trustee"], "trustee")?;
    if j < 1 || j > e.trustees.len() as u64 {
        return Err(format!("trustee {j} is not in 1..={}", e.trustees.len()));
    }
    let j = j as u32;
    signed_by("election.partial_decryption", e, b, &e.trustees[j as usize - 1].signing_key, &format!("trustee {j}"))?;
    let vk = e.verification_keys[&j];
    let questions = arr(&b["shares"], "shares")?;
    if questions.len() != e.closed_tally.len() {
        return Err("shares have the wrong number of questions".into());
    }
    let mut shares = Vec::new();
    for (q, tally) in questions.iter().zip(&e.closed_tally) {
        let options = arr(q, "shares")?;
        if options.len() != tally.len() {
            return Err("shares have the wrong number of options".into());
        }
        let mut row = Vec::new();
        for (o, ct) in options.iter().zip(tally) {
            let mut proof = o.clone();
            let share = point(o.get("share").unwrap_or(&Value::Null), "share")?;
            proof.as_object_mut().ok_or("a share is not an object")?.remove("share");
            let pd = PartialDecryption { trustee: j, share, proof: parse_equality(&proof, "share")? };
            pd.verify(&e.hash, &vk, &ct.alpha).map_err(|d| format!("trustee {j}: {d}"))?;
            row.push(pd);
        }
        shares.push(row);
    }
    if e.partials.contains_key(&j) {
        return Err(format!("trustee {j} decrypted twice"));
    }
    e.partials.insert(j, shares);
    Ok(())
}

/// E10: the result is what at least t verified partial decryptions give.
pub(super) fn result(e: &mut Election, body: &Value) -> R<()> {
    let b = obj(body, "body", &["election", "trustees", "counts"])?;
    stage(e, Stage::Closed, "the result")?;
    let set =
        arr(&b["trustees"], "trustees")?.iter().map(|t| uint(t, "trustee").map(|t| t as u32)).collect::<R<Vec<_>>>()?;
    for j in &set {
        if !e.partials.contains_key(j) {
            return Err(format!("trustee {j} published no verified partial decryption"));
        }
    }
    let counts = arr(&b["counts"], "counts")?;
    if counts.len() != e.closed_tally.len() {
        return Err("counts have the wrong number of questions".into());
    }
    for (q, (row, tally)) in counts.iter().zip(&e.closed_tally).enumerate() {
        let row = arr(row, "counts")?;
        if row.len() != tally.len() {
            return Err("counts have the wrong number of options".into());
        }
        for (o, (count, ct)) in row.iter().zip(tally).enumerate() {
            let count = uint(count, "count")?;
            let shares: Vec<PartialDecryption> = set.iter().map(|j| e.partials[j][q][o]).collect();
            let m = threshold::combine(ct, &shares, e.threshold).map_err(cerr)?;
            if m != hiwar_crypto::group::generator() * hiwar_crypto::Scalar::from(count) {
                return Err(format!("question {q} option {o}: the decryption is not {count}"));
            }
        }
    }
    e.stage = Stage::Decided;
    Ok(())
}
