//! Leximin first over the quota polytope, then as a distribution over panels.
//!
//! Every distribution over panels has its expected seats `m = Σ_P λ_P x_P` in the quota
//! polytope `Q` (see [`Instance::relaxation`]), and `conv(panels) ⊆ Q`. The leximin
//! vector `f` of profile probabilities `π = m/c` over `Q` — computed level by level,
//! each level an LP of the profiles' size — is therefore at least the leximin over
//! distributions in the leximin order (not level by level: only its first level, the
//! fractional maximin, bounds the first level over panels; a later level over `Q` can
//! lie below the same level over panels). If some distribution over panels reaches it
//! (`π_p ≥ f_p` for every profile), that distribution *is* leximin-optimal: its sorted
//! probabilities dominate those of any point of `Q`, distributions' included, and no
//! integer program is needed to bound any level.
//!
//! Whether one reaches it is itself an LP over panels, solved by column generation:
//! `min δ  s.t.  Σ_P λ_P x_{P,p}/c_p + δ ≥ f_p (every p),  Σ λ = 1,  λ, δ ≥ 0`, whose
//! dual is `max Σ_p f_p y_p − μ  s.t.  Σ_p y_p x_{P,p}/c_p ≤ μ (every P),  Σ y ≤ 1,
//! y ≥ 0`. For any such `y`,
//! `δ* ≥ Σ_p f_p y_p − max_P Σ_p y_p x_{P,p}/c_p`: when the pricing integer program
//! shows this positive, `f` is out of reach, and leximin proceeds level by level over
//! panels (keeping every panel found here).
//!
//! On pools with hundreds of profiles, where column generation level by level tails
//! off, the leximin over `Q` is reached: with quotas as ranges and a panel of a hundred
//! seats, `conv(panels)` and `Q` barely differ. The panels to start from are found by
//! *herding* towards the target seats `t = f·c`: each panel (nearly) maximises
//! `Σ_p r_p x_p`, `r` the seats still owed, `r ← r + t − x` — found by local search from
//! the previous panel, a local optimum only — so the panels surround `t` from every
//! side (with exact maxima and `t` in their hull, their average would converge to it).

use std::collections::HashSet;
use std::time::Instant;

use crate::instance::Instance;
use crate::search::{best_starts, value, LocalSearch};
use crate::Error;

/// The leximin over the quota polytope: each level's value and the value every
/// profile is held at (its level's, a hair below).
pub(crate) struct QuotaLeximin {
    pub levels: Vec<f64>,
    pub fixed: Vec<f64>,
}

/// How far the panels got towards the leximin over `Q`.
pub(crate) enum Reach {
    /// Every profile within `delta` of its value.
    Met { delta: f64, lambda: Vec<f64> },
    /// Not reached: pricing proved no distribution over panels comes within the
    /// tolerance, or found no new panel while the panels so far stay outside it.
    Missed,
    /// Stopped by the time limit, every profile within `delta` of its value.
    Stopped { delta: f64, lambda: Vec<f64> },
}

/// A level this close to 1 holds every profile left at 1.
const CERTAIN: f64 = 1e-6;
/// Herded panels per profile, to start the decomposition from (with one, column
/// generation needed dozens of slow rounds on the 834-profile bench pool; with two, none).
const HERDED_PER_PROFILE: usize = 2;
/// Local searches per round of column generation, from the best panels so far.
const LOCAL_STARTS: usize = 8;

