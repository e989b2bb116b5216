//! t-of-n threshold election keys (Pedersen's distributed key generation with Feldman
//! commitments and proofs of possession) and verifiable partial decryption.
//!
//! **Key generation.** Trustee `i ∈ {1…n}` draws a secret polynomial
//! `f_i(X) = a_{i,0} + a_{i,1} X + … + a_{i,t−1} X^{t−1}` and, in order:
//! 1. publishes `h_i = H(C_{i,0} ‖ … ‖ C_{i,t−1} ‖ π_i)`, a hash commitment, where
//!    `C_{i,k} = a_{i,k} G` and `π_i` is a Schnorr proof of knowledge of `a_{i,0}`
//!    bound to the election and to `i`;
//! 2. once every `h_i` is public, reveals `C_i` and `π_i` (checked against `h_i`).
//!    Committing first stops a rushing trustee from choosing its polynomial after
//!    seeing the others' (the bias Gennaro et al. described and Belenios fixed in 4.0);
//!    `π_i` stops rogue-key choices such as `C_{i,0} = Y − Σ_{j≠i} C_{j,0}`;
//! 3. publishes each trustee `j`'s share `s_{i,j} = f_i(j)` **encrypted to `j`**
//!    ([`EncryptedShare`], under `j`'s share key `E_j` named in the election) in an
//!    event the dealer signs: an authenticated public channel, as in Belenios. Trustee
//!    `j` decrypts and checks `s_{i,j} G = Σ_k j^k C_{i,k}`; if the check fails it
//!    publishes a [`complaint`](ShareKey::complain): the Diffie–Hellman point that
//!    opens that one share, with a proof that it is the right one. Anyone can then
//!    decrypt the share and decide, from the public record alone, whether the dealer
//!    or the complainant lied. On any complaint the ceremony is abandoned and run
//!    again from scratch (never "disqualify and continue", which a writer of the
//!    record could abuse to exclude honest dealers).
//!
//! Every trustee must reveal: with all `n` dealers in, the election key is
//! `K = Σ_i C_{i,0}`, the secret of trustee `j` is `x_j = Σ_i s_{i,j}`, and anyone can
//! compute its public verification key `X_j = x_j G = Σ_i Σ_k j^k C_{i,k}`. The
//! decryption key `x = Σ_i a_{i,0} = F(0)` for `F = Σ f_i` is never assembled: any
//! `t` shares determine it by Lagrange interpolation and fewer than `t` reveal nothing
//! about it (Shamir), so fewer than `t` trustees learn nothing about any vote.
//!
//! Remaining bias: a trustee can still refuse to reveal after seeing the others'
//! reveals, forcing a restart; across restarts it could try to steer `K`, at the cost
//! of a visible abandoned ceremony each time. Because the key is uniformly random as
//! long as one dealer is honest and each attempt is public, this gives no advantage
//! against ballot secrecy (Gennaro et al.'s bias concerns the distribution of `K`,
//! not its secrecy).
//!
//! **Decryption.** For a ciphertext `(A, B)`, trustee `j` publishes `D_j = x_j A` with
//! an [`EqualityProof`] that `log_G X_j = log_A D_j`. For any set `S` of `t` trustees,
//! `Σ_{j∈S} λ_j D_j = xA` with `λ_j = Π_{m∈S, m≠j} m / (m − j)`, so `B − Σ λ_j D_j = vG`.

use curve25519_dalek::constants::RISTRETTO_BASEPOINT_TABLE;
use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::Identity;
use rand_core::CryptoRngCore;
use sha2::{Digest, Sha256, Sha512};
use zeroize::Zeroizing;

use crate::elgamal::Ciphertext;
use crate::proofs::{EqualityProof, KnowledgeProof};
use crate::transcript::Transcript;
use crate::{CryptoError, Result};

