//! An election's credential list and, per credential, what the ballot checks need of
//! its history: the counter of its latest ballot and that ballot's ciphertexts.
//!
//! Memory is what decides who can afford to verify a national vote, so the list is kept
//! as keyed 128-bit fingerprints ([`crate::fingerprint`]) in one sorted vector, found by
//! binary search: 16 bytes per credential, plus 8 for its counter and 8 for its weight
//! in a weighted election. The latest ballot's ciphertexts, needed only if the same
//! credential votes again (then the old ballot leaves the tally), go to a
//! [`BallotStore`], which a verifier of a large record can keep on disk.

use std::collections::HashSet;
use std::sync::Arc;

use crate::fingerprint::Fingerprints;

/// Where each credential's latest ballot is kept: `slots` of equal size, indexed by the
/// credential's place in the sorted list.
pub trait BallotStore: Send {
    /// Reads slot `index` into `out` (zeros if it was never written).
    fn read(&mut self, index: usize, out: &mut [u8]) -> std::io::Result<()>;
    /// Writes slot `index`.
    fn write(&mut self, index: usize, data: &[u8]) -> std::io::Result<()>;
}

/// Makes the store of one election, given the size of a slot in bytes and the number of
/// credentials.
pub type BallotStoreFactory = Arc<dyn Fn(usize, usize) -> std::io::Result<Box<dyn BallotStore>> + Send + Sync>;

/// Keeps the ballots in memory (the server, and records verified from memory).
#[derive(Default)]
pub struct MemoryBallots(std::collections::HashMap<usize, Box<[u8]>>);

impl BallotStore for MemoryBallots {
    fn read(&mut self, index: usize, out: &mut [u8]) -> std::io::Result<()> {
        match self.0.get(&index) {
            Some(slot) => out.copy_from_slice(slot),
            None => out.fill(0),
        }
        Ok(())
    }

    fn write(&mut self, index: usize, data: &[u8]) -> std::io::Result<()> {
        self.0.insert(index, data.into());
        Ok(())
    }
}

/// The list once complete: shared with the ballot checkers.
pub(super) struct Listed {
    fingerprints: Fingerprints,
    /// Sorted fingerprints of the credentials.
    keys: Vec<u128>,
    /// Weights in the order of `keys`; empty when every weight is 1.
    weights: Vec<u64>,
}

impl Listed {
    /// The place of `credential` in the list and its weight.
    pub fn find(&self, credential: &[u8; 32]) -> Option<(usize, u64)> {
        let index = self.keys.binary_search(&self.fingerprints.fp(credential)).ok()?;
        Some((index, self.weights.get(index).copied().unwrap_or(1)))
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }
}

pub(super) struct Roll {
    fingerprints: Fingerprints,
    /// While the list is published: the fingerprints seen, to refuse a credential listed twice.
    listing: HashSet<u128>,
    entries: Vec<u128>,
    /// The entries' weights, in a weighted election only.
    entry_weights: Vec<u64>,
    pub listed_weight: u64,
    /// Once the election opens.
    pub listed: Option<Arc<Listed>>,
    pub counters: Vec<u64>,
    pub latest: Option<Box<dyn BallotStore>>,
}

impl Roll {
    pub fn new(fingerprints: Fingerprints) -> Self {
        Roll {
            fingerprints,
            listing: HashSet::new(),
            entries: Vec::new(),
            entry_weights: Vec::new(),
            listed_weight: 0,
            listed: None,
            counters: Vec::new(),
            latest: None,
        }
    }

    pub fn len(&self) -> usize {
        match &self.listed {
            Some(listed) => listed.len(),
            None => self.entries.len(),
        }
    }

    /// The fingerprint of a credential or a tracking code, under the election's key.
    pub fn fingerprint(&self, value: &[u8; 32]) -> u128 {
        self.fingerprints.fp(value)
    }

    /// Whether a credential with this fingerprint is already listed (while listing).
    pub fn is_listed(&self, fingerprint: u128) -> bool {
        self.listing.contains(&fingerprint)
    }

    /// Adds checked entries (fingerprint, weight) while the list is published.
    pub fn list(&mut self, weighted: bool, entries: impl IntoIterator<Item = (u128, u64)>) {
        for (fp, weight) in entries {
            self.listing.insert(fp);
            self.entries.push(fp);
            if weighted {
                self.entry_weights.push(weight);
            }
        }
    }

    /// Closes the list when the election opens: sorts it and makes the ballot store.
    pub fn seal(&mut self, store: Box<dyn BallotStore>) {
        self.listing = HashSet::new();
        let mut keys = std::mem::take(&mut self.entries);
        let mut weights = std::mem::take(&mut self.entry_weights);
        if weights.is_empty() {
            keys.sort_unstable();
        } else {
            let mut pairs: Vec<(u128, u64)> = keys.into_iter().zip(weights).collect();
            pairs.sort_unstable_by_key(|p| p.0);
            (keys, weights) = pairs.into_iter().unzip();
        }
        self.counters = vec![0; keys.len()];
        self.listed = Some(Arc::new(Listed { fingerprints: self.fingerprints, keys, weights }));
        self.latest = Some(store);
    }
}
