//! Generated pools shaped like the published large instances (Flanigan et al. 2021), for
//! tests and benchmarks: self-selected volunteers over-represent some features relative
//! to the quotas, so the leximin minimum falls below k/n and the optimiser has real work.

use rand::{Rng, SeedableRng};

use crate::pool::{Pool, Quotas};

/// A pool of `n` with `categories` categories of `values` features each; feature `j` of a
/// category is drawn with weight ∝ 1/(j+1) (skewed), while the quotas ask each feature
/// for its equal share of `k` seats ± 30 %. Deterministic in `seed`.
pub fn skewed(n: usize, k: u32, categories: usize, values: usize, seed: u64) -> (Pool, Quotas) {
    parsed(skewed_csv(n, k, categories, values, seed))
}

/// [`skewed`] with a `household` column: the first `tied` volunteers live two to a
/// household (volunteers 0 and 1 share one, 2 and 3 the next, …), the rest alone.
pub fn skewed_with_households(
    n: usize,
    k: u32,
    categories: usize,
    values: usize,
    tied: usize,
    seed: u64,
) -> (Pool, Quotas) {
    let (pool, quotas) = skewed_csv(n, k, categories, values, seed);
    let mut lines = pool.lines();
    let mut csv = format!("{},household\n", lines.next().expect("a header"));
    for (i, line) in lines.enumerate() {
        let household = if i < tied { i / 2 } else { i };
        csv.push_str(&format!("{line},h{household}\n"));
    }
    parsed((csv, quotas))
}

fn parsed((pool, quotas): (String, String)) -> (Pool, Quotas) {
    let quotas = Quotas::parse(&quotas).expect("generated quotas parse");
    (Pool::parse(&pool, &quotas).expect("a generated pool parses"), quotas)
}

/// [`skewed`]'s pool and quotas as the CSV files `hiwar select run` reads (for other
/// tools to solve the same instance).
pub fn skewed_csv(n: usize, k: u32, categories: usize, values: usize, seed: u64) -> (String, String) {
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(seed);
    let names: Vec<String> = (0..categories).map(|c| format!("c{c}")).collect();
    let weights: Vec<f64> = (0..values).map(|j| 1.0 / (j as f64 + 1.0)).collect();
    let total: f64 = weights.iter().sum();
    let mut csv = format!("id,{}\n", names.join(","));
    for i in 0..n {
        let row: Vec<String> = (0..categories)
            .map(|_| {
                let mut r = rng.gen::<f64>() * total;
                let mut j = 0;
                while r > weights[j] && j + 1 < values {
                    r -= weights[j];
                    j += 1;
                }
                format!("v{j}")
            })
            .collect();
        csv.push_str(&format!("p{i},{}\n", row.join(",")));
    }
    let mut quotas = String::from("category,feature,min,max\n");
    let share = k as f64 / values as f64;
    for name in &names {
        for j in 0..values {
            quotas.push_str(&format!("{name},v{j},{},{}\n", (share * 0.7).floor(), (share * 1.3).ceil()));
        }
    }
    (csv, quotas)
}
