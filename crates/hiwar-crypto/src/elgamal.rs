//! Exponential ElGamal on ristretto255.
//!
//! With election key `K = xG`, a value `m` encrypts as `(α, β) = (rG, mG + rK)` for a
//! fresh secret nonce `r`. Ciphertexts add componentwise and the sum encrypts the sum
//! of the values (additive homomorphism); `β − xα = mG`, and `m` is then recovered by
//! baby-step giant-step since totals are small. Security: IND-CPA under DDH in
//! ristretto255 (prime order ℓ ≈ 2^252), so a ciphertext reveals nothing about `m`
//! without `x`, which no single party holds (see [`crate::threshold`]).

use std::collections::HashMap;
use std::ops::{Add, Mul};

use curve25519_dalek::constants::RISTRETTO_BASEPOINT_TABLE;
use curve25519_dalek::ristretto::{RistrettoBasepointTable, RistrettoPoint};
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::Identity;
use rand_core::CryptoRngCore;
use subtle::{Choice, ConditionallySelectable};
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::group::{generator, nonzero_point_from_hex, point_from_hex, point_to_hex};
use crate::{CryptoError, Result};

/// The election's public key `K`, with a precomputed table for constant-time `rK`.
pub struct ElectionKey {
    point: RistrettoPoint,
    encoding: [u8; 32],
    table: Box<RistrettoBasepointTable>,
}

impl ElectionKey {
    /// Rejects the identity (which would make every ciphertext readable).
    pub fn new(point: RistrettoPoint) -> Result<Self> {
        if point == RistrettoPoint::identity() {
            return Err(CryptoError::Identity("election key"));
        }
        Ok(ElectionKey {
            point,
            encoding: point.compress().to_bytes(),
            table: Box::new(RistrettoBasepointTable::create(&point)),
        })
    }

    pub fn from_hex(s: &str) -> Result<Self> {
        Self::new(nonzero_point_from_hex("election key", s)?)
    }

    pub fn point(&self) -> &RistrettoPoint {
        &self.point
    }

    /// The key's 32-byte encoding, computed once.
    pub fn encoding(&self) -> &[u8; 32] {
        &self.encoding
    }

    /// `sK`, constant time in `s`, by the precomputed table.
    pub fn times(&self, s: &Scalar) -> RistrettoPoint {
        s * &*self.table
    }

    /// Encrypts `m` with the given nonce, in constant time: a vote of 0 or 1 picks the
    /// identity or `G` by constant-time selection; larger values use the fixed-base table.
    pub fn encrypt_with(&self, m: u64, r: &Nonce) -> Ciphertext {
        let alpha = &r.0 * RISTRETTO_BASEPOINT_TABLE;
        let message = if m <= 1 {
            RistrettoPoint::conditional_select(&RistrettoPoint::identity(), &generator(), Choice::from(m as u8))
        } else {
            &Scalar::from(m) * RISTRETTO_BASEPOINT_TABLE
        };
        Ciphertext { alpha, beta: message + self.times(&r.0) }
    }

    /// Encrypts `m` with a fresh nonce, returned for proofs and Benaloh challenges.
    pub fn encrypt(&self, m: u64, rng: &mut impl CryptoRngCore) -> (Ciphertext, Nonce) {
        let r = Nonce::random(rng);
        (self.encrypt_with(m, &r), r)
    }
}

/// A secret encryption nonce `r`; zeroized on drop.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct Nonce(pub(crate) Scalar);

impl Nonce {
    pub fn random(rng: &mut impl CryptoRngCore) -> Self {
        Nonce(Scalar::random(rng))
    }
    pub fn from_scalar(s: Scalar) -> Self {
        Nonce(s)
    }
    pub fn scalar(&self) -> &Scalar {
        &self.0
    }
}

impl Add<&Nonce> for &Nonce {
    type Output = Nonce;
    fn add(self, other: &Nonce) -> Nonce {
        Nonce(self.0 + other.0)
    }
}

/// An ElGamal ciphertext `(α, β)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ciphertext {
    pub alpha: RistrettoPoint,
    pub beta: RistrettoPoint,
}

impl Ciphertext {
    /// The encryption of 0 with nonce 0: the neutral element of addition.
    pub fn zero() -> Self {
        Ciphertext { alpha: RistrettoPoint::identity(), beta: RistrettoPoint::identity() }
    }

