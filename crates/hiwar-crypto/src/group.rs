//! Encoding of group elements and scalars: 32 bytes, shown as 64 lowercase hex
//! digits. Decoding is strict: a point must be the canonical ristretto255 encoding
//! (RFC 9496 §4.3.1), a scalar must be reduced (< ℓ), and hex must be lowercase.

use curve25519_dalek::ristretto::{CompressedRistretto, RistrettoPoint};
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::Identity;

use crate::{CryptoError, Result};

/// The generator G (the ristretto255 base point).
pub fn generator() -> RistrettoPoint {
    curve25519_dalek::constants::RISTRETTO_BASEPOINT_POINT
}

pub fn point_to_hex(p: &RistrettoPoint) -> String {
    hex::encode(p.compress().as_bytes())
}

pub fn scalar_to_hex(s: &Scalar) -> String {
    hex::encode(s.as_bytes())
}

fn hex32(what: &'static str, s: &str) -> Result<[u8; 32]> {
    if s.len() != 64 || !s.bytes().all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c)) {
        return Err(CryptoError::NonCanonical(what));
    }
    let mut out = [0u8; 32];
    hex::decode_to_slice(s, &mut out).map_err(|_| CryptoError::NonCanonical(what))?;
    Ok(out)
}

/// Decodes a point, which may be the identity.
pub fn point_from_bytes(what: &'static str, bytes: &[u8; 32]) -> Result<RistrettoPoint> {
    CompressedRistretto(*bytes).decompress().ok_or(CryptoError::NonCanonical(what))
}

/// Decodes a point that must not be the identity.
pub fn nonzero_point_from_bytes(what: &'static str, bytes: &[u8; 32]) -> Result<RistrettoPoint> {
    let p = point_from_bytes(what, bytes)?;
    if p == RistrettoPoint::identity() {
        return Err(CryptoError::Identity(what));
    }
    Ok(p)
}

pub fn point_from_hex(what: &'static str, s: &str) -> Result<RistrettoPoint> {
    point_from_bytes(what, &hex32(what, s)?)
}

pub fn nonzero_point_from_hex(what: &'static str, s: &str) -> Result<RistrettoPoint> {
    nonzero_point_from_bytes(what, &hex32(what, s)?)
}

pub fn scalar_from_bytes(what: &'static str, bytes: &[u8; 32]) -> Result<Scalar> {
    Option::from(Scalar::from_canonical_bytes(*bytes)).ok_or(CryptoError::NonCanonical(what))
}

pub fn scalar_from_hex(what: &'static str, s: &str) -> Result<Scalar> {
    scalar_from_bytes(what, &hex32(what, s)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_non_canonical_points_and_scalars() {
        // RFC 9496 §A.2: an encoding with the high bit set, and a negative field element.
        assert!(point_from_hex("p", "0100000000000000000000000000000000000000000000000000000000000000").is_err());
        assert!(point_from_hex("p", &format!("{}80", "00".repeat(31))).is_err());
        // p itself is not a reduced field element.
        assert!(point_from_hex("p", "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f").is_err());
        // The identity decodes, but not where it is forbidden.
        assert!(point_from_hex("p", &"00".repeat(32)).is_ok());
        assert_eq!(nonzero_point_from_hex("p", &"00".repeat(32)), Err(CryptoError::Identity("p")));
        // ℓ is not a canonical scalar; ℓ − 1 is.
        let l = "edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010";
        assert!(scalar_from_hex("s", l).is_err());
        let l_minus_1 = "ecd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010";
        assert_eq!(scalar_from_hex("s", l_minus_1).unwrap(), -Scalar::ONE);
        // Uppercase hex is not canonical either.
        let g = point_to_hex(&generator());
        assert!(point_from_hex("p", &g.to_uppercase()).is_err());
        assert_eq!(point_from_hex("p", &g).unwrap(), generator());
    }
}
