use curve25519_dalek::constants::RISTRETTO_BASEPOINT_TABLE;
use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::VartimeMultiscalarMul;
use rand_chacha::rand_core::SeedableRng;
use std::time::Instant;
fn main() {
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(1);
    let s: Vec<Scalar> = (0..2000).map(|_| Scalar::random(&mut rng)).collect();
    let p: Vec<RistrettoPoint> = s.iter().map(|x| x * RISTRETTO_BASEPOINT_TABLE).collect();
    let t = Instant::now();
    for x in &s {
        std::hint::black_box(x * RISTRETTO_BASEPOINT_TABLE);
    }
    println!("fixed-base {:.1} us", t.elapsed().as_secs_f64() * 1e6 / 2000.0);
    let t = Instant::now();
    for (x, q) in s.iter().zip(&p) {
        std::hint::black_box(x * q);
    }
    println!("variable-base {:.1} us", t.elapsed().as_secs_f64() * 1e6 / 2000.0);
    let t = Instant::now();
    std::hint::black_box(RistrettoPoint::vartime_multiscalar_mul(&s, &p));
    println!("msm per point {:.2} us", t.elapsed().as_secs_f64() * 1e6 / 2000.0);
    let c: Vec<_> = p.iter().map(|q| q.compress()).collect();
    let t = Instant::now();
    for x in &c {
        std::hint::black_box(x.decompress());
    }
    println!("decompress {:.2} us", t.elapsed().as_secs_f64() * 1e6 / 2000.0);
    let t = Instant::now();
    for x in &p {
        std::hint::black_box(x.compress());
    }
    println!("compress {:.2} us", t.elapsed().as_secs_f64() * 1e6 / 2000.0);
}
