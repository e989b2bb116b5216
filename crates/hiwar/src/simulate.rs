//! `hiwar election simulate`: a complete election run locally — trustees' key
//! generation, credentials, ballots with some re-votes and challenged (spoiled)
//! ballots, the tally, threshold decryption by a subset of t trustees — written as a
//! signed record that `hiwar verify` checks like any other.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use anyhow::{bail, Context, Result};
use ed25519_dalek::SigningKey;
use hiwar_crypto::ballot::{self, BallotContext, Credential, Question};
use hiwar_crypto::elgamal::{Ciphertext, ElectionKey};
use hiwar_crypto::group::point_to_hex;
use hiwar_crypto::signing::Signer25519;
use hiwar_crypto::threshold::{self, Dealer, DealerPublic, EncryptedShare, ShareKey, TrusteeKey};
use hiwar_record::election::{
    ballot_json, cast_message, choices_json, ct_json, dealer_json, decode_total, election_hash, encrypted_share_json,
    nonces_json, partial_json, roll_hash, sign_event, tracking_code,
};
use hiwar_record::events::{bilingual, body};
use hiwar_record::{now_rfc3339, Event, GENESIS_PREV};
use indicatif::{ProgressBar, ProgressStyle};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

/// Settings of one simulation.
pub struct Simulation {
    pub voters: u64,
    pub options: u32,
    pub min: u32,
    pub max: u32,
    pub threshold: u32,
    pub trustees: u32,
    pub seed: u64,
    /// One voter in `revote_every` votes twice (the second ballot counts).
    pub revote_every: u64,
    /// One voter in `challenge_every` first challenges a ballot.
    pub challenge_every: u64,
    /// The time stamp of every event (default: now).
    pub time: Option<String>,
    /// Give voters public weights 1, 2, 3, 1, 2, 3, … instead of 1 each.
    pub weighted: bool,
    /// Where to write the trustees' key files (for `hiwar trustee decrypt`) and the
    /// credential authority's, if anywhere.
    pub keys: Option<std::path::PathBuf>,
}

impl Simulation {
    fn weight(&self, voter: u64) -> u64 {
        if self.weighted {
            1 + voter % 3
        } else {
            1
        }
    }
}

/// Seals events into a record file.
struct Writer {
    out: BufWriter<File>,
    key: SigningKey,
    dialogue: String,
    seq: u64,
    prev: String,
    time: String,
}

impl Writer {
    fn push(&mut self, kind: &str, body: Value) -> Result<()> {
        let sealed = Event {
            dialogue: self.dialogue.clone(),
            seq: self.seq,
            prev: std::mem::take(&mut self.prev),
            time: self.time.clone(),
            kind: kind.into(),
            body,
        }
        .seal(&self.key)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
        self.out.write_all(sealed.text.as_bytes())?;
        self.out.write_all(b"\n")?;
        self.prev = hex::encode(sealed.hash);
        self.seq += 1;
        Ok(())
    }
}

fn rng_for(seed: u64, stream: &str, index: u64) -> ChaCha20Rng {
    let mut h = Sha256::new();
    h.update(seed.to_le_bytes());
    h.update(stream.as_bytes());
    h.update(index.to_le_bytes());
    ChaCha20Rng::from_seed(h.finalize().into())
}

fn random_choice(q: &Question, rng: &mut ChaCha20Rng) -> Vec<bool> {
    let count = rng.gen_range(q.min..=q.max) as usize;
    let mut choice = vec![false; q.options as usize];
    let mut picked = 0;
    while picked < count {
        let o = rng.gen_range(0..q.options as usize);
        if !choice[o] {
            choice[o] = true;
            picked += 1;
        }
    }
    choice
}

