//! The cheap pricing heuristic: local search over single-seat moves that keep every
//! quota and seat at most one member of a household.

use crate::instance::Instance;

/// A panel's value at per-seat weights: `Σ_p w_p x_p`.
pub(crate) fn value(x: &[u32], weights: &[f64]) -> f64 {
    x.iter().zip(weights).map(|(x, w)| *x as f64 * w).sum()
}

/// The indices of the (at most) `top` panels of highest value at `weights`: where the
/// local search starts from.
pub(crate) fn best_starts(panels: &[Vec<u32>], weights: &[f64], top: usize) -> Vec<usize> {
    let mut ranked: Vec<(f64, usize)> = panels.iter().enumerate().map(|(i, x)| (value(x, weights), i)).collect();
    let top = ranked.len().min(top);
    if top > 0 {
        ranked.select_nth_unstable_by(top - 1, |a, b| b.0.total_cmp(&a.0));
    }
    ranked[..top].iter().map(|&(_, i)| i).collect()
}

/// Swap moves between profiles that keep every quota and household: the cheap pricing
/// heuristic.
pub(crate) struct LocalSearch {
    /// The quotas each profile counts towards, ascending.
    profile_quotas: Vec<Vec<usize>>,
    min: Vec<i64>,
    max: Vec<i64>,
    sizes: Vec<u32>,
    /// The household (of two or more) each profile's one member belongs to.
    household: Vec<Option<usize>>,
    households: usize,
}

impl LocalSearch {
    pub(crate) fn new(instance: &Instance) -> Self {
        let households = instance.households();
        let mut household = vec![None; instance.profiles.members.len()];
        for (h, profiles) in households.iter().enumerate() {
            for &p in profiles {
                household[p] = Some(h);
            }
        }
        LocalSearch {
            profile_quotas: instance.profiles.profile_quotas(),
            min: instance.quotas.quotas.iter().map(|q| q.min as i64).collect(),
            max: instance.quotas.quotas.iter().map(|q| q.max as i64).collect(),
            sizes: instance.profiles.members.iter().map(|m| m.len() as u32).collect(),
            household,
            households: households.len(),
        }
    }

    /// Whether moving one seat from profile `a` to profile `b` keeps every quota and
    /// leaves no household with two seats (`seated`: seats per household).
    fn can_move(&self, a: usize, b: usize, count: &[i64], seated: &[u32]) -> bool {
        let (qa, qb) = (&self.profile_quotas[a], &self.profile_quotas[b]);
        let household_free = match self.household[b] {
            Some(h) => seated[h] == 0 || self.household[a] == Some(h),
            None => true,
        };
        household_free
            && qa.iter().all(|q| qb.contains(q) || count[*q] > self.min[*q])
            && qb.iter().all(|q| qa.contains(q) || count[*q] < self.max[*q])
    }

    /// Single-seat moves from `start` until none raises `Σ_p weight_p x_p`.
    pub(crate) fn improve(&self, start: &[u32], weights: &[f64]) -> Vec<u32> {
        let mut x = start.to_vec();
        let mut count = vec![0i64; self.min.len()];
        let mut seated = vec![0u32; self.households];
        for (p, &seats) in x.iter().enumerate() {
            for &q in &self.profile_quotas[p] {
                count[q] += seats as i64;
            }
            if let Some(h) = self.household[p] {
                seated[h] += seats;
            }
        }
        let mut by_weight: Vec<usize> = (0..x.len()).collect();
        by_weight.sort_by(|&a, &b| weights[b].total_cmp(&weights[a]));
        // Sweeps from the lightest seated profile up, each seat moved at once to the
        // heaviest profile that can take it, until a sweep moves nothing: a local
        // optimum (no single move gains), reached in far fewer scans than by always
        // taking the best move of all.
        loop {
            let mut moved = false;
            for &a in by_weight.iter().rev() {
                'seats: while x[a] > 0 {
                    for &b in &by_weight {
                        if weights[b] - weights[a] <= 1e-12 {
                            break 'seats; // the rest gain less
                        }
                        if x[b] < self.sizes[b] && self.can_move(a, b, &count, &seated) {
                            x[a] -= 1;
                            x[b] += 1;
                            if let Some(h) = self.household[a] {
                                seated[h] -= 1;
                            }
                            if let Some(h) = self.household[b] {
                                seated[h] += 1;
                            }
                            for &q in &self.profile_quotas[a] {
                                count[q] -= 1;
                            }
                            for &q in &self.profile_quotas[b] {
                                count[q] += 1;
                            }
                            moved = true;
                            continue 'seats;
                        }
                    }
                    break;
                }
            }
            if !moved {
                return x;
            }
        }
    }
}
