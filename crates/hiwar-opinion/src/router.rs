//! Which statement a participant sees next. Coverage is what makes "everyone was
//! heard" measurable, so the router serves, in order:
//!
//! 1. statements that still lack `m` votes from the participant's own group, the
//!    neediest first (a participant not yet in a group counts for the group that has
//!    seen the statement least);
//! 2. then the statements with the fewest votes overall, so a new statement gets a
//!    fair start against old ones;
//!
//! never a statement the participant voted on or one moderated out. Ties break by a
//! hash of (participant, statement), so participants spread over equally needy
//! statements instead of all getting the same one. Each answer scans the statements
//! once: microseconds for thousands of statements.

/// Vote counts per statement and group, kept up to date as votes arrive.
#[derive(Debug, Clone)]
pub struct Router {
    pub groups: usize,
    /// Votes per group wanted on every statement.
    pub m: u32,
    /// `counts[s * groups + g]`.
    counts: Vec<u32>,
    totals: Vec<u32>,
    hidden: Vec<bool>,
}

impl Router {
    pub fn new(groups: usize, m: u32) -> Self {
        Router { groups: groups.max(1), m, counts: Vec::new(), totals: Vec::new(), hidden: Vec::new() }
    }

    /// Makes room for statements `0..n`.
    pub fn statements(&mut self, n: usize) {
        self.counts.resize(n * self.groups, 0);
        self.totals.resize(n, 0);
        self.hidden.resize(n, false);
    }

    pub fn hide(&mut self, statement: usize, hidden: bool) {
        self.statements(self.totals.len().max(statement + 1));
        self.hidden[statement] = hidden;
    }

    /// Counts one new vote (not a changed one) by a member of `group`.
    pub fn record(&mut self, statement: usize, group: Option<usize>) {
        self.statements(self.totals.len().max(statement + 1));
        self.totals[statement] += 1;
        if let Some(g) = group.filter(|&g| g < self.groups) {
            self.counts[statement * self.groups + g] += 1;
        }
    }

    /// Votes from `group` on `statement`.
    pub fn count(&self, statement: usize, group: usize) -> u32 {
        self.counts[statement * self.groups + group]
    }

    /// The next statement for `participant` (an opaque number for tie-breaking) in
    /// `group`, who has voted on the statements for which `voted` is true.
    pub fn next(&self, participant: u64, group: Option<usize>, voted: impl Fn(usize) -> bool) -> Option<usize> {
        let mut best: Option<((bool, u32, u32, u64), usize)> = None;
        for s in 0..self.totals.len() {
            if self.hidden[s] || voted(s) {
                continue;
            }
            let own = match group.filter(|&g| g < self.groups) {
                Some(g) => self.count(s, g),
                None => (0..self.groups).map(|g| self.count(s, g)).min().unwrap_or(0),
            };
            let key = (own >= self.m, own.min(self.m), self.totals[s], tie_break(participant, s as u64));
            if best.as_ref().is_none_or(|(k, _)| key < *k) {
                best = Some((key, s));
            }
        }
        best.map(|(_, s)| s)
    }
}

/// A cheap, well-mixed hash (SplitMix64) of a participant and a statement.
fn tie_break(participant: u64, statement: u64) -> u64 {
    let mut z = participant.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ statement.wrapping_add(0x6a09_e667_f3bc_c909);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn needy_statements_first_never_voted_or_hidden_ones() {
        let mut r = Router::new(2, 2);
        r.statements(4);
        for _ in 0..2 {
            r.record(0, Some(0));
            r.record(1, Some(0));
            r.record(1, Some(1));
        }
        r.record(2, Some(1));
        r.hide(3, true);
        // Group 0 has covered 0 and 1; statement 2 still needs it.
        assert_eq!(r.next(1, Some(0), |_| false), Some(2));
        // Group 1 needs 0 (no votes from it) before 2 (one vote).
        assert_eq!(r.next(1, Some(1), |_| false), Some(0));
        assert_eq!(r.next(1, Some(1), |s| s == 0), Some(2));
        // Everything voted or hidden: nothing.
        assert_eq!(r.next(1, Some(1), |s| s != 3), None);
    }

    #[test]
    fn a_new_statement_gets_a_fair_start() {
        let mut r = Router::new(1, 1);
        r.statements(2);
        for _ in 0..50 {
            r.record(0, Some(0));
        }
        r.statements(3); // statement 2 just posted
        r.record(1, Some(0));
        assert_eq!(r.next(7, Some(0), |_| false), Some(2));
    }
}
