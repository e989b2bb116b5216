//! `cargo bench -p hiwar-sortition`: leximin on generated pools shaped like the
//! published instances (Flanigan et al. 2021): the pool over-represents some groups
//! relative to the quotas, as self-selected volunteer pools do, so the leximin
//! minimum falls below k/n and the optimiser has real work. Deterministic seeds.

use std::time::Instant;

use hiwar_sortition::leximin::Instance;
use hiwar_sortition::lottery::{gini, volunteer_probabilities};
use hiwar_sortition::solver::Solver;
use hiwar_sortition::synthetic::{skewed, skewed_csv, skewed_with_households};

fn main() {
    println!(
        "{:<52} {:>8} {:>9} {:>12} {:>9} {:>10} {:>9} {:>9}",
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
    // The last number: how many volunteers live two to a household (the rest alone).
    for (label, n, k, categories, values, tied) in [
        ("n=200, k=20, 2 categories x 2", 200, 20, 2, 2, 0),
        ("n=2000, k=200, 2 categories x 4", 2000, 200, 2, 4, 0),
        ("n=1727, k=110, 4 categories x 3", 1727, 110, 4, 3, 0),
        ("n=1727, k=110, 7 categories x 2", 1727, 110, 7, 2, 0),
        ("n=1727, k=110, 5 categories x 3", 1727, 110, 5, 3, 0),
        ("n=1727, k=110, 7 categories x 3", 1727, 110, 7, 3, 0),
        ("n=2000, k=200, 10 categories x 2", 2000, 200, 10, 2, 0),
        ("n=1727, k=110, 7 categories x 3, 600 in households", 1727, 110, 7, 3, 600),
    ] {
        if !only.is_empty() && !only.iter().any(|o| label.contains(o.as_str())) {
            continue;
        }
        // `HIWAR_BENCH_WRITE=DIR` also writes each pool and its quotas as CSV, for
        // tools/maximin_compare.py (an independent implementation) to solve.
        if let Some(dir) = std::env::var_os("HIWAR_BENCH_WRITE").filter(|_| tied == 0) {
            let (pool, quotas) = skewed_csv(n, k, categories, values, 7);
            let name = format!("n{n}-k{k}-{categories}x{values}");
            let dir = std::path::Path::new(&dir);
            std::fs::write(dir.join(format!("{name}-pool.csv")), pool).expect("writing the pool");
            std::fs::write(dir.join(format!("{name}-quotas.csv")), quotas).expect("writing the quotas");
        }
        let (pool, quotas) = if tied > 0 {
            skewed_with_households(n, k, categories, values, tied, 7)
        } else {
            skewed(n, k, categories, values, 7)
        };
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
            let distribution = match instance.leximin(|p| {
                if verbose || p.done && std::env::var_os("HIWAR_BENCH_LEVELS").is_some() {
                    eprintln!("  {} at {:.1} s", p.describe(), started.elapsed().as_secs_f64());
                }
            }) {
                Ok(d) => d,
                Err(e) => {
                    let seconds = started.elapsed().as_secs_f64();
                    println!("{label:<52} {:>8} failed after {seconds:.2} s: {e}", solver.name());
                    continue;
                }
            };
            let seconds = started.elapsed().as_secs_f64();
            let p = volunteer_probabilities(&instance, &distribution);
            let min = p.iter().cloned().fold(f64::INFINITY, f64::min);
            println!(
                "{label:<52} {:>8} {:>9} {:>11.4}% {:>8.2}% {:>10.4} {:>9.1e} {:>8.2}s{}",
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
