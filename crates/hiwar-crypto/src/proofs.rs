//! Zero-knowledge proofs (sigma protocols made non-interactive by strong
//! Fiat–Shamir, see [`crate::transcript`]). Every proof carries its commitments, so
//! many proofs can be checked together by [`crate::batch::BatchVerifier`].
//!
//! Security of each: completeness (an honest proof verifies), special soundness (two
//! accepting transcripts with the same commitments and different challenges yield the
//! witness, so a prover without it succeeds with probability ≈ 1/ℓ per challenge), and
//! special honest-verifier zero knowledge (the simulator below each description);
//! in the random-oracle model with the whole statement hashed, this gives adaptively
//! sound, zero-knowledge NIZKs.

use curve25519_dalek::constants::RISTRETTO_BASEPOINT_TABLE;
use curve25519_dalek::ristretto::{CompressedRistretto, RistrettoPoint};
use curve25519_dalek::scalar::Scalar;
use rand_core::CryptoRngCore;
use zeroize::Zeroizing;

use crate::batch::{BatchVerifier, Slot};
use crate::elgamal::{Ciphertext, ElectionKey, Nonce};
use crate::group::{generator, point_from_bytes};
use crate::transcript::Transcript;
use crate::{CryptoError, Result};

/// One branch of a disjunctive proof: commitments `(a, b)` (kept encoded: they are
/// hashed as bytes and decoded only for the group equations), challenge share `c`,
/// response `z`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Branch {
    pub a: CompressedRistretto,
    pub b: CompressedRistretto,
    pub c: Scalar,
    pub z: Scalar,
}

/// Disjunctive Chaum–Pedersen proof (Cramer–Damgård–Schoenmakers OR-composition)
/// that a ciphertext `(α, β)` under key `K` encrypts one of the public values
/// `m_0 … m_{n−1}`, without revealing which.
///
/// For each `j` the statement is "`log_G α = log_K (β − m_j G)`". The prover knows
/// `r` and the true index `k`:
/// - for `j ≠ k` it simulates: picks `c_j, z_j` at random and sets
///   `a_j = z_j G − c_j α`, `b_j = z_j K − c_j (β − m_j G)`;
/// - for `k` it commits honestly: `a_k = wG`, `b_k = wK` for random `w`;
/// - the challenge is `c = H(context ‖ α ‖ β ‖ m_0…m_{n−1} ‖ a_0 ‖ b_0 ‖ … )`, then
///   `c_k = c − Σ_{j≠k} c_j` and `z_k = w + c_k r`.
///
/// The verifier checks `Σ c_j = c` and, for every `j`, `z_j G = a_j + c_j α` and
/// `z_j K = b_j + c_j (β − m_j G)`. Soundness: the prover fixes all `a_j, b_j` before
/// `c` is known, so it can choose at most `n − 1` challenge shares freely; the last is
/// forced, and answering it needs `r` for a true branch. Zero knowledge: every branch
/// is distributed as a simulated one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisjunctiveProof {
    pub branches: Vec<Branch>,
}

/// The encodings of a ciphertext's `α` and `β`, when the caller holds the bytes it
/// decoded them from: a canonical encoding is what `compress` gives back, so the
/// transcript is the same without re-encoding.
pub type CiphertextEncoding<'a> = Option<(&'a [u8; 32], &'a [u8; 32])>;

fn disjunctive_challenge<'a>(
    mut t: Transcript,
    key: &ElectionKey,
    ct: &Ciphertext,
    encoding: CiphertextEncoding,
    values: &[u64],
    branches: impl Iterator<Item = (&'a CompressedRistretto, &'a CompressedRistretto)>,
) -> Scalar {
    t.bytes(key.encoding());
    match encoding {
        Some((alpha, beta)) => t.bytes(alpha).bytes(beta),
        None => t.point(&ct.alpha).point(&ct.beta),
    };
    t.u64(values.len() as u64);
    for &m in values {
        t.u64(m);
    }
    for (a, b) in branches {
        t.bytes(a.as_bytes()).bytes(b.as_bytes());
    }
    t.challenge()
}

