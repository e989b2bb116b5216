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
use hiwar_crypto::threshold::{self, Dealer, DealerPublic, TrusteeKey};
use hiwar_record::election::{
    ballot_digest, ballot_json, ct_json, dealer_json, decode_total, election_hash, nonces_json, partial_json,
};
use hiwar_record::events::{bilingual, body};
use hiwar_record::{now_rfc3339, Event, GENESIS_PREV};
use indicatif::{ProgressBar, ProgressStyle};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

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

fn vote(
    sim: &Simulation,
    ctx_hash: &[u8; 32],
    key: &ElectionKey,
    q: &Question,
    election: &str,
    i: u64,
) -> Result<VoterOutput> {
    let mut rng = rng_for(sim.seed, "voter", i);
    let credential = Credential::from_secret(&rng.gen());
    let public = credential.public();
    let ctx = BallotContext { election_hash: ctx_hash, key, credential: &public };
    let mut events = Vec::new();
    let make =
        |rng: &mut ChaCha20Rng| -> Result<(Vec<bool>, ballot::Ballot, ballot::BallotNonces, Value, String, String)> {
            let choice = random_choice(q, rng);
            let (b, nonces) =
                ballot::encrypt(&ctx, &[*q], &[choice.clone()], rng).map_err(|e| anyhow::anyhow!("{e}"))?;
            let wire = ballot_json(&b);
            let digest = ballot_digest(ctx_hash, &public, &wire);
            let signature = hex::encode(credential.sign(&digest));
            Ok((choice, b, nonces, wire, hex::encode(digest), signature))
        };
    if sim.challenge_every > 0 && i % sim.challenge_every == 1 {
        let (choice, _, nonces, wire, tracking, signature) = make(&mut rng)?;
        let choices: Vec<Vec<u8>> = vec![choice.iter().map(|&c| c as u8).collect()];
        events.push((
            "ballot.spoiled",
            json!({"election": election, "credential": hex::encode(public), "ballot": wire,
            "signature": signature, "tracking": tracking, "nonces": nonces_json(&nonces), "choices": choices}),
        ));
    }
    let times = if sim.revote_every > 0 && i % sim.revote_every == 0 { 2 } else { 1 };
    let mut last = None;
    for _ in 0..times {
        let (choice, b, _, wire, tracking, signature) = make(&mut rng)?;
        events.push((
            "ballot.cast",
            json!({"election": election, "credential": hex::encode(public), "ballot": wire,
            "signature": signature, "tracking": tracking}),
        ));
        last = Some((choice, b.answers[0].choices.clone()));
    }
    let (counted, counted_cts) = last.expect("at least one ballot");
    Ok(VoterOutput { weight: sim.weight(i), events, counted, counted_cts })
}

fn progress(len: u64, message: &str) -> ProgressBar {
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
    let options: Vec<Value> =
        (0..sim.options).map(|o| bilingual(&format!("الخيار {}", o + 1), &format!("Option {}", o + 1))).collect();
    let created = json!({"election": election, "title": bilingual("سؤال", "Question"),
        "questions": [{"title": bilingual("اختر", "Choose"), "options": options, "min": sim.min, "max": sim.max}],
        "trustees": sim.trustees, "threshold": sim.threshold, "weighted": sim.weighted});
    let hash = election_hash(&w.dialogue, &created);
    w.push("election.created", created)?;

    // Credentials, in chunks small enough for one record line each.
    let mut credentials = Vec::with_capacity(sim.voters as usize);
    for i in 0..sim.voters {
        let mut r = rng_for(sim.seed, "voter", i);
        credentials.push(hex::encode(Credential::from_secret(&r.gen()).public()));
    }
    for (k, chunk) in credentials.chunks(10_000).enumerate() {
        let weights: Value = if sim.weighted {
            json!((0..chunk.len() as u64).map(|i| sim.weight(k as u64 * 10_000 + i)).collect::<Vec<_>>())
        } else {
            Value::Null
        };
        w.push("election.credentials", json!({"election": election, "credentials": chunk, "weights": weights}))?;
    }
    drop(credentials);

    // Key generation: commitments first, then reveals, then (private) shares.
    let dealers: Vec<Dealer> = (1..=sim.trustees).map(|i| Dealer::new(i, sim.threshold, &mut rng)).collect();
    let publics: Vec<DealerPublic> = dealers.iter().map(|d| d.public(&hash, &mut rng)).collect();
    for p in &publics {
        w.push(
            "election.trustee_committed",
            json!({"election": election, "trustee": p.index, "hash": hex::encode(p.commitment_hash())}),
        )?;
    }
    for p in &publics {
        let (commitments, proof) = dealer_json(p);
        w.push(
            "election.trustee_revealed",
            json!({"election": election, "trustee": p.index, "commitments": commitments, "proof": proof}),
        )?;
    }
    let trustee_keys: Vec<TrusteeKey> = (1..=sim.trustees)
        .map(|j| {
            let shares: Vec<_> = dealers.iter().zip(&publics).map(|(d, p)| (p.clone(), d.share_for(j))).collect();
            TrusteeKey::from_shares(j, &shares).map_err(|e| anyhow::anyhow!("{e}"))
        })
        .collect::<Result<_>>()?;
    let election_point = threshold::election_key(&publics);
    let verification_keys: Vec<String> =
        (1..=sim.trustees).map(|j| point_to_hex(&threshold::verification_key(&publics, j))).collect();
    w.push(
        "election.opened",
        json!({"election": election, "public_key": point_to_hex(&election_point),
        "trustees": (1..=sim.trustees).collect::<Vec<_>>(), "verification_keys": verification_keys}),
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
        w.push(
            "election.partial_decryption",
            json!({"election": election, "trustee": t.index,
            "shares": [row.iter().map(partial_json).collect::<Vec<_>>()]}),
        )?;
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
