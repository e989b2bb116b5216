//! What the writer of the record derives from the checked state of an election: the
//! bodies of `election.opened`, `election.closed` and `election.result`, computed with
//! the verifier's own arithmetic (so a server that publishes them cannot get them
//! wrong without its own checks refusing the line), where the election stands, and a
//! [`CastChecker`] that runs E5's signature and E6 on a ballot before it reaches the
//! record, on any thread — so a bad ballot is refused without touching the record's
//! state, and a good one is not checked twice.

use std::sync::Arc;

use hiwar_crypto::ballot;
use hiwar_crypto::batch::BatchVerifier;
use hiwar_crypto::elgamal::Ciphertext;
use hiwar_crypto::group::point_to_hex;
use hiwar_crypto::threshold::{self, DealerPublic};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::ballots::{check_ballot, compressed_choices, counted_tally};
use super::roll::Listed;
use super::wire::{ct_json, hex_bytes, obj, uint};
use super::{add_into, ElectionFailure, Elections, Job, Stage, WorkerElection};
use crate::canonical::to_canonical_string;

/// Where an election stands, as the checks of the record so far see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElectionStatus {
    /// `setup`, `open`, `closed` or `decided`.
    pub stage: &'static str,
    pub trustees: u32,
    pub threshold: u32,
    pub committed: Vec<u32>,
    pub revealed: Vec<u32>,
    pub dealt: Vec<u32>,
    /// Why the key ceremony failed, if a complaint ended it.
    pub failed: Option<String>,
    pub voters: u64,
    pub total_weight: u64,
    pub credentials: u64,
    pub cast: u64,
    pub superseded: u64,
    pub spoiled: u64,
    pub decrypted: Vec<u32>,
}

/// Checks E5's signature and E6 for ballots of one open election, against its key,
/// questions and credential list (fixed once it opened).
#[derive(Clone)]
pub struct CastChecker {
    election: String,
    worker: WorkerElection,
    listed: Arc<Listed>,
}

/// A ballot that passed [`CastChecker::check`]: what the record's state checks still
/// need, and its weighted contribution to the tally.
pub struct CheckedCast {
    digest: [u8; 32],
    pub credential: [u8; 32],
    pub counter: u64,
    pub tracking: [u8; 32],
    contribution: Vec<Vec<Ciphertext>>,
}

fn body_digest(body: &Value) -> [u8; 32] {
    Sha256::digest(to_canonical_string(body).unwrap_or_default().as_bytes()).into()
}

impl CastChecker {
    /// The election's hash `H_E`.
    pub fn election_hash(&self) -> [u8; 32] {
        self.worker.hash
    }

    /// The E5 signature check and every E6 check of one `ballot.cast` body. The state
    /// checks (stage, counter, tracking code unseen) are the record's, at append time.
    pub fn check(&self, body: &Value) -> Result<CheckedCast, (&'static str, String)> {
        let e5 = |d: String| ("E5", d);
        let b =
            obj(body, "body", &["election", "credential", "counter", "ballot", "signature", "tracking"]).map_err(e5)?;
        if b["election"] != self.election.as_str() {
            return Err(e5(format!("the ballot names election {}, not {}", b["election"], self.election)));
        }
        let tracking: [u8; 32] = hex_bytes(&b["tracking"], "tracking").map_err(e5)?;
        let credential: [u8; 32] = hex_bytes(&b["credential"], "credential").map_err(e5)?;
        let counter = uint(&b["counter"], "counter").map_err(e5)?;
        if counter == 0 {
            return Err(e5("counter 0: counters start at 1".into()));
        }
        let (_, weight) = self
            .listed
            .find(&credential)
            .ok_or_else(|| e5(format!("credential {} is not on the list", hex::encode(credential))))?;
        let encodings = compressed_choices(&b["ballot"]).map_err(|d| ("E6", d))?;
        let job =
            Job { line: 0, credential, counter, tracking, weight, body: body.clone(), ballot_digest: None, encodings };
        let mut batch = BatchVerifier::new(&self.worker.key);
        let checked = check_ballot(&self.worker, &job, &mut batch, &mut rand_core::OsRng)?;
        if !batch.holds() {
            return Err(("E6", format!("ballot {}: a validity proof does not verify", hex::encode(tracking))));
        }
        let contribution = ballot::tally(&self.worker.questions, std::iter::once((&checked, weight)));
        Ok(CheckedCast { digest: body_digest(body), credential, counter, tracking, contribution })
    }
}

impl Elections {
    /// Where election `name` stands, if it was created.
    pub fn status(&self, name: &str) -> Option<ElectionStatus> {
        let e = self.elections.get(name)?;
        Some(ElectionStatus {
            stage: match e.stage {
                Stage::Setup => "setup",
                Stage::Open => "open",
                Stage::Closed => "closed",
                Stage::Decided => "decided",
            },
            trustees: e.n(),
            threshold: e.threshold,
            committed: e.committed.keys().copied().collect(),
            revealed: e.revealed.keys().copied().collect(),
            dealt: e.shares.keys().copied().collect(),
            failed: e.failed.clone(),
            voters: e.voters,
            total_weight: e.total_weight,
            credentials: e.roll.len() as u64,
            cast: e.cast,
            superseded: e.superseded,
            spoiled: e.spoiled,
            decrypted: e.partials.keys().copied().collect(),
        })
    }

