//! Encrypted ballots: per question, one ciphertext per option with a proof that it
//! encrypts 0 or 1, and a proof that the number of selections is within the
//! question's `min..=max` (blank only if `min` is 0). Each ballot is bound to its
//! election (hash and key) and to the voter's credential through every proof's
//! transcript, and signed with the credential key when it is cast.
//!
//! Cast-or-challenge (Benaloh): a voter may instead *challenge* a ballot; the device
//! then reveals the nonces, anyone recomputes the ciphertexts for each possible
//! choice and so sees what the ballot contained, and the ballot is never counted.

use curve25519_dalek::scalar::Scalar;
use rand_core::CryptoRngCore;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::batch::BatchVerifier;
use crate::elgamal::{Ciphertext, ElectionKey, Nonce};
use crate::proofs::DisjunctiveProof;
use crate::signing::Signer25519;
use crate::transcript::Transcript;
use crate::{CryptoError, Result};

/// A question's shape: `options` choices, of which a voter selects between `min` and
/// `max`. A yes/no referendum is 2 options with `min = max = 1`; "choose one" is
/// `min = max = 1` (or `min = 0` to allow blank); approval voting is `min..=max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Question {
    pub options: u32,
    pub min: u32,
    pub max: u32,
}

impl Question {
    pub fn check(&self) -> Result<()> {
        if self.options == 0 || self.min > self.max || self.max > self.options {
            return Err(CryptoError::Invalid(format!(
                "question with {} options, min {}, max {}",
                self.options, self.min, self.max
            )));
        }
        Ok(())
    }

    fn selection_values(&self) -> Vec<u64> {
        (self.min as u64..=self.max as u64).collect()
    }

    /// Whether `min..=max` says nothing beyond the 0/1 proofs (`0..=options`): then the
    /// selections proof is empty, as Helios omits its overall proof without a bound.
    pub fn bounds_implied(&self) -> bool {
        self.min == 0 && self.max == self.options
    }
}

/// What every proof in a ballot is bound to.
#[derive(Clone, Copy)]
pub struct BallotContext<'a> {
    pub election_hash: &'a [u8; 32],
    pub key: &'a ElectionKey,
    /// The voter's public credential (Ed25519 public key bytes).
    pub credential: &'a [u8; 32],
}

impl BallotContext<'_> {
    fn transcript(&self, tag: &str, question: usize, option: Option<usize>) -> Transcript {
        let mut t = Transcript::new(tag);
        t.bytes(self.election_hash).bytes(self.credential).u64(question as u64);
        if let Some(option) = option {
            t.u64(option as u64);
        }
        t
    }
    fn option_transcript(&self, question: usize, option: usize) -> Transcript {
        self.transcript("ballot-option", question, Some(option))
    }
    fn selections_transcript(&self, question: usize) -> Transcript {
        self.transcript("ballot-selections", question, None)
    }
}

/// The encrypted answer to one question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub choices: Vec<Ciphertext>,
    pub choice_proofs: Vec<DisjunctiveProof>,
    pub selections_proof: DisjunctiveProof,
}

/// An encrypted ballot (unsigned).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ballot {
    pub answers: Vec<Answer>,
}

/// The nonces of a ballot, kept on the voter's device until it is cast (then
/// dropped) or challenged (then revealed).
pub struct BallotNonces(pub Vec<Vec<Nonce>>);

