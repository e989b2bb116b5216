//! Verifiable secret ballots on ristretto255 (RFC 9496): exponential ElGamal,
//! disjunctive Chaum–Pedersen validity proofs, batch verification, t-of-n threshold
//! keys with verifiable partial decryption, and voter credentials.
//!
//! No I/O; builds for `wasm32-unknown-unknown`. Every decoder rejects non-canonical
//! encodings, and the identity where a proof would become trivial. Secrets are
//! zeroized on drop. Fiat–Shamir challenges hash a domain tag, the group, the
//! election hash, the election key, the whole statement and every commitment (see
//! [`transcript`]), so a proof made for one election, key, credential or ciphertext
//! is worthless for any other.

pub mod ballot;
pub mod batch;
pub mod elgamal;
pub mod group;
pub mod proofs;
pub mod signing;
pub mod threshold;
pub mod transcript;

pub use curve25519_dalek::ristretto::{CompressedRistretto, RistrettoPoint};
pub use curve25519_dalek::scalar::Scalar;

/// Why a cryptographic object was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    #[error("{0}: not a canonical encoding")]
    NonCanonical(&'static str),
    #[error("{0}: the identity element is not allowed here")]
    Identity(&'static str),
    #[error("{0}")]
    Invalid(String),
    #[error("proof does not verify: {0}")]
    BadProof(&'static str),
}

pub type Result<T> = std::result::Result<T, CryptoError>;
