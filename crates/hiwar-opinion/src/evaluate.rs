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
//!
//! Every analysis runs this check on itself ([`Confidence`]): it fits on 90 % of the
//! votes, scores each number of groups on the hidden tenth, chooses the number of groups
//! by that score ([`choose_k`]), and reports how many participants keep their group when
//! the hidden votes are put back — the figures the results page explains to participants.

use rand::seq::SliceRandom;
use rand::SeedableRng;

use crate::matrix::Indexed;
use crate::{analyze_indexed, Options};

/// Share of the agree/disagree votes every analysis hides from itself to check its groups.
pub const CHECK_FRACTION: f64 = 0.1;
/// The split is fixed, so anyone re-running the analysis on the same votes gets the same groups.
pub const CHECK_SEED: u64 = 0x0068_6977_6172;

/// How much an analysis's groups say, measured on the votes it hid from itself.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Confidence {
    /// Agree/disagree votes hidden.
    pub hidden: usize,
    /// Accuracy of each statement's majority on the hidden votes.
    pub baseline: f64,
    /// Accuracy of the participant's group's majority, with the groups chosen.
    pub groups: f64,
    /// `(k, accuracy)` for every number of groups tried (hiwar's method; Polis's method
    /// chooses by silhouette and tries none here).
    pub tried: Vec<(usize, f64)>,
    /// Of the participants placed both with and without the hidden votes, the share in
    /// the same group both times (groups matched to maximise it).
    pub stability: f64,
    /// Participants that share is over.
    pub compared: usize,
}

impl Confidence {
    /// The standard error of an accuracy `a` measured on the hidden votes,
    /// `√(a(1 − a)/n)`.
    pub fn standard_error(&self, accuracy: f64) -> f64 {
        (accuracy * (1.0 - accuracy) / self.hidden.max(1) as f64).sqrt()
    }
}

/// Gains in held-out accuracy smaller than this do not earn a map another group, however
/// many votes measured them: on a million participants a split of one real group into
/// two gains 0.04 points, measurably, and a tenth of its members change sides between
/// re-runs.
pub const MIN_GAIN: f64 = 0.005;

/// The number of groups by held-out accuracy, with the one-standard-error rule: among
/// the `(k, accuracy)` tried, the best accuracy `b` sets the bar
/// `b − max(√(b(1−b)/hidden), MIN_GAIN)`; the previous number of groups is kept if it
/// clears the bar (so groups do not come and go with noise as votes arrive), else the
/// smallest `k` that clears it (a simpler map unless more groups say clearly more).
pub fn choose_k(tried: &[(usize, f64)], hidden: usize, previous: Option<usize>) -> usize {
    let Some(best) = tried.iter().map(|t| t.1).max_by(f64::total_cmp) else {
        return previous.unwrap_or(1);
    };
    let bar = best - (best * (1.0 - best) / hidden.max(1) as f64).sqrt().max(MIN_GAIN);
    let clears = |k: usize| tried.iter().any(|&(kk, a)| kk == k && a >= bar);
    match previous {
        Some(k) if clears(k) => k,
        _ => tried.iter().filter(|t| t.1 >= bar).map(|t| t.0).min().unwrap_or(tried[0].0),
    }
}

