//! `cargo bench -p hiwar-opinion --bench opinion [-- large]`: analyses of generated
//! conversations with planted groups. The default run is shaped like Polis's largest
//! production conversation (33,422 participants × 783 statements × 2.0 M votes): a cold
//! analysis, an update after 10,000 new votes, and routing latency. `large` adds
//! 1 M participants × 5,000 statements × 50 M votes, with peak memory.

use std::time::Instant;

use hiwar_opinion::groups::adjusted_rand_index;
use hiwar_opinion::matrix::Indexed;
use hiwar_opinion::router::Router;
use hiwar_opinion::synthetic::Planted;
use hiwar_opinion::{analyze_indexed, Analysis, Options};
use rand::{Rng, SeedableRng};

fn peak_memory_gib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM:")).map(|l| l.to_string()))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|kb| kb.parse::<f64>().ok()))
        .map_or(0.0, |kb| kb / 1024.0 / 1024.0)
}

fn ari(analysis: &Analysis, truth: &[usize]) -> f64 {
    let (a, b): (Vec<usize>, Vec<usize>) =
        analysis.membership.iter().zip(truth).filter_map(|(m, t)| m.map(|m| (m, *t))).unzip();
    adjusted_rand_index(&a, &b)
}

fn run(label: &str, planted: &Planted, update: bool) {
    let started = Instant::now();
    let generated = planted.generate();
    let generate_s = started.elapsed().as_secs_f64();
    let votes = &generated.votes;
    let hidden = vec![false; planted.statements];
    let options = Options::default();
    let started = Instant::now();
    let cold = analyze_indexed(votes, &hidden, None, &options);
    let cold_s = started.elapsed().as_secs_f64();
    println!(
        "{label}: {} participants x {} statements, {} votes (generated in {generate_s:.1} s)",
        planted.participants,
        planted.statements,
        votes.votes()
    );
    println!(
        "  cold analysis {cold_s:.2} s; {} groups, ARI vs planted {:.3}; coverage {:.1} %; peak memory {:.2} GiB",
        cold.groups(),
        ari(&cold, &generated.truth),
        cold.coverage.share() * 100.0,
        peak_memory_gib()
    );
    let c = &cold.confidence;
    let tried: Vec<String> = c.tried.iter().map(|(k, a)| format!("{k}: {a:.4}")).collect();
    println!(
        "  own check on {} hidden votes: baseline {:.4}, groups {}; {:.1} % keep their group with the hidden votes back",
        c.hidden,
        c.baseline,
        tried.join(", "),
        c.stability * 100.0
    );
    if !update {
        return;
    }
    // 10,000 new votes from random participants on statements they had not voted on.
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(99);
    let mut triples: Vec<(u32, u32, i8)> = (0..votes.participants)
        .flat_map(|p| votes.participant_votes(p).iter().map(move |&(s, v)| (p as u32, s, v)))
        .collect();
    let mut added = 0;
    while added < 10_000 {
        let p = rng.gen_range(0..votes.participants);
        let s = rng.gen_range(0..votes.statements) as u32;
        if votes.participant_votes(p).iter().all(|&(t, _)| t != s) {
            triples.push((p as u32, s, if rng.gen() { 1 } else { -1 }));
            added += 1;
        }
    }
    triples.sort_unstable();
    triples.dedup_by_key(|t| (t.0, t.1));
    let started = Instant::now();
    let updated_votes = Indexed::from_triples(votes.participants, votes.statements, &triples);
    let updated = analyze_indexed(&updated_votes, &hidden, Some(&cold), &options);
    let update_s = started.elapsed().as_secs_f64();
    let kept = cold.membership.iter().zip(&updated.membership).filter(|(a, b)| a == b).count();
    println!(
        "  update after 10,000 new votes {update_s:.2} s (warm start); {:.2} % of participants kept their group label",
        kept as f64 / cold.membership.len() as f64 * 100.0
    );

    // Routing: the router holds per-group counts; each answer scans the statements.
    let mut router = Router::new(updated.groups(), options.coverage_votes);
    router.statements(votes.statements);
    for p in 0..updated_votes.participants {
        for &(s, _) in updated_votes.participant_votes(p) {
            router.record(s as usize, updated.membership[p]);
        }
    }
    let mut times = Vec::with_capacity(10_000);
    for i in 0..10_000u64 {
        let p = rng.gen_range(0..updated_votes.participants);
        let row = updated_votes.participant_votes(p);
        let started = Instant::now();
        let next = router.next(i, updated.membership[p], |s| row.binary_search_by_key(&(s as u32), |v| v.0).is_ok());
        times.push(started.elapsed().as_secs_f64() * 1e3);
        std::hint::black_box(next);
    }
    times.sort_by(f64::total_cmp);
    println!(
        "  routing over {} statements: median {:.3} ms, p99 {:.3} ms, max {:.3} ms",
        votes.statements,
        times[times.len() / 2],
        times[times.len() * 99 / 100],
        times[times.len() - 1]
    );
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let polis_largest = Planted {
        participants: 33_422,
        statements: 783,
        groups: vec![0.45, 0.3, 0.15, 0.1],
        consensus: 10,
        density: 2_000_000.0 / (33_422.0 * 783.0),
        noise: 0.2,
        seed: 2026,
    };
    run("Polis's largest, generated", &polis_largest, true);
    if args.iter().any(|a| a == "large") {
        let large = Planted {
            participants: 1_000_000,
            statements: 5_000,
            density: 50_000_000.0 / 5e9,
            consensus: 20,
            ..polis_largest.clone()
        };
        run("national scale, generated", &large, false);
    }
}