/// What one voter's turn produced: record bodies in order, and the counted choice.
struct VoterOutput {
    weight: u64,
    events: Vec<(&'static str, Value)>,
    counted: Vec<bool>,
    counted_cts: Vec<Ciphertext>,
}

/// The credential of voter `i`, whose secret the credential authority derives as
/// `SHA-256("hiwar/simulate/credential" ‖ seed ‖ i)` (8 bytes little-endian each), so
/// tests can act as a voter of a simulated election.
pub fn credential_of(seed: u64, i: u64) -> Credential {
    let mut h = Sha256::new();
    h.update(b"hiwar/simulate/credential");
    h.update(seed.to_le_bytes());
    h.update(i.to_le_bytes());
    Credential::from_secret(&Zeroizing::new(<[u8; 32]>::from(h.finalize())))
}

fn vote(
    sim: &Simulation,
    ctx_hash: &[u8; 32],
    key: &ElectionKey,
    q: &Question,
    election: &str,
    i: u64,
) -> Result<VoterOutput> {
    let mut rng = rng_for(sim.seed, "voter", i);
    let credential = credential_of(sim.seed, i);
    let public = credential.public();
    let ctx = BallotContext { election_hash: ctx_hash, key, credential: &public };
    let mut events = Vec::new();
    let make = |rng: &mut ChaCha20Rng| -> Result<(Vec<bool>, ballot::Ballot, ballot::BallotNonces)> {
        let choice = random_choice(q, rng);
        let (b, nonces) = ballot::encrypt(&ctx, std::slice::from_ref(q), std::slice::from_ref(&choice), rng)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        Ok((choice, b, nonces))
    };
    if sim.challenge_every > 0 && i % sim.challenge_every == 1 {
        // Challenged: the device reveals the nonces and never signs this ballot.
        let (choice, b, nonces) = make(&mut rng)?;
        let plaintext: Vec<Vec<u8>> = vec![choice.iter().map(|&c| c as u8).collect()];
        events.push((
            "ballot.spoiled",
            json!({"election": election, "tracking": hex::encode(tracking_code(ctx_hash, &b.choices())),
            "choices": choices_json(&b), "nonces": nonces_json(&nonces), "plaintext": plaintext}),
        ));
    }
    let times = if sim.revote_every > 0 && i.is_multiple_of(sim.revote_every) { 2 } else { 1 };
    let mut last = None;
    for counter in 1..=times {
        let (choice, b, _) = make(&mut rng)?;
        let wire = ballot_json(&b);
        let signature = hex::encode(credential.sign(&cast_message(ctx_hash, counter, &wire)));
        events.push((
            "ballot.cast",
            json!({"election": election, "credential": hex::encode(public), "counter": counter, "ballot": wire,
            "signature": signature, "tracking": hex::encode(tracking_code(ctx_hash, &b.choices()))}),
        ));
        last = Some((choice, b.answers[0].choices.clone()));
    }
    let (counted, counted_cts) = last.expect("at least one ballot");
    Ok(VoterOutput { weight: sim.weight(i), events, counted, counted_cts })
}

/// One simulated trustee: its long-term keys and, during the ceremony, its polynomial.
struct SimTrustee {
    index: u32,
    signing_seed: Zeroizing<[u8; 32]>,
    signer: Signer25519,
    share_key: ShareKey,
}

/// The key file `hiwar trustee decrypt` reads: a trustee's own secrets for one election.
fn trustee_key_file(election: &str, hash: &[u8; 32], t: &SimTrustee) -> Value {
    json!({"election": election, "election_hash": hex::encode(hash), "trustee": t.index,
        "signing_seed": hex::encode(*t.signing_seed), "share_secret": hiwar_crypto::group::scalar_to_hex(t.share_key.secret())})
}

pub(crate) fn progress(len: u64, message: &str) -> ProgressBar {
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template("{msg:>10} [{bar:40}] {pos}/{len} {per_sec} eta {eta}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    bar.set_message(message.to_string());
    bar
}

/// Runs the simulation and writes the record to `out`. Returns the plain counts.
pub fn run(sim: &Simulation, out: &Path) -> Result<Vec<u64>> {
    let q = Question { options: sim.options, min: sim.min, max: sim.max };
    q.check().map_err(|e| anyhow::anyhow!("{e}"))?;
    if sim.threshold < 1 || sim.threshold > sim.trustees {
        bail!("trustees must be T/N with 1 ≤ T ≤ N");
    }
    if sim.voters == 0 {
        bail!("--voters must be at least 1");
    }
    let file = File::create(out).with_context(|| format!("creating {}", out.display()))?;
    let mut rng = rng_for(sim.seed, "setup", 0);
    let key = SigningKey::from_bytes(&rng.gen());
    let mut w = Writer {
        out: BufWriter::with_capacity(1 << 20, file),
        key,
        dialogue: "simulation".into(),
        seq: 0,
        prev: GENESIS_PREV.into(),
        time: sim.time.clone().unwrap_or_else(now_rfc3339),
    };
    let public_key = hex::encode(w.key.verifying_key().to_bytes());
    w.push(
        "dialogue.created",
        body::dialogue_created(&bilingual("انتخاب محاكى", "Simulated election"), &bilingual("", ""), &public_key),
    )?;
    w.push("member.joined", body::member_joined("m-convener", "Convener", "convener", None))?;

    let election = "e-1";
    // The roles: a credential authority and n trustees, each with keys of its own.
    let (authority_seed, authority) = Signer25519::generate(&mut rng);
    let trustees: Vec<SimTrustee> = (1..=sim.trustees)
        .map(|index| {
            let (signing_seed, signer) = Signer25519::generate(&mut rng);
            SimTrustee { index, signing_seed, signer, share_key: ShareKey::generate(&mut rng) }
        })
        .collect();
    let roll: Vec<(String, u64)> = (0..sim.voters).map(|i| (format!("voter-{i}"), sim.weight(i))).collect();
    let total_weight: u64 = roll.iter().map(|(_, w)| w).sum();
    let options: Vec<Value> =
        (0..sim.options).map(|o| bilingual(&format!("الخيار {}", o + 1), &format!("Option {}", o + 1))).collect();
    let created = json!({"election": election, "title": bilingual("سؤال", "Question"),
        "questions": [{"title": bilingual("اختر", "Choose"), "options": options, "min": sim.min, "max": sim.max}],
        "threshold": sim.threshold,
        "trustees": trustees.iter().map(|t| json!({"signing_key": hex::encode(t.signer.public()),
            "share_key": point_to_hex(&t.share_key.public())})).collect::<Vec<_>>(),
        "weighted": sim.weighted,
        "electorate": {"voters": sim.voters, "total_weight": total_weight, "roll": hex::encode(roll_hash(&roll))},
        "authority": hex::encode(authority.public()),
        "client": hex::encode(Sha256::digest(b"hiwar election simulate"))});
    drop(roll);
    let hash = election_hash(&w.dialogue, &created);
    w.push("election.created", created)?;
    if let Some(dir) = sim.keys.as_deref() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let mut files: Vec<(String, Value)> = trustees
            .iter()
            .map(|t| (format!("trustee-{}.json", t.index), trustee_key_file(election, &hash, t)))
            .collect();
        files.push((
            "authority.json".into(),
            json!({"election": election, "signing_seed": hex::encode(*authority_seed)}),
        ));
        for (name, contents) in files {
            let path = dir.join(name);
            std::fs::write(&path, contents.to_string()).with_context(|| format!("writing {}", path.display()))?;
        }
    }

    // The credential authority's list, in chunks small enough for one record line each.
    const CHUNK_CREDENTIALS: u64 = 10_000;
    for start in (0..sim.voters).step_by(CHUNK_CREDENTIALS as usize) {
        let end = (start + CHUNK_CREDENTIALS).min(sim.voters);
        let credentials: Vec<String> = (start..end).map(|i| hex::encode(credential_of(sim.seed, i).public())).collect();
        let weights =
            if sim.weighted { json!((start..end).map(|i| sim.weight(i)).collect::<Vec<_>>()) } else { Value::Null };
        let body =
            json!({"election": election, "credentials": credentials, "weights": weights, "made_by": "authority"});
        w.push("election.credentials", sign_event("election.credentials", &hash, body, &authority))?;
    }

    // Key generation: commitments, reveals, then each dealer's shares encrypted to every
    // trustee (itself included); every event signed by its trustee.
    let dealers: Vec<Dealer> = (1..=sim.trustees).map(|i| Dealer::new(i, sim.threshold, &mut rng)).collect();
    let publics: Vec<DealerPublic> = dealers.iter().map(|d| d.public(&hash, &mut rng)).collect();
    let signed = |kind: &str, t: &SimTrustee, body: Value| sign_event(kind, &hash, body, &t.signer);
    for (p, t) in publics.iter().zip(&trustees) {
        let body = json!({"election": election, "trustee": p.index, "hash": hex::encode(p.commitment_hash())});
        w.push("election.trustee_committed", signed("election.trustee_committed", t, body))?;
    }
    for (p, t) in publics.iter().zip(&trustees) {
        let (commitments, proof) = dealer_json(p);
        let body = json!({"election": election, "trustee": p.index, "commitments": commitments, "proof": proof});
        w.push("election.trustee_revealed", signed("election.trustee_revealed", t, body))?;
    }
    let mut dealt: Vec<Vec<EncryptedShare>> = Vec::new();
    for (d, t) in dealers.iter().zip(&trustees) {
        let shares: Vec<EncryptedShare> = trustees
            .iter()
            .map(|r| {
                threshold::encrypt_share(
                    &hash,
                    t.index,
                    r.index,
                    &r.share_key.public(),
                    &d.share_for(r.index),
                    &mut rng,
                )
            })
            .collect();
        let body = json!({"election": election, "trustee": t.index,
            "shares": shares.iter().map(encrypted_share_json).collect::<Vec<_>>()});
        w.push("election.trustee_shares", signed("election.trustee_shares", t, body))?;
        dealt.push(shares);
    }
    drop(dealers);
    // Each trustee decrypts and checks what it was dealt, as it would from the record.
    let trustee_keys: Vec<TrusteeKey> = trustees
        .iter()
        .map(|t| {
            let shares = publics
                .iter()
                .zip(&dealt)
                .map(|(p, row)| {
                    let share = t.share_key.decrypt(&hash, p.index, t.index, &row[t.index as usize - 1])?;
                    Ok((p.clone(), share))
                })
                .collect::<std::result::Result<Vec<_>, hiwar_crypto::CryptoError>>()
                .and_then(|shares| TrusteeKey::from_shares(t.index, &shares));
            shares.map_err(|e| anyhow::anyhow!("trustee {}: {e}", t.index))
        })
        .collect::<Result<_>>()?;
    let election_point = threshold::election_key(&publics);
    let verification_keys: Vec<String> =
        (1..=sim.trustees).map(|j| point_to_hex(&threshold::verification_key(&publics, j))).collect();
    w.push(
        "election.opened",
        json!({"election": election, "public_key": point_to_hex(&election_point), "verification_keys": verification_keys}),
    )?;
    let key = ElectionKey::new(election_point).map_err(|e| anyhow::anyhow!("{e}"))?;

    // Voting, on all cores, in chunks.
    let bar = progress(sim.voters, "ballots");
    let mut counts = vec![0u64; sim.options as usize];
    let mut tally = vec![Ciphertext::zero(); sim.options as usize];
    let (mut cast, mut superseded) = (0u64, 0u64);
    let workers = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2) as u64;
    const CHUNK: u64 = 2048;
    let mut start = 0;
    while start < sim.voters {
        let end = (start + CHUNK).min(sim.voters);
        let per = (end - start).div_ceil(workers);
        let outputs: Vec<Vec<VoterOutput>> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..workers)
                .map(|k| {
                    let (from, to) = ((start + k * per).min(end), (start + (k + 1) * per).min(end));
                    let (key, q, hash) = (&key, &q, &hash);
                    scope.spawn(move || {
                        (from..to).map(|i| vote(sim, hash, key, q, election, i)).collect::<Result<Vec<_>>>()
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().expect("voter thread")).collect::<Result<Vec<_>>>()
        })?;
        for output in outputs.into_iter().flatten() {
            superseded += output.events_superseded();
            for (kind, body) in output.events {
                if kind == "ballot.cast" {
                    cast += 1;
                }
                w.push(kind, body)?;
            }
            for (o, &c) in output.counted.iter().enumerate() {
                counts[o] += c as u64 * output.weight;
            }
            for (t, ct) in tally.iter_mut().zip(&output.counted_cts) {
                *t = *t + *ct * output.weight;
            }
        }
        bar.set_position(end);
        start = end;
    }
    bar.finish();

