//! The linear and integer programming solvers behind leximin. The default build uses
//! `microlp` (pure Rust, through `good_lp`), so hiwar builds with nothing but Rust and a
//! C compiler; `--features highs` adds HiGHS (C++, built with CMake and bindgen), much
//! faster on pools with hundreds of feature profiles, and makes it the default. Both
//! run the same leximin code; a test checks they reach the same optimum.

use good_lp::{ProblemVariables, Solution, SolverModel, Variable};

use crate::Error;

/// Which solver an [`crate::leximin::Instance`] uses.
/// The default is HiGHS when the build has it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Solver {
    /// `microlp`, pure Rust: always available.
    #[cfg_attr(not(feature = "highs"), default)]
    MicroLp,
    /// HiGHS: with `--features highs`.
    #[cfg(feature = "highs")]
    #[cfg_attr(feature = "highs", default)]
    Highs,
}

impl Solver {
    /// Every solver this build has.
    pub fn all() -> Vec<Solver> {
        vec![
            Solver::MicroLp,
            #[cfg(feature = "highs")]
            Solver::Highs,
        ]
    }

    pub fn name(self) -> &'static str {
        match self {
            Solver::MicroLp => "microlp",
            #[cfg(feature = "highs")]
            Solver::Highs => "HiGHS",
        }
    }
}

/// A model to solve: variables, an objective to maximise or minimise, constraints.
pub struct Model {
    pub vars: ProblemVariables,
    pub objective: good_lp::Expression,
    pub maximise: bool,
    pub constraints: Vec<good_lp::Constraint>,
}

/// The values of `wanted` at the optimum, or `None` if the model is infeasible; errors
/// name the solver and `what` was being solved.
pub fn solve(solver: Solver, what: &str, model: Model, wanted: &[Variable]) -> Result<Option<Vec<f64>>, Error> {
    fn run<S>(s: S, model: Model, wanted: &[Variable]) -> Result<Option<Vec<f64>>, Error>
    where
        S: good_lp::Solver,
        S::Model: SolverModel<Error = good_lp::ResolutionError>,
    {
        let Model { vars, objective, maximise, constraints } = model;
        let unsolved = if maximise { vars.maximise(objective) } else { vars.minimise(objective) };
        let mut problem = unsolved.using(s);
        for c in constraints {
            problem = problem.with(c);
        }
        match problem.solve() {
            Ok(solution) => Ok(Some(wanted.iter().map(|v| solution.value(*v)).collect())),
            Err(good_lp::ResolutionError::Infeasible) => Ok(None),
            Err(e) => Err(Error::Solver(e.to_string())),
        }
    }
    let solved = match solver {
        Solver::MicroLp => run(good_lp::microlp, model, wanted),
        #[cfg(feature = "highs")]
        Solver::Highs => run(good_lp::highs, model, wanted),
    };
    solved.map_err(|e| {
        let hint = match solver {
            Solver::MicroLp => MICROLP_HINT,
            #[cfg(feature = "highs")]
            Solver::Highs => "",
        };
        Error::Solver(format!("{} on {what}: {e}{hint}", solver.name()))
    })
}

/// What a microlp failure's message adds: the remedy.
const MICROLP_HINT: &str = " (the pure-Rust solver can fail on pools with many feature profiles; \
     a build with `--features highs` uses HiGHS, see docs/performance.md)";

/// The dual LP of one leximin level:
/// `min μ − Σ_{p fixed} f_p y_p  s.t.  Σ_p y_p x_{P,p}/c_p ≤ μ (every panel P),
/// Σ_{p unfixed} y_p = 1,  y ≥ 0`, grown one panel (row) at a time.
///
/// The solvers see it in the per-member prices `w_p = y_p / c_p`, so that a panel's row
/// has its seat counts as coefficients (`Σ_p x_{P,p} w_p ≤ μ`: small integers, where
/// `x/c` spans three orders of magnitude and left microlp with singular bases):
/// `min μ − Σ_fixed f_p c_p w_p  s.t.  Σ_unfixed c_p w_p = 1`.
pub struct DualLp {
    lp: Lp,
    sizes: Vec<f64>,
}

