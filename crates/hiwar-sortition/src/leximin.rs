//! Leximin panel distributions (Flanigan, Gölz, Gupta, Hennig, Procaccia, Nature 2021):
//! among all probability distributions over quota-satisfying panels, the one that
//! maximises the smallest selection probability, then the next smallest, and so on.
//!
//! Volunteers with the same features are interchangeable, so the optimiser works over
//! *profiles*: a panel is a vector `x` of seats per profile, and a volunteer of profile
//! `p` (with `c_p` members) is selected with probability `π_p = Σ_P λ_P x_{P,p} / c_p`.
//! (With households, a member of a household of two or more is a profile of their own
//! and the panel constraints include "at most one seat per household".)
//!
//! Two ways, in this order. First the leximin over the quota polytope, which no
//! distribution over panels beats in the leximin order (its first level bounds the
//! maximin from above), and panels that reach it ([`crate::decompose`]): on real
//! pools (quotas as ranges, panels of dozens of seats) they do, and the optimum is proven
//! with no integer program bounding any level. Where no distribution over panels reaches
//! it, level by level over panels, as follows.
//!
//! Each leximin level solves, by column generation, the dual of
//! `max z  s.t.  π_p ≥ z (p unfixed), π_p ≥ f_p (p fixed), Σ λ = 1, λ ≥ 0`:
//!
//! `min μ − Σ_{p fixed} f_p y_p  s.t.  Σ_p y_p x_{P,p}/c_p ≤ μ  for every panel P,
//!  Σ_{p unfixed} y_p = 1,  y ≥ 0`
//!
//! over the panels found so far; the pricing integer program then finds the panel that
//! maximises `Σ_p y_p x_p / c_p`. If it exceeds `μ`, that panel is a violated dual
//! constraint and joins; otherwise the level's optimum `z* = μ − Σ_fixed f_p y_p` is
//! proven, and the unfixed profiles with `y_p > 0` (whose probability every optimal
//! distribution holds at `z*`, by complementary slackness) are fixed at `z*`. The final
//! distribution is the LP over all panels found that meets every fixed value.
//!
//! Against column generation's tailing off on pools with hundreds of profiles, each level
//! starts from its fractional relaxation (panels replaced by their convex hull's outer
//! bound, the quota polytope: an LP of the profiles' size, whose value bounds the level
//! and whose prices are the first stability centre), and prices at a point between the
//! centre and the restricted LP's dual (Wentges smoothing); a level stops when the LP's
//! value is within `LEVEL_TOLERANCE` of the best bound.

use good_lp::{constraint, variable, Expression, ProblemVariables, Variable};

use crate::decompose::Reach;
pub use crate::instance::Instance;
use crate::search::{best_starts, value, LocalSearch};
use crate::solver::{self, DualLp, Model};
use crate::Error;

/// Pricing values above `μ` by less than this are treated as optimal.
const EPS: f64 = 1e-7;
/// How often a level being solved reports where it stands.
const PROGRESS_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// Where the optimiser stands: the level being solved (0 is the maximin level), the
/// value the best distribution so far gives every profile not yet fixed, the upper
/// bound no distribution can beat, and the seconds spent on the level. `done`: the
/// level is finished (proven within `LEVEL_TOLERANCE`, or stopped by the time limit).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Progress {
    pub level: usize,
    pub value: f64,
    pub bound: f64,
    pub seconds: f64,
    pub done: bool,
}

impl Progress {
    /// One line for a progress store: `level:value:bound:seconds:done`.
    pub fn encode(&self) -> String {
        format!("{}:{}:{}:{:.1}:{}", self.level, self.value, self.bound, self.seconds, u8::from(self.done))
    }

