//! Leximin first over the quota polytope, then as a distribution over panels.
//!
//! Every distribution over panels has its expected seats `m = Σ_P λ_P x_P` in the quota
//! polytope `Q` (see [`Instance::relaxation`]), and `conv(panels) ⊆ Q`. The leximin
//! vector of profile probabilities `π = m/c` over `Q` — computed level by level, each
//! level an LP of the profiles' size — is therefore at least the leximin over
//! distributions in the leximin order: at every level, no distribution can do better.
//! If some distribution over panels reaches it (`π_p ≥ f_p` for every profile, `f` the
//! leximin over `Q`), that distribution *is* leximin-optimal, every level proven by its
//! LP over `Q`, and no integer program is needed to bound any level.
//!
//! Whether one reaches it is itself an LP over panels, solved by column generation:
//! `min δ  s.t.  Σ_P λ_P x_{P,p}/c_p + δ ≥ f_p (every p),  Σ λ = 1,  λ, δ ≥ 0`, whose
//! dual is `max Σ_p f_p y_p − μ  s.t.  Σ_p y_p x_{P,p}/c_p ≤ μ (every P),  Σ y ≤ 1,
//! y ≥ 0` ([`DualLp`] once every profile is fixed). For any such `y`,
//! `δ* ≥ Σ_p f_p y_p − max_P Σ_p y_p x_{P,p}/c_p`: when the pricing integer program
//! shows this positive, `f` is out of reach, and leximin proceeds level by level over
//! panels (keeping every panel found here).
//!
//! On pools with hundreds of profiles, where column generation level by level tails
//! off, the leximin over `Q` is reached: with quotas as ranges and a panel of a hundred
//! seats, `conv(panels)` and `Q` barely differ. The panels to start from are found by
//! *herding* towards the target seats `t = f·c`: each panel maximises `Σ_p r_p x_p`
//! (by local search from the previous one), `r` the seats still owed,
//! `r ← r + t − x`, so the panels' average approaches `t` from every side.

use std::collections::HashSet;
use std::time::Instant;

use crate::instance::Instance;
use crate::search::LocalSearch;
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
    /// No distribution over panels comes within `shortfall` (proven by pricing).
    OutOfReach { shortfall: f64 },
    /// Stopped by the time limit, every profile within `delta` of its value.
    Stopped { delta: f64, lambda: Vec<f64> },
}