    /// Decodes a ballot ciphertext: canonical points, and `α` not the identity (a
    /// zero nonce would publish the vote).
    pub fn from_hex(alpha: &str, beta: &str) -> Result<Self> {
        Ok(Ciphertext {
            alpha: nonzero_point_from_hex("ciphertext alpha", alpha)?,
            beta: point_from_hex("ciphertext beta", beta)?,
        })
    }

    /// Decodes a derived ciphertext (a tally), where the identity may occur.
    pub fn from_hex_any(alpha: &str, beta: &str) -> Result<Self> {
        Ok(Ciphertext {
            alpha: point_from_hex("ciphertext alpha", alpha)?,
            beta: point_from_hex("ciphertext beta", beta)?,
        })
    }

    pub fn hex(&self) -> (String, String) {
        (point_to_hex(&self.alpha), point_to_hex(&self.beta))
    }
}

impl Add for Ciphertext {
    type Output = Ciphertext;
    fn add(self, o: Ciphertext) -> Ciphertext {
        Ciphertext { alpha: self.alpha + o.alpha, beta: self.beta + o.beta }
    }
}

impl std::iter::Sum for Ciphertext {
    fn sum<I: Iterator<Item = Ciphertext>>(iter: I) -> Ciphertext {
        iter.fold(Ciphertext::zero(), Add::add)
    }
}

/// Scaling by a public weight: `w·(α, β)` encrypts `w·m`.
impl Mul<u64> for Ciphertext {
    type Output = Ciphertext;
    fn mul(self, w: u64) -> Ciphertext {
        let w = Scalar::from(w);
        Ciphertext { alpha: self.alpha * w, beta: self.beta * w }
    }
}

/// Baby-step giant-step table for recovering `m` from `mG` with `0 ≤ m ≤ max`:
/// about `√max` points stored and `√max` steps per lookup.
pub struct DiscreteLog {
    baby: HashMap<[u8; 32], u64>,
    step: u64,
    max: u64,
}

impl DiscreteLog {
    pub fn new(max: u64) -> Self {
        let step = ((max as f64).sqrt().ceil() as u64).max(1);
        let mut baby = HashMap::with_capacity(step as usize);
        let mut p = RistrettoPoint::identity();
        let g = generator();
        for j in 0..step {
            baby.insert(p.compress().to_bytes(), j);
            p += g;
        }
        DiscreteLog { baby, step, max }
    }

    /// `m` with `mG = target`, if `0 ≤ m ≤ max`.
    pub fn solve(&self, target: &RistrettoPoint) -> Option<u64> {
        let giant = -(Scalar::from(self.step) * generator());
        let mut gamma = *target;
        for i in 0..=self.max / self.step {
            if let Some(j) = self.baby.get(&gamma.compress().to_bytes()) {
                let m = i * self.step + j;
                return (m <= self.max).then_some(m);
            }
            gamma += giant;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::rand_core::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    #[test]
    fn encryptions_add_and_decrypt() {
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let x = Scalar::random(&mut rng);
        let key = ElectionKey::new(x * generator()).unwrap();
        let votes = [3u64, 0, 1, 7, 1];
        let sum: Ciphertext = votes.iter().map(|&v| key.encrypt(v, &mut rng).0).sum();
        let weighted = key.encrypt(2, &mut rng).0 * 5;
        let dlog = DiscreteLog::new(1000);
        assert_eq!(dlog.solve(&(sum.beta - x * sum.alpha)), Some(12));
        assert_eq!(dlog.solve(&(weighted.beta - x * weighted.alpha)), Some(10));
        assert_eq!(dlog.solve(&(Scalar::from(1001u64) * generator())), None);
        assert_eq!(dlog.solve(&(Scalar::from(1000u64) * generator())), Some(1000));
        assert_eq!(dlog.solve(&RistrettoPoint::identity()), Some(0));
    }

    #[test]
    fn rejects_identity_key_and_zero_nonce_ciphertexts() {
        assert!(ElectionKey::new(RistrettoPoint::identity()).is_err());
        let id = point_to_hex(&RistrettoPoint::identity());
        let g = point_to_hex(&generator());
        assert_eq!(Ciphertext::from_hex(&id, &g), Err(CryptoError::Identity("ciphertext alpha")));
        assert!(Ciphertext::from_hex_any(&id, &g).is_ok());
    }
}