    /// Reads [`Progress::encode`]'s line (or the older `level:value`).
    pub fn decode(line: &str) -> Option<Progress> {
        let mut parts = line.split(':');
        let level = parts.next()?.parse().ok()?;
        let value: f64 = parts.next()?.parse().ok()?;
        let mut rest = parts.map(|p| p.parse::<f64>().ok());
        let bound = rest.next().flatten().unwrap_or(value);
        let seconds = rest.next().flatten().unwrap_or(0.0);
        let done = rest.next().flatten().is_none_or(|d| d != 0.0);
        Some(Progress { level, value, bound, seconds, done })
    }

    /// "level 2: 4.7795 % ≤ optimum ≤ 4.7952 % (12.3 s)" while it is solved (or when it
    /// was stopped), "level 2 proven: 4.7795 % (12.3 s)" once it is.
    pub fn describe(&self) -> String {
        let (level, value, bound, seconds) = (self.level, self.value * 100.0, self.bound * 100.0, self.seconds);
        if self.done && self.proven() {
            format!("level {level} proven: {value:.4} % ({seconds:.1} s)")
        } else {
            let state = if self.done { " stopped" } else { "" };
            format!("level {level}{state}: {value:.4} % ≤ optimum ≤ {bound:.4} % ({seconds:.1} s)")
        }
    }

    /// Whether the value is within `LEVEL_TOLERANCE` of the bound.
    pub fn proven(&self) -> bool {
        self.bound - self.value <= LEVEL_TOLERANCE
    }
}

/// Safety bound on column generation.
const MAX_PANELS: usize = 50_000;
/// A level stops once its value is proven within this of its optimum.
const LEVEL_TOLERANCE: f64 = 1e-6;
/// How close panels are brought to the leximin over the quota polytope, for every
/// profile, when they can be (the interior-point method solves to about 1e-9); within
/// `LEVEL_TOLERANCE` it counts as reached.
const REACH_TARGET: f64 = 1e-7;
/// Local searches per round of column generation, from the best panels so far.
const LOCAL_STARTS: usize = 4;
/// How far below a level's value its profiles are held in the later levels.
const FIX_SLACK: f64 = 1e-7;
/// Weight of the stability centre in the smoothed dual used for pricing (Wentges); 0.9
/// reached the 7-category pool's level-0 bound in fewer rounds than 0.5.
const SMOOTHING: f64 = 0.9;
/// Profiles whose seeding panel may come from the integer program.
const SEEDED_PROFILES: usize = 64;

/// The result of the optimisation.
#[derive(Debug, Clone)]
pub struct Distribution {
    /// Panels as seats per profile, and their probabilities (summing to 1).
    pub panels: Vec<(Vec<u32>, f64)>,
    /// Selection probability of each profile's members.
    pub profile_probabilities: Vec<f64>,
    /// How far the distribution may be from leximin-optimal: over panels level by level,
    /// the largest distance between a level's value and the best upper bound proven for
    /// it (at most 1e-6 when proven); reaching the leximin over the quota polytope, how
    /// far below its value any profile is held (at most 1e-6 when proven). Stopped by the
    /// time limit, it is the first level's gap to its bound and may be anything.
    pub gap: f64,
    /// False when the time limit stopped the optimisation: the level it was in kept the
    /// best value found so far (within `gap` of its optimum) for every volunteer not yet
    /// fixed, and the later levels were not computed, so the distribution is fair to
    /// that level's bound but not proven leximin-optimal.
    pub proven: bool,
}

impl Distribution {
    /// The distribution putting `lambda` on `panels` (those of weight above 1e-12,
    /// renormalised).
    fn new(panels: Vec<Vec<u32>>, lambda: Vec<f64>, sizes: &[f64], gap: f64, proven: bool) -> Self {
        let (panels, lambda): (Vec<Vec<u32>>, Vec<f64>) =
            panels.into_iter().zip(lambda).filter(|(_, l)| *l > 1e-12).unzip();
        let total: f64 = lambda.iter().sum();
        let lambda: Vec<f64> = lambda.iter().map(|l| l / total).collect();
        let profile_probabilities = crate::decompose::probabilities(&panels, &lambda, sizes);
        Distribution { panels: panels.into_iter().zip(lambda).collect(), profile_probabilities, gap, proven }
    }
}