/// A trustee's secret polynomial during key generation; zeroized on drop.
pub struct Dealer {
    index: u32,
    coefficients: Vec<Zeroizing<Scalar>>,
}

/// What a trustee publishes in step 2.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DealerPublic {
    pub index: u32,
    pub commitments: Vec<RistrettoPoint>,
    pub proof: KnowledgeProof,
}

fn possession_context(election_hash: &[u8; 32], index: u32) -> Transcript {
    let mut t = Transcript::new("trustee-possession");
    t.bytes(election_hash).u64(index as u64);
    t
}

fn complaint_context(election_hash: &[u8; 32], dealer: u32, recipient: u32) -> Transcript {
    let mut t = Transcript::new("share-complaint");
    t.bytes(election_hash).u64(dealer as u64).u64(recipient as u64);
    t
}

fn decryption_context(election_hash: &[u8; 32], index: u32) -> Transcript {
    let mut t = Transcript::new("partial-decryption");
    t.bytes(election_hash).u64(index as u64);
    t
}

/// `Σ_k x^k C_k`.
fn eval_commitments(commitments: &[RistrettoPoint], x: u32) -> RistrettoPoint {
    let x = Scalar::from(x);
    commitments.iter().rev().fold(RistrettoPoint::identity(), |acc, c| acc * x + c)
}

impl Dealer {
    /// Trustee `index` (1-based) of a `threshold`-of-n key.
    pub fn new(index: u32, threshold: u32, rng: &mut impl CryptoRngCore) -> Self {
        assert!(index >= 1 && threshold >= 1);
        let coefficients = (0..threshold).map(|_| Zeroizing::new(Scalar::random(rng))).collect();
        Dealer { index, coefficients }
    }

    pub fn public(&self, election_hash: &[u8; 32], rng: &mut impl CryptoRngCore) -> DealerPublic {
        DealerPublic {
            index: self.index,
            commitments: self.coefficients.iter().map(|a| &**a * RISTRETTO_BASEPOINT_TABLE).collect(),
            proof: KnowledgeProof::prove(possession_context(election_hash, self.index), &self.coefficients[0], rng),
        }
    }

    /// `f_i(j)`, the share for trustee `j`.
    pub fn share_for(&self, j: u32) -> Zeroizing<Scalar> {
        let x = Scalar::from(j);
        Zeroizing::new(self.coefficients.iter().rev().fold(Scalar::ZERO, |acc, a| acc * x + **a))
    }
}

impl DealerPublic {
    /// The step-1 hash commitment to this publication.
    pub fn commitment_hash(&self) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(b"hiwar/v1/trustee-commitment");
        h.update(self.index.to_le_bytes());
        for c in &self.commitments {
            h.update(c.compress().as_bytes());
        }
        h.update(self.proof.a.compress().as_bytes());
        h.update(self.proof.z.as_bytes());
        h.finalize().into()
    }

    /// Checks the publication: `threshold` commitments, none the identity, and the
    /// proof of possession of the constant term.
    pub fn verify(&self, election_hash: &[u8; 32], threshold: u32) -> Result<()> {
        if self.commitments.len() != threshold as usize {
            return Err(CryptoError::Invalid(format!(
                "trustee {}: {} commitments, expected {threshold}",
                self.index,
                self.commitments.len()
            )));
        }
        if self.commitments.iter().any(|c| *c == RistrettoPoint::identity()) {
            return Err(CryptoError::Identity("trustee commitment"));
        }
        self.proof.verify(possession_context(election_hash, self.index), &self.commitments[0])
    }

    /// Whether `share` is `f_i(j)` for this dealer's committed polynomial.
    pub fn share_is_valid(&self, j: u32, share: &Scalar) -> bool {
        share * RISTRETTO_BASEPOINT_TABLE == eval_commitments(&self.commitments, j)
    }
}

/// The election key from the qualified dealers.
pub fn election_key(qualified: &[DealerPublic]) -> RistrettoPoint {
    qualified.iter().map(|d| d.commitments[0]).sum()
}