/// Encrypts `choices[q][o]` (true = selected) and proves validity.
pub fn encrypt(
    ctx: &BallotContext,
    questions: &[Question],
    choices: &[Vec<bool>],
    rng: &mut impl CryptoRngCore,
) -> Result<(Ballot, BallotNonces)> {
    if questions.len() != choices.len() {
        return Err(CryptoError::Invalid(format!("{} answers for {} questions", choices.len(), questions.len())));
    }
    let mut answers = Vec::with_capacity(questions.len());
    let mut all_nonces = Vec::with_capacity(questions.len());
    for (q, (question, selected)) in questions.iter().zip(choices).enumerate() {
        question.check()?;
        let count = selected.iter().filter(|&&s| s).count() as u32;
        if selected.len() != question.options as usize || count < question.min || count > question.max {
            return Err(CryptoError::Invalid(format!(
                "question {q}: {count} of {} options selected, allowed {}..={}",
                selected.len(),
                question.min,
                question.max
            )));
        }
        let mut cts = Vec::with_capacity(selected.len());
        let mut proofs = Vec::with_capacity(selected.len());
        let mut nonces = Vec::with_capacity(selected.len());
        for (o, &s) in selected.iter().enumerate() {
            let (ct, r) = ctx.key.encrypt(s as u64, rng);
            proofs.push(DisjunctiveProof::prove(
                ctx.option_transcript(q, o),
                ctx.key,
                &ct,
                &[0, 1],
                s as usize,
                &r,
                rng,
            ));
            cts.push(ct);
            nonces.push(r);
        }
        let selections_proof = if question.bounds_implied() {
            DisjunctiveProof { branches: Vec::new() }
        } else {
            let sum: Ciphertext = cts.iter().copied().sum();
            let r_sum = nonces.iter().fold(Nonce::from_scalar(Scalar::ZERO), |acc, r| &acc + r);
            let real = (count - question.min) as usize;
            let values = question.selection_values();
            DisjunctiveProof::prove(ctx.selections_transcript(q), ctx.key, &sum, &values, real, &r_sum, rng)
        };
        answers.push(Answer { choices: cts, choice_proofs: proofs, selections_proof });
        all_nonces.push(nonces);
    }
    Ok((Ballot { answers }, BallotNonces(all_nonces)))
}

impl Ballot {
    /// Checks the ballot's shape and challenges and adds its group equations to `batch`.
    /// `encodings`: the bytes the ciphertexts were decoded from (`α`, `β` of each
    /// option in order), if the caller has them, so they need not be encoded again.
    pub fn verify_into(
        &self,
        ctx: &BallotContext,
        questions: &[Question],
        encodings: Option<&[[u8; 32]]>,
        batch: &mut BatchVerifier,
        rng: &mut impl CryptoRngCore,
    ) -> Result<()> {
        if self.answers.len() != questions.len() {
            return Err(CryptoError::Invalid(format!(
                "{} answers for {} questions",
                self.answers.len(),
                questions.len()
            )));
        }
        if let Some(e) = encodings {
            if e.len() != 2 * self.answers.iter().map(|a| a.choices.len()).sum::<usize>() {
                return Err(CryptoError::Invalid("the encodings given are not the ballot's".into()));
            }
        }
        let mut seen = 0;
        for (q, (answer, question)) in self.answers.iter().zip(questions).enumerate() {
            if answer.choices.len() != question.options as usize || answer.choice_proofs.len() != answer.choices.len() {
                return Err(CryptoError::Invalid(format!(
                    "question {q}: {} ciphertexts for {} options",
                    answer.choices.len(),
                    question.options
                )));
            }
            // The sum's α and β are the sums of the options' α and β, so the selections
            // proof's coefficients join each option's: one term per point.
            let (sum_alpha, sum_beta) = if question.bounds_implied() {
                if !answer.selections_proof.branches.is_empty() {
                    return Err(CryptoError::BadProof("a selections proof where the bounds are implied"));
                }
                (Scalar::ZERO, Scalar::ZERO)
            } else {
                let sum: Ciphertext = answer.choices.iter().copied().sum();
                answer.selections_proof.verify_into(
                    ctx.selections_transcript(q),
                    ctx.key,
                    &sum,
                    None,
                    &question.selection_values(),
                    batch,
                    rng,
                )?
            };
            for (o, (ct, proof)) in answer.choices.iter().zip(&answer.choice_proofs).enumerate() {
                let encoding = encodings.and_then(|e| Some((e.get(2 * seen)?, e.get(2 * seen + 1)?)));
                seen += 1;
                let (alpha, beta) =
                    proof.verify_into(ctx.option_transcript(q, o), ctx.key, ct, encoding, &[0, 1], batch, rng)?;
                batch.term(alpha + sum_alpha, ct.alpha);
                batch.term(beta + sum_beta, ct.beta);
            }
        }
        Ok(())
    }

    /// Verifies this ballot alone.
    #[cfg(feature = "os-rng")]
    pub fn verify(&self, ctx: &BallotContext, questions: &[Question]) -> Result<()> {
        let mut rng = rand_core::OsRng;
        let mut batch = BatchVerifier::new(ctx.key);
        self.verify_into(ctx, questions, None, &mut batch, &mut rng)?;
        batch.check("a ballot proof equation fails")
    }

