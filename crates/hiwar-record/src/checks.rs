//! The body checks of a record — R9 (the dialogue's events), S1–S2 (selections),
//! E1–E10 (elections), W1–W2 (witnesses) and D1–D3 (declarations) — applied one event at a time. [`crate::verify()`] runs them on
//! every line after its framing and signature checks; the store runs the same checks
//! on every event before it appends it, so the server can never publish a line its own
//! verifier would reject.

use serde_json::Value;

use crate::declaration::Declarations;
use crate::election::Elections;
use crate::events::State;
use crate::selection::Selections;
use crate::witness::Witnesses;

/// A failed body check: (check, line, detail).
pub type BodyFailure = (&'static str, usize, String);

/// What the events so far establish, for checking the next one.
pub struct BodyChecks {
    dialogue: String,
    pub state: State,
    pub selections: Selections,
    pub witnesses: Witnesses,
    pub declarations: Declarations,
    /// The time of the line being checked (`YYYY-MM-DDTHH:MM:SSZ`), for the rules with
    /// deadlines; set by [`BodyChecks::at_time`].
    time: String,
    elections: Option<Elections>,
    on_ballots: Option<Box<dyn FnMut(u64) + Send>>,
    ballot_store: Option<crate::election::BallotStoreFactory>,
}

impl BodyChecks {
    pub fn new(dialogue: &str) -> Self {
        BodyChecks {
            dialogue: dialogue.to_string(),
            state: State::default(),
            selections: Selections::default(),
            witnesses: Witnesses::default(),
            declarations: Declarations::default(),
            time: String::new(),
            elections: None,
            on_ballots: None,
            ballot_store: None,
        }
    }

    /// Keeps each election's latest ballot per credential in stores `factory` makes.
    pub fn keep_ballots_in(&mut self, factory: crate::election::BallotStoreFactory) {
        self.ballot_store = Some(factory);
    }

    /// Calls `f` with the number of ballots whose proofs were checked so far.
    pub fn on_ballots(&mut self, f: impl FnMut(u64) + Send + 'static) {
        self.on_ballots = Some(Box::new(f));
    }

    /// Whether `kind` is checked by the election or selection rules (after the line's
    /// signature) rather than by R9.
    pub fn is_protocol_event(seq: u64, kind: &str) -> bool {
        seq > 0 && (Elections::handles(kind) || Selections::handles(kind) || Declarations::handles(kind))
    }

    /// Sets the time of the line about to be applied (every caller does, before
    /// [`BodyChecks::apply`]; the declaration checks refuse to run without it).
    pub fn at_time(&mut self, time: &str) {
        self.time.clear();
        self.time.push_str(time);
    }

    /// The election checks, created on first use.
    pub fn elections(&mut self) -> &mut Elections {
        let dialogue = &self.dialogue;
        let on_ballots = &mut self.on_ballots;
        let ballot_store = &self.ballot_store;
        self.elections.get_or_insert_with(|| {
            let mut e = Elections::new(dialogue);
            if let Some(f) = on_ballots.take() {
                e.on_progress(f);
            }
            if let Some(factory) = ballot_store {
                e.keep_ballots_in(factory.clone());
            }
            e
        })
    }

    /// Applies a `ballot.cast` at `seq` whose signature and proofs were checked by
    /// [`crate::election::CastChecker`]; the state checks of E5 run here.
    pub fn apply_checked_cast(
        &mut self,
        seq: u64,
        body: Value,
        checked: &crate::election::CheckedCast,
    ) -> Result<(), BodyFailure> {
        self.elections().apply_checked_cast(seq as usize, body, checked)
    }

    /// Checks the event at `seq` and applies it. Ballot proofs may be checked later, on
    /// worker threads: [`BodyChecks::settle`] waits for them.
    pub fn apply(&mut self, seq: u64, kind: &str, body: Value) -> Result<(), BodyFailure> {
        self.apply_line(seq, kind, body, None)
    }

    /// [`BodyChecks::apply`], given the SHA-256 of a cast ballot's canonical text when
    /// the caller cut it from the line.
    pub fn apply_line(
        &mut self,
        seq: u64,
        kind: &str,
        body: Value,
        ballot_digest: Option<[u8; 32]>,
    ) -> Result<(), BodyFailure> {
        let line = seq as usize;
        if seq > 0 && Selections::handles(kind) {
            return self.selections.apply(kind, &body, &self.state).map_err(|(check, detail)| (check, line, detail));
        }
        if seq > 0 && Elections::handles(kind) {
            return self.elections().apply(line, kind, body, ballot_digest);
        }
        if seq > 0 && Declarations::handles(kind) {
            return self
                .declarations
                .apply(&self.dialogue, seq, &self.time, kind, &body, &mut self.state)
                .map_err(|(check, detail)| (check, line, detail));
        }
        if seq > 0 && Witnesses::handles(kind) {
            return self
                .witnesses
                .apply(&self.dialogue, seq, kind, &body, &self.state)
                .map_err(|(check, detail)| (check, line, detail));
        }
        self.state.apply(seq, kind, &body).map_err(|detail| {
            // A first line of the wrong kind is the R6 failure, not a body failure.
            (if seq == 0 { "R6" } else { "R9" }, line, format!("{kind}: {detail}"))
        })
    }

    /// Called after each line is sealed (or read), with its hash: the witness checks
    /// compare co-signed heads with the lines they name.
    pub fn line_sealed(&mut self, hash: [u8; 32]) {
        self.witnesses.line_sealed(hash);
    }

    /// Waits for every ballot in flight; the first failure among them, if any.
    pub fn settle(&mut self) -> Result<(), BodyFailure> {
        match self.elections.as_mut() {
            Some(e) => e.settle(),
            None => Ok(()),
        }
    }

    /// Called after the last event: the number of ballots whose proofs were checked.
    pub fn finish(self) -> Result<(State, Selections, u64), BodyFailure> {
        let ballots = match self.elections {
            Some(e) => e.finish()?,
            None => 0,
        };
        Ok((self.state, self.selections, ballots))
    }
}
