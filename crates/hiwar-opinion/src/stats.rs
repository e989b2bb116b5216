//! What each group thinks and what has support across groups.
//!
//! **Representativeness** (Polis's `repness`, so results compare with Polis on the same
//! data): for group `g` and statement `s`, with `a`, `d`, `n` the group's agrees,
//! disagrees and votes (passes included) and `a'`, `d'`, `n'` those of everyone else,
//! `pa = (a+1)/(n+2)` and `ra = pa / pa'` (likewise `pd`, `rd`); `pat` is the one-
//! proportion z-score `2√(n+1)·((a+1)/(n+1) − ½)` and `rat` the two-proportion z-score
//! of `(a+1)/(n+1)` against `(a'+1)/(n'+1)`. A statement represents the group in the
//! direction (agree or disagree) whose ratio is larger; it is significant when both
//! z-scores exceed 1.2816 (90 % one-sided), and statements rank by `r · rz · p · pz`.
//!
//! **Group-informed consensus** (Polis): `Π_g (a_g + 1)/(n_g + 2)` over the groups — high
//! only when every group agrees, however small.
//!
//! **Bridging** (Community Notes' matrix factorisation): fit
//! `r_ps = μ + i_p + i_s + f_p f_s` to agree = 1 / disagree = 0 (passes left out) by
//! regularised alternating least squares, with intercepts penalised five times more
//! than the factor; the factor absorbs the divide, so the statement intercept `i_s` is
//! high only for statements agreed with on both sides of it.

use crate::matrix::Indexed;

/// z-score for 90 % one-sided confidence.
pub const Z90: f64 = 1.2816;

/// Votes of one group on one statement.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub agree: u32,
    pub disagree: u32,
    /// All votes, passes included.
    pub seen: u32,
}

/// `tallies[g * statements + s]`.
pub fn tallies(votes: &Indexed, membership: &[Option<usize>], groups: usize) -> Vec<Tally> {
    let mut out = vec![Tally::default(); groups * votes.statements];
    for (p, g) in membership.iter().enumerate() {
        let Some(g) = *g else { continue };
        for &(s, v) in votes.participant_votes(p) {
            let t = &mut out[g * votes.statements + s as usize];
            t.seen += 1;
            match v {
                1 => t.agree += 1,
                -1 => t.disagree += 1,
                _ => {}
            }
        }
    }
    out
}

fn prop_test(success: u32, n: u32) -> f64 {
    let (s, n) = (success as f64 + 1.0, n as f64 + 1.0);
    2.0 * n.sqrt() * (s / n - 0.5)
}

fn two_prop_test(s1: u32, n1: u32, s2: u32, n2: u32) -> f64 {
    let (s1, n1, s2, n2) = (s1 as f64 + 1.0, n1 as f64 + 1.0, s2 as f64 + 1.0, n2 as f64 + 1.0);
    let pooled = (s1 + s2) / (n1 + n2);
    if pooled >= 1.0 || pooled <= 0.0 {
        return 0.0;
    }
    (s1 / n1 - s2 / n2) / (pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2)).sqrt()
}

/// A statement's representativeness for one group.
#[derive(Debug, Clone, PartialEq)]
pub struct Repness {
    pub statement: usize,
    pub agree: bool,
    /// `pa` or `pd`: the share of the group voting that way (smoothed).
    pub probability: f64,
    /// `ra` or `rd`: how much more than everyone else.
    pub ratio: f64,
    pub probability_z: f64,
    pub ratio_z: f64,
    pub significant: bool,
    pub metric: f64,
    pub tally: Tally,
}

/// Each group's representative statements, best first, at most `per_group` each
/// (significant ones; the single best when none is).
pub fn representative(
    tallies: &[Tally],
    groups: usize,
    statements: usize,
    eligible: &[bool],
    per_group: usize,
) -> Vec<Vec<Repness>> {
    let mut totals = vec![Tally::default(); statements];
    for g in 0..groups {
        for s in 0..statements {
            let t = tallies[g * statements + s];
            totals[s].agree += t.agree;
            totals[s].disagree += t.disagree;
            totals[s].seen += t.seen;
        }
    }
    (0..groups)
        .map(|g| {
            let mut all: Vec<Repness> = (0..statements)
                .filter(|&s| eligible[s] && tallies[g * statements + s].seen > 0)
                .map(|s| {
                    let t = tallies[g * statements + s];
                    let o = Tally {
                        agree: totals[s].agree - t.agree,
                        disagree: totals[s].disagree - t.disagree,
                        seen: totals[s].seen - t.seen,
                    };
                    let p = |x: u32, n: u32| (x as f64 + 1.0) / (n as f64 + 2.0);
                    let (pa, pd) = (p(t.agree, t.seen), p(t.disagree, t.seen));
                    let (ra, rd) = (pa / p(o.agree, o.seen), pd / p(o.disagree, o.seen));
                    let agree = ra >= rd;
                    let (x, xo, probability, ratio) =
                        if agree { (t.agree, o.agree, pa, ra) } else { (t.disagree, o.disagree, pd, rd) };
                    let probability_z = prop_test(x, t.seen);
                    let ratio_z = two_prop_test(x, t.seen, xo, o.seen);
                    Repness {
                        statement: s,
                        agree,
                        probability,
                        ratio,
                        probability_z,
                        ratio_z,
                        significant: probability_z > Z90 && ratio_z > Z90,
                        metric: ratio * ratio_z * probability * probability_z,
                        tally: t,
                    }
                })
                .collect();
            all.sort_by(|a, b| b.significant.cmp(&a.significant).then(b.metric.total_cmp(&a.metric)));
            let significant = all.iter().take_while(|r| r.significant).count();
            all.truncate(significant.clamp(1.min(all.len()), per_group));
            all
        })
        .collect()
}