    /// The ciphertexts of each answer, without the proofs: what a challenged ballot
    /// publishes.
    pub fn choices(&self) -> Vec<Vec<Ciphertext>> {
        self.answers.iter().map(|a| a.choices.clone()).collect()
    }
}

/// Opens a challenged ballot's ciphertexts with its revealed nonces (Benaloh): the
/// choices they encrypt, or an error if some ciphertext is neither `(rG, rK)` nor
/// `(rG, G + rK)`. Needs only the election key, not the voter's credential.
pub fn open(key: &ElectionKey, choices: &[Vec<Ciphertext>], nonces: &BallotNonces) -> Result<Vec<Vec<bool>>> {
    if nonces.0.len() != choices.len() {
        return Err(CryptoError::Invalid("nonces do not match the ballot".into()));
    }
    choices
        .iter()
        .zip(&nonces.0)
        .map(|(cts, rs)| {
            if rs.len() != cts.len() {
                return Err(CryptoError::Invalid("nonces do not match the ballot".into()));
            }
            cts.iter()
                .zip(rs)
                .map(|(ct, r)| {
                    if key.encrypt_with(1, r) == *ct {
                        Ok(true)
                    } else if key.encrypt_with(0, r) == *ct {
                        Ok(false)
                    } else {
                        Err(CryptoError::BadProof("a revealed nonce does not reproduce its ciphertext"))
                    }
                })
                .collect()
        })
        .collect()
}

/// A voter's credential: a secret from which an Ed25519 key is derived, as
/// `seed = SHA-256("hiwar/v1/credential" ‖ secret)`. The public key is published on
/// the election's credential list (signed by the credential authority); the secret
/// never leaves the voter. It signs only at cast time (`hiwar-record` defines the
/// message, in its own domain), never a challenged ballot.
pub struct Credential {
    key: Signer25519,
}

impl Credential {
    pub fn from_secret(secret: &[u8; 32]) -> Self {
        let mut h = Sha256::new();
        h.update(b"hiwar/v1/credential");
        h.update(secret);
        let seed = Zeroizing::new(<[u8; 32]>::from(h.finalize()));
        Credential { key: Signer25519::from_seed(&seed) }
    }

    pub fn generate(rng: &mut impl CryptoRngCore) -> (Zeroizing<[u8; 32]>, Self) {
        let mut secret = Zeroizing::new([0u8; 32]);
        rng.fill_bytes(&mut *secret);
        let credential = Self::from_secret(&secret);
        (secret, credential)
    }

    pub fn public(&self) -> [u8; 32] {
        self.key.public()
    }

    /// Signs a cast message.
    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.key.sign(message)
    }
}