enum Lp {
    /// Kept in microlp between rounds: each new row is added to the last solution,
    /// whose dual simplex restarts from its basis.
    MicroLp(micro_dual::MicroDual),
    /// Kept in HiGHS between rounds: a new row restarts the dual simplex from the
    /// previous basis instead of solving from scratch.
    #[cfg(feature = "highs")]
    Highs(highs_dual::HighsDual),
}

/// A panel's row in the per-member prices: `(profile, x_p)` for its seated profiles.
fn row(panel: &[u32]) -> Vec<(usize, f64)> {
    panel.iter().enumerate().filter(|(_, x)| **x > 0).map(|(p, x)| (p, *x as f64)).collect()
}

impl DualLp {
    pub fn new(solver: Solver, panels: &[Vec<u32>], fixed: &[Option<f64>], sizes: &[f64]) -> Self {
        let rows: Vec<Vec<(usize, f64)>> = panels.iter().map(|p| row(p)).collect();
        let lp = match solver {
            Solver::MicroLp => Lp::MicroLp(micro_dual::MicroDual::new(&rows, fixed, sizes)),
            #[cfg(feature = "highs")]
            Solver::Highs => Lp::Highs(highs_dual::HighsDual::new(&rows, fixed, sizes)),
        };
        DualLp { lp, sizes: sizes.to_vec() }
    }

    pub fn add(&mut self, panel: &[u32]) {
        let r = row(panel);
        match &mut self.lp {
            Lp::MicroLp(m) => m.add(r),
            #[cfg(feature = "highs")]
            Lp::Highs(h) => h.add(&r),
        }
    }

    /// `(y, μ)` at the optimum (`y_p = c_p w_p`).
    pub fn solve(&mut self) -> Result<(Vec<f64>, f64), Error> {
        let (w, mu) = match &mut self.lp {
            Lp::MicroLp(m) => m.solve(),
            #[cfg(feature = "highs")]
            Lp::Highs(h) => h.solve(),
        }?;
        Ok((w.iter().zip(&self.sizes).map(|(w, c)| w * c).collect(), mu))
    }
}

mod micro_dual {
    use microlp::{ComparisonOp, OptimizationDirection, Problem, Solution, Variable};

    use crate::Error;

    pub struct MicroDual {
        problem: Problem,
        /// The last solution, to which new rows are added.
        solution: Option<Solution>,
        /// Rows added since the last solve.
        pending: Vec<Vec<(usize, f64)>>,
        y: Vec<Variable>,
        mu: Variable,
    }

    fn failed(e: microlp::Error) -> Error {
        Error::Solver(format!("microlp on a level's dual LP: {e}{}", super::MICROLP_HINT))
    }

    impl MicroDual {
        pub fn new(rows: &[Vec<(usize, f64)>], fixed: &[Option<f64>], sizes: &[f64]) -> Self {
            let mut problem = Problem::new(OptimizationDirection::Minimize);
            let y: Vec<Variable> = fixed
                .iter()
                .zip(sizes)
                .map(|(f, c)| problem.add_var(-f.unwrap_or(0.0) * c, (0.0, f64::INFINITY)))
                .collect();
            let mu = problem.add_var(1.0, (f64::NEG_INFINITY, f64::INFINITY));
            let unfixed: Vec<(Variable, f64)> =
                fixed.iter().zip(&y).zip(sizes).filter(|((f, _), _)| f.is_none()).map(|((_, y), c)| (*y, *c)).collect();
            problem.add_constraint(unfixed, ComparisonOp::Eq, 1.0);
            for r in rows {
                problem.add_constraint(Self::load(r, &y, mu), ComparisonOp::Le, 0.0);
            }
            MicroDual { problem, solution: None, pending: Vec::new(), y, mu }
        }

