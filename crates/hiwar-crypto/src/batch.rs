//! Batch verification by random linear combination.
//!
//! Each proof contributes equations of the form `Σ s_i P_i = 0`. Instead of checking
//! each, the verifier draws an independent random 128-bit weight `ρ_e` per equation
//! and checks the single equation `Σ_e ρ_e (Σ_i s_{e,i} P_{e,i}) = 0` with one
//! multiscalar multiplication, where the coefficients of the shared points `G` and the
//! election key `K` are summed first. If any equation is false, the combined check
//! fails except with probability at most 2^-128 over the weights (a nonzero equation
//! vanishes for at most one value of its weight given the others — Bellare, Garay and
//! Rabin's small-exponent test; the group has prime order, so there are no
//! small-subgroup exceptions). The weights must be unpredictable to whoever made the
//! proofs, so they come from the verifier's own CSPRNG.

use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::{IsIdentity, VartimeMultiscalarMul};
use rand_core::CryptoRngCore;

use crate::elgamal::ElectionKey;
use crate::group::generator;
use crate::{CryptoError, Result};

/// Points shared by many equations, whose coefficients are summed.
#[derive(Debug, Clone, Copy)]
pub enum Slot {
    G,
    Key,
}

/// Collects equations and checks them all at once.
pub struct BatchVerifier {
    g: Scalar,
    key_point: RistrettoPoint,
    key: Scalar,
    scalars: Vec<Scalar>,
    points: Vec<RistrettoPoint>,
}

impl BatchVerifier {
    pub fn new(key: &ElectionKey) -> Self {
        BatchVerifier {
            g: Scalar::ZERO,
            key_point: *key.point(),
            key: Scalar::ZERO,
            scalars: Vec::new(),
            points: Vec::new(),
        }
    }

    /// A fresh random 128-bit weight for one equation. The caller multiplies every
    /// coefficient of that equation by it (and may merge the coefficients of a point
    /// that occurs in several equations before adding it once with [`Self::term`]).
    pub fn weight(&mut self, rng: &mut impl CryptoRngCore) -> Scalar {
        let mut bytes = [0u8; 32];
        rng.fill_bytes(&mut bytes[..16]);
        Scalar::from_bytes_mod_order(bytes)
    }

    /// Adds `s` to the coefficient of a shared point.
    pub fn shared(&mut self, slot: Slot, s: Scalar) {
        match slot {
            Slot::G => self.g += s,
            Slot::Key => self.key += s,
        }
    }

    /// Adds the term `s·P`.
    pub fn term(&mut self, s: Scalar, p: RistrettoPoint) {
        self.scalars.push(s);
        self.points.push(p);
    }

    /// Number of equations' point terms collected (for sizing batches).
    pub fn len(&self) -> usize {
        self.points.len()
    }

    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }

    /// Whether every collected equation holds (up to the 2^-128 error above).
    pub fn holds(self) -> bool {
        let scalars = self.scalars.iter().chain([&self.g, &self.key]);
        let g = generator();
        let points = self.points.iter().chain([&g, &self.key_point]);
        RistrettoPoint::vartime_multiscalar_mul(scalars, points).is_identity()
    }

    /// [`holds`](Self::holds) as a verification result: `BadProof(what)` when it does not.
    pub fn check(self, what: &'static str) -> Result<()> {
        if self.holds() {
            Ok(())
        } else {
            Err(CryptoError::BadProof(what))
        }
    }
}