/// The share of participants placed in both labellings who are in the same group in
/// both, with groups matched to make it largest (k ≤ 5: all matchings are tried), and
/// how many participants that is over.
pub fn stability(before: &[Option<usize>], after: &[Option<usize>]) -> (f64, usize) {
    let k = before.iter().chain(after).flatten().max().map_or(0, |m| m + 1);
    let mut table = vec![0usize; k * k];
    let mut compared = 0;
    for (b, a) in before.iter().zip(after) {
        if let (Some(b), Some(a)) = (b, a) {
            table[b * k + a] += 1;
            compared += 1;
        }
    }
    if compared == 0 {
        return (1.0, 0);
    }
    let mut order: Vec<usize> = (0..k).collect();
    let mut best = 0;
    crate::groups::permutations(&mut order, 0, &mut |o| best = best.max((0..k).map(|b| table[b * k + o[b]]).sum()));
    (best as f64 / compared as f64, compared)
}

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
    for (p, group) in membership.iter().enumerate().take(kept.participants) {
        for &(s, v) in kept.participant_votes(p) {
            overall[s as usize] += v as i64;
            if let Some(g) = *group {
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

    /// 600 participants in three equal planted groups, 40 statements.
    fn three_groups(density: f64, seed: u64) -> synthetic::Planted {
        synthetic::Planted {
            participants: 600,
            statements: 40,
            groups: vec![1.0, 1.0, 1.0],
            consensus: 5,
            density,
            noise: 0.15,
            seed,
        }
    }

    #[test]
    fn groups_that_exist_predict_hidden_votes_better_than_the_baseline() {
        let votes = three_groups(0.6, 3).generate().votes;
        let hidden = vec![false; votes.statements];
        let scored = held_out(&votes, &hidden, &Options::default(), 0.1, 7);
        assert!(scored.hidden > 1000, "{scored:?}");
        assert!(scored.groups > scored.baseline + 0.05, "{scored:?}");
        assert!(scored.space > scored.baseline, "{scored:?}");
    }

    #[test]
    fn the_number_of_groups_is_the_smallest_within_one_standard_error_of_the_best() {
        // 10,000 hidden votes: the bar is 0.80 − max(√(0.8 · 0.2 / 10,000), 0.005) = 0.795.
        let tried = [(2, 0.70), (3, 0.797), (4, 0.80), (5, 0.79)];
        assert_eq!(choose_k(&tried, 10_000, None), 3);
        // A previous choice that still clears the bar is kept …
        assert_eq!(choose_k(&tried, 10_000, Some(4)), 4);
        // … and one that does not is dropped.
        assert_eq!(choose_k(&tried, 10_000, Some(5)), 3);
        // Few hidden votes, a wide bar (0.81 − 0.039): the simplest map.
        let close = [(2, 0.78), (3, 0.80), (4, 0.81)];
        assert_eq!(choose_k(&close, 100, None), 2);
        assert_eq!(choose_k(&close, 10_000, None), 4);
        // Millions of votes, a tiny gain: not worth a group.
        assert_eq!(choose_k(&[(4, 0.7832), (5, 0.7836)], 4_500_000, None), 4);
        assert_eq!(choose_k(&[], 0, None), 1);
    }

    #[test]
    fn stability_matches_groups_whatever_their_labels() {
        let a = [Some(0), Some(0), Some(1), Some(1), Some(2), None];
        let relabelled = [Some(2), Some(2), Some(0), Some(0), Some(1), Some(1)];
        assert_eq!(stability(&a, &relabelled), (1.0, 5));
        let one_moved = [Some(1), Some(1), Some(0), Some(2), Some(2), Some(0)];
        assert_eq!(stability(&a, &one_moved), (0.8, 5));
        assert_eq!(stability(&[None], &[Some(0)]), (1.0, 0));
    }

    #[test]
    fn every_analysis_reports_its_own_check() {
        let planted = three_groups(0.5, 11);
        let votes = planted.generate().votes;
        let analysis = crate::analyze_indexed(&votes, &[false; 40], None, &Options::default());
        let c = &analysis.confidence;
        assert_eq!(analysis.groups(), 3, "{c:?}");
        assert_eq!(c.tried.iter().map(|t| t.0).collect::<Vec<_>>(), vec![2, 3, 4, 5]);
        assert!(c.groups > c.baseline + 10.0 * c.standard_error(c.groups), "{c:?}");
        assert!(c.stability > 0.95 && c.compared > 500, "{c:?}");
        // No groups planted: the check says the groups predict no better than the majority.
        let flat = synthetic::Planted { groups: vec![1.0], ..planted }.generate().votes;
        let analysis = crate::analyze_indexed(&flat, &[false; 40], None, &Options::default());
        let c = &analysis.confidence;
        assert!(c.groups < c.baseline + 2.0 * c.standard_error(c.baseline), "{c:?}");
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