/// Trustee `j`'s public verification key `X_j`.
pub fn verification_key(qualified: &[DealerPublic], j: u32) -> RistrettoPoint {
    qualified.iter().map(|d| eval_commitments(&d.commitments, j)).sum()
}

/// A trustee's share of the decryption key; zeroized on drop.
pub struct TrusteeKey {
    pub index: u32,
    secret: Zeroizing<Scalar>,
}

impl TrusteeKey {
    /// Sums the shares received from the qualified dealers (after checking each).
    pub fn from_shares(index: u32, shares: &[(DealerPublic, Zeroizing<Scalar>)]) -> Result<Self> {
        for (dealer, share) in shares {
            if !dealer.share_is_valid(index, share) {
                return Err(CryptoError::Invalid(format!(
                    "share from trustee {} to trustee {index} is invalid",
                    dealer.index
                )));
            }
        }
        Ok(TrusteeKey { index, secret: Zeroizing::new(shares.iter().map(|(_, s)| **s).sum()) })
    }

    /// `D = x_j A` with its proof.
    pub fn partial_decrypt(
        &self,
        election_hash: &[u8; 32],
        alpha: &RistrettoPoint,
        rng: &mut impl CryptoRngCore,
    ) -> PartialDecryption {
        let (share, proof) =
            EqualityProof::prove(decryption_context(election_hash, self.index), &self.secret, alpha, rng);
        PartialDecryption { trustee: self.index, share, proof }
    }
}

/// A trustee's key for receiving shares: secret `e`, public `E = eG` (named in the
/// election before the ceremony starts); zeroized on drop.
pub struct ShareKey {
    secret: Zeroizing<Scalar>,
}

/// Dealer `i`'s share for trustee `j`, encrypted to `E_j` (hashed ElGamal / DHIES):
/// with a fresh `r`, `R = rG`, `P = rE_j` and
/// `pad = SHA-512("hiwar/v2/share-pad\n" ‖ H_E ‖ i ‖ j ‖ R ‖ P)[0..32]` (indices as
/// 4 bytes little-endian, points as their 32-byte encodings), the ciphertext is the
/// share's 32-byte encoding XOR `pad`. Under CDH in ristretto255 and SHA-512 as a
/// random oracle the pad is unpredictable to anyone without `r` or `e_j`. Integrity
/// and origin come from the dealer's signature on the event that carries it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EncryptedShare {
    pub ephemeral: RistrettoPoint,
    pub ciphertext: [u8; 32],
}

fn share_pad(
    election_hash: &[u8; 32],
    dealer: u32,
    recipient: u32,
    r: &RistrettoPoint,
    p: &RistrettoPoint,
) -> [u8; 32] {
    let mut h = Sha512::new();
    h.update(b"hiwar/v2/share-pad\n");
    h.update(election_hash);
    h.update(dealer.to_le_bytes());
    h.update(recipient.to_le_bytes());
    h.update(r.compress().as_bytes());
    h.update(p.compress().as_bytes());
    let mut pad = [0u8; 32];
    pad.copy_from_slice(&h.finalize()[..32]);
    pad
}

/// Encrypts `share` (dealer `dealer` to trustee `recipient`, whose share key is `key`).
pub fn encrypt_share(
    election_hash: &[u8; 32],
    dealer: u32,
    recipient: u32,
    key: &RistrettoPoint,
    share: &Scalar,
    rng: &mut impl CryptoRngCore,
) -> EncryptedShare {
    let r = Zeroizing::new(Scalar::random(rng));
    let ephemeral = &*r * RISTRETTO_BASEPOINT_TABLE;
    let pad = share_pad(election_hash, dealer, recipient, &ephemeral, &(*r * key));
    let mut ciphertext = share.to_bytes();
    for (c, p) in ciphertext.iter_mut().zip(pad) {
        *c ^= p;
    }
    EncryptedShare { ephemeral, ciphertext }
}

