//! Elections in the record: the wire format of keys, ballots and proofs, the
//! election hash and ballot digests, and the verification of every election event
//! (checks E1–E10 of `docs/record-spec.md` §6).
//!
//! Ballot proofs are the costly part; they are checked in batches on worker threads
//! (one per core) while the main thread walks the chain. The tally is the weighted
//! sum of every valid cast ballot minus the ballots later superseded by the same
//! credential, so only superseded ballots need to be kept.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;

use hiwar_crypto::ballot::{self, Answer, Ballot, BallotContext, BallotNonces, Question};
use hiwar_crypto::batch::BatchVerifier;
use hiwar_crypto::elgamal::{Ciphertext, DiscreteLog, ElectionKey, Nonce};
use hiwar_crypto::group::{point_from_bytes, point_from_hex, point_to_hex, scalar_from_hex, scalar_to_hex};
use hiwar_crypto::proofs::{Branch, DisjunctiveProof, EqualityProof, KnowledgeProof};
use hiwar_crypto::threshold::{self, DealerPublic, PartialDecryption};
use hiwar_crypto::{CompressedRistretto, CryptoError, RistrettoPoint};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use crate::canonical::to_canonical_string;

/// Ballots per batch sent to a worker.
pub const BATCH: usize = 512;

// ----- wire format -----

pub fn ct_json(ct: &Ciphertext) -> Value {
    let (alpha, beta) = ct.hex();
    json!({"alpha": alpha, "beta": beta})
}

fn branch_json(b: &Branch) -> Value {
    json!({"a": hex::encode(b.a.as_bytes()), "b": hex::encode(b.b.as_bytes()), "c": scalar_to_hex(&b.c), "z": scalar_to_hex(&b.z)})
}

fn proof_json(p: &DisjunctiveProof) -> Value {
    Value::Array(p.branches.iter().map(branch_json).collect())
}

pub fn ballot_json(b: &Ballot) -> Value {
    json!({"answers": b.answers.iter().map(|a| json!({
        "choices": a.choices.iter().map(ct_json).collect::<Vec<_>>(),
        "choice_proofs": a.choice_proofs.iter().map(proof_json).collect::<Vec<_>>(),
        "selections_proof": proof_json(&a.selections_proof),
    })).collect::<Vec<_>>()})
}

pub fn nonces_json(n: &BallotNonces) -> Value {
    json!(n.0.iter().map(|q| q.iter().map(|r| scalar_to_hex(r.scalar())).collect::<Vec<_>>()).collect::<Vec<_>>())
}

pub fn dealer_json(d: &DealerPublic) -> (Value, Value) {
    (
        json!(d.commitments.iter().map(point_to_hex).collect::<Vec<_>>()),
        json!({"a": point_to_hex(&d.proof.a), "z": scalar_to_hex(&d.proof.z)}),
    )
}

pub fn partial_json(p: &PartialDecryption) -> Value {
    json!({"share": point_to_hex(&p.share), "a1": point_to_hex(&p.proof.a1), "a2": point_to_hex(&p.proof.a2), "z": scalar_to_hex(&p.proof.z)})
}

type R<T> = Result<T, String>;

fn obj<'a>(v: &'a Value, what: &str, names: &[&str]) -> R<&'a Map<String, Value>> {
    let m = v.as_object().ok_or_else(|| format!("{what} is not an object"))?;
    for n in names {
        if !m.contains_key(*n) {
            return Err(format!("{what} lacks {n:?}"));
        }
    }
    if let Some(extra) = m.keys().find(|k| !names.contains(&k.as_str())) {
        return Err(format!("{what} has unexpected field {extra:?}"));
    }
    Ok(m)
}

fn arr<'a>(v: &'a Value, what: &str) -> R<&'a Vec<Value>> {
    v.as_array().ok_or_else(|| format!("{what} is not an array"))
}

fn s<'a>(v: &'a Value, what: &str) -> R<&'a str> {
    v.as_str().ok_or_else(|| format!("{what} is not a string"))
}

fn uint(v: &Value, what: &str) -> R<u64> {
    v.as_u64().ok_or_else(|| format!("{what} is not a non-negative integer"))
}

fn cerr(e: CryptoError) -> String {
    e.to_string()
}

