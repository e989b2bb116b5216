//! What each role of an election signs, built once for every caller: the trustees'
//! ceremony steps and partial decryptions, the credential authority's list, and a
//! voter's cast or challenged ballot. The command line (on the role's own machine),
//! the demo and the tests use these; none of them needs the server's help, and the
//! server never sees a secret they use.

use hiwar_crypto::ballot::{self, BallotContext, Credential, Question};
use hiwar_crypto::elgamal::{Ciphertext, ElectionKey};
use hiwar_crypto::group::point_to_hex;
use hiwar_crypto::signing::Signer25519;
use hiwar_crypto::threshold::{self, Dealer, DealerPublic, EncryptedShare, ShareKey, TrusteeKey};
use hiwar_crypto::{RistrettoPoint, Scalar};
use rand_core::{CryptoRngCore, SeedableRng};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::hash::{cast_message, sign_event, tracking_code};
use super::wire::{
    ballot_json, choices_json, dealer_json, encrypted_share_json, equality_json, nonces_json, partial_json,
};

/// A trustee: its long-term keys, for signing its steps and for receiving shares.
pub struct TrusteeRole {
    signing_seed: Zeroizing<[u8; 32]>,
    pub signer: Signer25519,
    pub share_key: ShareKey,
}

impl TrusteeRole {
    pub fn new(signing_seed: &[u8; 32], share_secret: Scalar) -> Self {
        TrusteeRole {
            signing_seed: Zeroizing::new(*signing_seed),
            signer: Signer25519::from_seed(signing_seed),
            share_key: ShareKey::from_scalar(share_secret),
        }
    }

    pub fn generate(rng: &mut impl CryptoRngCore) -> Self {
        let (seed, _) = Signer25519::generate(rng);
        let share = ShareKey::generate(rng);
        Self::new(&seed, *share.secret())
    }

    /// The secrets, for the trustee's own key file.
    pub fn secret_json(&self) -> Value {
        json!({"signing_seed": hex::encode(*self.signing_seed),
            "share_secret": hiwar_crypto::group::scalar_to_hex(self.share_key.secret())})
    }

    /// The public keys, as `election.created` names a trustee.
    pub fn public(&self) -> Value {
        json!({"signing_key": hex::encode(self.signer.public()), "share_key": point_to_hex(&self.share_key.public())})
    }

    /// Which trustee (from 1) the election names with these keys.
    pub fn index_in(&self, created: &Value) -> Option<u32> {
        let mine = self.public();
        created["trustees"]
            .as_array()?
            .iter()
            .position(|t| t["signing_key"] == mine["signing_key"] && t["share_key"] == mine["share_key"])
            .map(|i| i as u32 + 1)
    }

    /// The dealer's polynomial and proof for one election, derived from the trustee's
    /// secrets and the election hash: the ceremony can be resumed without storing it,
    /// the commitment and the reveal always agree, and another election gets another
    /// polynomial.
    fn dealer(&self, hash: &[u8; 32], index: u32, threshold: u32) -> (Dealer, DealerPublic) {
        let mut h = Sha256::new();
        h.update(b"hiwar/v2/dealer\n");
        h.update(*self.signing_seed);
        h.update(self.share_key.secret().to_bytes());
        h.update(hash);
        let mut rng = rand_chacha::ChaCha20Rng::from_seed(h.finalize().into());
        let dealer = Dealer::new(index, threshold, &mut rng);
        let public = dealer.public(hash, &mut rng);
        (dealer, public)
    }

    fn signed(&self, kind: &str, hash: &[u8; 32], body: Value) -> Value {
        sign_event(kind, hash, body, &self.signer)
    }

    /// Step 1: `election.trustee_committed`.
    pub fn committed(&self, election: &str, hash: &[u8; 32], index: u32, threshold: u32) -> Value {
        let (_, public) = self.dealer(hash, index, threshold);
        let body = json!({"election": election, "trustee": index, "hash": hex::encode(public.commitment_hash())});
        self.signed("election.trustee_committed", hash, body)
    }