/// Decrypts with the Diffie–Hellman point `P`: the share, or an error if the plaintext
/// is not a canonical scalar (a dealer's fault, like a wrong share).
pub fn open_share(
    election_hash: &[u8; 32],
    dealer: u32,
    recipient: u32,
    shared: &RistrettoPoint,
    share: &EncryptedShare,
) -> Result<Zeroizing<Scalar>> {
    let pad = share_pad(election_hash, dealer, recipient, &share.ephemeral, shared);
    let mut plain = Zeroizing::new(share.ciphertext);
    for (c, p) in plain.iter_mut().zip(pad) {
        *c ^= p;
    }
    Option::from(Scalar::from_canonical_bytes(*plain))
        .map(Zeroizing::new)
        .ok_or(CryptoError::NonCanonical("decrypted share"))
}

impl ShareKey {
    pub fn from_scalar(secret: Scalar) -> Self {
        ShareKey { secret: Zeroizing::new(secret) }
    }

    pub fn generate(rng: &mut impl CryptoRngCore) -> Self {
        Self::from_scalar(Scalar::random(rng))
    }

    pub fn public(&self) -> RistrettoPoint {
        &*self.secret * RISTRETTO_BASEPOINT_TABLE
    }

    pub fn secret(&self) -> &Scalar {
        &self.secret
    }

    /// Decrypts dealer `dealer`'s share for trustee `recipient` (this key's holder).
    pub fn decrypt(
        &self,
        election_hash: &[u8; 32],
        dealer: u32,
        recipient: u32,
        share: &EncryptedShare,
    ) -> Result<Zeroizing<Scalar>> {
        open_share(election_hash, dealer, recipient, &(*self.secret * share.ephemeral), share)
    }

    /// A complaint against a share: `P = eR` with an [`EqualityProof`] that
    /// `log_G E = log_R P`, so anyone can open exactly that share and check it. Only
    /// that share's pad is revealed; the key `e` stays secret.
    pub fn complain(
        &self,
        election_hash: &[u8; 32],
        dealer: u32,
        recipient: u32,
        share: &EncryptedShare,
        rng: &mut impl CryptoRngCore,
    ) -> (RistrettoPoint, EqualityProof) {
        EqualityProof::prove(complaint_context(election_hash, dealer, recipient), &self.secret, &share.ephemeral, rng)
    }
}

/// What a checked complaint shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The share does not match the dealer's commitments: the dealer cheated.
    DealerAtFault,
    /// The share is right: the complaint was false.
    ComplainantAtFault,
}

/// Checks a complaint (the proof that `shared` opens the share) and decides it.
#[allow(clippy::too_many_arguments)]
pub fn decide_complaint(
    election_hash: &[u8; 32],
    dealer: &DealerPublic,
    recipient: u32,
    recipient_key: &RistrettoPoint,
    share: &EncryptedShare,
    shared: &RistrettoPoint,
    proof: &EqualityProof,
) -> Result<Verdict> {
    proof.verify(complaint_context(election_hash, dealer.index, recipient), recipient_key, &share.ephemeral, shared)?;
    Ok(match open_share(election_hash, dealer.index, recipient, shared, share) {
        Ok(s) if dealer.share_is_valid(recipient, &s) => Verdict::ComplainantAtFault,
        _ => Verdict::DealerAtFault,
    })
}

/// One trustee's decryption share of one ciphertext.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartialDecryption {
    pub trustee: u32,
    pub share: RistrettoPoint,
    pub proof: EqualityProof,
}

impl PartialDecryption {
    pub fn verify(
        &self,
        election_hash: &[u8; 32],
        verification_key: &RistrettoPoint,
        alpha: &RistrettoPoint,
    ) -> Result<()> {
        self.proof.verify(decryption_context(election_hash, self.trustee), verification_key, alpha, &self.share)
    }
}

