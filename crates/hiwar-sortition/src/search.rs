//! The cheap pricing heuristic: local search over single-seat moves that keep every
//! quota.

use crate::instance::Instance;

/// Swap moves between profiles that keep every quota: the cheap pricing heuristic.
/// (Not used with households, whose one-seat-per-household rows it does not model.)
pub(crate) struct LocalSearch {
    /// The quotas each profile counts towards, ascending.
    profile_quotas: Vec<Vec<usize>>,
    min: Vec<i64>,
    max: Vec<i64>,
    sizes: Vec<u32>,
}

impl LocalSearch {
    pub(crate) fn new(instance: &Instance) -> Self {
        LocalSearch {
            profile_quotas: instance.profiles.profile_quotas(),
            min: instance.quotas.quotas.iter().map(|q| q.min as i64).collect(),
            max: instance.quotas.quotas.iter().map(|q| q.max as i64).collect(),
            sizes: instance.profiles.members.iter().map(|m| m.len() as u32).collect(),
        }
    }

    /// Whether moving one seat from profile `a` to profile `b` keeps every quota.
    fn can_move(&self, a: usize, b: usize, count: &[i64]) -> bool {
        let (qa, qb) = (&self.profile_quotas[a], &self.profile_quotas[b]);
        qa.iter().all(|q| qb.contains(q) || count[*q] > self.min[*q])
            && qb.iter().all(|q| qa.contains(q) || count[*q] < self.max[*q])
    }

    /// Single-seat moves from `start` until none raises `Σ_p weight_p x_p`.
    pub(crate) fn improve(&self, start: &[u32], weights: &[f64]) -> Vec<u32> {
        let mut x = start.to_vec();
        let mut count = vec![0i64; self.min.len()];
        for (p, &seats) in x.iter().enumerate() {
            for &q in &self.profile_quotas[p] {
                count[q] += seats as i64;
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
                        if x[b] < self.sizes[b] && self.can_move(a, b, &count) {
                            x[a] -= 1;
                            x[b] += 1;
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
