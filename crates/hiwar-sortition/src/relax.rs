//! Explaining infeasible quotas: which quotas conflict, and the smallest change to one
//! quota that makes a panel possible.

use crate::instance::Instance;
use crate::pool::Quotas;
use crate::Error;

pub fn explain(instance: &Instance) -> Error {
    let k = instance.k;
    let quotas = instance.quotas;
    let pool = instance.pool;
    let mut reasons = Vec::new();
    for category in quotas.categories() {
        let qs: Vec<_> = quotas.quotas.iter().filter(|q| q.category == category).collect();
        let mins: u32 = qs.iter().map(|q| q.min).sum();
        let maxs: u32 = qs.iter().map(|q| q.max).sum();
        if mins > k {
            reasons.push(format!("the minimums of {category} add up to {mins}, more than the {k} seats"));
        }
        if maxs < k {
            reasons.push(format!("the maximums of {category} add up to {maxs}, fewer than the {k} seats"));
        }
    }
    for q in &quotas.quotas {
        let c = pool.categories.iter().position(|c| *c == q.category).expect("known category");
        let available = pool.features.iter().filter(|f| f[c] == q.feature).count() as u32;
        if q.min > available {
            reasons.push(format!(
                "{}/{} needs {} seats but only {available} volunteers have it",
                q.category, q.feature, q.min
            ));
        }
    }
    if reasons.is_empty() {
        reasons.push("no single category is contradictory; the quotas conflict jointly".into());
    }
    let relaxation = smallest_relaxation(instance)
        .map(|r| format!("; the smallest single change that makes a panel possible: {r}"))
        .unwrap_or_else(|| "; no change to a single quota makes a panel possible".into());
    Error::Infeasible(format!("no panel of {k} meets the quotas: {}{relaxation}", reasons.join("; ")))
}

/// Tries lowering one minimum or raising one maximum by 1, 2, … seats.
fn smallest_relaxation(instance: &Instance) -> Option<String> {
    let quotas = instance.quotas;
    let n = instance.profiles.members.len();
    for delta in 1..=instance.k {
        for (i, q) in quotas.quotas.iter().enumerate() {
            let mut candidates = Vec::new();
            if q.min >= delta {
                let mut relaxed = quotas.clone();
                relaxed.quotas[i].min -= delta;
                candidates.push((
                    relaxed,
                    format!("lower the minimum of {}/{} from {} to {}", q.category, q.feature, q.min, q.min - delta),
                ));
            }
            if q.max + delta <= instance.k {
                let mut relaxed = quotas.clone();
                relaxed.quotas[i].max += delta;
                candidates.push((
                    relaxed,
                    format!("raise the maximum of {}/{} from {} to {}", q.category, q.feature, q.max, q.max + delta),
                ));
            }
            for (relaxed, description) in candidates {
                if let Ok(Some(_)) = instance.best_panel(&vec![0.0; n], Some(&relaxed as &Quotas)) {
                    return Some(description);
                }
            }
        }
    }
    None
}