/// Herded panels per profile, to start the decomposition from.
const HERDED_PER_PROFILE: usize = 2;

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
            if to_fix.is_empty() {
                // Σ_unfixed y = 1 puts some price above eps unless rounding ate it.
                to_fix = (0..n).filter(|&p| fixed[p].is_none()).collect();
            }
            for p in to_fix {
                fixed[p] = Some((z - slack).clamp(0.0, 1.0));
            }
            levels.push(z);
            if std::env::var_os("HIWAR_DEBUG").is_some() { eprintln!("{:?} ", std::time::SystemTime::now()); eprintln!("quota level {} z={z} fixed {}", levels.len(), fixed.iter().filter(|f| f.is_some()).count()); }
        }
        Ok(Some(QuotaLeximin { levels, fixed: fixed.into_iter().map(|f| f.unwrap_or(0.0)).collect() }))
    }

    /// Column generation towards a distribution over panels giving every profile `p` at
    /// least `fixed[p]`, within `tolerance`; `panels` (and `seen`) gain every panel found.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn reach(
        &self,
        fixed: &[f64],
        sizes: &[f64],
        search: &LocalSearch,
        panels: &mut Vec<Vec<u32>>,
        seen: &mut HashSet<Vec<u32>>,
        tolerance: f64,
        eps: f64,
        out_of_time: &dyn Fn() -> bool,
        mut progress: impl FnMut(f64),
    ) -> Result<Reach, Error> {
        let n = sizes.len();
        let target: Vec<f64> = fixed.iter().zip(sizes).map(|(f, c)| f * c).collect();
        let mut owed = target.clone();
        let mut x = panels[0].clone();
        let herding = Instant::now();
        for _ in 0..HERDED_PER_PROFILE * n {
            x = search.improve(&x, &owed);
            for p in 0..n {
                owed[p] += target[p] - x[p] as f64;
            }
            if seen.insert(x.clone()) {
                panels.push(x.clone());
            }
        }
        if std::env::var_os("HIWAR_DEBUG").is_some() { eprintln!("herding {:.3}s", herding.elapsed().as_secs_f64()); }
        let value = |x: &[u32], w: &[f64]| x.iter().zip(w).map(|(x, w)| *x as f64 * w).sum::<f64>();
        let mut told = Instant::now();
        loop {
            let t0 = Instant::now();
            let (lambda, delta, y) = primal_with_duals(panels, fixed, sizes)?;
            if std::env::var_os("HIWAR_DEBUG").is_some() { eprintln!("support {} (>1e-7) {} (>1e-5)", lambda.iter().filter(|l| **l > 1e-7).count(), lambda.iter().filter(|l| **l > 1e-5).count()); eprintln!("reach: lp {:.3}s delta {delta:.3e} panels {}", t0.elapsed().as_secs_f64(), panels.len()); }
            let delta = delta.max(0.0);
            if told.elapsed() >= std::time::Duration::from_secs(1) {
                told = Instant::now();
                progress(delta);
            }
            if delta <= tolerance {
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
            let mut starts: Vec<(f64, usize)> = panels.iter().enumerate().map(|(i, x)| (value(x, &weights), i)).collect();
            let top = starts.len().min(8);
            starts.select_nth_unstable_by(top - 1, |a, b| b.0.total_cmp(&a.0));
            let mut added = 0;
            for &(_, i) in &starts[..top] {
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
                return Ok(Reach::OutOfReach { shortfall });
            }
            if value(&best, &weights) > mu + eps && seen.insert(best.clone()) {
                panels.push(best);
            } else {
                // Nothing new prices above the panels already there: δ is the optimum
                // over all panels, to the interior-point method's tolerance.
                return Ok(Reach::OutOfReach { shortfall: delta });
            }
        }
    }
}

/// `min δ  s.t.  Σ_P λ_P x_{P,p}/c_p + δ ≥ f_p,  Σ λ = 1,  λ, δ ≥ 0` by an interior-point
/// method (Clarabel, pure Rust): `(λ, δ, y)`, `y` the rows' dual prices.
pub(crate) fn primal_with_duals(panels: &[Vec<u32>], fixed: &[f64], sizes: &[f64]) -> Result<(Vec<f64>, f64, Vec<f64>), Error> {
    use good_lp::{constraint, variable, Expression, ProblemVariables, Solution, SolutionWithDual, SolverModel, DualValues};
    let mut vars = ProblemVariables::new();
    let lambda: Vec<good_lp::Variable> = panels.iter().map(|_| vars.add(variable().min(0.0))).collect();
    let delta = vars.add(variable().min(0.0));
    let mut problem = vars.minimise(delta).using(good_lp::clarabel);
    let total: Expression = lambda.iter().copied().sum();
    problem.add_constraint(constraint!(total == 1.0));
    let mut by_profile: Vec<Expression> = vec![Expression::default(); sizes.len()];
    for (x, l) in panels.iter().zip(&lambda) {
        for (p, &seats) in x.iter().enumerate() {
            if seats > 0 {
                by_profile[p].add_mul(seats as f64 / sizes[p], *l);
            }
        }
    }
    let rows: Vec<_> = by_profile.into_iter().zip(fixed).map(|(e, f)| problem.add_constraint(constraint!(e + delta >= *f))).collect();
    let mut solution = problem.solve().map_err(|e| Error::Solver(format!("clarabel: {e}")))?;
    let l: Vec<f64> = lambda.iter().map(|v| solution.value(*v).max(0.0)).collect();
    let d = solution.value(delta);
    let duals = solution.compute_dual();
    let y = rows.iter().map(|r| duals.dual(r.clone()).abs()).collect();
    Ok((l, d, y))
}