/// Group-informed consensus of every statement.
pub fn group_informed_consensus(tallies: &[Tally], groups: usize, statements: usize) -> Vec<f64> {
    (0..statements)
        .map(|s| {
            (0..groups)
                .map(|g| {
                    let t = tallies[g * statements + s];
                    (t.agree as f64 + 1.0) / (t.seen as f64 + 2.0)
                })
                .product()
        })
        .collect()
}

/// Ridge weights of the bridging model: intercepts, factors (Community Notes' ratio).
const BRIDGE_LAMBDA_INTERCEPT: f64 = 0.15;
const BRIDGE_LAMBDA_FACTOR: f64 = 0.03;

/// The bridging model: each statement's intercept `i_s` and its factor `f_s`.
pub fn bridging(votes: &Indexed, sweeps: usize) -> (Vec<f64>, Vec<f64>) {
    let (np, ns) = (votes.participants, votes.statements);
    let ratings = |v: i8| match v {
        1 => Some(1.0),
        -1 => Some(0.0),
        _ => None,
    };
    let (mut sum, mut count) = (0.0, 0.0);
    for &(_, v) in &votes.by_participant {
        if let Some(r) = ratings(v) {
            sum += r;
            count += 1.0;
        }
    }
    let mu = if count > 0.0 { sum / count } else { 0.5 };
    let mut ip = vec![0.0; np];
    // The factor starts from the statements' own spread so that the two sides separate.
    let mut fp: Vec<f64> = (0..np).map(|p| if p % 2 == 0 { 0.1 } else { -0.1 }).collect();
    let mut is = vec![0.0; ns];
    let mut fs = vec![0.0; ns];
    // Each side's (intercept, factor) solves a 2 × 2 ridge system given the other side.
    let solve = |rows: &[(u32, i8)], other_i: &[f64], other_f: &[f64]| -> (f64, f64) {
        let (mut a00, mut a01, mut a11, mut b0, mut b1) = (0.0, 0.0, 0.0, 0.0, 0.0);
        for &(o, v) in rows {
            let Some(r) = ratings(v) else { continue };
            let (oi, of) = (other_i[o as usize], other_f[o as usize]);
            let target = r - mu - oi;
            a00 += 1.0;
            a01 += of;
            a11 += of * of;
            b0 += target;
            b1 += target * of;
        }
        // Scaled as in a sum of squares over all ratings: λ per parameter.
        a00 += BRIDGE_LAMBDA_INTERCEPT * 5.0;
        a11 += BRIDGE_LAMBDA_FACTOR * 5.0;
        let det = a00 * a11 - a01 * a01;
        if det.abs() < 1e-12 {
            return (0.0, 0.0);
        }
        ((b0 * a11 - b1 * a01) / det, (a00 * b1 - a01 * b0) / det)
    };
    for _ in 0..sweeps.max(1) {
        for s in 0..ns {
            (is[s], fs[s]) = solve(votes.statement_votes(s), &ip, &fp);
        }
        for p in 0..np {
            (ip[p], fp[p]) = solve(votes.participant_votes(p), &is, &fs);
        }
    }
    (is, fs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polis_statistics_match_hand_computation() {
        // One statement; group 0: 8 agree of 10, group 1: 1 agree of 10.
        let tallies = vec![Tally { agree: 8, disagree: 2, seen: 10 }, Tally { agree: 1, disagree: 9, seen: 10 }];
        let gic = group_informed_consensus(&tallies, 2, 1);
        assert!((gic[0] - (9.0 / 12.0) * (2.0 / 12.0)).abs() < 1e-12);
        let rep = representative(&tallies, 2, 1, &[true], 5);
        let r = &rep[0][0];
        assert!(r.agree);
        assert!((r.probability - 9.0 / 12.0).abs() < 1e-12);
        assert!((r.ratio - (9.0 / 12.0) / (2.0 / 12.0)).abs() < 1e-12);
        assert!((r.probability_z - 2.0 * 11f64.sqrt() * (9.0 / 11.0 - 0.5)).abs() < 1e-12);
        assert!(r.significant);
        assert!(!rep[1][0].agree, "group 1 is represented by disagreeing");
    }
}