fn hex_bytes<const N: usize>(v: &Value, what: &str) -> R<[u8; N]> {
    let text = s(v, what)?;
    if text.len() != 2 * N || !text.bytes().all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c)) {
        return Err(format!("{what} is not {} lowercase hex digits", 2 * N));
    }
    let mut out = [0u8; N];
    hex::decode_to_slice(text, &mut out).map_err(|e| e.to_string())?;
    Ok(out)
}

pub fn parse_ct(v: &Value, what: &str, nonzero_alpha: bool) -> R<Ciphertext> {
    let m = obj(v, what, &["alpha", "beta"])?;
    let (a, b) = (s(&m["alpha"], what)?, s(&m["beta"], what)?);
    if nonzero_alpha { Ciphertext::from_hex(a, b) } else { Ciphertext::from_hex_any(a, b) }.map_err(cerr)
}

fn parse_proof(v: &Value, what: &str) -> R<DisjunctiveProof> {
    let branches = arr(v, what)?
        .iter()
        .map(|b| {
            let m = obj(b, what, &["a", "b", "c", "z"])?;
            Ok(Branch {
                // Commitments stay encoded; the proof check decodes them (strictly).
                a: CompressedRistretto(hex_bytes(&m["a"], "proof commitment a")?),
                b: CompressedRistretto(hex_bytes(&m["b"], "proof commitment b")?),
                c: scalar_from_hex("proof challenge", s(&m["c"], what)?).map_err(cerr)?,
                z: scalar_from_hex("proof response", s(&m["z"], what)?).map_err(cerr)?,
            })
        })
        .collect::<R<Vec<_>>>()?;
    Ok(DisjunctiveProof { branches })
}

/// Decodes a ballot: every point canonical, every ciphertext's α not the identity.
pub fn parse_ballot(v: &Value) -> R<Ballot> {
    let m = obj(v, "ballot", &["answers"])?;
    let answers = arr(&m["answers"], "answers")?
        .iter()
        .map(|a| {
            let m = obj(a, "answer", &["choices", "choice_proofs", "selections_proof"])?;
            Ok(Answer {
                choices: arr(&m["choices"], "choices")?
                    .iter()
                    .map(|c| parse_ct(c, "choice", true))
                    .collect::<R<_>>()?,
                choice_proofs: arr(&m["choice_proofs"], "choice_proofs")?
                    .iter()
                    .map(|p| parse_proof(p, "choice proof"))
                    .collect::<R<_>>()?,
                selections_proof: parse_proof(&m["selections_proof"], "selections proof")?,
            })
        })
        .collect::<R<_>>()?;
    Ok(Ballot { answers })
}

// ----- hashes -----

/// `SHA-256("hiwar/v1/election\n" ‖ dialogue ‖ "\n" ‖ canonical(body of election.created))`.
pub fn election_hash(dialogue: &str, created: &Value) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"hiwar/v1/election\n");
    h.update(dialogue.as_bytes());
    h.update(b"\n");
    h.update(to_canonical_string(created).unwrap_or_default().as_bytes());
    h.finalize().into()
}

/// `SHA-256("hiwar/v1/ballot\n" ‖ election hash ‖ credential ‖ canonical(ballot))`: the
/// ballot digest, whose hex is the tracking code and which the credential signs.
pub fn ballot_digest(election_hash: &[u8; 32], credential: &[u8; 32], ballot: &Value) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"hiwar/v1/ballot\n");
    h.update(election_hash);
    h.update(credential);
    h.update(to_canonical_string(ballot).unwrap_or_default().as_bytes());
    h.finalize().into()
}

// ----- verification -----

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Setup,
    Open,
    Closed,
    Decided,
}

/// What workers need to know about an election.
#[derive(Clone)]
struct WorkerElection {
    hash: [u8; 32],
    key: Arc<ElectionKey>,
    questions: Vec<Question>,
}

