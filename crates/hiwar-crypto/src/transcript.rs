//! Fiat–Shamir transcripts.
//!
//! A challenge is `SHA-512(tag_len ‖ tag ‖ item_1_len ‖ item_1 ‖ …)` reduced modulo
//! the group order ℓ (64 bytes reduced, so the bias is below 2^-250), where every
//! length is 8 bytes little-endian. Length-prefixing every item makes the encoding
//! injective: no two different sequences of items hash the same input. Every proof's
//! transcript starts with the protocol tag `hiwar/v1/<proof kind>` and the group name
//! `ristretto255`, then the election hash and key, then the statement, then the
//! commitments — the "strong" Fiat–Shamir of Bernhard, Pereira and Warinschi, whose
//! absence made Helios proofs forgeable.

use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar;
use sha2::{Digest, Sha512};

pub const GROUP: &[u8] = b"ristretto255";

#[derive(Clone)]
pub struct Transcript(Sha512);

impl Transcript {
    /// Starts a transcript for one kind of proof.
    pub fn new(tag: &str) -> Self {
        let mut t = Transcript(Sha512::new());
        t.bytes(format!("hiwar/v1/{tag}").as_bytes());
        t.bytes(GROUP);
        t
    }

    pub fn bytes(&mut self, item: &[u8]) -> &mut Self {
        self.0.update((item.len() as u64).to_le_bytes());
        self.0.update(item);
        self
    }

    pub fn point(&mut self, p: &RistrettoPoint) -> &mut Self {
        self.bytes(p.compress().as_bytes())
    }

    pub fn scalar(&mut self, s: &Scalar) -> &mut Self {
        self.bytes(s.as_bytes())
    }

    pub fn u64(&mut self, n: u64) -> &mut Self {
        self.bytes(&n.to_le_bytes())
    }

    /// The challenge scalar.
    pub fn challenge(self) -> Scalar {
        Scalar::from_bytes_mod_order_wide(&self.0.finalize().into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_prefixing_separates_items() {
        let mut a = Transcript::new("t");
        a.bytes(b"ab").bytes(b"c");
        let mut b = Transcript::new("t");
        b.bytes(b"a").bytes(b"bc");
        assert_ne!(a.challenge(), b.challenge());
        assert_ne!(Transcript::new("t").challenge(), Transcript::new("u").challenge());
    }
}