impl Instance<'_> {
    /// The leximin over `Q`, level by level (`None` if the time limit came first). A
    /// level's optimal prices `y` (from [`Instance::relaxation`]) name the profiles that
    /// every optimum holds at its value (complementary slackness: `y_p > 0`); those are
    /// held there (`slack` below it) and the next level maximises the rest.
    pub(crate) fn quota_leximin(
        &self,
        sizes: &[f64],
        eps: f64,
        slack: f64,
        out_of_time: &dyn Fn() -> bool,
    ) -> Result<Option<QuotaLeximin>, Error> {
        let n = sizes.len();
        let mut fixed: Vec<Option<f64>> = vec![None; n];
        let mut levels = Vec::new();
        while fixed.iter().any(Option::is_none) {
            if out_of_time() {
                return Ok(None);
            }
            let (z, y) = self.relaxation(&fixed, sizes)?;
            let mut to_fix: Vec<usize> = (0..n).filter(|&p| fixed[p].is_none() && y[p] > eps).collect();
            if to_fix.is_empty() || z >= 1.0 - CERTAIN {
                // Σ_unfixed y = 1 puts some price above eps unless rounding ate it. And no
                // probability exceeds 1: at a level of 1 every profile left is there (the
                // LPs of such levels are degenerate; HiGHS stalled on them).
                to_fix = (0..n).filter(|&p| fixed[p].is_none()).collect();
            }
            for p in to_fix {
                fixed[p] = Some((z - slack).clamp(0.0, 1.0));
            }
            levels.push(z);
        }
        Ok(Some(QuotaLeximin { levels, fixed: fixed.into_iter().map(|f| f.unwrap_or(0.0)).collect() }))
    }

    /// Column generation towards a distribution over panels giving every profile `p` at
    /// least `fixed[p]`: met once within `target`, out of reach once pricing proves no
    /// distribution comes within `tolerance`; `panels` (and `seen`) gain every panel found.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn reach(
        &self,
        fixed: &[f64],
        sizes: &[f64],
        search: &LocalSearch,
        panels: &mut Vec<Vec<u32>>,
        seen: &mut HashSet<Vec<u32>>,
        target: f64,
        tolerance: f64,
        eps: f64,
        out_of_time: &dyn Fn() -> bool,
        mut progress: impl FnMut(f64),
    ) -> Result<Reach, Error> {
        let n = sizes.len();
        let wanted: Vec<f64> = fixed.iter().zip(sizes).map(|(f, c)| f * c).collect();
        let mut owed = wanted.clone();
        let mut x = panels[0].clone();
        for _ in (0..HERDED_PER_PROFILE * n).take_while(|_| !out_of_time()) {
            x = search.improve(&x, &owed);
            for p in 0..n {
                owed[p] += wanted[p] - x[p] as f64;
            }
            if seen.insert(x.clone()) {
                panels.push(x.clone());
            }
        }
        let mut told = Instant::now();
        loop {
            let (lambda, y) = primal_with_duals(panels, fixed, sizes)?;
            // δ read off the distribution itself (the interior-point method's own is
            // within its tolerance): what is claimed is what the panels give.
            let probabilities = probabilities(panels, &lambda, sizes);
            let delta = fixed.iter().zip(&probabilities).map(|(f, p)| f - p).fold(0.0, f64::max);
            if told.elapsed() >= std::time::Duration::from_secs(1) {
                told = Instant::now();
                progress(delta);
            }
            if delta <= target {
                return Ok(Reach::Met { delta, lambda });
            }
            if out_of_time() {
                return Ok(Reach::Stopped { delta, lambda });
            }
            // Prices scaled into the dual's `Σ y ≤ 1` (the interior-point method's are
            // feasible only to its tolerance).
            let scale = y.iter().sum::<f64>().max(1.0);
            let y: Vec<f64> = y.iter().map(|y| y / scale).collect();
            let weights: Vec<f64> = y.iter().zip(sizes).map(|(y, c)| y / c).collect();
            // The smallest μ the panels so far allow at these prices.
            let mu = panels.iter().map(|x| value(x, &weights)).fold(f64::NEG_INFINITY, f64::max);
            let mut added = 0;
            for i in best_starts(panels, &weights, LOCAL_STARTS) {
                let improved = search.improve(&panels[i], &weights);
                if value(&improved, &weights) > mu + eps && seen.insert(improved.clone()) {
                    panels.push(improved);
                    added += 1;
                }
            }
            if added > 0 {
                continue;
            }
            let best = self.best_panel(&weights, None)?.ok_or_else(|| crate::relax::explain(self))?;
            // For any prices `y ≥ 0` with `Σ y ≤ 1`: δ* ≥ Σ f y − max_P Σ y x_P/c.
            let shortfall = fixed.iter().zip(&y).map(|(f, y)| f * y).sum::<f64>() - value(&best, &weights);
            if shortfall > tolerance {
                return Ok(Reach::Missed);
            }
            if value(&best, &weights) > mu + eps && seen.insert(best.clone()) {
                panels.push(best);
            } else if delta <= tolerance {
                // Nothing new prices above the panels already there, and they come
                // within the tolerance.
                return Ok(Reach::Met { delta, lambda });
            } else {
                return Ok(Reach::Missed);
            }
        }
    }
}

/// Each profile's probability under `lambda` on `panels`.
pub(crate) fn probabilities(panels: &[Vec<u32>], lambda: &[f64], sizes: &[f64]) -> Vec<f64> {
    let mut probabilities = vec![0.0; sizes.len()];
    for (x, l) in panels.iter().zip(lambda) {
        for (p, &seats) in x.iter().enumerate().filter(|(_, s)| **s > 0) {
            probabilities[p] += seats as f64 / sizes[p] * l;
        }
    }
    probabilities
}

/// `min δ  s.t.  Σ_P λ_P x_{P,p}/c_p + δ ≥ f_p,  Σ λ = 1,  λ, δ ≥ 0` by an interior-point
/// method (Clarabel, pure Rust; the simplex of microlp takes minutes at a thousand
/// profiles): `(λ, y)`, `λ` a distribution and `y ≥ 0` the rows' dual prices.
fn primal_with_duals(panels: &[Vec<u32>], fixed: &[f64], sizes: &[f64]) -> Result<(Vec<f64>, Vec<f64>), Error> {
    use good_lp::{
        constraint, variable, DualValues, Expression, ProblemVariables, Solution, SolutionWithDual, SolverModel,
    };
    let mut vars = ProblemVariables::new();
    let lambda: Vec<good_lp::Variable> = panels.iter().map(|_| vars.add(variable().min(0.0))).collect();
    let delta = vars.add(variable().min(0.0));
    let mut problem = vars.minimise(delta).using(good_lp::clarabel);
    let total: Expression = lambda.iter().copied().sum();
    problem.add_constraint(constraint!(total == 1.0));
    let mut by_profile: Vec<Expression> = vec![Expression::default(); sizes.len()];
    for (x, l) in panels.iter().zip(&lambda) {
        for (p, &seats) in x.iter().enumerate().filter(|(_, s)| **s > 0) {
            by_profile[p].add_mul(seats as f64 / sizes[p], *l);
        }
    }
    let rows: Vec<_> =
        by_profile.into_iter().zip(fixed).map(|(e, f)| problem.add_constraint(constraint!(e + delta >= *f))).collect();
    let mut solution = problem
        .solve()
        .map_err(|e| Error::Solver(format!("Clarabel on reaching the leximin over the quota polytope: {e}")))?;
    let lambda: Vec<f64> = lambda.iter().map(|v| solution.value(*v).max(0.0)).collect();
    let total: f64 = lambda.iter().sum();
    if total.is_nan() || total <= 0.0 {
        return Err(Error::Solver("Clarabel on reaching the leximin over the quota polytope: no distribution".into()));
    }
    let lambda = lambda.iter().map(|l| l / total).collect();
    let duals = solution.compute_dual();
    let y = rows.into_iter().map(|r| duals.dual(r).max(0.0)).collect();
    Ok((lambda, y))
}