    /// Step 2: `election.trustee_revealed`.
    pub fn revealed(&self, election: &str, hash: &[u8; 32], index: u32, threshold: u32) -> Value {
        let (_, public) = self.dealer(hash, index, threshold);
        let (commitments, proof) = dealer_json(&public);
        let body = json!({"election": election, "trustee": index, "commitments": commitments, "proof": proof});
        self.signed("election.trustee_revealed", hash, body)
    }

    /// Step 3: `election.trustee_shares`, one share per trustee, encrypted to its key.
    pub fn shares(
        &self,
        election: &str,
        hash: &[u8; 32],
        index: u32,
        threshold: u32,
        share_keys: &[RistrettoPoint],
        rng: &mut impl CryptoRngCore,
    ) -> Value {
        let (dealer, _) = self.dealer(hash, index, threshold);
        let shares: Vec<Value> = share_keys
            .iter()
            .enumerate()
            .map(|(k, key)| {
                let j = k as u32 + 1;
                encrypted_share_json(&threshold::encrypt_share(hash, index, j, key, &dealer.share_for(j), rng))
            })
            .collect();
        self.signed("election.trustee_shares", hash, json!({"election": election, "trustee": index, "shares": shares}))
    }

    /// Step 4: checks the share `dealer` dealt to trustee `index`; a wrong one gets the
    /// signed `election.trustee_complaint` that proves it.
    pub fn check_share(
        &self,
        election: &str,
        hash: &[u8; 32],
        index: u32,
        dealer: &DealerPublic,
        share: &EncryptedShare,
        rng: &mut impl CryptoRngCore,
    ) -> Option<Value> {
        let good =
            self.share_key.decrypt(hash, dealer.index, index, share).is_ok_and(|s| dealer.share_is_valid(index, &s));
        if good {
            return None;
        }
        let (key, proof) = self.share_key.complain(hash, dealer.index, index, share, rng);
        let body = json!({"election": election, "trustee": index, "dealer": dealer.index,
            "key": point_to_hex(&key), "proof": equality_json(&proof)});
        Some(self.signed("election.trustee_complaint", hash, body))
    }

    /// The trustee's key share, from what every dealer dealt it.
    pub fn key_share(
        &self,
        hash: &[u8; 32],
        index: u32,
        dealt: &[(DealerPublic, EncryptedShare)],
    ) -> Result<TrusteeKey, String> {
        let shares = dealt
            .iter()
            .map(|(public, share)| {
                let s = self
                    .share_key
                    .decrypt(hash, public.index, index, share)
                    .map_err(|e| format!("the share from trustee {}: {e}", public.index))?;
                Ok((public.clone(), s))
            })
            .collect::<Result<Vec<_>, String>>()?;
        TrusteeKey::from_shares(index, &shares).map_err(|e| e.to_string())
    }

    /// `election.partial_decryption` of a closed (and recomputed) tally.
    pub fn partial(
        &self,
        election: &str,
        hash: &[u8; 32],
        key: &TrusteeKey,
        tally: &[Vec<Ciphertext>],
        rng: &mut impl CryptoRngCore,
    ) -> Value {
        let shares: Vec<Vec<Value>> = tally
            .iter()
            .map(|q| q.iter().map(|ct| partial_json(&key.partial_decrypt(hash, &ct.alpha, rng))).collect())
            .collect();
        let body = json!({"election": election, "trustee": key.index, "shares": shares});
        self.signed("election.partial_decryption", hash, body)
    }
}

/// Credentials per `election.credentials` line (each well under the record's line limit).
pub const CREDENTIALS_PER_EVENT: usize = 10_000;

