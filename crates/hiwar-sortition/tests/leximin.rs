//! Leximin on pools shaped like real assemblies (seven to ten quota categories, hundreds
//! of feature profiles, households), held to a maximin written here independently of
//! the optimiser: over volunteers one by one rather than profiles, as a primal LP rather
//! than the optimiser's duals. Every selection probability vector of a distribution
//! over panels lies in that LP's feasible set, so its value bounds the first leximin
//! level from above; the optimiser's distribution, checked panel by panel here, bounds
//! it from below. Equal within 1e-6, the optimiser's first level is the maximin.

use good_lp::{constraint, variable, Expression, ProblemVariables, Solution, SolverModel, Variable};
use hiwar_sortition::leximin::{Distribution, Instance};
use hiwar_sortition::pool::{Pool, Quotas};
use hiwar_sortition::synthetic::{skewed, skewed_with_households};

/// `max t  s.t.  0 ≤ s_v ≤ 1,  Σ_v s_v = k,  lo_q ≤ Σ_{v has q} s_v ≤ hi_q,
/// Σ_{v ∈ h} s_v ≤ 1 (each household h),  s_v ≥ t (every volunteer v)`.
fn fractional_maximin(pool: &Pool, quotas: &Quotas, k: u32) -> f64 {
    let mut vars = ProblemVariables::new();
    let s: Vec<Variable> = (0..pool.len()).map(|_| vars.add(variable().min(0.0).max(1.0))).collect();
    let t = vars.add(variable());
    let mut problem = vars.maximise(t).using(good_lp::clarabel);
    let seats: Expression = s.iter().copied().sum();
    problem.add_constraint(constraint!(seats == k as f64));
    for q in &quotas.quotas {
        let c = pool.categories.iter().position(|c| *c == q.category).unwrap();
        let count: Expression = (0..pool.len()).filter(|&v| pool.features[v][c] == q.feature).map(|v| s[v]).sum();
        problem.add_constraint(constraint!(count.clone() >= q.min as f64));
        problem.add_constraint(constraint!(count <= q.max as f64));
    }
    if let Some(households) = &pool.households {
        let mut by_house: std::collections::HashMap<&str, Vec<usize>> = Default::default();
        for (v, h) in households.iter().enumerate() {
            by_house.entry(h.as_str()).or_default().push(v);
        }
        for members in by_house.values().filter(|m| m.len() > 1) {
            let seated: Expression = members.iter().map(|&v| s[v]).sum();
            problem.add_constraint(constraint!(seated <= 1.0));
        }
    }
    for &sv in &s {
        problem.add_constraint(constraint!(sv - t >= 0.0));
    }
    let solution = problem.solve().expect("the fractional maximin solves");
    solution.value(t)
}

/// Checks every panel of `distribution` against the pool itself (seats, quotas,
/// households) and returns the smallest selection probability of any volunteer.
fn checked_minimum(instance: &Instance, distribution: &Distribution) -> f64 {
    let (pool, quotas) = (instance.pool, instance.quotas);
    let total: f64 = distribution.panels.iter().map(|(_, l)| l).sum();
    assert!((total - 1.0).abs() < 1e-9, "probabilities sum to {total}");
    let mut probability = vec![0.0; pool.len()];
    for (x, l) in &distribution.panels {
        assert!(*l >= 0.0);
        assert_eq!(x.iter().sum::<u32>(), instance.k, "a panel of k seats");
        let mut counts = vec![0u32; quotas.quotas.len()];
        let mut seated_households: std::collections::HashMap<&str, u32> = Default::default();
        for (p, &seats) in x.iter().enumerate() {
            let members = &instance.profiles.members[p];
            assert!(seats as usize <= members.len(), "no more seats than members");
            // A profile's members share their features, and the panel's seats are
            // spread over them evenly.
            for &v in members {
                assert_eq!(pool.features[v], pool.features[members[0]]);
                probability[v] += l * seats as f64 / members.len() as f64;
            }
            if seats > 0 {
                if let Some(households) = &pool.households {
                    if members.len() == 1 {
                        *seated_households.entry(households[members[0]].as_str()).or_default() += seats;
                    } else {
                        // Interchangeable only if no two of them share a household.
                        let mut seen = std::collections::HashSet::new();
                        for &v in members {
                            assert!(seen.insert(households[v].as_str()));
                            let shared = households.iter().filter(|h| **h == households[v]).count();
                            assert_eq!(shared, 1, "a profile of several members may hold no shared household");
                        }
                    }
                }
            }
            for (q, quota) in quotas.quotas.iter().enumerate() {
                let c = pool.categories.iter().position(|c| *c == quota.category).unwrap();
                if pool.features[members[0]][c] == quota.feature {
                    counts[q] += seats;
                }
            }
        }
        assert!(seated_households.values().all(|n| *n <= 1), "one seat per household");
        for (quota, count) in quotas.quotas.iter().zip(counts) {
            assert!(quota.min <= count && count <= quota.max, "{}/{}: {count} seats", quota.category, quota.feature);
        }
    }
    probability.into_iter().fold(f64::INFINITY, f64::min)
}

