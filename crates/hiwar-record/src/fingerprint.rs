//! Keyed fingerprints: what a verifier keeps in memory of the values it must later
//! recognise (listed credentials, tracking codes, line hashes), so its memory grows by
//! 8 or 16 bytes per value instead of 32 and more.
//!
//! For a key `K` of 32 random bytes drawn when the verifier starts,
//!
//! ```text
//! fp(x) = first 16 bytes of SHA-256("hiwar/v1/fingerprint\n" ‖ K ‖ x)   (as u128)
//! ```
//!
//! and `fp64` keeps the first 8. Security property: the record was fixed (or is being
//! streamed by a server that never sees `K`) before `K` was drawn, so for any two
//! distinct values the record holds, `fp(x) = fp(y)` with probability 2⁻¹²⁸ (2⁻⁶⁴ for
//! `fp64`), SHA-256 modelled as a random function of its keyed input. An adversary
//! cannot search for collisions without `K`. Over a record of `n` values the chance
//! that any two collide is below n²/2¹²⁹ (10⁻²⁴ for n = 10⁷), so a check that compares
//! fingerprints decides exactly as one that compares the values, except with that
//! probability. `fp64` is used only where a handful of comparisons are made per record
//! (a co-signed head against the line it names), never for pairwise uniqueness.

use sha2::{Digest, Sha256};

/// The verifier's fingerprint key, drawn once per verification.
#[derive(Clone, Copy)]
pub struct Fingerprints {
    key: [u8; 32],
}

impl Fingerprints {
    /// A fresh key from the operating system's generator.
    pub fn new() -> Self {
        let mut key = [0u8; 32];
        rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut key);
        Fingerprints { key }
    }

    fn digest(&self, value: &[u8]) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(b"hiwar/v1/fingerprint\n");
        h.update(self.key);
        h.update(value);
        h.finalize().into()
    }

    /// The 128-bit fingerprint, for sets that must hold values exactly once.
    pub fn fp(&self, value: &[u8]) -> u128 {
        u128::from_le_bytes(self.digest(value)[..16].try_into().expect("16 bytes"))
    }

    /// The 64-bit fingerprint, for single comparisons.
    pub fn fp64(&self, value: &[u8]) -> u64 {
        u64::from_le_bytes(self.digest(value)[..8].try_into().expect("8 bytes"))
    }
}

impl Default for Fingerprints {
    fn default() -> Self {
        Fingerprints::new()
    }
}

impl std::fmt::Debug for Fingerprints {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Fingerprints { key: [redacted] }")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_values_agree_and_different_keys_disagree() {
        let (a, b) = (Fingerprints::new(), Fingerprints::new());
        assert_eq!(a.fp(b"tracking"), a.fp(b"tracking"));
        assert_ne!(a.fp(b"tracking"), a.fp(b"trackinh"));
        assert_ne!(a.fp(b"tracking"), b.fp(b"tracking"), "a fresh key per verifier");
        assert_eq!(a.fp64(b"x"), a.fp(b"x") as u64);
    }
}