/// Lagrange coefficient at 0 of trustee `j` within `set`.
pub fn lagrange_at_zero(j: u32, set: &[u32]) -> Scalar {
    let mut num = Scalar::ONE;
    let mut den = Scalar::ONE;
    for &m in set.iter().filter(|&&m| m != j) {
        num *= Scalar::from(m);
        den *= Scalar::from(m) - Scalar::from(j);
    }
    num * den.invert()
}

/// `B − Σ λ_j D_j = vG` from the shares of distinct trustees (at least `threshold`).
pub fn combine(ct: &Ciphertext, shares: &[PartialDecryption], threshold: u32) -> Result<RistrettoPoint> {
    let set: Vec<u32> = shares.iter().map(|s| s.trustee).collect();
    let mut distinct = set.clone();
    distinct.sort_unstable();
    distinct.dedup();
    if distinct.len() != set.len() || set.contains(&0) {
        return Err(CryptoError::Invalid("decryption shares must come from distinct trustees 1…n".into()));
    }
    if set.len() < threshold as usize {
        return Err(CryptoError::Invalid(format!("{} decryption shares, {threshold} needed", set.len())));
    }
    let xa: RistrettoPoint = shares.iter().map(|s| lagrange_at_zero(s.trustee, &set) * s.share).sum();
    Ok(ct.beta - xa)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::elgamal::{DiscreteLog, ElectionKey};
    use rand_chacha::rand_core::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    const H: [u8; 32] = [9u8; 32];

    fn dkg(t: u32, n: u32, rng: &mut ChaCha20Rng) -> (Vec<DealerPublic>, Vec<TrusteeKey>) {
        let dealers: Vec<Dealer> = (1..=n).map(|i| Dealer::new(i, t, rng)).collect();
        let publics: Vec<DealerPublic> = dealers.iter().map(|d| d.public(&H, rng)).collect();
        for p in &publics {
            p.verify(&H, t).unwrap();
        }
        let keys = (1..=n)
            .map(|j| {
                let shares: Vec<_> = dealers.iter().zip(&publics).map(|(d, p)| (p.clone(), d.share_for(j))).collect();
                TrusteeKey::from_shares(j, &shares).unwrap()
            })
            .collect();
        (publics, keys)
    }

    #[test]
    fn any_t_of_n_trustees_decrypt_and_fewer_cannot() {
        let mut rng = ChaCha20Rng::seed_from_u64(3);
        let (publics, keys) = dkg(3, 5, &mut rng);
        let key = ElectionKey::new(election_key(&publics)).unwrap();
        let ct: Ciphertext = [1u64, 1, 0, 1].iter().map(|&v| key.encrypt(v, &mut rng).0).sum();
        let dlog = DiscreteLog::new(10);
        for subset in [[1u32, 2, 3], [2, 4, 5], [5, 1, 3]] {
            let shares: Vec<PartialDecryption> = subset
                .iter()
                .map(|&j| {
                    let pd = keys[j as usize - 1].partial_decrypt(&H, &ct.alpha, &mut rng);
                    pd.verify(&H, &verification_key(&publics, j), &ct.alpha).unwrap();
                    pd
                })
                .collect();
            assert_eq!(dlog.solve(&combine(&ct, &shares, 3).unwrap()), Some(3));
            assert!(combine(&ct, &shares[..2], 3).is_err());
        }
    }

    #[test]
    fn a_wrong_partial_decryption_is_caught() {
        let mut rng = ChaCha20Rng::seed_from_u64(4);
        let (publics, keys) = dkg(2, 3, &mut rng);
        let key = ElectionKey::new(election_key(&publics)).unwrap();
        let (ct, _) = key.encrypt(1, &mut rng);
        let mut pd = keys[0].partial_decrypt(&H, &ct.alpha, &mut rng);
        pd.share += crate::group::generator();
        assert!(pd.verify(&H, &verification_key(&publics, 1), &ct.alpha).is_err());
        // A share presented as another trustee's fails too.
        let pd = keys[0].partial_decrypt(&H, &ct.alpha, &mut rng);
        let relabelled = PartialDecryption { trustee: 2, ..pd };
        assert!(relabelled.verify(&H, &verification_key(&publics, 2), &ct.alpha).is_err());
        // And a share for another election.
        assert!(pd.verify(&[8u8; 32], &verification_key(&publics, 1), &ct.alpha).is_err());
    }

    #[test]
    fn encrypted_shares_open_only_for_their_recipient_and_complaints_are_decidable() {
        let mut rng = ChaCha20Rng::seed_from_u64(6);
        let dealer = Dealer::new(1, 2, &mut rng);
        let public = dealer.public(&H, &mut rng);
        let key = ShareKey::generate(&mut rng);
        let other = ShareKey::generate(&mut rng);
        let share = dealer.share_for(2);
        let enc = encrypt_share(&H, 1, 2, &key.public(), &share, &mut rng);
        assert_eq!(*key.decrypt(&H, 1, 2, &enc).unwrap(), *share);
        // Another key, another recipient index or another election opens nothing useful.
        assert!(other.decrypt(&H, 1, 2, &enc).map_or(true, |s| *s != *share));
        assert!(key.decrypt(&H, 1, 3, &enc).map_or(true, |s| *s != *share));
        assert!(key.decrypt(&[1u8; 32], 1, 2, &enc).map_or(true, |s| *s != *share));

        // An honest share: a complaint about it is found false.
        let (p, proof) = key.complain(&H, 1, 2, &enc, &mut rng);
        let verdict = decide_complaint(&H, &public, 2, &key.public(), &enc, &p, &proof).unwrap();
        assert_eq!(verdict, Verdict::ComplainantAtFault);
        // A wrong share: the complaint is upheld.
        let wrong = encrypt_share(&H, 1, 2, &key.public(), &(*share + Scalar::ONE), &mut rng);
        let (p, proof) = key.complain(&H, 1, 2, &wrong, &mut rng);
        assert_eq!(
            decide_complaint(&H, &public, 2, &key.public(), &wrong, &p, &proof).unwrap(),
            Verdict::DealerAtFault
        );
        // A complaint with a made-up point, or by someone without the key, does not verify.
        let fake = p + crate::group::generator();
        assert!(decide_complaint(&H, &public, 2, &key.public(), &wrong, &fake, &proof).is_err());
        let (p2, proof2) = other.complain(&H, 1, 2, &wrong, &mut rng);
        assert!(decide_complaint(&H, &public, 2, &key.public(), &wrong, &p2, &proof2).is_err());
        // Nor for another dealer or recipient index.
        assert!(decide_complaint(&H, &public, 3, &key.public(), &wrong, &p, &proof).is_err());
    }

    #[test]
    fn bad_dealings_are_detected() {
        let mut rng = ChaCha20Rng::seed_from_u64(5);
        let dealer = Dealer::new(1, 2, &mut rng);
        let public = dealer.public(&H, &mut rng);
        assert!(public.share_is_valid(2, &dealer.share_for(2)));
        assert!(!public.share_is_valid(2, &(*dealer.share_for(2) + Scalar::ONE)));
        assert!(public.verify(&[1u8; 32], 2).is_err(), "proof bound to the election");
        assert!(public.verify(&H, 3).is_err(), "wrong threshold");
        let mut rogue = public.clone();
        rogue.commitments[0] += crate::group::generator();
        assert!(rogue.verify(&H, 2).is_err(), "rogue key without possession");
        assert_ne!(rogue.commitment_hash(), public.commitment_hash());
        let bad_share = (public.clone(), Zeroizing::new(Scalar::ONE));
        assert!(TrusteeKey::from_shares(2, &[bad_share]).is_err());
    }
}
