//! The optimiser's view of a pool (profiles, their sizes, which quotas each counts
//! towards) and the integer program that finds the best panel for given weights: what
//! both the leximin optimisation and the explanation of infeasible quotas work on.

use good_lp::{constraint, variable, Expression, ProblemVariables, Variable};

use crate::pool::{Pool, Profiles, Quotas};
use crate::solver::{self, Model, Solver};
use crate::Error;

/// The optimiser's view of a pool: profiles with sizes and quota incidence.
pub struct Instance<'a> {
    pub pool: &'a Pool,
    pub quotas: &'a Quotas,
    pub profiles: Profiles,
    pub k: u32,
    /// The LP and integer program solver (see [`Solver`]).
    pub solver: Solver,
    /// When leximin stops with the best distribution so far, not proven optimal.
    pub time_limit: Option<std::time::Duration>,
}

impl<'a> Instance<'a> {
    pub fn new(pool: &'a Pool, quotas: &'a Quotas, k: u32) -> Result<Self, Error> {
        if k == 0 || k as usize > pool.len() {
            return Err(Error::Infeasible(format!("a panel of {k} from a pool of {}", pool.len())));
        }
        let profiles = pool.profiles(quotas);
        Ok(Instance { pool, quotas, profiles, k, solver: Solver::default(), time_limit: None })
    }

    /// The same instance, solved with `solver`.
    pub fn with_solver(self, solver: Solver) -> Self {
        Instance { solver, ..self }
    }

    /// The same instance, its leximin stopped after `limit` (see [`crate::leximin::Distribution::proven`]).
    pub fn with_time_limit(self, limit: Option<std::time::Duration>) -> Self {
        Instance { time_limit: limit, ..self }
    }

    pub(crate) fn sizes(&self) -> Vec<f64> {
        self.profiles.members.iter().map(|m| m.len() as f64).collect()
    }

    /// The profiles (each one volunteer, see [`Pool::profiles`]) of every household of
    /// two or more: a panel seats at most one of each.
    pub(crate) fn households(&self) -> Vec<Vec<usize>> {
        let Some(households) = &self.pool.households else { return Vec::new() };
        let mut by_house: std::collections::BTreeMap<&str, Vec<usize>> = Default::default();
        for (p, members) in self.profiles.members.iter().enumerate() {
            let h = households[members[0]].as_str();
            if !h.is_empty() {
                by_house.entry(h).or_default().push(p);
            }
        }
        by_house.into_values().filter(|ps| ps.len() > 1).collect()
    }

    /// The panel maximising `Σ_p weight_p x_p` (or any panel, for zero weights), or
    /// `None` when the quotas admit no panel.
    pub fn best_panel(&self, weights: &[f64], quotas: Option<&Quotas>) -> Result<Option<Vec<u32>>, Error> {
        let quotas = quotas.unwrap_or(self.quotas);
        let mut vars = ProblemVariables::new();
        let x: Vec<Variable> =
            self.profiles.members.iter().map(|m| vars.add(variable().integer().min(0).max(m.len() as f64))).collect();
        let objective: Expression = x.iter().zip(weights).map(|(v, w)| *w * *v).sum();
        let mut constraints = Vec::new();
        let seats: Expression = x.iter().copied().sum();
        constraints.push(constraint!(seats == self.k as f64));
        for (q, profiles) in quotas.quotas.iter().zip(&self.profiles.quota_profiles) {
            let count: Expression = profiles.iter().map(|&p| x[p]).sum();
            constraints.push(constraint!(count.clone() >= q.min as f64));
            constraints.push(constraint!(count <= q.max as f64));
        }
        for ps in self.households() {
            let seated: Expression = ps.iter().map(|&p| x[p]).sum();
            constraints.push(constraint!(seated <= 1.0));
        }
        let values = solver::solve(
            self.solver,
            "the pricing integer program",
            Model { vars, objective, maximise: true, constraints },
            &x,
        )?;
        Ok(values.map(|v| v.iter().map(|v| v.round().max(0.0) as u32).collect()))
    }
}
