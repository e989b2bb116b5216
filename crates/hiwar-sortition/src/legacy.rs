//! The "legacy" greedy stratified selection used by sortition organisations before
//! leximin, implemented for comparison only: it repeatedly picks the feature whose
//! remaining minimum is hardest to fill (remaining minimum ÷ remaining volunteers with
//! it), seats a uniformly random volunteer with that feature, and drops volunteers
//! whose features have reached their maximum; a dead end restarts the draw. Its
//! selection probabilities have no closed form, so they are estimated by repetition.

use rand::seq::SliceRandom;
use rand::Rng;
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;

use crate::pool::{panel_violation, Pool, Quotas};

/// Draws one panel (volunteer indices) by the legacy procedure, or `None` after
/// `attempts` dead ends.
pub fn draw(pool: &Pool, quotas: &Quotas, k: usize, rng: &mut impl Rng, attempts: usize) -> Option<Vec<usize>> {
    let cats: Vec<usize> =
        quotas.quotas.iter().map(|q| pool.categories.iter().position(|c| *c == q.category).expect("known")).collect();
    'attempt: for _ in 0..attempts {
        let mut remaining: Vec<usize> = (0..pool.len()).collect();
        let mut seats = vec![0u32; quotas.quotas.len()];
        let mut panel = Vec::with_capacity(k);
        while panel.len() < k {
            // The most urgent quota: highest remaining-minimum to availability ratio.
            let mut best: Option<(f64, usize)> = None;
            for (i, q) in quotas.quotas.iter().enumerate() {
                let available = remaining.iter().filter(|&&v| pool.features[v][cats[i]] == q.feature).count();
                if available == 0 {
                    continue;
                }
                let need = q.min.saturating_sub(seats[i]) as f64;
                let ratio = if need > 0.0 { need / available as f64 } else { 0.0 };
                if best.is_none_or(|(r, _)| ratio > r) {
                    best = Some((ratio, i));
                }
            }
            let Some((_, i)) = best else { continue 'attempt };
            let q = &quotas.quotas[i];
            let candidates: Vec<usize> =
                remaining.iter().copied().filter(|&v| pool.features[v][cats[i]] == q.feature).collect();
            let Some(&chosen) = candidates.choose(rng) else { continue 'attempt };
            panel.push(chosen);
            for (j, qj) in quotas.quotas.iter().enumerate() {
                if pool.features[chosen][cats[j]] == qj.feature {
                    seats[j] += 1;
                }
            }
            let household = pool.households.as_ref().map(|h| h[chosen].clone()).filter(|h| !h.is_empty());
            remaining.retain(|&v| {
                v != chosen
                    && household.as_ref().is_none_or(|h| pool.households.as_ref().expect("present")[v] != *h)
                    && quotas
                        .quotas
                        .iter()
                        .enumerate()
                        .all(|(j, qj)| pool.features[v][cats[j]] != qj.feature || seats[j] < qj.max)
            });
        }
        if panel_violation(pool, quotas, k, &panel).is_none() {
            return Some(panel);
        }
    }
    None
}

/// Estimated selection probability of every volunteer over `runs` draws (seeded, so
/// reproducible). Runs that dead-end are retried and not counted.
pub fn estimate(pool: &Pool, quotas: &Quotas, k: usize, runs: usize, seed: u64) -> Option<Vec<f64>> {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let mut counts = vec![0u64; pool.len()];
    for _ in 0..runs {
        for v in draw(pool, quotas, k, &mut rng, 100)? {
            counts[v] += 1;
        }
    }
    Some(counts.iter().map(|&c| c as f64 / runs as f64).collect())
}