struct Election {
    worker: Option<WorkerElection>,
    hash: [u8; 32],
    questions: Vec<Question>,
    trustees: u32,
    threshold: u32,
    weighted: bool,
    stage: Stage,
    committed: BTreeMap<u32, [u8; 32]>,
    revealed: BTreeMap<u32, DealerPublic>,
    disqualified: BTreeSet<u32>,
    verification_keys: BTreeMap<u32, RistrettoPoint>,
    /// credential → (weight, compressed choices of its latest cast ballot)
    credentials: HashMap<[u8; 32], (u64, Option<Vec<[u8; 32]>>)>,
    total_weight: u64,
    cast: u64,
    /// (weight, compressed choices) of ballots superseded by a later one
    superseded: Vec<(u64, Vec<[u8; 32]>)>,
    /// weighted sum of all cast ballots, from the workers
    tally: Vec<Vec<Ciphertext>>,
    closed_tally: Vec<Vec<Ciphertext>>,
    partials: BTreeMap<u32, Vec<Vec<PartialDecryption>>>,
    pending: Vec<Job>,
}

/// One ballot awaiting verification on a worker.
struct Job {
    line: usize,
    credential: [u8; 32],
    weight: u64,
    body: Value,
}

/// What a worker reports for one batch.
struct BatchResult {
    election: String,
    ballots: usize,
    /// The first bad ballot in the batch: (line, check, detail).
    failure: Option<(usize, &'static str, String)>,
    /// Weighted sum per question and option of the batch's ballots.
    tally: Vec<Vec<Ciphertext>>,
}

/// A failed election check: (check, line, detail).
pub type ElectionFailure = (&'static str, usize, String);

/// Checks E5 (tracking code, signature) and E6 (proofs, into `batch`) of one ballot body.
fn check_ballot(
    e: &WorkerElection,
    credential: &[u8; 32],
    body: &Map<String, Value>,
    batch: &mut BatchVerifier,
    rng: &mut rand_core::OsRng,
) -> Result<Ballot, (&'static str, String)> {
    let tracking = s(&body["tracking"], "tracking").map_err(|d| ("E5", d))?;
    let digest = ballot_digest(&e.hash, credential, &body["ballot"]);
    if hex::encode(digest) != tracking {
        return Err(("E5", format!("ballot {tracking}: the tracking code is not the ballot's digest")));
    }
    let signature: [u8; 64] =
        hex_bytes(&body["signature"], "signature").map_err(|d| ("E5", format!("ballot {tracking}: {d}")))?;
    ballot::verify_signature(credential, &digest, &signature).map_err(|d| ("E5", format!("ballot {tracking}: {d}")))?;
    let ballot = parse_ballot(&body["ballot"]).map_err(|d| ("E6", format!("ballot {tracking}: {d}")))?;
    let ctx = BallotContext { election_hash: &e.hash, key: &e.key, credential };
    ballot.verify_into(&ctx, &e.questions, batch, rng).map_err(|d| ("E6", format!("ballot {tracking}: {d}")))?;
    Ok(ballot)
}

fn run_batch(election: String, e: &WorkerElection, jobs: &[Job]) -> BatchResult {
    let mut rng = rand_core::OsRng;
    let mut batch = BatchVerifier::new(&e.key);
    let mut ballots = Vec::with_capacity(jobs.len());
    let mut failure = None;
    for job in jobs {
        match check_ballot(e, &job.credential, job.body.as_object().expect("checked"), &mut batch, &mut rng) {
            Ok(b) => ballots.push((b, job.weight)),
            Err((check, detail)) => {
                failure = Some((job.line, check, detail));
                break;
            }
        }
    }
    if failure.is_none() && batch.verify().is_err() {
        // The batch fails: check one by one to name the first bad ballot.
        for job in jobs {
            let mut single = BatchVerifier::new(&e.key);
            let ok = check_ballot(e, &job.credential, job.body.as_object().expect("checked"), &mut single, &mut rng)
                .is_ok()
                && single.verify().is_ok();
            if !ok {
                let tracking = job.body["tracking"].as_str().unwrap_or("?");
                failure = Some((job.line, "E6", format!("ballot {tracking}: a validity proof does not verify")));
                break;
            }
        }
    }
    let tally = ballot::tally(&e.questions, ballots.iter().map(|(b, w)| (b, *w)));
    BatchResult { election, ballots: jobs.len(), failure, tally }
}

fn zero_tally(questions: &[Question]) -> Vec<Vec<Ciphertext>> {
    questions.iter().map(|q| vec![Ciphertext::zero(); q.options as usize]).collect()
}

fn add_into(tally: &mut [Vec<Ciphertext>], other: &[Vec<Ciphertext>]) {
    for (t, o) in tally.iter_mut().zip(other) {
        for (a, b) in t.iter_mut().zip(o) {
            *a = *a + *b;
        }
    }
}

/// Verifies the election events of one record.
pub struct Elections {
    dialogue: String,
    elections: HashMap<String, Election>,
    workers: Vec<mpsc::Sender<(String, WorkerElection, Vec<Job>)>>,
    handles: Vec<JoinHandle<()>>,
    results: mpsc::Receiver<BatchResult>,
    results_tx: mpsc::Sender<BatchResult>,
    next_worker: usize,
    in_flight: usize,
    failures: Vec<ElectionFailure>,
    /// Ballots whose proofs have been checked so far.
    pub ballots_checked: u64,
    progress: Option<Box<dyn FnMut(u64)>>,
}

impl Elections {
    pub fn new(dialogue: &str) -> Self {
        let (results_tx, results) = mpsc::channel();
        Elections {
            dialogue: dialogue.to_string(),
            elections: HashMap::new(),
            workers: Vec::new(),
            handles: Vec::new(),
            results,
            results_tx,
            next_worker: 0,
            in_flight: 0,
            failures: Vec::new(),
            ballots_checked: 0,
            progress: None,
        }
    }

    /// Calls `f` with the number of ballots checked so far, after each batch.
    pub fn on_progress(&mut self, f: impl FnMut(u64) + 'static) {
        self.progress = Some(Box::new(f));
    }

    /// Whether `kind` belongs to this module.
    pub fn handles(kind: &str) -> bool {
        kind.starts_with("election.") || kind.starts_with("ballot.")
    }

    fn spawn_workers(&mut self) {
        let n = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
        for _ in 0..n {
            let (tx, rx) = mpsc::channel::<(String, WorkerElection, Vec<Job>)>();
            let results = self.results_tx.clone();
            self.handles.push(std::thread::spawn(move || {
                for (election, e, jobs) in rx {
                    if results.send(run_batch(election, &e, &jobs)).is_err() {
                        return;
                    }
                }
            }));
            self.workers.push(tx);
        }
    }

    fn dispatch(&mut self, election: &str) {
        let e = self.elections.get_mut(election).expect("known election");
        let jobs = std::mem::take(&mut e.pending);
        if jobs.is_empty() {
            return;
        }
        let worker_election = e.worker.clone().expect("ballots only after the key is known");
        if self.workers.is_empty() {
            self.spawn_workers();
        }
        // At most two batches per worker in flight keeps memory bounded.
        while self.in_flight >= 2 * self.workers.len() {
            let r = self.results.recv().expect("workers alive");
            self.absorb(r);
        }
        let w = self.next_worker % self.workers.len();
        self.next_worker += 1;
        self.in_flight += 1;
        self.workers[w].send((election.to_string(), worker_election, jobs)).expect("worker alive");
    }

    fn absorb(&mut self, result: BatchResult) {
        self.in_flight -= 1;
        if let Some((line, check, detail)) = result.failure {
            self.failures.push((check, line, detail));
        }
        if let Some(e) = self.elections.get_mut(&result.election) {
            add_into(&mut e.tally, &result.tally);
        }
        self.ballots_checked += result.ballots as u64;
        if let Some(f) = self.progress.as_mut() {
            f(self.ballots_checked);
        }
    }

    /// Sends every pending ballot and waits for all results.
    fn flush(&mut self) -> Result<(), ElectionFailure> {
        let names: Vec<String> = self.elections.keys().cloned().collect();
        for name in names {
            self.dispatch(&name);
        }
        while self.in_flight > 0 {
            let r = self.results.recv().expect("workers alive");
            self.absorb(r);
        }
        self.first_failure()
    }

    fn first_failure(&mut self) -> Result<(), ElectionFailure> {
        match self.failures.iter().min_by_key(|f| f.1) {
            Some(f) => Err(f.clone()),
            None => Ok(()),
        }
    }

    /// Called once after the last line.
    pub fn finish(mut self) -> Result<u64, ElectionFailure> {
        let result = self.flush();
        self.workers.clear();
        for h in self.handles.drain(..) {
            let _ = h.join();
        }
        result.map(|()| self.ballots_checked)
    }

    /// Checks one election event at `line`.
    pub fn apply(&mut self, line: usize, kind: &str, body: Value) -> Result<(), ElectionFailure> {
        // Results that arrived meanwhile: stop early on a bad ballot.
        while let Ok(r) = self.results.try_recv() {
            self.absorb(r);
        }
        self.first_failure()?;
        let at = |check: &'static str| move |detail: String| (check, line, detail);
        let name = body
            .get("election")
            .and_then(Value::as_str)
            .ok_or_else(|| ("E1", line, "body lacks a string \"election\"".to_string()))?
            .to_string();
        if kind == "election.created" {
            return self.create(&name, &body).map_err(at("E1"));
        }
        let e = self
            .elections
            .get_mut(&name)
            .ok_or_else(|| ("E1", line, format!("election {name:?} was never created")))?;
        match kind {
            "election.credentials" => credentials(e, &body).map_err(at("E4")),
            "election.trustee_committed" => trustee_committed(e, &body).map_err(at("E2")),
            "election.trustee_revealed" => trustee_revealed(e, &body).map_err(at("E2")),
            "election.share_disputed" => share_disputed(e, &body).map_err(at("E3")),
            "election.opened" => opened(e, &body).map_err(at("E3")),
            "ballot.cast" => {
                let job = cast(e, line, body).map_err(|(c, d)| (c, line, d))?;
                e.pending.push(job);
                if e.pending.len() >= BATCH {
                    self.dispatch(&name);
                }
                Ok(())
            }
            "ballot.spoiled" => spoiled(e, &body).map_err(|(c, d)| (c, line, d)),
            "election.closed" => {
                self.flush()?;
                let e = self.elections.get_mut(&name).expect("present");
                closed(e, &body).map_err(at("E8"))
            }
            "election.partial_decryption" => partial(e, &body).map_err(at("E9")),
            "election.result" => result(e, &body).map_err(at("E10")),
            other => Err(("E1", line, format!("unknown event kind {other:?}"))),
        }
    }

    fn create(&mut self, name: &str, body: &Value) -> R<()> {
        let b = obj(body, "body", &["election", "title", "questions", "trustees", "threshold", "weighted"])?;
        if name.is_empty()
            || name.len() > 64
            || !name.bytes().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
        {
            return Err(format!("election id {name:?} is not an id (a-z, 0-9, -)"));
        }
        if self.elections.contains_key(name) {
            return Err(format!("election {name} was already created"));
        }
        text(&b["title"], "title")?;
        let trustees = uint(&b["trustees"], "trustees")?;
        let threshold = uint(&b["threshold"], "threshold")?;
        if threshold < 1 || threshold > trustees || trustees > 1000 {
            return Err(format!("threshold {threshold} of {trustees} trustees is not 1 ≤ t ≤ n ≤ 1000"));
        }
        let weighted = b["weighted"].as_bool().ok_or("weighted is not a boolean")?;
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
        self.elections.insert(
            name.to_string(),
            Election {
                worker: None,
                hash: election_hash(&self.dialogue, body),
                questions,
                trustees: trustees as u32,
                threshold: threshold as u32,
                weighted,
                stage: Stage::Setup,
                committed: BTreeMap::new(),
                revealed: BTreeMap::new(),
                disqualified: BTreeSet::new(),
                verification_keys: BTreeMap::new(),
                credentials: HashMap::new(),
                total_weight: 0,
                cast: 0,
                superseded: Vec::new(),
                closed_tally: tally.clone(),
                tally,
                partials: BTreeMap::new(),
                pending: Vec::new(),
            },
        );
        Ok(())
    }
}

impl Drop for Elections {
    fn drop(&mut self) {
        self.workers.clear();
        for h in self.handles.drain(..) {
            let _ = h.join();
        }
    }
}

fn text(v: &Value, what: &str) -> R<()> {
    obj(v, what, &["ar", "en"])?;
    s(&v["ar"], what)?;
    s(&v["en"], what)?;
    Ok(())
}

fn stage(e: &Election, expected: Stage, what: &str) -> R<()> {
    if e.stage != expected {
        return Err(format!("{what} in stage {:?}, allowed only in {expected:?}", e.stage));
    }
    Ok(())
}

fn trustee_index(e: &Election, v: &Value) -> R<u32> {
    let i = uint(v, "trustee")?;
    if i < 1 || i > e.trustees as u64 {
        return Err(format!("trustee {i} is not in 1..={}", e.trustees));
    }
    Ok(i as u32)
}

fn credentials(e: &mut Election, body: &Value) -> R<()> {
    let b = obj(body, "body", &["election", "credentials", "weights"])?;
    stage(e, Stage::Setup, "credentials")?;
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
    for (c, w) in list.iter().zip(weights) {
        let bytes: [u8; 32] = hex_bytes(c, "credential")?;
        let key = ed25519_dalek::VerifyingKey::from_bytes(&bytes)
            .map_err(|_| format!("credential {} is not an Ed25519 key", hex::encode(bytes)))?;
        if key.is_weak() {
            return Err(format!("credential {} is a weak key", hex::encode(bytes)));
        }
        if e.credentials.insert(bytes, (w, None)).is_some() {
            return Err(format!("credential {} is listed twice", hex::encode(bytes)));
        }
        e.total_weight = e.total_weight.checked_add(w).ok_or("total weight overflows")?;
    }
    Ok(())
}

fn trustee_committed(e: &mut Election, body: &Value) -> R<()> {
    let b = obj(body, "body", &["election", "trustee", "hash"])?;
    stage(e, Stage::Setup, "a trustee commitment")?;
    let i = trustee_index(e, &b["trustee"])?;
    if !e.revealed.is_empty() {
        return Err(format!("trustee {i} committed after a trustee revealed"));
    }
    if e.committed.insert(i, hex_bytes(&b["hash"], "hash")?).is_some() {
        return Err(format!("trustee {i} committed twice"));
    }
    Ok(())
}

fn trustee_revealed(e: &mut Election, body: &Value) -> R<()> {
    let b = obj(body, "body", &["election", "trustee", "commitments", "proof"])?;
    stage(e, Stage::Setup, "a trustee reveal")?;
    let i = trustee_index(e, &b["trustee"])?;
    if e.committed.len() != e.trustees as usize {
        return Err(format!("trustee {i} revealed before all {} trustees committed", e.trustees));
    }
    let commitments = arr(&b["commitments"], "commitments")?
        .iter()
        .map(|c| point_from_hex("trustee commitment", s(c, "commitment")?).map_err(cerr))
        .collect::<R<Vec<_>>>()?;
    let p = obj(&b["proof"], "proof", &["a", "z"])?;
    let proof = KnowledgeProof {
        a: point_from_hex("proof commitment", s(&p["a"], "proof a")?).map_err(cerr)?,
        z: scalar_from_hex("proof response", s(&p["z"], "proof z")?).map_err(cerr)?,
    };
    let public = DealerPublic { index: i, commitments, proof };
    if public.commitment_hash() != e.committed[&i] {
        return Err(format!("trustee {i}'s reveal does not match its commitment"));
    }
    public.verify(&e.hash, e.threshold).map_err(|d| format!("trustee {i}: {d}"))?;
    if e.revealed.insert(i, public).is_some() {
        return Err(format!("trustee {i} revealed twice"));
    }
    Ok(())
}

fn share_disputed(e: &mut Election, body: &Value) -> R<()> {
    let b = obj(body, "body", &["election", "dealer", "trustee", "share"])?;
    stage(e, Stage::Setup, "a dispute")?;
    let dealer = trustee_index(e, &b["dealer"])?;
    let trustee = trustee_index(e, &b["trustee"])?;
    let share = scalar_from_hex("share", s(&b["share"], "share")?).map_err(cerr)?;
    let public = e.revealed.get(&dealer).ok_or_else(|| format!("dealer {dealer} has not revealed"))?;
    if !public.share_is_valid(trustee, &share) {
        // The dealer's own published share is wrong: it is out.
        e.disqualified.insert(dealer);
    }
    Ok(())
}

fn opened(e: &mut Election, body: &Value) -> R<()> {
    let b = obj(body, "body", &["election", "public_key", "trustees", "verification_keys"])?;
    stage(e, Stage::Setup, "opening")?;
    let qualified: Vec<u32> = e.revealed.keys().filter(|i| !e.disqualified.contains(i)).copied().collect();
    let listed =
        arr(&b["trustees"], "trustees")?.iter().map(|t| uint(t, "trustee").map(|t| t as u32)).collect::<R<Vec<_>>>()?;
    if listed != qualified {
        return Err(format!("qualified trustees are {qualified:?}, the event lists {listed:?}"));
    }
    if (qualified.len() as u32) < e.threshold {
        return Err(format!("{} qualified trustees, {} needed", qualified.len(), e.threshold));
    }
    let publics: Vec<DealerPublic> = qualified.iter().map(|i| e.revealed[i].clone()).collect();
    let key = threshold::election_key(&publics);
    if point_to_hex(&key) != s(&b["public_key"], "public_key")? {
        return Err("public_key is not the sum of the qualified trustees' constant commitments".into());
    }
    let vks = arr(&b["verification_keys"], "verification_keys")?;
    if vks.len() != e.trustees as usize {
        return Err(format!("{} verification keys for {} trustees", vks.len(), e.trustees));
    }
    for (j, vk) in (1..=e.trustees).zip(vks) {
        let expected = threshold::verification_key(&publics, j);
        if point_to_hex(&expected) != s(vk, "verification key")? {
            return Err(format!("verification key of trustee {j} does not follow from the commitments"));
        }
        e.verification_keys.insert(j, expected);
    }
    let key = ElectionKey::new(key).map_err(cerr)?;
    e.worker = Some(WorkerElection { hash: e.hash, key: Arc::new(key), questions: e.questions.clone() });
    e.stage = Stage::Open;
    Ok(())
}

/// The E5 checks that need the election's state; the rest run on a worker.
fn cast(e: &mut Election, line: usize, body: Value) -> Result<Job, (&'static str, String)> {
    let b =
        obj(&body, "body", &["election", "credential", "ballot", "signature", "tracking"]).map_err(|d| ("E5", d))?;
    if e.stage != Stage::Open {
        return Err(("E5", format!("a ballot cast in stage {:?}", e.stage)));
    }
    let credential: [u8; 32] = hex_bytes(&b["credential"], "credential").map_err(|d| ("E5", d))?;
    let (weight, latest) = e.credentials.get_mut(&credential).ok_or_else(|| {
        ("E5", format!("ballot {}: credential {} is not on the list", b["tracking"], hex::encode(credential)))
    })?;
    let choices = compressed_choices(&b["ballot"]).map_err(|d| ("E6", d))?;
    if let Some(previous) = latest.replace(choices) {
        e.superseded.push((*weight, previous));
    }
    e.cast += 1;
    let weight = *weight;
    Ok(Job { line, credential, weight, body })
}

/// The ballot's choice ciphertexts as 32-byte encodings, in order.
fn compressed_choices(ballot: &Value) -> R<Vec<[u8; 32]>> {
    let mut out = Vec::new();
    for answer in arr(ballot.get("answers").unwrap_or(&Value::Null), "answers")? {
        for ct in arr(answer.get("choices").unwrap_or(&Value::Null), "choices")? {
            out.push(hex_bytes(ct.get("alpha").unwrap_or(&Value::Null), "alpha")?);
            out.push(hex_bytes(ct.get("beta").unwrap_or(&Value::Null), "beta")?);
        }
    }
    Ok(out)
}

fn spoiled(e: &mut Election, body: &Value) -> Result<(), (&'static str, String)> {
    let b = obj(body, "body", &["election", "credential", "ballot", "signature", "tracking", "nonces", "choices"])
        .map_err(|d| ("E7", d))?;
    if e.stage != Stage::Open {
        return Err(("E7", format!("a ballot spoiled in stage {:?}", e.stage)));
    }
    let credential: [u8; 32] = hex_bytes(&b["credential"], "credential").map_err(|d| ("E7", d))?;
    if !e.credentials.contains_key(&credential) {
        return Err(("E7", format!("credential {} is not on the list", hex::encode(credential))));
    }
    let w = e.worker.as_ref().expect("open elections have a key");
    let mut batch = BatchVerifier::new(&w.key);
    let ballot = check_ballot(w, &credential, b, &mut batch, &mut rand_core::OsRng)?;
    batch.verify().map_err(|_| ("E7", "a spoiled ballot's proof does not verify".to_string()))?;
    let nonces = BallotNonces(
        arr(&b["nonces"], "nonces")
            .and_then(|q| {
                q.iter()
                    .map(|rs| {
                        arr(rs, "nonces")?
                            .iter()
                            .map(|r| Ok(Nonce::from_scalar(scalar_from_hex("nonce", s(r, "nonce")?).map_err(cerr)?)))
                            .collect::<R<Vec<_>>>()
                    })
                    .collect::<R<Vec<_>>>()
            })
            .map_err(|d| ("E7", d))?,
    );
    let ctx = BallotContext { election_hash: &w.hash, key: &w.key, credential: &credential };
    let opened = ballot.open(&ctx, &nonces).map_err(|d| ("E7", d.to_string()))?;
    let claimed: Vec<Vec<bool>> = arr(&b["choices"], "choices")
        .and_then(|q| {
            q.iter()
                .map(|o| {
                    arr(o, "choices")?
                        .iter()
                        .map(|c| match c.as_u64() {
                            Some(0) => Ok(false),
                            Some(1) => Ok(true),
                            _ => Err("a choice is not 0 or 1".to_string()),
                        })
                        .collect()
                })
                .collect()
        })
        .map_err(|d| ("E7", d))?;
    if opened != claimed {
        return Err((
            "E7",
            format!("spoiled ballot {}: its nonces open to other choices than published", b["tracking"]),
        ));
    }
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

fn closed(e: &mut Election, body: &Value) -> R<()> {
    let b = obj(body, "body", &["election", "counted", "superseded", "tally"])?;
    stage(e, Stage::Open, "closing")?;
    let mut expected = e.tally.clone();
    for (weight, choices) in &e.superseded {
        let mut k = 0;
        for question in expected.iter_mut() {
            for option in question.iter_mut() {
                let alpha = point_from_bytes("ciphertext alpha", &choices[k]).map_err(cerr)?;
                let beta = point_from_bytes("ciphertext beta", &choices[k + 1]).map_err(cerr)?;
                k += 2;
                *option = *option + Ciphertext { alpha: -alpha, beta: -beta } * *weight;
            }
        }
    }
    let superseded = e.superseded.len() as u64;
    if uint(&b["superseded"], "superseded")? != superseded || uint(&b["counted"], "counted")? != e.cast - superseded {
        return Err(format!("{} ballots cast, {superseded} superseded: the counts in the event differ", e.cast));
    }
    let published = parse_tally(e, &b["tally"])?;
    if published != expected {
        return Err("the tally is not the weighted sum of the last ballot of each credential".into());
    }
    e.closed_tally = published;
    e.stage = Stage::Closed;
    Ok(())
}

fn partial(e: &mut Election, body: &Value) -> R<()> {
    let b = obj(body, "body", &["election", "trustee", "shares"])?;
    stage(e, Stage::Closed, "a partial decryption")?;
    let j = trustee_index(e, &b["trustee"])?;
    if !e.revealed.contains_key(&j) || e.disqualified.contains(&j) {
        return Err(format!("trustee {j} is not qualified"));
    }
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
            let m = obj(o, "share", &["share", "a1", "a2", "z"])?;
            let pd = PartialDecryption {
                trustee: j,
                share: point_from_hex("share", s(&m["share"], "share")?).map_err(cerr)?,
                proof: EqualityProof {
                    a1: point_from_hex("a1", s(&m["a1"], "a1")?).map_err(cerr)?,
                    a2: point_from_hex("a2", s(&m["a2"], "a2")?).map_err(cerr)?,
                    z: scalar_from_hex("z", s(&m["z"], "z")?).map_err(cerr)?,
                },
            };
            pd.verify(&e.hash, &vk, &ct.alpha).map_err(|d| format!("trustee {j}: {d}"))?;
            row.push(pd);
        }
        shares.push(row);
    }
    if e.partials.insert(j, shares).is_some() {
        return Err(format!("trustee {j} decrypted twice"));
    }
    Ok(())
}

fn result(e: &mut Election, body: &Value) -> R<()> {
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

/// Decodes small totals, for whoever produces results (the simulator).
pub fn decode_total(m: &RistrettoPoint, max: u64) -> Option<u64> {
    DiscreteLog::new(max).solve(m)
}
