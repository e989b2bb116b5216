//! `cargo bench -p hiwar-crypto`: encrypt-and-prove and verification costs per option,
//! the figures of docs/performance.md. Plain timing loops (no harness dependency):
//! each figure is the median of 7 runs.

use std::time::Instant;

use hiwar_crypto::ballot::{encrypt, Ballot, BallotContext, Question};
use hiwar_crypto::batch::BatchVerifier;
use hiwar_crypto::elgamal::ElectionKey;
use hiwar_crypto::group::generator;
use hiwar_crypto::proofs::DisjunctiveProof;
use hiwar_crypto::transcript::Transcript;
use hiwar_crypto::Scalar;
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;

fn median(mut runs: Vec<f64>) -> f64 {
    runs.sort_by(|a, b| a.partial_cmp(b).unwrap());
    runs[runs.len() / 2]
}

fn main() {
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let key = ElectionKey::new(Scalar::random(&mut rng) * generator()).unwrap();
    let hash = [1u8; 32];
    let credential = [2u8; 32];
    let ctx = BallotContext { election_hash: &hash, key: &key, credential: &credential };
    println!("{:<44} {:>12} {:>14}", "operation", "per ballot", "per option");
    // The DESIGN §9 unit: one 0/1 option, encrypted and proven, then verified.
    {
        let context = || {
            let mut t = Transcript::new("bench");
            t.bytes(&hash);
            t
        };
        let n = 2000;
        let t = median(
            (0..7)
                .map(|_| {
                    let started = Instant::now();
                    for i in 0..n {
                        let (ct, r) = key.encrypt(i % 2, &mut rng);
                        std::hint::black_box(DisjunctiveProof::prove(
                            context(),
                            &key,
                            &ct,
                            &[0, 1],
                            (i % 2) as usize,
                            &r,
                            &mut rng,
                        ));
                    }
                    started.elapsed().as_secs_f64() / n as f64
                })
                .collect(),
        );
        println!("{:<44} {:>10.3} ms", "encrypt + prove one 0/1 option", t * 1e3);
        let proofs: Vec<_> = (0..n)
            .map(|i| {
                let (ct, r) = key.encrypt(i % 2, &mut rng);
                (ct, DisjunctiveProof::prove(context(), &key, &ct, &[0, 1], (i % 2) as usize, &r, &mut rng))
            })
            .collect();
        let single = median(
            (0..7)
                .map(|_| {
                    let started = Instant::now();
                    for (ct, p) in &proofs {
                        p.verify(context(), &key, ct, &[0, 1]).unwrap();
                    }
                    started.elapsed().as_secs_f64() / n as f64
                })
                .collect(),
        );
        println!(
            "{:<44} {:>10.3} ms  ({:.0} options/s per core)",
            "verify one 0/1 option, one by one",
            single * 1e3,
            1.0 / single
        );
        let batched = median(
            (0..7)
                .map(|_| {
                    let started = Instant::now();
                    let mut batch = BatchVerifier::new(&key);
                    for (ct, p) in &proofs {
                        let (a, b) = p.verify_into(context(), &key, ct, None, &[0, 1], &mut batch, &mut rng).unwrap();
                        batch.term(a, ct.alpha);
                        batch.term(b, ct.beta);
                    }
                    assert!(batch.holds());
                    started.elapsed().as_secs_f64() / n as f64
                })
                .collect(),
        );
        println!(
            "{:<44} {:>10.3} ms  ({:.0} options/s per core)",
            format!("verify 0/1 options batched ({n})"),
            batched * 1e3,
            1.0 / batched
        );
    }
    for options in [1u32, 5, 20] {
        // One question, select 0..=options: one 0/1 proof per option and a range proof
        // with options+1 branches.
        let q = Question { options, min: 0, max: options };
        let choice: Vec<bool> = (0..options).map(|o| o % 2 == 0).collect();
        let n = 512 / options.min(4) as usize;
        let runs = (0..7)
            .map(|_| {
                let started = Instant::now();
                for _ in 0..n {
                    std::hint::black_box(encrypt(&ctx, &[q], std::slice::from_ref(&choice), &mut rng).unwrap());
                }
                started.elapsed().as_secs_f64() / n as f64
            })
            .collect();
        let t = median(runs);
        println!(
            "{:<44} {:>10.3} ms {:>12.3} ms",
            format!("encrypt + prove, {options} options (0..{options})"),
            t * 1e3,
            t * 1e3 / options as f64
        );

        let ballots: Vec<Ballot> =
            (0..n).map(|_| encrypt(&ctx, &[q], std::slice::from_ref(&choice), &mut rng).unwrap().0).collect();
        let single = median(
            (0..7)
                .map(|_| {
                    let started = Instant::now();
                    for b in &ballots {
                        b.verify(&ctx, &[q]).unwrap();
                    }
                    started.elapsed().as_secs_f64() / n as f64
                })
                .collect(),
        );
        println!(
            "{:<44} {:>10.3} ms {:>12.3} ms",
            format!("verify one by one, {options} options"),
            single * 1e3,
            single * 1e3 / options as f64
        );
        let batched = median(
            (0..7)
                .map(|_| {
                    let started = Instant::now();
                    let mut batch = BatchVerifier::new(&key);
                    for b in &ballots {
                        b.verify_into(&ctx, &[q], None, &mut batch, &mut rng).unwrap();
                    }
                    assert!(batch.holds());
                    started.elapsed().as_secs_f64() / n as f64
                })
                .collect(),
        );
        println!(
            "{:<44} {:>10.3} ms {:>12.3} ms  ({:.0} options/s per core)",
            format!("verify batched ({n} ballots), {options} options"),
            batched * 1e3,
            batched * 1e3 / options as f64,
            options as f64 / batched
        );
    }
}