/// The credential authority's signed list: `election.credentials` bodies for
/// `(public credential, weight)`, in chunks; `made_by` is `"authority"` or `"members"`
/// (see [`super::setup::MADE_BY`]).
pub fn credential_lists(
    election: &str,
    hash: &[u8; 32],
    authority: &Signer25519,
    list: &[([u8; 32], u64)],
    weighted: bool,
    made_by: &str,
) -> Vec<Value> {
    list.chunks(CREDENTIALS_PER_EVENT)
        .map(|chunk| {
            let weights = if weighted { json!(chunk.iter().map(|(_, w)| w).collect::<Vec<_>>()) } else { Value::Null };
            let body = json!({"election": election,
                "credentials": chunk.iter().map(|(c, _)| hex::encode(c)).collect::<Vec<_>>(), "weights": weights,
                "made_by": made_by});
            sign_event("election.credentials", hash, body, authority)
        })
        .collect()
}

/// What a voter's device needs: the election's hash, key and questions.
pub struct VotingBooth<'a> {
    pub election: &'a str,
    pub hash: &'a [u8; 32],
    pub key: &'a ElectionKey,
    pub questions: &'a [Question],
}

/// A ballot made and not yet sent: the device shows its tracking code, then sends
/// either `cast` (signed) or `spoiled` (the same ciphertexts opened, Benaloh's
/// challenge) — never both, since a tracking code may appear only once (E5, E7).
pub struct Prepared {
    pub tracking: String,
    pub cast: Value,
    pub spoiled: Value,
}

impl VotingBooth<'_> {
    /// Encrypts and proves `choices`, signs the cast form with the credential, and
    /// prepares the opened form for a challenge. The opened form is re-opened here
    /// first, as the voter's second device would, so a wrong encryption is caught.
    pub fn prepare(
        &self,
        credential: &Credential,
        choices: &[Vec<bool>],
        counter: u64,
        rng: &mut impl CryptoRngCore,
    ) -> Result<Prepared, String> {
        let public = credential.public();
        let ctx = BallotContext { election_hash: self.hash, key: self.key, credential: &public };
        let (b, nonces) = ballot::encrypt(&ctx, self.questions, choices, rng).map_err(|e| e.to_string())?;
        let tracking = hex::encode(tracking_code(self.hash, &b.choices()));
        let wire = ballot_json(&b);
        let signature = hex::encode(credential.sign(&cast_message(self.hash, counter, &wire)));
        let cast = json!({"election": self.election, "credential": hex::encode(public), "counter": counter,
            "ballot": wire, "signature": signature, "tracking": tracking});
        let opened = ballot::open(self.key, &b.choices(), &nonces).map_err(|e| e.to_string())?;
        if opened != choices {
            return Err("the ballot does not open to the choices made".into());
        }
        let plaintext: Vec<Vec<u8>> = choices.iter().map(|q| q.iter().map(|&c| c as u8).collect()).collect();
        let spoiled = json!({"election": self.election, "tracking": tracking, "choices": choices_json(&b),
            "nonces": nonces_json(&nonces), "plaintext": plaintext});
        Ok(Prepared { tracking, cast, spoiled })
    }

    /// The body of `ballot.cast` for `choices`.
    pub fn cast(
        &self,
        credential: &Credential,
        choices: &[Vec<bool>],
        counter: u64,
        rng: &mut impl CryptoRngCore,
    ) -> Result<Value, String> {
        Ok(self.prepare(credential, choices, counter, rng)?.cast)
    }

    /// The body of `ballot.spoiled`: a ballot made for `choices`, then challenged.
    pub fn challenge(
        &self,
        credential: &Credential,
        choices: &[Vec<bool>],
        rng: &mut impl CryptoRngCore,
    ) -> Result<Value, String> {
        Ok(self.prepare(credential, choices, 0, rng)?.spoiled)
    }
}

