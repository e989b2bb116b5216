//! The sparse vote matrix: participants × statements, each cell agree (+1), disagree
//! (−1), pass (0) or missing. A later vote on the same cell replaces the earlier one.
//! Missing is never filled in: every computation reads only the votes cast.

use std::collections::HashMap;

/// A vote's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Vote {
    Agree,
    Disagree,
    Pass,
}

impl Vote {
    /// +1, −1 or 0.
    pub fn value(self) -> f64 {
        match self {
            Vote::Agree => 1.0,
            Vote::Disagree => -1.0,
            Vote::Pass => 0.0,
        }
    }
    pub fn from_i8(v: i8) -> Option<Vote> {
        match v {
            1 => Some(Vote::Agree),
            -1 => Some(Vote::Disagree),
            0 => Some(Vote::Pass),
            _ => None,
        }
    }
    fn to_i8(self) -> i8 {
        self.value() as i8
    }
}

/// Votes, stored as a hash map of cells for incremental updates, plus compressed
/// rows by participant and by statement, rebuilt by [`VoteMatrix::index`] before an
/// analysis.
#[derive(Debug, Clone, Default)]
pub struct VoteMatrix {
    participant_ids: Vec<String>,
    statement_ids: Vec<String>,
    participant_index: HashMap<String, u32>,
    statement_index: HashMap<String, u32>,
    /// `(participant, statement)` → vote.
    cells: HashMap<(u32, u32), i8>,
    /// Statements moderated out: never routed, never reported.
    pub hidden: Vec<bool>,
}

/// Compressed sparse rows of a [`VoteMatrix`], by participant and by statement.
#[derive(Debug, Clone)]
pub struct Indexed {
    pub participants: usize,
    pub statements: usize,
    /// Row `p` is `by_participant[p_start[p]..p_start[p + 1]]`: `(statement, vote)`.
    pub p_start: Vec<usize>,
    pub by_participant: Vec<(u32, i8)>,
    /// Column `s` is `by_statement[s_start[s]..s_start[s + 1]]`: `(participant, vote)`.
    pub s_start: Vec<usize>,
    pub by_statement: Vec<(u32, i8)>,
}

impl Indexed {
    pub fn participant_votes(&self, p: usize) -> &[(u32, i8)] {
        &self.by_participant[self.p_start[p]..self.p_start[p + 1]]
    }
    pub fn statement_votes(&self, s: usize) -> &[(u32, i8)] {
        &self.by_statement[self.s_start[s]..self.s_start[s + 1]]
    }
    pub fn votes(&self) -> usize {
        self.by_participant.len()
    }

    /// Builds both compressed forms from `(participant, statement, vote)` triples
    /// without duplicates.
    pub fn from_triples(participants: usize, statements: usize, triples: &[(u32, u32, i8)]) -> Indexed {
        let mut p_start = vec![0usize; participants + 1];
        let mut s_start = vec![0usize; statements + 1];
        for &(p, s, _) in triples {
            p_start[p as usize + 1] += 1;
            s_start[s as usize + 1] += 1;
        }
        for i in 0..participants {
            p_start[i + 1] += p_start[i];
        }
        for i in 0..statements {
            s_start[i + 1] += s_start[i];
        }
        let mut by_participant = vec![(0u32, 0i8); triples.len()];
        let mut by_statement = vec![(0u32, 0i8); triples.len()];
        let (mut pn, mut sn) = (p_start.clone(), s_start.clone());
        for &(p, s, v) in triples {
            by_participant[pn[p as usize]] = (s, v);
            pn[p as usize] += 1;
            by_statement[sn[s as usize]] = (p, v);
            sn[s as usize] += 1;
        }
        Indexed { participants, statements, p_start, by_participant, s_start, by_statement }
    }
}

impl VoteMatrix {
    pub fn new() -> Self {
        Self::default()
    }

    /// The index of statement `id`, adding it if new.
    pub fn statement(&mut self, id: &str) -> u32 {
        if let Some(&i) = self.statement_index.get(id) {
            return i;
        }
        let i = self.statement_ids.len() as u32;
        self.statement_ids.push(id.to_string());
        self.statement_index.insert(id.to_string(), i);
        self.hidden.push(false);
        i
    }

    /// The index of participant `id`, adding them if new.
    pub fn participant(&mut self, id: &str) -> u32 {
        if let Some(&i) = self.participant_index.get(id) {
            return i;
        }
        let i = self.participant_ids.len() as u32;
        self.participant_ids.push(id.to_string());
        self.participant_index.insert(id.to_string(), i);
        i
    }

    pub fn statement_index(&self, id: &str) -> Option<u32> {
        self.statement_index.get(id).copied()
    }
    pub fn participant_index(&self, id: &str) -> Option<u32> {
        self.participant_index.get(id).copied()
    }
    pub fn statement_ids(&self) -> &[String] {
        &self.statement_ids
    }
    pub fn participant_ids(&self) -> &[String] {
        &self.participant_ids
    }

    /// Records a vote; a later vote on the same statement replaces the earlier one.
    pub fn vote(&mut self, participant: u32, statement: u32, vote: Vote) {
        self.cells.insert((participant, statement), vote.to_i8());
    }

    pub fn get(&self, participant: u32, statement: u32) -> Option<Vote> {
        self.cells.get(&(participant, statement)).and_then(|&v| Vote::from_i8(v))
    }

    pub fn votes(&self) -> usize {
        self.cells.len()
    }

    /// The compressed rows for analysis, each sorted by index.
    pub fn index(&self) -> Indexed {
        let mut triples: Vec<(u32, u32, i8)> = self.cells.iter().map(|(&(p, s), &v)| (p, s, v)).collect();
        triples.sort_unstable();
        Indexed::from_triples(self.participant_ids.len(), self.statement_ids.len(), &triples)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_vote_counts_and_rows_agree_with_columns() {
        let mut m = VoteMatrix::new();
        let (a, b) = (m.participant("a"), m.participant("b"));
        let (s, t) = (m.statement("s"), m.statement("t"));
        m.vote(a, s, Vote::Agree);
        m.vote(a, s, Vote::Disagree);
        m.vote(b, s, Vote::Pass);
        m.vote(b, t, Vote::Agree);
        assert_eq!(m.votes(), 3);
        assert_eq!(m.get(a, s), Some(Vote::Disagree));
        let ix = m.index();
        assert_eq!(ix.participant_votes(a as usize), &[(s, -1)]);
        assert_eq!(ix.statement_votes(s as usize), &[(a, -1), (b, 0)]);
        assert_eq!(ix.statement_votes(t as usize), &[(b, 1)]);
        assert_eq!(m.participant("a"), a, "ids are stable");
    }
}
