//! Ed25519 keys and signatures for everyone who signs inside an election: voters'
//! credentials, the credential authority and the trustees.
//!
//! **Strict public keys.** A public key is accepted only if its 32 bytes are the
//! canonical encoding of a point `A` (re-encoding gives the same bytes: `y < p` and no
//! negative zero), `A` is not of small order, and `A` lies in the prime-order subgroup
//! (`ℓA = 0`). These are libsodium's `crypto_core_ed25519_is_valid_point` rules, so an
//! independent verifier on libsodium and this one accept exactly the same keys; without
//! the subgroup check, `A + T` for a torsion point `T` would be a second encoding of
//! "the same" voter that only one of the two verifiers accepts.
//!
//! **Strict signatures**: RFC 8032 with `S < ℓ` and `R` not of small order
//! (`verify_strict` of `ed25519-dalek`), as libsodium's `crypto_sign_verify_detached`.
//! Every message signed in an election starts with its own domain (see
//! `hiwar-record`'s election hashes), so a signature made for one purpose (say,
//! a challenged ballot's audit) is never valid for another (casting).

use curve25519_dalek::edwards::CompressedEdwardsY;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use rand_core::CryptoRngCore;
use zeroize::Zeroizing;

use crate::{CryptoError, Result};

/// Decodes a public key under the strict rules above.
pub fn public_key(what: &'static str, bytes: &[u8; 32]) -> Result<VerifyingKey> {
    let point = CompressedEdwardsY(*bytes).decompress().ok_or(CryptoError::NonCanonical(what))?;
    if point.compress().to_bytes() != *bytes {
        return Err(CryptoError::NonCanonical(what));
    }
    if point.is_small_order() {
        return Err(CryptoError::Invalid(format!("{what}: a small-order point")));
    }
    if !point.is_torsion_free() {
        return Err(CryptoError::Invalid(format!("{what}: not in the prime-order subgroup")));
    }
    VerifyingKey::from_bytes(bytes).map_err(|_| CryptoError::NonCanonical(what))
}

/// Checks `signature` on `message` under the strict rules.
pub fn verify(what: &'static str, key: &[u8; 32], message: &[u8], signature: &[u8; 64]) -> Result<()> {
    public_key(what, key)?
        .verify_strict(message, &Signature::from_bytes(signature))
        .map_err(|_| CryptoError::BadProof(what))
}

/// [`verify`] for a key that already passed [`public_key`] (a listed credential, checked
/// when its list was): the strict decoding and the subgroup check are not repeated. The
/// signature rules are the same.
pub fn verify_checked_key(what: &'static str, key: &[u8; 32], message: &[u8], signature: &[u8; 64]) -> Result<()> {
    VerifyingKey::from_bytes(key)
        .map_err(|_| CryptoError::NonCanonical(what))?
        .verify_strict(message, &Signature::from_bytes(signature))
        .map_err(|_| CryptoError::BadProof(what))
}

/// A signing key (credential, authority or trustee); zeroized on drop by `ed25519-dalek`.
pub struct Signer25519 {
    key: SigningKey,
}

impl Signer25519 {
    /// The key whose 32-byte seed is `seed`.
    pub fn from_seed(seed: &[u8; 32]) -> Self {
        Signer25519 { key: SigningKey::from_bytes(seed) }
    }

    pub fn generate(rng: &mut impl CryptoRngCore) -> (Zeroizing<[u8; 32]>, Self) {
        let mut seed = Zeroizing::new([0u8; 32]);
        rng.fill_bytes(&mut *seed);
        let signer = Self::from_seed(&seed);
        (seed, signer)
    }

    pub fn public(&self) -> [u8; 32] {
        self.key.verifying_key().to_bytes()
    }

    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.key.sign(message).to_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use curve25519_dalek::constants::EIGHT_TORSION;
    use rand_chacha::rand_core::SeedableRng;

    #[test]
    fn keys_outside_the_prime_order_subgroup_or_non_canonical_are_refused() {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(1);
        let (_, signer) = Signer25519::generate(&mut rng);
        let good = signer.public();
        public_key("k", &good).unwrap();
        let sig = signer.sign(b"m");
        verify("k", &good, b"m", &sig).unwrap();
        assert!(verify("k", &good, b"n", &sig).is_err(), "another message");

        // A + T for a point T of order 8: a valid curve point, not of small order, but
        // with a torsion component. ed25519-dalek's `is_weak` alone accepts it.
        let a = CompressedEdwardsY(good).decompress().unwrap();
        let mixed = (a + EIGHT_TORSION[1]).compress().to_bytes();
        assert!(!VerifyingKey::from_bytes(&mixed).unwrap().is_weak());
        assert!(public_key("k", &mixed).is_err());

        // Small order: the identity and a torsion point.
        assert!(public_key("k", &EIGHT_TORSION[0].compress().to_bytes()).is_err());
        assert!(public_key("k", &EIGHT_TORSION[3].compress().to_bytes()).is_err());

        // Non-canonical: y = p + 1 encodes the same point as y = 1 (the identity).
        let mut y_plus_p = [0xffu8; 32];
        y_plus_p[0] = 0xee;
        y_plus_p[31] = 0x7f;
        assert!(public_key("k", &y_plus_p).is_err());
        // A negative zero x: the sign bit set on a point whose x is 0.
        let mut neg_zero = EIGHT_TORSION[0].compress().to_bytes();
        neg_zero[31] |= 0x80;
        assert!(public_key("k", &neg_zero).is_err());
    }
}
