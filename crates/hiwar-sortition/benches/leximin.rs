//! `cargo bench -p hiwar-sortition`: leximin on generated pools shaped like the
//! published instances (Flanigan et al. 2021): the pool over-represents some groups
//! relative to the quotas, as self-selected volunteer pools do, so the leximin
//! minimum falls below k/n and the optimiser has real work. Deterministic seeds.

use std::time::Instant;

use hiwar_sortition::leximin::Instance;
use hiwar_sortition::lottery::{gini, volunteer_probabilities};
use hiwar_sortition::pool::{Pool, Quotas};
use hiwar_sortition::solver::Solver;
use rand::Rng;
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;

/// A pool of `n` with `categories` categories of `values` features each; feature `j`
/// of a category is drawn with weight ∝ 1/(j+1) (skewed), while quotas ask for
/// near-equal shares within ±`slack` of k/values.
fn generate(n: usize, k: u32, categories: usize, values: usize, seed: u64) -> (Pool, Quotas) {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
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
            let lo = (share * 0.7).floor() as u32;
            let hi = (share * 1.3).ceil() as u32;
            quotas.push_str(&format!("{name},v{j},{lo},{hi}\n"));
        }
    }
    let quotas = Quotas::parse(&quotas).unwrap();
    (Pool::parse(&csv, &quotas).unwrap(), quotas)
}

fn main() {
    println!(
        "{:<40} {:>8} {:>9} {:>12} {:>9} {:>10} {:>9} {:>9}",
        "instance", "solver", "profiles", "min prob", "k/n", "gini", "gap", "time"
    );
    // `cargo bench -p hiwar-sortition --bench leximin -- 1727` runs only the instances whose label contains "1727".
    // `-- HiGHS` (or `-- microlp`) runs only that solver.
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    let solvers: Vec<Solver> =
        match Solver::all().into_iter().filter(|s| args.iter().any(|a| a == s.name())).collect::<Vec<_>>() {
            chosen if chosen.is_empty() => Solver::all(),
            chosen => chosen,
        };
    let only: Vec<&String> = args.iter().filter(|a| !Solver::all().iter().any(|s| s.name() == a.as_str())).collect();
    for (label, n, k, categories, values) in [
        ("n=200, k=20, 2 categories x 2", 200, 20, 2, 2),
        ("n=2000, k=200, 2 categories x 4", 2000, 200, 2, 4),
        ("n=1727, k=110, 4 categories x 3", 1727, 110, 4, 3),
        ("n=1727, k=110, 7 categories x 2", 1727, 110, 7, 2),
        ("n=1727, k=110, 5 categories x 3", 1727, 110, 5, 3),
        ("n=1727, k=110, 7 categories x 3", 1727, 110, 7, 3),
    ] {
        if !only.is_empty() && !only.iter().any(|o| label.contains(o.as_str())) {
            continue;
        }
        let (pool, quotas) = generate(n, k, categories, values, 7);
        // Every solver this build has: microlp, and HiGHS with `--features highs`.
        for &solver in &solvers {
            let started = Instant::now();
            // `HIWAR_BENCH_LIMIT=SECONDS` stops each run there with the best distribution so far.
            let limit = std::env::var("HIWAR_BENCH_LIMIT").ok().and_then(|s| s.parse().ok());
            let instance = Instance::new(&pool, &quotas, k)
                .unwrap()
                .with_solver(solver)
                .with_time_limit(limit.map(std::time::Duration::from_secs_f64));
            let verbose = std::env::var_os("HIWAR_BENCH_VERBOSE").is_some();
            let distribution = match instance.leximin(|level, z| {
                if verbose {
                    eprintln!("  level {level}: {:.6} % at {:.1} s", z * 100.0, started.elapsed().as_secs_f64());
                }
            }) {
                Ok(d) => d,
                Err(e) => {
                    let seconds = started.elapsed().as_secs_f64();
                    println!("{label:<40} {:>8} failed after {seconds:.2} s: {e}", solver.name());
                    continue;
                }
            };
            let seconds = started.elapsed().as_secs_f64();
            let p = volunteer_probabilities(&instance, &distribution);
            let min = p.iter().cloned().fold(f64::INFINITY, f64::min);
            println!(
                "{label:<40} {:>8} {:>9} {:>11.4}% {:>8.2}% {:>10.4} {:>9.1e} {:>8.2}s{}",
                solver.name(),
                instance.profiles.members.len(),
                min * 100.0,
                k as f64 / n as f64 * 100.0,
                gini(&p),
                distribution.gap,
                seconds,
                if distribution.proven { "" } else { "  (time limit: not proven optimal)" }
            );
        }
    }
}