impl DisjunctiveProof {
    /// Proves that `ct = (rG, values[real]·G + rK)`. `context` must already hold
    /// everything the proof is bound to (election hash, credential, position).
    ///
    /// Knowing `r` and `m = values[real]`, the prover computes a simulated branch's
    /// commitments with fixed-base multiplications only:
    /// `a_j = z_j G − c_j α = (z_j − c_j r) G` and
    /// `b_j = z_j K − c_j (β − m_j G) = (z_j − c_j r) K − c_j (m − m_j) G`.
    /// Every multiplication is constant time and every branch costs the same whichever
    /// is real, so timing does not reveal the vote.
    pub fn prove(
        context: Transcript,
        key: &ElectionKey,
        ct: &Ciphertext,
        values: &[u64],
        real: usize,
        r: &Nonce,
        rng: &mut impl CryptoRngCore,
    ) -> Self {
        assert!(real < values.len(), "the true value must be among the allowed values");
        let w = Zeroizing::new(Scalar::random(rng));
        let mut branches: Vec<Branch> = values
            .iter()
            .enumerate()
            .map(|(j, &m)| {
                if j == real {
                    Branch {
                        a: (&*w * RISTRETTO_BASEPOINT_TABLE).compress(),
                        b: key.times(&w).compress(),
                        c: Scalar::ZERO,
                        z: Scalar::ZERO,
                    }
                } else {
                    let (c, z) = (Scalar::random(rng), Scalar::random(rng));
                    let u = Zeroizing::new(z - c * r.scalar());
                    let v = Zeroizing::new(-c * (Scalar::from(values[real]) - Scalar::from(m)));
                    let a = &*u * RISTRETTO_BASEPOINT_TABLE;
                    let b = key.times(&u) + &*v * RISTRETTO_BASEPOINT_TABLE;
                    Branch { a: a.compress(), b: b.compress(), c, z }
                }
            })
            .collect();
        let c = disjunctive_challenge(context, key, ct, None, values, branches.iter().map(|b| (&b.a, &b.b)));
        let others: Scalar = branches.iter().enumerate().filter(|(j, _)| *j != real).map(|(_, b)| b.c).sum();
        branches[real].c = c - others;
        branches[real].z = *w + branches[real].c * r.scalar();
        DisjunctiveProof { branches }
    }

    /// Checks the challenge shares and adds the weighted group equations to `batch`,
    /// except the terms in `α` and `β`, whose merged coefficients it returns so the
    /// caller adds each ciphertext point once (a ballot merges them further).
    ///
    /// For branch `j` with weights `ρ_j, σ_j`: `ρ_j (z_j G − a_j − c_j α) = 0` and
    /// `σ_j (z_j K − b_j − c_j β + c_j m_j G) = 0`; so `α` gets `−Σ ρ_j c_j` and `β`
    /// gets `−Σ σ_j c_j`.
    /// `encoding`: the bytes `ct` was decoded from, if the caller has them.
    #[allow(clippy::too_many_arguments)]
    pub fn verify_into(
        &self,
        context: Transcript,
        key: &ElectionKey,
        ct: &Ciphertext,
        encoding: CiphertextEncoding,
        values: &[u64],
        batch: &mut BatchVerifier,
        rng: &mut impl CryptoRngCore,
    ) -> Result<(Scalar, Scalar)> {
        if self.branches.len() != values.len() {
            return Err(CryptoError::BadProof("wrong number of branches"));
        }
        let c = disjunctive_challenge(context, key, ct, encoding, values, self.branches.iter().map(|b| (&b.a, &b.b)));
        if self.branches.iter().map(|b| b.c).sum::<Scalar>() != c {
            return Err(CryptoError::BadProof("challenge shares do not sum to the challenge"));
        }
        let (mut alpha, mut beta) = (Scalar::ZERO, Scalar::ZERO);
        for (branch, &m) in self.branches.iter().zip(values) {
            let (rho, sigma) = (batch.weight(rng), batch.weight(rng));
            batch.shared(Slot::G, rho * branch.z + sigma * branch.c * Scalar::from(m));
            batch.shared(Slot::Key, sigma * branch.z);
            batch.term(-rho, point_from_bytes("proof commitment a", branch.a.as_bytes())?);
            batch.term(-sigma, point_from_bytes("proof commitment b", branch.b.as_bytes())?);
            alpha -= rho * branch.c;
            beta -= sigma * branch.c;
        }
        Ok((alpha, beta))
    }

