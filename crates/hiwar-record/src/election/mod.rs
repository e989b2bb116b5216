//! Elections in the record (record-spec §6, version 2): the wire format ([`wire`]),
//! the hashes and signed messages ([`hash`]), the key ceremony and credential list
//! (checks E1–E4, [`setup`]) and the ballots, tally and result (E5–E10, [`ballots`]).
//!
//! Ballot proofs are the costly part; they are checked in batches on worker threads
//! (one per core) while the main thread walks the chain. The tally is the weighted
//! sum of every valid cast ballot minus the ballots later superseded by the same
//! credential: each credential's latest ballot is kept in a [`BallotStore`] until the
//! next one supersedes it, and the state held in memory is the credential list's
//! fingerprints and counters and the tracking codes' fingerprints ([`roll`]).

mod ballots;
pub mod hash;
pub mod roles;
mod roll;
pub mod setup;
pub mod wire;
mod writer;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;

use hiwar_crypto::ballot::Question;
use hiwar_crypto::elgamal::{Ciphertext, DiscreteLog, ElectionKey};
use hiwar_crypto::threshold::{DealerPublic, EncryptedShare, PartialDecryption};
use hiwar_crypto::RistrettoPoint;
use serde_json::Value;

pub use hash::{cast_message, election_hash, roll_hash, sign_event, signed_event_message, tracking_code};
pub use roll::{BallotStore, BallotStoreFactory, MemoryBallots};
pub use wire::{
    ballot_json, choices_json, ct_json, dealer_json, encrypted_share_json, equality_json, nonces_json, parse_ballot,
    parse_ct, partial_json,
};
pub use writer::{CastChecker, CheckedCast, ElectionStatus};

use crate::fingerprint::Fingerprints;
use roll::Roll;

/// Ballots per batch sent to a worker.
pub const BATCH: usize = 512;

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

/// A trustee as `election.created` names it.
struct Trustee {
    signing_key: [u8; 32],
    share_key: RistrettoPoint,
}

struct Election {
    worker: Option<WorkerElection>,
    hash: [u8; 32],
    questions: Vec<Question>,
    trustees: Vec<Trustee>,
    threshold: u32,
    weighted: bool,
    voters: u64,
    total_weight: u64,
    authority: [u8; 32],
    stage: Stage,
    committed: BTreeMap<u32, [u8; 32]>,
    revealed: BTreeMap<u32, DealerPublic>,
    shares: BTreeMap<u32, Vec<EncryptedShare>>,
    /// Why the key ceremony failed (a complaint), if it did.
    failed: Option<String>,
    verification_keys: BTreeMap<u32, RistrettoPoint>,
    roll: Roll,
    /// The fingerprint of every tracking code in the election, cast or spoiled: each may appear once.
    tracking: HashSet<u128>,
    cast: u64,
    spoiled: u64,
    /// Ballots superseded by a later one of the same credential.
    superseded: u64,
    /// Minus the weighted sum of the superseded ballots.
    removed: Vec<Vec<Ciphertext>>,
    /// Total weight of the credentials that cast a ballot.
    counted_weight: u64,
    /// weighted sum of all cast ballots, from the workers
    tally: Vec<Vec<Ciphertext>>,
    closed_tally: Vec<Vec<Ciphertext>>,
    partials: BTreeMap<u32, Vec<Vec<PartialDecryption>>>,
    pending: Vec<Job>,
}

impl Election {
    fn n(&self) -> u32 {
        self.trustees.len() as u32
    }
}

/// One ballot awaiting verification on a worker.
struct Job {
    line: usize,
    credential: [u8; 32],
    counter: u64,
    tracking: [u8; 32],
    weight: u64,
    body: Value,
    /// SHA-256 of the ballot's canonical text, when the caller cut it from the line.
    ballot_digest: Option<[u8; 32]>,
    /// The ciphertexts' encodings as the ballot carries them (for the tracking code).
    encodings: Vec<[u8; 32]>,
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
    fingerprints: Fingerprints,
    ballot_store: Option<BallotStoreFactory>,
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
    progress: Option<Box<dyn FnMut(u64) + Send>>,
}

