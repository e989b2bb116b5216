//! How much an analysis says about how people vote, measured without ground truth:
//! hide a share of the agree/disagree votes, analyse the rest, and predict each hidden
//! vote three ways —
//!
//! - **baseline**: the statement's majority among the votes kept (agree on a tie);
//! - **groups**: the majority of the participant's opinion group on that statement
//!   (the baseline where the participant is in no group or the group is tied);
//! - **space**: the sign of the opinion space's reconstruction `m_s + u_p · v_s`.
//!
//! Groups that are real carry information beyond the baseline: the gain of the groups
//! row over the baseline is what the map is worth to a participant.

use rand::seq::SliceRandom;
use rand::SeedableRng;

use crate::matrix::Indexed;
use crate::{analyze_indexed, Options};

/// Accuracy of each predictor on the hidden votes.
#[derive(Debug, Clone, PartialEq)]
pub struct HeldOut {
    /// Agree/disagree votes hidden.
    pub hidden: usize,
    pub baseline: f64,
    pub groups: f64,
    pub space: f64,
    /// Groups the analysis of the kept votes found.
    pub k: usize,
}

/// The votes split: those kept (as an index) and those hidden `(participant, statement, vote)`.
pub fn split(votes: &Indexed, fraction: f64, seed: u64) -> (Indexed, Vec<(u32, u32, i8)>) {
    let mut all: Vec<(u32, u32, i8)> = (0..votes.participants)
        .flat_map(|p| votes.participant_votes(p).iter().map(move |&(s, v)| (p as u32, s, v)))
        .collect();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    all.shuffle(&mut rng);
    let wanted = ((all.iter().filter(|t| t.2 != 0).count() as f64) * fraction).round() as usize;
    let (mut hidden, mut kept) = (Vec::with_capacity(wanted), Vec::with_capacity(all.len()));
    for t in all {
        if t.2 != 0 && hidden.len() < wanted {
            hidden.push(t);
        } else {
            kept.push(t);
        }
    }
    (Indexed::from_triples(votes.participants, votes.statements, &kept), hidden)
}

/// Predicts the hidden votes from `membership` (each participant's group, found on the
/// kept votes) and the kept votes themselves: the groups row of [`HeldOut`].
pub fn group_accuracy(kept: &Indexed, hidden: &[(u32, u32, i8)], membership: &[Option<usize>], k: usize) -> f64 {
    let ns = kept.statements;
    // Per (group, statement) and per statement: agree minus disagree among the kept votes.
    let mut by_group = vec![0i64; k.max(1) * ns];
    let mut overall = vec![0i64; ns];
    for p in 0..kept.participants {
        for &(s, v) in kept.participant_votes(p) {
            overall[s as usize] += v as i64;
            if let Some(g) = membership[p] {
                by_group[g * ns + s as usize] += v as i64;
            }
        }
    }
    let sign = |x: i64| if x >= 0 { 1 } else { -1 };
    accuracy(hidden, |p, s| match membership[p as usize].map(|g| by_group[g * ns + s as usize]) {
        Some(m) if m != 0 => sign(m),
        _ => sign(overall[s as usize]),
    })
}

fn accuracy(hidden: &[(u32, u32, i8)], predict: impl Fn(u32, u32) -> i8) -> f64 {
    if hidden.is_empty() {
        return 0.0;
    }
    hidden.iter().filter(|&&(p, s, v)| predict(p, s) == v).count() as f64 / hidden.len() as f64
}

/// Hides `fraction` of the agree/disagree votes (chosen with `seed`), analyses the rest
/// with `options`, and scores the three predictors.
pub fn held_out(votes: &Indexed, hidden_statements: &[bool], options: &Options, fraction: f64, seed: u64) -> HeldOut {
    let (kept, hidden) = split(votes, fraction, seed);
    let analysis = analyze_indexed(&kept, hidden_statements, None, options);
    let k = analysis.groups();
    let nobody = vec![None; kept.participants];
    let baseline = group_accuracy(&kept, &hidden, &nobody, 1);
    let groups = group_accuracy(&kept, &hidden, &analysis.membership, k);
    let space = &analysis.space;
    let space_accuracy = accuracy(&hidden, |p, s| {
        let (u, v) = (space.participant(p as usize), space.statement(s as usize));
        let x = space.means[s as usize] + u.iter().zip(v).map(|(a, b)| a * b).sum::<f64>();
        if x >= 0.0 {
            1
        } else {
            -1
        }
    });
    HeldOut { hidden: hidden.len(), baseline, groups, space: space_accuracy, k }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synthetic;

    #[test]
    fn groups_that_exist_predict_hidden_votes_better_than_the_baseline() {
        let planted = synthetic::Planted {
            participants: 600,
            statements: 40,
            groups: vec![1.0, 1.0, 1.0],
            consensus: 5,
            density: 0.6,
            noise: 0.15,
            seed: 3,
        };
        let votes = planted.generate().votes;
        let hidden = vec![false; votes.statements];
        let scored = held_out(&votes, &hidden, &Options::default(), 0.1, 7);
        assert!(scored.hidden > 1000, "{scored:?}");
        assert!(scored.groups > scored.baseline + 0.05, "{scored:?}");
        assert!(scored.space > scored.baseline, "{scored:?}");
    }

    #[test]
    fn the_split_hides_only_agree_and_disagree_votes_and_keeps_the_rest() {
        let votes = Indexed::from_triples(3, 2, &[(0, 0, 1), (0, 1, 0), (1, 0, -1), (1, 1, 1), (2, 0, 1), (2, 1, -1)]);
        let (kept, hidden) = split(&votes, 0.5, 1);
        assert_eq!(hidden.len(), 3);
        assert!(hidden.iter().all(|h| h.2 != 0));
        assert_eq!(kept.votes() + hidden.len(), votes.votes());
    }
}