    /// Verifies this proof alone.
    #[cfg(feature = "os-rng")]
    pub fn verify(&self, context: Transcript, key: &ElectionKey, ct: &Ciphertext, values: &[u64]) -> Result<()> {
        let mut rng = rand_core::OsRng;
        let mut batch = BatchVerifier::new(key);
        let (alpha, beta) = self.verify_into(context, key, ct, None, values, &mut batch, &mut rng)?;
        batch.term(alpha, ct.alpha);
        batch.term(beta, ct.beta);
        batch.check("a branch equation fails")
    }
}

/// Chaum–Pedersen proof that `log_G X = log_A D` (equality of discrete logs), used for
/// partial decryptions: trustee `i` with secret `x_i` and public `X_i = x_i G` shows
/// that `D = x_i A`.
///
/// Prover: random `w`; `a₁ = wG`, `a₂ = wA`; `c = H(context ‖ X ‖ A ‖ D ‖ a₁ ‖ a₂)`;
/// `z = w + c x`. Verifier: `zG = a₁ + cX` and `zA = a₂ + cD`. Soundness: two answers
/// `z, z'` to challenges `c ≠ c'` give `x = (z − z')/(c − c')` for both logs, so the logs
/// are equal. Zero knowledge: pick `c, z`, set `a₁ = zG − cX`, `a₂ = zA − cD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EqualityProof {
    pub a1: RistrettoPoint,
    pub a2: RistrettoPoint,
    pub z: Scalar,
}

fn equality_challenge(
    mut t: Transcript,
    x: &RistrettoPoint,
    base: &RistrettoPoint,
    d: &RistrettoPoint,
    a1: &RistrettoPoint,
    a2: &RistrettoPoint,
) -> Scalar {
    t.point(x).point(base).point(d).point(a1).point(a2);
    t.challenge()
}

impl EqualityProof {
    pub fn prove(
        context: Transcript,
        secret: &Scalar,
        base: &RistrettoPoint,
        rng: &mut impl CryptoRngCore,
    ) -> (RistrettoPoint, Self) {
        let x = secret * RISTRETTO_BASEPOINT_TABLE;
        let d = secret * base;
        let w = Zeroizing::new(Scalar::random(rng));
        let a1 = &*w * RISTRETTO_BASEPOINT_TABLE;
        let a2 = *w * base;
        let c = equality_challenge(context, &x, base, &d, &a1, &a2);
        (d, EqualityProof { a1, a2, z: *w + c * secret })
    }

    pub fn verify(
        &self,
        context: Transcript,
        x: &RistrettoPoint,
        base: &RistrettoPoint,
        d: &RistrettoPoint,
    ) -> Result<()> {
        let c = equality_challenge(context, x, base, d, &self.a1, &self.a2);
        let g = generator();
        if self.z * g != self.a1 + c * x || self.z * base != self.a2 + c * d {
            return Err(CryptoError::BadProof("equality of discrete logarithms fails"));
        }
        Ok(())
    }
}

/// Schnorr proof of knowledge of `x` with `X = xG` (proof of possession of a key, so
/// no trustee can choose its key as a function of the others').
///
/// Prover: random `w`; `a = wG`; `c = H(context ‖ X ‖ a)`; `z = w + cx`. Verifier:
/// `zG = a + cX`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KnowledgeProof {
    pub a: RistrettoPoint,
    pub z: Scalar,
}

impl KnowledgeProof {
    pub fn prove(mut context: Transcript, secret: &Scalar, rng: &mut impl CryptoRngCore) -> Self {
        let x = secret * RISTRETTO_BASEPOINT_TABLE;
        let w = Zeroizing::new(Scalar::random(rng));
        let a = &*w * RISTRETTO_BASEPOINT_TABLE;
        context.point(&x).point(&a);
        KnowledgeProof { a, z: *w + context.challenge() * secret }
    }