        fn load(r: &[(usize, f64)], y: &[Variable], mu: Variable) -> Vec<(Variable, f64)> {
            r.iter().map(|(p, w)| (y[*p], *w)).chain([(mu, -1.0)]).collect()
        }

        pub fn add(&mut self, r: Vec<(usize, f64)>) {
            // Kept in the problem too, for a solve from scratch should a warm one fail.
            self.problem.add_constraint(Self::load(&r, &self.y, self.mu), ComparisonOp::Le, 0.0);
            self.pending.push(r);
        }

        pub fn solve(&mut self) -> Result<(Vec<f64>, f64), Error> {
            let pending = std::mem::take(&mut self.pending);
            let warm = self.solution.take().and_then(|first| {
                pending.iter().try_fold(first, |solution, r| {
                    let load = Self::load(r, &self.y, self.mu);
                    solution.add_constraint(load, ComparisonOp::Le, 0.0).ok()?.into_solution().ok()
                })
            });
            let solution = match warm {
                Some(solution) => solution,
                // First solve, or a warm one failed: from scratch, with every row.
                None => self
                    .problem
                    .solve()
                    .map_err(failed)?
                    .into_solution()
                    .map_err(|_| Error::Solver("microlp stopped before solving a level's dual LP".into()))?,
            };
            let y = self.y.iter().map(|v| solution.var_value(*v).max(0.0)).collect();
            let mu = solution.var_value(self.mu);
            self.solution = Some(solution);
            Ok((y, mu))
        }
    }
}

#[cfg(feature = "highs")]
mod highs_dual {
    use crate::Error;

    pub struct HighsDual {
        model: Option<highs::Model>,
        y: Vec<highs::Col>,
        mu: highs::Col,
    }

    impl HighsDual {
        pub fn new(rows: &[Vec<(usize, f64)>], fixed: &[Option<f64>], sizes: &[f64]) -> Self {
            let mut problem = highs::RowProblem::default();
            let y: Vec<highs::Col> =
                fixed.iter().zip(sizes).map(|(f, c)| problem.add_column(-f.unwrap_or(0.0) * c, 0.0..)).collect();
            let mu = problem.add_column(1.0, f64::NEG_INFINITY..f64::INFINITY);
            let unfixed: Vec<(highs::Col, f64)> =
                fixed.iter().zip(&y).zip(sizes).filter(|((f, _), _)| f.is_none()).map(|((_, y), c)| (*y, *c)).collect();
            problem.add_row(1.0..=1.0, unfixed);
            for r in rows {
                problem.add_row(f64::NEG_INFINITY..=0.0, Self::load(r, &y, mu));
            }
            let mut model = problem.optimise(highs::Sense::Minimise);
            model.make_quiet();
            // Presolve would discard the basis that makes each re-solve a few pivots.
            model.set_option("presolve", "off");
            HighsDual { model: Some(model), y, mu }
        }

        fn load(r: &[(usize, f64)], y: &[highs::Col], mu: highs::Col) -> Vec<(highs::Col, f64)> {
            r.iter().map(|(p, w)| (y[*p], *w)).chain([(mu, -1.0)]).collect()
        }

        pub fn add(&mut self, r: &[(usize, f64)]) {
            let row = Self::load(r, &self.y, self.mu);
            self.model.as_mut().expect("present between solves").add_row(f64::NEG_INFINITY..=0.0, row);
        }

        pub fn solve(&mut self) -> Result<(Vec<f64>, f64), Error> {
            let model = self.model.take().expect("present between solves");
            let solved = model.try_solve().map_err(|e| Error::Solver(format!("{e:?}")))?;
            if solved.status() != highs::HighsModelStatus::Optimal {
                return Err(Error::Solver(format!("the dual LP ended {:?}", solved.status())));
            }
            let solution = solved.get_solution();
            let columns = solution.columns();
            let y = self.y.iter().map(|c| columns[c.index()].max(0.0)).collect();
            let mu = columns[self.mu.index()];
            self.model = Some(solved.into());
            Ok((y, mu))
        }
    }
}