/// What every dealer dealt trustee `j`, from the `election.trustee_revealed` and
/// `election.trustee_shares` bodies of one election: each dealer's public commitments
/// with the share encrypted to `j`.
pub fn dealt_to(revealed: &[&Value], shares: &[&Value], j: u32) -> Result<Vec<(DealerPublic, EncryptedShare)>, String> {
    use super::wire::{parse_encrypted_share, parse_knowledge, point};
    revealed
        .iter()
        .map(|reveal| {
            let commitments = reveal["commitments"]
                .as_array()
                .ok_or("a reveal without commitments")?
                .iter()
                .map(|c| point(c, "commitment"))
                .collect::<Result<Vec<_>, _>>()?;
            let public = DealerPublic {
                index: reveal["trustee"].as_u64().unwrap_or_default() as u32,
                commitments,
                proof: parse_knowledge(&reveal["proof"])?,
            };
            let dealt = shares
                .iter()
                .find(|b| b["trustee"] == public.index)
                .ok_or_else(|| format!("trustee {} dealt no shares", public.index))?;
            let share = parse_encrypted_share(&dealt["shares"][j as usize - 1])?;
            Ok((public, share))
        })
        .collect()
}

/// What a trustee does next in an election's key ceremony, decided from the record's
/// events of that election (`(kind, body)`, in order).
#[derive(Debug, Clone, PartialEq)]
pub enum CeremonyStep {
    /// Send this signed event to the server.
    Send(&'static str, Value),
    /// Wait for the other trustees (what for).
    Wait(String),
    /// The ceremony is complete and every share dealt to this trustee checks out.
    Done,
    /// The ceremony has failed (a complaint); the election must be created again.
    Failed(String),
}

fn of_kind<'a>(events: &'a [(String, Value)], kind: &'a str) -> impl Iterator<Item = &'a Value> + Clone {
    events.iter().filter(move |(k, _)| k == kind).map(|(_, b)| b)
}

/// The election's `election.created` body and hash, from its events.
fn created_of<'a>(dialogue: &str, events: &'a [(String, Value)]) -> Result<(&'a Value, [u8; 32]), String> {
    let created = of_kind(events, "election.created").next().ok_or("the election is not in the record")?;
    Ok((created, super::election_hash(dialogue, created)))
}

impl TrusteeRole {
    /// The next step of this trustee in the ceremony of the election whose events are
    /// `events`: commit, reveal, deal, then check the shares dealt to it (a wrong one
    /// gets a complaint with its proof).
    pub fn next_step(
        &self,
        dialogue: &str,
        events: &[(String, Value)],
        rng: &mut impl CryptoRngCore,
    ) -> Result<CeremonyStep, String> {
        let (created, hash) = created_of(dialogue, events)?;
        let election = created["election"].as_str().unwrap_or_default();
        let i = self.index_in(created).ok_or("the election does not name these keys as one of its trustees")?;
        let n = created["trustees"].as_array().map_or(0, Vec::len);
        let t = created["threshold"].as_u64().unwrap_or(1) as u32;
        if let Some(c) = of_kind(events, "election.trustee_complaint").next() {
            return Ok(CeremonyStep::Failed(format!(
                "trustee {} complained about trustee {}: the ceremony has failed; the convener must create the election again",
                c["trustee"], c["dealer"]
            )));
        }
        let count = |kind: &str| of_kind(events, kind).count();
        let done = |kind: &str| of_kind(events, kind).any(|b| b["trustee"] == i);
        let wait = |what: &str, kind: &str| {
            CeremonyStep::Wait(format!("waiting for the others to {what} ({} of {n})", count(kind)))
        };
        Ok(if !done("election.trustee_committed") {
            CeremonyStep::Send("election.trustee_committed", self.committed(election, &hash, i, t))
        } else if count("election.trustee_committed") < n {
            wait("commit", "election.trustee_committed")
        } else if !done("election.trustee_revealed") {
            CeremonyStep::Send("election.trustee_revealed", self.revealed(election, &hash, i, t))
        } else if count("election.trustee_revealed") < n {
            wait("reveal", "election.trustee_revealed")
        } else if !done("election.trustee_shares") {
            let keys = created["trustees"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|t| super::wire::point(&t["share_key"], "share key"))
                .collect::<Result<Vec<_>, _>>()?;
            CeremonyStep::Send("election.trustee_shares", self.shares(election, &hash, i, t, &keys, rng))
        } else if count("election.trustee_shares") < n {
            wait("deal their shares", "election.trustee_shares")
        } else {
            let revealed: Vec<&Value> = of_kind(events, "election.trustee_revealed").collect();
            let dealt: Vec<&Value> = of_kind(events, "election.trustee_shares").collect();
            for (dealer, share) in dealt_to(&revealed, &dealt, i)? {
                if let Some(complaint) = self.check_share(election, &hash, i, &dealer, &share, rng) {
                    return Ok(CeremonyStep::Send("election.trustee_complaint", complaint));
                }
            }
            CeremonyStep::Done
        })
    }