    /// The checker of ballots for election `name`, once it is open.
    pub fn cast_checker(&self, name: &str) -> Option<CastChecker> {
        let e = self.elections.get(name).filter(|e| e.stage == Stage::Open)?;
        Some(CastChecker { election: name.to_string(), worker: e.worker.clone()?, listed: e.roll.listed.clone()? })
    }

    /// Applies a `ballot.cast` whose signature and proofs [`CastChecker::check`] passed:
    /// E5's state checks, then its contribution joins the tally.
    pub fn apply_checked_cast(
        &mut self,
        line: usize,
        body: Value,
        checked: &CheckedCast,
    ) -> Result<(), ElectionFailure> {
        if body_digest(&body) != checked.digest {
            return Err(("E6", line, "the ballot is not the one whose proofs were checked".into()));
        }
        let name = body["election"].as_str().unwrap_or_default().to_string();
        let e = self
            .elections
            .get_mut(&name)
            .ok_or_else(|| ("E1", line, format!("election {name:?} was never created")))?;
        super::ballots::cast(e, line, body, None).map_err(|(c, d)| (c, line, d))?;
        add_into(&mut e.tally, &checked.contribution);
        self.ballots_checked += 1;
        Ok(())
    }

    /// The body of `election.opened`: the election key and the trustees' verification
    /// keys, from the revealed commitments (E3's arithmetic).
    pub fn opened_body(&self, name: &str) -> Result<Value, String> {
        let e = self.elections.get(name).ok_or("no such election")?;
        if e.stage != Stage::Setup {
            return Err("the election is already open".into());
        }
        if let Some(failure) = &e.failed {
            return Err(format!("{failure}; the election cannot open (create a new one)"));
        }
        if e.shares.len() != e.trustees.len() {
            return Err(format!("{} of {} trustees have dealt their shares", e.shares.len(), e.n()));
        }
        if e.roll.len() as u64 != e.voters || e.roll.listed_weight != e.total_weight {
            return Err(format!(
                "{} of {} credentials are listed: the credential authority's list is incomplete",
                e.roll.len(),
                e.voters
            ));
        }
        let publics: Vec<DealerPublic> = e.revealed.values().cloned().collect();
        let key = threshold::election_key(&publics);
        let vks: Vec<String> = (1..=e.n()).map(|j| point_to_hex(&threshold::verification_key(&publics, j))).collect();
        Ok(json!({"election": name, "public_key": point_to_hex(&key), "verification_keys": vks}))
    }

    /// The body of `election.closed`: the counts and the tally E8 recomputes. Waits for
    /// every ballot in flight first.
    pub fn closed_body(&mut self, name: &str) -> Result<Value, String> {
        self.flush().map_err(|(check, line, detail)| format!("line {line} fails {check}: {detail}"))?;
        let e = self.elections.get(name).ok_or("no such election")?;
        if e.stage != Stage::Open {
            return Err("the election is not open".into());
        }
        let tally = counted_tally(e);
        let superseded = e.superseded;
        Ok(json!({"election": name, "counted": e.cast - superseded, "superseded": superseded,
            "tally": tally.iter().map(|q| q.iter().map(ct_json).collect::<Vec<_>>()).collect::<Vec<_>>()}))
    }

    /// The body of `election.result` once at least t trustees have decrypted: the
    /// first t of them (by number) combine, and each total is read off `count · G`.
    pub fn result_body(&self, name: &str) -> Result<Value, String> {
        let e = self.elections.get(name).ok_or("no such election")?;
        if e.stage != Stage::Closed {
            return Err("the election is not closed".into());
        }
        if (e.partials.len() as u32) < e.threshold {
            return Err(format!("{} of the {} partial decryptions needed", e.partials.len(), e.threshold));
        }
        let set: Vec<u32> = e.partials.keys().copied().take(e.threshold as usize).collect();
        // No total exceeds the weight of the credentials that cast a counted ballot: one
        // table of that size serves every option.
        let table = hiwar_crypto::elgamal::DiscreteLog::new(e.counted_weight);
        let mut counts = Vec::new();
        for (q, tally) in e.closed_tally.iter().enumerate() {
            let mut row = Vec::new();
            for (o, ct) in tally.iter().enumerate() {
                let shares: Vec<_> = set.iter().map(|j| e.partials[j][q][o]).collect();
                let m = threshold::combine(ct, &shares, e.threshold).map_err(|e| e.to_string())?;
                row.push(
                    table
                        .solve(&m)
                        .ok_or_else(|| format!("question {q} option {o}: the total exceeds the counted weight"))?,
                );
            }
            counts.push(row);
        }
        Ok(json!({"election": name, "trustees": set, "counts": counts}))
    }
}