/// The sum over ballots of `weight × choice` ciphertexts, per question and option.
pub fn tally<'a>(questions: &[Question], ballots: impl Iterator<Item = (&'a Ballot, u64)>) -> Vec<Vec<Ciphertext>> {
    let mut sums: Vec<Vec<Ciphertext>> =
        questions.iter().map(|q| vec![Ciphertext::zero(); q.options as usize]).collect();
    for (ballot, weight) in ballots {
        for (sum, answer) in sums.iter_mut().zip(&ballot.answers) {
            for (s, ct) in sum.iter_mut().zip(&answer.choices) {
                *s = *s + if weight == 1 { *ct } else { *ct * weight };
            }
        }
    }
    sums
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::elgamal::DiscreteLog;
    use crate::group::generator;
    use rand_chacha::rand_core::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    struct Setup {
        rng: ChaCha20Rng,
        x: Scalar,
        key: ElectionKey,
        hash: [u8; 32],
        credential: Credential,
    }

    fn setup() -> Setup {
        let mut rng = ChaCha20Rng::seed_from_u64(11);
        let x = Scalar::random(&mut rng);
        let key = ElectionKey::new(x * generator()).unwrap();
        let (_, credential) = Credential::generate(&mut rng);
        Setup { rng, x, key, hash: [5u8; 32], credential }
    }

    const APPROVE: Question = Question { options: 4, min: 1, max: 2 };

    #[test]
    fn valid_ballots_verify_and_tally() {
        let mut s = setup();
        let cred = s.credential.public();
        let ctx = BallotContext { election_hash: &s.hash, key: &s.key, credential: &cred };
        let questions = [APPROVE, Question { options: 2, min: 1, max: 1 }];
        let votes = [
            vec![vec![true, false, true, false], vec![false, true]],
            vec![vec![false, false, false, true], vec![true, false]],
        ];
        let mut ballots = Vec::new();
        for v in &votes {
            let (ballot, _) = encrypt(&ctx, &questions, v, &mut s.rng).unwrap();
            ballot.verify(&ctx, &questions).unwrap();
            ballots.push(ballot);
        }
        let sums = tally(&questions, ballots.iter().map(|b| (b, 3)));
        let dlog = DiscreteLog::new(100);
        let counts: Vec<Vec<u64>> = sums
            .iter()
            .map(|q| q.iter().map(|ct| dlog.solve(&(ct.beta - s.x * ct.alpha)).unwrap()).collect())
            .collect();
        assert_eq!(counts, vec![vec![3, 0, 3, 3], vec![3, 3]]);
    }

    #[test]
    fn the_encodings_a_verifier_passes_must_be_the_ballots_own() {
        let mut s = setup();
        let cred = s.credential.public();
        let ctx = BallotContext { election_hash: &s.hash, key: &s.key, credential: &cred };
        let (ballot, _) = encrypt(&ctx, &[APPROVE], &[vec![true, false, false, false]], &mut s.rng).unwrap();
        let own: Vec<[u8; 32]> = ballot.answers[0]
            .choices
            .iter()
            .flat_map(|ct| [ct.alpha.compress().to_bytes(), ct.beta.compress().to_bytes()])
            .collect();
        let check = |encodings: &[[u8; 32]]| {
            let mut batch = BatchVerifier::new(ctx.key);
            let mut rng = rand_core::OsRng;
            ballot.verify_into(&ctx, &[APPROVE], Some(encodings), &mut batch, &mut rng).is_ok() && batch.holds()
        };
        assert!(check(&own));
        let mut swapped = own.clone();
        swapped.swap(0, 1);
        assert!(!check(&swapped), "encodings other than the ciphertexts' change every challenge");
        assert!(!check(&own[..7]), "too few encodings");
    }

    #[test]
    fn invalid_choices_are_refused_at_encryption() {
        let mut s = setup();
        let cred = s.credential.public();
        let ctx = BallotContext { election_hash: &s.hash, key: &s.key, credential: &cred };
        assert!(encrypt(&ctx, &[APPROVE], &[vec![true, true, true, false]], &mut s.rng).is_err());
        assert!(encrypt(&ctx, &[APPROVE], &[vec![false; 4]], &mut s.rng).is_err());
        assert!(encrypt(&ctx, &[APPROVE], &[vec![true; 3]], &mut s.rng).is_err());
    }

    #[test]
    fn forged_ballots_fail() {
        let mut s = setup();
        let cred = s.credential.public();
        let ctx = BallotContext { election_hash: &s.hash, key: &s.key, credential: &cred };
        let (ballot, nonces) = encrypt(&ctx, &[APPROVE], &[vec![true, false, false, false]], &mut s.rng).unwrap();
        // An option encrypting 2, with its 0/1 proof re-made over the wrong value.
        let mut two = ballot.clone();
        let r = Nonce::random(&mut s.rng);
        two.answers[0].choices[0] = s.key.encrypt_with(2, &r);
        two.answers[0].choice_proofs[0] = DisjunctiveProof::prove(
            ctx.option_transcript(0, 0),
            &s.key,
            &two.answers[0].choices[0],
            &[0, 1],
            1,
            &r,
            &mut s.rng,
        );
        assert!(two.verify(&ctx, &[APPROVE]).is_err(), "an option outside 0/1");
        // Too many selections: three honest 0/1 options, selection proof claiming 2.
        let (honest3, n3) = {
            let q = Question { options: 4, min: 0, max: 4 };
            encrypt(&ctx, &[q], &[vec![true, true, true, false]], &mut s.rng).unwrap()
        };
        let mut too_many = honest3.clone();
        let sum: Ciphertext = too_many.answers[0].choices.iter().copied().sum();
        let r_sum = n3.0[0].iter().fold(Nonce::from_scalar(Scalar::ZERO), |a, r| &a + r);
        too_many.answers[0].selections_proof =
            DisjunctiveProof::prove(ctx.selections_transcript(0), &s.key, &sum, &[1, 2], 1, &r_sum, &mut s.rng);
        assert!(too_many.verify(&ctx, &[APPROVE]).is_err(), "too many selections");
        // Too few: a blank ballot where blank is not allowed.
        let blank_q = Question { options: 4, min: 0, max: 2 };
        let (blank, _) = encrypt(&ctx, &[blank_q], &[vec![false; 4]], &mut s.rng).unwrap();
        assert!(blank.verify(&ctx, &[APPROVE]).is_err(), "too few selections");
        // Replay under another credential or election.
        let other_cred = [1u8; 32];
        let other = BallotContext { credential: &other_cred, ..ctx };
        assert!(ballot.verify(&other, &[APPROVE]).is_err(), "replay under another credential");
        let other_hash = [6u8; 32];
        let other = BallotContext { election_hash: &other_hash, ..ctx };
        assert!(ballot.verify(&other, &[APPROVE]).is_err(), "replay in another election");
        // Where 0..=options makes the bound implied, the selections proof must be empty.
        let all = Question { options: 4, min: 0, max: 4 };
        let (implied, _) = encrypt(&ctx, &[all], &[vec![true, false, true, false]], &mut s.rng).unwrap();
        assert!(implied.answers[0].selections_proof.branches.is_empty());
        implied.verify(&ctx, &[all]).unwrap();
        let mut padded = implied.clone();
        padded.answers[0].selections_proof = ballot.answers[0].selections_proof.clone();
        assert!(padded.verify(&ctx, &[all]).is_err(), "a selections proof where none belongs");
        // Wrong shape.
        let mut short = ballot.clone();
        short.answers[0].choices.pop();
        assert!(short.verify(&ctx, &[APPROVE]).is_err());
        // Benaloh: the honest opening shows the choice; a wrong nonce is caught.
        assert_eq!(open(&s.key, &ballot.choices(), &nonces).unwrap(), vec![vec![true, false, false, false]]);
        let wrong = BallotNonces(vec![nonces.0[0].iter().map(|_| Nonce::random(&mut s.rng)).collect()]);
        assert!(open(&s.key, &ballot.choices(), &wrong).is_err());
    }

    #[test]
    fn signatures_bind_the_ballot_to_its_credential() {
        let mut s = setup();
        let message = [3u8; 40];
        let sig = s.credential.sign(&message);
        crate::signing::verify("credential", &s.credential.public(), &message, &sig).unwrap();
        assert!(crate::signing::verify("credential", &s.credential.public(), &[4u8; 40], &sig).is_err());
        let (_, other) = Credential::generate(&mut s.rng);
        assert!(crate::signing::verify("credential", &other.public(), &message, &sig).is_err());
        assert_eq!(Credential::from_secret(&[1u8; 32]).public(), Credential::from_secret(&[1u8; 32]).public());
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use crate::elgamal::DiscreteLog;
    use crate::group::generator;
    use proptest::prelude::*;
    use rand_chacha::rand_core::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]
        /// decrypt(tally(encrypt(votes))) is the plain weighted count, for random
        /// questions, votes and weights.
        #[test]
        fn the_decrypted_tally_is_the_plain_count(
            seed in any::<u64>(),
            options in 1u32..5,
            votes in prop::collection::vec((any::<u64>(), 1u64..4), 1..8),
        ) {
            let mut rng = ChaCha20Rng::seed_from_u64(seed);
            let x = Scalar::random(&mut rng);
            let key = ElectionKey::new(x * generator()).unwrap();
            let q = Question { options, min: 0, max: options };
            let credential = [7u8; 32];
            let ctx = BallotContext { election_hash: &[1u8; 32], key: &key, credential: &credential };
            let mut plain = vec![0u64; options as usize];
            let mut ballots = Vec::new();
            for (bits, weight) in &votes {
                let choice: Vec<bool> = (0..options).map(|o| bits >> o & 1 == 1).collect();
                for (p, &c) in plain.iter_mut().zip(&choice) {
                    *p += c as u64 * weight;
                }
                let (b, _) = encrypt(&ctx, &[q], &[choice], &mut rng).unwrap();
                prop_assert!(b.verify(&ctx, &[q]).is_ok());
                ballots.push((b, *weight));
            }
            let sums = tally(&[q], ballots.iter().map(|(b, w)| (b, *w)));
            let dlog = DiscreteLog::new(64);
            let decrypted: Vec<u64> = sums[0].iter().map(|ct| dlog.solve(&(ct.beta - x * ct.alpha)).unwrap()).collect();
            prop_assert_eq!(decrypted, plain);
        }
    }
}