    /// This trustee's signed partial decryption of the election's closed tally — after
    /// recomputing that tally from the record's ballots (the last ballot of each listed
    /// credential, weighted), so the trustee decrypts nothing else, such as one ballot.
    pub fn decrypt(
        &self,
        dialogue: &str,
        events: &[(String, Value)],
        rng: &mut impl CryptoRngCore,
    ) -> Result<Value, String> {
        let (created, hash) = created_of(dialogue, events)?;
        let election = created["election"].as_str().unwrap_or_default();
        let j = self.index_in(created).ok_or("the election does not name these keys as one of its trustees")?;
        let closed = of_kind(events, "election.closed")
            .next()
            .ok_or("the election is not closed: there is no tally to decrypt")?;
        let tally = recount(created, events)?;
        let published = closed["tally"]
            .as_array()
            .ok_or("the closed election has no tally")?
            .iter()
            .map(|q| q.as_array().into_iter().flatten().map(|c| super::wire::parse_ct(c, "tally", false)).collect())
            .collect::<Result<Vec<Vec<Ciphertext>>, String>>()?;
        if published != tally {
            return Err(
                "the published tally is not the sum of the record's counted ballots: refusing to decrypt it".into()
            );
        }
        let revealed: Vec<&Value> = of_kind(events, "election.trustee_revealed").collect();
        let dealt: Vec<&Value> = of_kind(events, "election.trustee_shares").collect();
        let key = self.key_share(&hash, j, &dealt_to(&revealed, &dealt, j)?)?;
        Ok(self.partial(election, &hash, &key, &tally, rng))
    }
}

/// The tally of an election recomputed from its events: per question and option, the
/// weighted sum of the last cast ballot of each listed credential. (The proofs are not
/// checked here: `hiwar verify` does that.)
pub fn recount(created: &Value, events: &[(String, Value)]) -> Result<Vec<Vec<Ciphertext>>, String> {
    use std::collections::HashMap;
    let mut weights: HashMap<&str, u64> = HashMap::new();
    for list in of_kind(events, "election.credentials") {
        let credentials = list["credentials"].as_array().ok_or("a credential list without credentials")?;
        for (k, c) in credentials.iter().enumerate() {
            let weight = list["weights"].get(k).and_then(Value::as_u64).unwrap_or(1);
            weights.insert(c.as_str().unwrap_or_default(), weight);
        }
    }
    let mut last: HashMap<&str, &Value> = HashMap::new();
    for b in of_kind(events, "ballot.cast") {
        last.insert(b["credential"].as_str().unwrap_or_default(), &b["ballot"]);
    }
    let mut tally: Vec<Vec<Ciphertext>> = created["questions"]
        .as_array()
        .ok_or("no questions")?
        .iter()
        .map(|q| vec![Ciphertext::zero(); q["options"].as_array().map_or(0, Vec::len)])
        .collect();
    for (credential, ballot) in last {
        let weight = *weights.get(credential).ok_or("a ballot from a credential not on the list")?;
        for (row, answer) in tally.iter_mut().zip(ballot["answers"].as_array().ok_or("a ballot without answers")?) {
            for (sum, ct) in row.iter_mut().zip(answer["choices"].as_array().ok_or("an answer without choices")?) {
                *sum = *sum + super::wire::parse_ct(ct, "choice", true)? * weight;
            }
        }
    }
    Ok(tally)
}
