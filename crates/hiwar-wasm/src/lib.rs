//! WebAssembly entry points, without JavaScript glue so that any host (Node, a
//! browser) can instantiate the module with no imports.
//!
//! For now one benchmark export: [`encrypt_and_prove`] runs the same work as the
//! native benchmark `encrypt + prove one 0/1 option`, with a deterministic generator,
//! so the host can time it and compare with native code (docs/performance.md).

use hiwar_crypto::elgamal::ElectionKey;
use hiwar_crypto::group::generator;
use hiwar_crypto::proofs::DisjunctiveProof;
use hiwar_crypto::transcript::Transcript;
use hiwar_crypto::Scalar;
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;

/// Encrypts and proves `n` 0/1 options; returns a byte of the last proof so the work
/// cannot be optimised away.
#[no_mangle]
pub extern "C" fn encrypt_and_prove(n: u32) -> u32 {
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let key = ElectionKey::new(Scalar::random(&mut rng) * generator()).expect("nonzero key");
    let mut last = 0;
    for i in 0..n {
        let m = (i % 2) as u64;
        let (ct, r) = key.encrypt(m, &mut rng);
        let mut t = Transcript::new("bench");
        t.bytes(&[1u8; 32]);
        let proof = DisjunctiveProof::prove(t, &key, &ct, &[0, 1], m as usize, &r, &mut rng);
        last = proof.branches[0].z.as_bytes()[0] as u32;
    }
    last
}