    w.push(
        "election.closed",
        json!({"election": election, "counted": cast - superseded, "superseded": superseded,
        "tally": [tally.iter().map(ct_json).collect::<Vec<_>>()]}),
    )?;

    // Any t trustees decrypt: here the last t, to show it need not be the first.
    let deciders: Vec<&TrusteeKey> = trustee_keys.iter().rev().take(sim.threshold as usize).collect();
    let mut partials = Vec::new();
    for t in &deciders {
        let row: Vec<_> = tally.iter().map(|ct| t.partial_decrypt(&hash, &ct.alpha, &mut rng)).collect();
        let body = json!({"election": election, "trustee": t.index,
            "shares": [row.iter().map(partial_json).collect::<Vec<_>>()]});
        let signer = &trustees[t.index as usize - 1];
        w.push("election.partial_decryption", signed("election.partial_decryption", signer, body))?;
        partials.push(row);
    }
    let mut decoded = Vec::new();
    for (o, ct) in tally.iter().enumerate() {
        let shares: Vec<_> = partials.iter().map(|row| row[o]).collect();
        let m = threshold::combine(ct, &shares, sim.threshold).map_err(|e| anyhow::anyhow!("{e}"))?;
        let total_weight = (0..sim.voters).map(|i| sim.weight(i)).sum();
        decoded.push(decode_total(&m, total_weight).context("decoding a total")?);
    }
    if decoded != counts {
        bail!("threshold decryption gave {decoded:?}, the plain count is {counts:?}");
    }
    let mut set: Vec<u32> = deciders.iter().map(|t| t.index).collect();
    set.sort_unstable();
    w.push("election.result", json!({"election": election, "trustees": set, "counts": [decoded]}))?;
    w.out.flush()?;
    Ok(counts)
}

impl VoterOutput {
    /// Cast ballots of this voter beyond the one that counts.
    fn events_superseded(&self) -> u64 {
        (self.events.iter().filter(|(k, _)| *k == "ballot.cast").count() as u64).saturating_sub(1)
    }
}