    pub fn verify(&self, mut context: Transcript, x: &RistrettoPoint) -> Result<()> {
        context.point(x).point(&self.a);
        if &self.z * RISTRETTO_BASEPOINT_TABLE != self.a + context.challenge() * x {
            return Err(CryptoError::BadProof("proof of possession fails"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::rand_core::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    fn setup() -> (ChaCha20Rng, Scalar, ElectionKey) {
        let mut rng = ChaCha20Rng::seed_from_u64(7);
        let x = Scalar::random(&mut rng);
        let key = ElectionKey::new(x * generator()).unwrap();
        (rng, x, key)
    }

    fn ctx() -> Transcript {
        let mut t = Transcript::new("test");
        t.bytes(b"election-hash");
        t
    }

    #[test]
    fn disjunctive_proof_verifies_for_every_true_value_and_only_in_its_context() {
        let (mut rng, _, key) = setup();
        let values = [0, 1, 2, 3];
        for (real, &m) in values.iter().enumerate() {
            let (ct, r) = key.encrypt(m, &mut rng);
            let proof = DisjunctiveProof::prove(ctx(), &key, &ct, &values, real, &r, &mut rng);
            proof.verify(ctx(), &key, &ct, &values).unwrap();
            let mut other = Transcript::new("test");
            other.bytes(b"another-election");
            assert!(proof.verify(other, &key, &ct, &values).is_err(), "replay in another context");
            assert!(proof.verify(ctx(), &key, &ct, &values[..3]).is_err());
        }
    }

    #[test]
    fn a_proof_for_a_value_outside_the_set_fails() {
        let (mut rng, _, key) = setup();
        // Encrypt 2 but prove "0 or 1", claiming the true branch is 1.
        let (ct, r) = key.encrypt(2, &mut rng);
        let proof = DisjunctiveProof::prove(ctx(), &key, &ct, &[0, 1], 1, &r, &mut rng);
        assert!(proof.verify(ctx(), &key, &ct, &[0, 1]).is_err());
    }

    #[test]
    fn any_altered_field_fails() {
        let (mut rng, _, key) = setup();
        let (ct, r) = key.encrypt(1, &mut rng);
        let proof = DisjunctiveProof::prove(ctx(), &key, &ct, &[0, 1], 1, &r, &mut rng);
        let g = generator();
        for j in 0..2 {
            for field in 0..4 {
                let mut bad = proof.clone();
                match field {
                    0 => bad.branches[j].a = (bad.branches[j].a.decompress().unwrap() + g).compress(),
                    1 => bad.branches[j].b = (bad.branches[j].b.decompress().unwrap() + g).compress(),
                    2 => bad.branches[j].c += Scalar::ONE,
                    _ => bad.branches[j].z += Scalar::ONE,
                }
                assert!(bad.verify(ctx(), &key, &ct, &[0, 1]).is_err(), "branch {j} field {field}");
            }
        }
        let moved = Ciphertext { alpha: ct.alpha, beta: ct.beta + g };
        assert!(proof.verify(ctx(), &key, &moved, &[0, 1]).is_err(), "other ciphertext");
        let other_key = ElectionKey::new(key.point() + g).unwrap();
        assert!(proof.verify(ctx(), &other_key, &ct, &[0, 1]).is_err(), "other key");
    }

    #[test]
    fn equality_and_knowledge_proofs_reject_wrong_statements() {
        let (mut rng, x, _) = setup();
        let public = x * generator();
        let base = Scalar::random(&mut rng) * generator();
        let (d, proof) = EqualityProof::prove(ctx(), &x, &base, &mut rng);
        proof.verify(ctx(), &public, &base, &d).unwrap();
        assert!(proof.verify(ctx(), &public, &base, &(d + generator())).is_err());
        assert!(proof.verify(ctx(), &(public + generator()), &base, &d).is_err());
        assert!(proof.verify(Transcript::new("other"), &public, &base, &d).is_err());
        let pop = KnowledgeProof::prove(ctx(), &x, &mut rng);
        pop.verify(ctx(), &public).unwrap();
        assert!(pop.verify(ctx(), &(public + generator())).is_err());
        let bad = KnowledgeProof { z: pop.z + Scalar::ONE, ..pop };
        assert!(bad.verify(ctx(), &public).is_err());
    }
}