impl Instance<'_> {
    /// Computes the leximin distribution. `progress` is told where each level stands —
    /// its value so far and its upper bound — at most about once a second while it is
    /// solved, and once when it is done.
    pub fn leximin(&self, mut progress: impl FnMut(&Progress)) -> Result<Distribution, Error> {
        let n = self.profiles.members.len();
        let sizes = self.sizes();
        let mut panels: Vec<Vec<u32>> = Vec::new();
        let first = self.best_panel(&vec![0.0; n], None)?.ok_or_else(|| crate::relax::explain(self))?;
        panels.push(first);
        let mut seen: std::collections::HashSet<Vec<u32>> = panels.iter().cloned().collect();
        let search = LocalSearch::new(self);
        let deadline = self.time_limit.map(|limit| std::time::Instant::now() + limit);
        let out_of_time = || deadline.is_some_and(|d| std::time::Instant::now() >= d);
        // First the leximin over the quota polytope, which no distribution beats in the
        // leximin order; if panels reach it, it is the optimum (see [`crate::decompose`]).
        match self.leximin_over_quotas(&search, &sizes, &mut panels, &mut seen, &out_of_time, &mut progress) {
            Ok(Some(distribution)) => return Ok(distribution),
            // Out of reach, or a solver failed on the way: level by level is the sure way.
            Ok(None) | Err(Error::Solver(_)) => {}
            Err(e) => return Err(e),
        }
        // Otherwise level by level over panels. Seed with a panel that seats each profile
        // in turn (found by local search, or by the integer program for the first few it
        // misses): every profile then has a panel, so the first level starts above zero
        // and converges in far fewer rounds.
        let mut by_program = 0;
        for p in 0..n {
            let mut w = vec![0.0; n];
            w[p] = 1.0;
            let mut panel = Some(search.improve(&panels[0], &w)).filter(|x| x[p] > 0);
            if panel.is_none() && by_program < SEEDED_PROFILES {
                by_program += 1;
                panel = self.best_panel(&w, None)?;
            }
            if let Some(panel) = panel {
                if seen.insert(panel.clone()) {
                    panels.push(panel);
                }
            }
        }
        let mut fixed: Vec<Option<f64>> = vec![None; n];
        let mut gap: f64 = 0.0;
        let mut level = 0;
        let mut proven = true;
        while fixed.iter().any(Option::is_none) {
            let mut dual = DualLp::new(self.solver, &panels, &fixed, &sizes);
            // The best upper bound on this level's optimum found so far, and the dual
            // point that gave it (the stability centre): for any dual y,
            // z* ≤ L(y) = max_P Σ_p y_p x_{P,p}/c_p − Σ_fixed f_p y_p (the pricing value).
            // The fractional relaxation gives the first of both (z_Q ≥ L(y_Q), see
            // [`Instance::relaxation`]).
            let (mut upper, mut centre) = self.relaxation(&fixed, &sizes)?;
            let level_started = std::time::Instant::now();
            let mut told = level_started;
            let (y, z, level_gap) = loop {
                // Columns added since the LP's last solve (its y does not know them yet).
                let mut added = 0;
                let (y, mu) = dual.solve()?;
                let fixed_part = |y: &[f64]| -> f64 { fixed.iter().zip(y).filter_map(|(f, y)| f.map(|f| f * y)).sum() };
                let z = mu - fixed_part(&y);
                if told.elapsed() >= PROGRESS_EVERY {
                    told = std::time::Instant::now();
                    let seconds = level_started.elapsed().as_secs_f64();
                    progress(&Progress { level, value: z, bound: upper, seconds, done: false });
                }
                if upper - z <= LEVEL_TOLERANCE {
                    break (y, z, (upper - z).max(0.0));
                }
                if out_of_time() {
                    proven = false;
                    break (y, z, (upper - z).max(0.0));
                }
                let weights: Vec<f64> = y.iter().zip(&sizes).map(|(y, c)| y / c).collect();
                // Wentges smoothing: price at a point between the restricted LP's dual and
                // the centre, so the duals do not swing from one extreme point to another
                // (column generation's tailing off). A column is still added only if the
                // restricted LP's own dual finds it violated.
                let smoothed: Vec<f64> =
                    centre.iter().zip(&y).map(|(c, y)| SMOOTHING * c + (1.0 - SMOOTHING) * y).collect();
                let priced: Vec<f64> = smoothed.iter().zip(&sizes).map(|(y, c)| y / c).collect();
                // Cheap pricing first: a local search from the best panels so far, at the
                // smoothed and at the LP's prices, often finds violated dual constraints;
                // the integer program then prices exactly, which bounds the level.
                // Several starts (the best panels so far) give several columns per LP solve.
                for i in best_starts(&panels, &priced, LOCAL_STARTS) {
                    for w in [&priced, &weights] {
                        let improved = search.improve(&panels[i], w);
                        if value(&improved, &weights) > mu + EPS && seen.insert(improved.clone()) {
                            dual.add(&improved);
                            panels.push(improved);
                            added += 1;
                        }
                    }
                }
                let best = self.best_panel(&priced, None)?.ok_or_else(|| crate::relax::explain(self))?;
                let bound = value(&best, &priced) - fixed_part(&smoothed);
                let moved = bound < upper;
                if moved {
                    upper = bound;
                    centre = smoothed.clone();
                }
                if upper - z <= LEVEL_TOLERANCE || panels.len() >= MAX_PANELS {
                    break (y, z, (upper - z).max(0.0));
                }
                if value(&best, &weights) > mu + EPS && seen.insert(best.clone()) {
                    dual.add(&best);
                    panels.push(best);
                } else if added == 0 && (smoothed == y || !moved) {
                    // Priced at the LP's own dual and nothing new violated it (or only a
                    // known panel, which the LP misses by rounding alone): the level is
                    // optimal up to that rounding.
                    break (y, z, (upper - z).max(0.0));
                }
                // Otherwise new columns, or a mis-priced round: the centre moved towards the
                // LP's dual (L(smoothed) ≤ α L(centre) + (1 − α) z < L(centre) when the best
                // panel at the smoothed prices does not violate the LP's); price again.
            };
            gap = gap.max(level_gap);
            let mut to_fix: Vec<usize> = (0..n).filter(|&p| fixed[p].is_none() && y[p] > EPS).collect();
            if !proven {
                // Stopped: the restricted LP's distribution gives every unfixed profile at
                // least z, so all of them are held there.
                to_fix = (0..n).filter(|&p| fixed[p].is_none()).collect();
            } else if to_fix.is_empty() {
                // Σ_unfixed y = 1 puts some price above EPS unless the solver's rounding
                // ate it: then the level is the last one that can be told apart.
                to_fix = (0..n).filter(|&p| fixed[p].is_none()).collect();
            }
            for p in to_fix {
                // A hair below z: held exactly, the next level's LP is feasible only up to
                // its solver's rounding, and microlp then reports its dual unbounded.
                fixed[p] = Some((z - FIX_SLACK).clamp(0.0, 1.0));
            }
            let seconds = level_started.elapsed().as_secs_f64();
            progress(&Progress { level, value: z, bound: z + level_gap, seconds, done: true });
            level += 1;
        }
        let lambda = self.solve_primal(&panels, &fixed, &sizes)?;
        Ok(Distribution::new(panels, lambda, &sizes, gap, proven))
    }

    /// The leximin over the quota polytope and panels that reach it (`None` when no
    /// distribution over panels does: then leximin goes level by level over panels).
    fn leximin_over_quotas(
        &self,
        search: &LocalSearch,
        sizes: &[f64],
        panels: &mut Vec<Vec<u32>>,
        seen: &mut std::collections::HashSet<Vec<u32>>,
        out_of_time: &dyn Fn() -> bool,
        progress: &mut dyn FnMut(&Progress),
    ) -> Result<Option<Distribution>, Error> {
        let started = std::time::Instant::now();
        let Some(quota) = self.quota_leximin(sizes, EPS, FIX_SLACK, out_of_time)? else { return Ok(None) };
        let first = quota.levels[0];
        let seconds = started.elapsed().as_secs_f64();
        progress(&Progress { level: 0, value: 0.0, bound: first, seconds, done: false });
        let reached = self.reach(
            &quota.fixed,
            sizes,
            search,
            panels,
            seen,
            REACH_TARGET,
            LEVEL_TOLERANCE - FIX_SLACK,
            EPS,
            out_of_time,
            |delta| {
                let seconds = started.elapsed().as_secs_f64();
                progress(&Progress { level: 0, value: first - delta, bound: first, seconds, done: false })
            },
        )?;
        let (delta, lambda, proven) = match reached {
            Reach::Met { delta, lambda } => (delta, lambda, true),
            Reach::Stopped { delta, lambda } => (delta, lambda, false),
            Reach::Missed => return Ok(None),
        };
        let seconds = started.elapsed().as_secs_f64();
        let distribution = Distribution::new(std::mem::take(panels), lambda, sizes, delta + FIX_SLACK, proven);
        if proven {
            for (level, &z) in quota.levels.iter().enumerate() {
                progress(&Progress { level, value: z - FIX_SLACK - delta, bound: z, seconds, done: true });
            }
        } else {
            // Stopped: what the distribution gives its least-served profile, against
            // the first level's bound (the later levels are not known).
            let value = distribution.profile_probabilities.iter().cloned().fold(first, f64::min);
            progress(&Progress { level: 0, value, bound: first, seconds, done: true });
        }
        Ok(Some(distribution))
    }

    /// The level's relaxation: its value `z_Q` over fractional panels, and the dual
    /// prices `y_Q` at which it is attained.
    ///
    /// Every distribution over panels has its expected seats `m = Σ λ_P x_P` in the quota
    /// polytope `Q = {Σ m = k, lo_q ≤ Σ_{p∈q} m_p ≤ hi_q, 0 ≤ m_p ≤ c_p, Σ_{p∈h} m_p ≤ 1}`
    /// (the last for each household `h`), so
    /// `z* ≤ z_Q = max{z : m ∈ Q, m_p/c_p ≥ z (unfixed), m_p/c_p ≥ f_p (fixed)}`. Relaxing
    /// the last two with prices `y ≥ 0`, `Σ_unfixed y_p = 1` gives
    /// `L_Q(y) = max_{m∈Q} Σ_p y_p m_p/c_p − Σ_fixed f_p y_p ≥ L(y)` (the same bound over
    /// whole panels, `Q` containing every panel), and `min_y L_Q(y) = z_Q` by LP duality.
    /// Writing the inner maximum by its own dual (multipliers `a` for the seat count,
    /// `β, γ ≥ 0` for the quota bounds, `u ≥ 0` for `m ≤ c`, `η ≥ 0` for households),
    /// `y_Q` solves `min a k + Σ_q (γ_q hi_q − β_q lo_q) + Σ_p c_p u_p + Σ_h η_h −
    /// Σ_fixed f_p y_p  s.t.  a + Σ_{q∋p} (γ_q − β_q) + u_p + η_{h(p)} ≥ y_p/c_p (every p),
    /// Σ_unfixed y_p = 1`, and its
    /// value is `z_Q`. Pricing near `y_Q` keeps column generation from wandering.
    pub(crate) fn relaxation(&self, fixed: &[Option<f64>], sizes: &[f64]) -> Result<(f64, Vec<f64>), Error> {
        let mut vars = ProblemVariables::new();
        let y: Vec<Variable> = sizes.iter().map(|_| vars.add(variable().min(0.0))).collect();
        let u: Vec<Variable> = sizes.iter().map(|_| vars.add(variable().min(0.0))).collect();
        let a = vars.add(variable());
        let quotas = &self.quotas.quotas;
        let beta: Vec<Variable> = quotas.iter().map(|_| vars.add(variable().min(0.0))).collect();
        let gamma: Vec<Variable> = quotas.iter().map(|_| vars.add(variable().min(0.0))).collect();
        // The objective as (variable, coefficient) terms: it is minimised, and then its
        // value at the optimum, z_Q, is read from the same terms.
        let mut terms: Vec<(Variable, f64)> = vec![(a, self.k as f64)];
        for (q, quota) in quotas.iter().enumerate() {
            terms.push((gamma[q], quota.max as f64));
            terms.push((beta[q], -(quota.min as f64)));
        }
        for p in 0..sizes.len() {
            terms.push((u[p], sizes[p]));
            if let Some(f) = fixed[p] {
                terms.push((y[p], -f));
            }
        }
        // A household's seat: at most one of its profiles (multiplier η_h ≥ 0).
        let mut household_of = vec![None; sizes.len()];
        for ps in self.households() {
            let eta = vars.add(variable().min(0.0));
            terms.push((eta, 1.0));
            for p in ps {
                household_of[p] = Some(eta);
            }
        }
        let objective: Expression = terms.iter().map(|&(v, c)| c * v).sum();
        let profile_quotas = self.profiles.profile_quotas();
        let mut constraints = Vec::new();
        for p in 0..sizes.len() {
            let mut row: Expression = a + u[p] - (1.0 / sizes[p]) * y[p];
            for &q in &profile_quotas[p] {
                row += gamma[q] - beta[q];
            }
            if let Some(eta) = household_of[p] {
                row += eta;
            }
            constraints.push(constraint!(row >= 0.0));
        }
        let unfixed: Expression = y.iter().zip(fixed).filter(|(_, f)| f.is_none()).map(|(y, _)| *y).sum();
        constraints.push(constraint!(unfixed == 1.0));
        let mut wanted = y.clone();
        wanted.extend(terms.iter().map(|t| t.0));
        let values = solver::solve(
            self.solver,
            "a level's relaxation",
            Model { vars, objective, maximise: false, constraints },
            &wanted,
        )?
        .ok_or_else(|| Error::Solver("a level's relaxation is infeasible".into()))?;
        let (prices, at_terms) = values.split_at(sizes.len());
        let y_q: Vec<f64> = prices.iter().map(|v| v.max(0.0)).collect();
        let z_q = terms.iter().zip(at_terms).map(|(&(_, c), v)| c * v).sum();
        Ok((z_q, y_q))
    }

    /// The distribution over `panels` closest to meeting every fixed value:
    /// `min δ  s.t.  π_p ≥ f_p − δ,  Σ λ = 1,  λ ≥ 0`. Returns `λ`.
    fn solve_primal(&self, panels: &[Vec<u32>], fixed: &[Option<f64>], sizes: &[f64]) -> Result<Vec<f64>, Error> {
        let mut vars = ProblemVariables::new();
        let lambda: Vec<Variable> = panels.iter().map(|_| vars.add(variable().min(0.0))).collect();
        let delta = vars.add(variable().min(0.0));
        let mut constraints = Vec::new();
        let total: Expression = lambda.iter().copied().sum();
        constraints.push(constraint!(total == 1.0));
        for (p, f) in fixed.iter().enumerate() {
            if let Some(f) = f {
                let prob: Expression = panels
                    .iter()
                    .zip(&lambda)
                    .filter(|(x, _)| x[p] > 0)
                    .map(|(x, l)| (x[p] as f64 / sizes[p]) * *l)
                    .sum();
                constraints.push(constraint!(prob + delta >= *f));
            }
        }
        let model = Model { vars, objective: delta.into(), maximise: false, constraints };
        let lambda: Vec<f64> = solver::solve(self.solver, "the final distribution's LP", model, &lambda)?
            .ok_or_else(|| Error::Solver("the final distribution's LP is infeasible".into()))?
            .iter()
            .map(|v| v.max(0.0))
            .collect();
        Ok(lambda)
    }
}