fn reaches_the_maximin(pool: &Pool, quotas: &Quotas, k: u32) {
    let instance = Instance::new(pool, quotas, k).unwrap();
    let mut levels = Vec::new();
    let distribution = instance.leximin(|p| levels.push(*p)).unwrap();
    assert!(distribution.proven && distribution.gap <= 1e-6, "proven within 1e-6: gap {}", distribution.gap);
    assert!(levels.iter().filter(|p| p.done).all(|p| p.proven()));
    let minimum = checked_minimum(&instance, &distribution);
    let maximin = fractional_maximin(pool, quotas, k);
    assert!(minimum <= maximin + 1e-7, "no distribution beats the bound: {minimum} > {maximin}");
    assert!(minimum >= maximin - 1e-6, "the optimiser's minimum {minimum} is the maximin {maximin}");
}

#[test]
fn seven_categories_of_three_834_profiles() {
    let (pool, quotas) = skewed(1727, 110, 7, 3, 7);
    reaches_the_maximin(&pool, &quotas, 110);
}

#[test]
fn ten_categories_n_2000_k_200() {
    let (pool, quotas) = skewed(2000, 200, 10, 2, 7);
    reaches_the_maximin(&pool, &quotas, 200);
}

#[test]
fn five_categories_of_three_with_households() {
    let (pool, quotas) = skewed_with_households(1727, 110, 5, 3, 600, 7);
    reaches_the_maximin(&pool, &quotas, 110);
}

/// Where no distribution over panels reaches the leximin over the quota polytope, the
/// optimiser falls back to levels over panels and still finds the optimum. Three yes/no
/// categories, exactly one yes and one no in each, two seats: the quota polytope holds
/// A = B = C = D = ½ (yes-yes-no, yes-no-yes, no-yes-yes, no-no-no), but the only panel
/// is E (yes-yes-yes) with D, so A, B and C can never be seated.
#[test]
fn a_leximin_out_of_the_quota_polytopes_reach_is_found_over_panels() {
    let quotas = Quotas::parse(
        "category,feature,min,max\nc1,yes,1,1\nc1,no,1,1\nc2,yes,1,1\nc2,no,1,1\nc3,yes,1,1\nc3,no,1,1\n",
    )
    .unwrap();
    let pool =
        Pool::parse("id,c1,c2,c3\nA,yes,yes,no\nB,yes,no,yes\nC,no,yes,yes\nD,no,no,no\nE,yes,yes,yes\n", &quotas)
            .unwrap();
    let instance = Instance::new(&pool, &quotas, 2).unwrap();
    let distribution = instance.leximin(|_| {}).unwrap();
    assert!(distribution.proven);
    let probabilities = hiwar_sortition::lottery::volunteer_probabilities(&instance, &distribution);
    let expected = [0.0, 0.0, 0.0, 1.0, 1.0];
    for (p, e) in probabilities.iter().zip(expected) {
        assert!((p - e).abs() < 1e-6, "{probabilities:?}");
    }
    assert_eq!(checked_minimum(&instance, &distribution), 0.0);
}