impl Elections {
    pub fn new(dialogue: &str) -> Self {
        let (results_tx, results) = mpsc::channel();
        Elections {
            dialogue: dialogue.to_string(),
            fingerprints: Fingerprints::new(),
            ballot_store: None,
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
    pub fn on_progress(&mut self, f: impl FnMut(u64) + Send + 'static) {
        self.progress = Some(Box::new(f));
    }

    /// Keeps each election's latest ballot per credential in stores `factory` makes
    /// (in memory without it).
    pub fn keep_ballots_in(&mut self, factory: BallotStoreFactory) {
        self.ballot_store = Some(factory);
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
                    if results.send(ballots::run_batch(election, &e, &jobs)).is_err() {
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

    /// Waits for every ballot in flight; the first failure among them, if any.
    pub fn settle(&mut self) -> Result<(), ElectionFailure> {
        self.flush()
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

    /// Checks one election event at `line`. `ballot_digest` is the SHA-256 of a cast
    /// ballot's canonical text when the caller has it (cut from the canonical line).
    pub fn apply(
        &mut self,
        line: usize,
        kind: &str,
        body: Value,
        ballot_digest: Option<[u8; 32]>,
    ) -> Result<(), ElectionFailure> {
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
            if self.elections.contains_key(&name) {
                return Err(("E1", line, format!("election {name} was already created")));
            }
            let e = setup::created(&self.dialogue, &name, &body, self.fingerprints).map_err(at("E1"))?;
            self.elections.insert(name, e);
            return Ok(());
        }
        let e = self
            .elections
            .get_mut(&name)
            .ok_or_else(|| ("E1", line, format!("election {name:?} was never created")))?;
        match kind {
            "election.credentials" => setup::credentials(e, &body).map_err(at("E4")),
            "election.trustee_committed" => setup::trustee_committed(e, &body).map_err(at("E2")),
            "election.trustee_revealed" => setup::trustee_revealed(e, &body).map_err(at("E2")),
            "election.trustee_shares" => setup::trustee_shares(e, &body).map_err(at("E2")),
            "election.trustee_complaint" => setup::trustee_complaint(e, line, &body).map_err(at("E3")),
            "election.opened" => {
                let store = match &self.ballot_store {
                    Some(factory) => factory(ballots::slot_size(e), e.roll.len()),
                    None => Ok(Box::new(MemoryBallots::default()) as Box<dyn BallotStore>),
                };
                let store = store.map_err(|err| ("IO", line, format!("keeping the ballots: {err}")))?;
                setup::opened(e, &body, store).map_err(|(c, d)| (c, line, d))
            }
            "ballot.cast" => {
                let job = match ballots::cast(e, line, body, ballot_digest) {
                    Ok(job) => job,
                    // A ballot in flight may have failed first (its ciphertexts are read back here).
                    Err((check, detail)) => return self.flush().and(Err((check, line, detail))),
                };
                let e = self.elections.get_mut(&name).expect("present");
                e.pending.push(job);
                if e.pending.len() >= BATCH {
                    self.dispatch(&name);
                }
                Ok(())
            }
            "ballot.spoiled" => ballots::spoiled(e, &body).map_err(at("E7")),
            "election.closed" => {
                self.flush()?;
                let e = self.elections.get_mut(&name).expect("present");
                ballots::closed(e, &body).map_err(at("E8"))
            }
            "election.partial_decryption" => ballots::partial(e, &body).map_err(at("E9")),
            "election.result" => ballots::result(e, &body).map_err(at("E10")),
            other => Err(("E1", line, format!("unknown event kind {other:?}"))),
        }
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

fn stage(e: &Election, expected: Stage, what: &str) -> wire::R<()> {
    if e.stage != expected {
        return Err(format!("{what} in stage {:?}, allowed only in {expected:?}", e.stage));
    }
    Ok(())
}

/// Decodes small totals, for whoever produces results (the simulator, a trustee).
pub fn decode_total(m: &RistrettoPoint, max: u64) -> Option<u64> {
    DiscreteLog::new(max).solve(m)
}
