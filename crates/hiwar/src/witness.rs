//! `hiwar witness`: what an observer runs on their own machine to witness a dialogue's
//! record — make a key, then watch: fetch the signed checkpoint, check that the record
//! extends the head last co-signed, co-sign, post the co-signature back. On an
//! inconsistency it stops and keeps both signed heads as evidence. Record spec §9.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use ed25519_dalek::VerifyingKey;
use hiwar_crypto::signing::Signer25519;
use hiwar_record::witness::{check_extension, Checkpoint, Cosignature, ForkProof};
use serde_json::{json, Value};
use zeroize::Zeroizing;

use crate::decide::write_secret;
use crate::verify::read_record;

/// Exit status when the record is inconsistent with what the witness co-signed.
pub const INCONSISTENT: u8 = 3;

/// `hiwar witness init`: a new witness key, kept in `out` (readable only by its owner).
pub fn init(out: &Path) -> Result<()> {
    let (seed, signer) = Signer25519::generate(&mut rand::rngs::OsRng);
    let public = hex::encode(signer.public());
    let file = Zeroizing::new(
        json!({"kind": "hiwar witness key", "secret": hex::encode(*seed), "public": public}).to_string(),
    );
    write_secret(out, &file)?;
    println!("{public}");
    eprintln!(
        "kept your witness key in {}; give the public key above to a convener of the dialogue, then run hiwar witness watch",
        out.display()
    );
    Ok(())
}

fn read_key(path: &Path) -> Result<Signer25519> {
    let text = Zeroizing::new(std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?);
    let value: Value =
        serde_json::from_str(&text).with_context(|| format!("{} is not a witness key", path.display()))?;
    let secret = value["secret"].as_str().filter(|_| value["kind"] == "hiwar witness key");
    let seed: Zeroizing<[u8; 32]> = Zeroizing::new(
        secret
            .and_then(|s| hex::decode(s).ok())
            .and_then(|b| b.try_into().ok())
            .with_context(|| format!("{} is not a witness key (from hiwar witness init)", path.display()))?,
    );
    Ok(Signer25519::from_seed(&seed))
}

/// The dialogue's address (`…/dialogues/{id}`), from what the user gave.
fn dialogue_base(url: &str) -> Result<(String, String)> {
    let base = url.trim_end_matches('/');
    let base = base.strip_suffix("/record").or_else(|| base.strip_suffix("/checkpoint")).unwrap_or(base);
    let id = base.rsplit('/').next().unwrap_or_default();
    if !base.contains("/dialogues/") || id.is_empty() {
        bail!("{url} is not a dialogue's address (http://host/dialogues/ID)");
    }
    Ok((base.to_string(), id.to_string()))
}

/// What the watcher keeps between rounds, in its state directory.
struct WatchState {
    dir: PathBuf,
    dialogue_key: Option<VerifyingKey>,
    cosigned: Option<Checkpoint>,
}

impl WatchState {
    fn load(dir: &Path) -> Result<WatchState> {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let key_file = dir.join("dialogue-key");
        let dialogue_key = match std::fs::read_to_string(&key_file) {
            Ok(text) => Some(parse_dialogue_key(text.trim())?),
            Err(_) => None,
        };
        let cosigned = match std::fs::read_to_string(dir.join("cosigned.json")) {
            Ok(text) => Some(Checkpoint::from_value(&serde_json::from_str(&text)?).map_err(anyhow::Error::msg)?),
            Err(_) => None,
        };
        Ok(WatchState { dir: dir.to_path_buf(), dialogue_key, cosigned })
    }

    fn pin(&mut self, key: VerifyingKey) -> Result<()> {
        std::fs::write(self.dir.join("dialogue-key"), hex::encode(key.as_bytes()))?;
        self.dialogue_key = Some(key);
        Ok(())
    }

    fn cosigned(&mut self, checkpoint: &Checkpoint) -> Result<()> {
        let path = self.dir.join("cosigned.json");
        let tmp = self.dir.join("cosigned.json.tmp");
        std::fs::write(&tmp, checkpoint.to_value().to_string())?;
        std::fs::rename(&tmp, &path)?;
        self.cosigned = Some(checkpoint.clone());
        Ok(())
    }

    /// Keeps the evidence of an inconsistency and returns its path.
    fn evidence(&self, detail: &str, new: &Checkpoint, proof: Option<&ForkProof>, lines: &str) -> Result<PathBuf> {
        let path = self.dir.join(format!("evidence-{}.json", hiwar_record::now_rfc3339().replace(':', "")));
        let evidence = json!({
            "detail": detail,
            "checkpoints": [self.cosigned.as_ref().map(Checkpoint::to_value), new.to_value()],
            "fork_proof": proof.map(|p| p.to_value()["fork_proof"].clone()),
            "served_lines": lines,
        });
        std::fs::write(&path, serde_json::to_string_pretty(&evidence)?)?;
        Ok(path)
    }
}

fn parse_dialogue_key(hex_key: &str) -> Result<VerifyingKey> {
    hiwar_record::witness::dialogue_key(&hex_key.to_ascii_lowercase())
        .with_context(|| format!("{hex_key} is not a dialogue key (64 hex digits)"))
}

/// How a round ended.
enum Round {
    Cosigned { size: u64, recorded_at: Option<u64> },
    Inconsistent(PathBuf, String),
}

/// `hiwar witness watch`: a round every `every` (or one round with `once`). Returns the
/// exit status: 0, or [`INCONSISTENT`] when it stopped on an inconsistency.
pub fn watch(
    dialogue: &str,
    key: &Path,
    state_dir: &Path,
    every: Duration,
    once: bool,
    pinned: Option<&str>,
) -> Result<u8> {
    let signer = read_key(key)?;
    let (base, id) = dialogue_base(dialogue)?;
    let mut state = WatchState::load(state_dir)?;
    if let Some(pinned) = pinned {
        let key = parse_dialogue_key(pinned)?;
        if state.dialogue_key.is_some_and(|k| k != key) {
            bail!("{} holds another dialogue key than --dialogue-key", state_dir.display());
        }
        state.pin(key)?;
    }
    eprintln!("witnessing {base} as {}; state in {}", hex::encode(signer.public()), state_dir.display());
    loop {
        match round(&base, &id, &signer, &mut state) {
            Ok(Round::Cosigned { size, recorded_at }) => {
                let entered = recorded_at.map(|l| format!(", entered the record at line {l}")).unwrap_or_default();
                println!("{} co-signed the record at {size} lines{entered}", hiwar_record::now_rfc3339());
            }
            Ok(Round::Inconsistent(path, detail)) => {
                eprintln!("\n!!! WITNESS ALERT: the record of {base} does not extend the head this witness co-signed.");
                eprintln!("!!! {detail}");
                eprintln!("!!! Evidence kept in {} — publish it; do not co-sign again.", path.display());
                return Ok(INCONSISTENT);
            }
            // A server that cannot be reached is not evidence of anything: try again.
            Err(e) => eprintln!("{} this round failed: {e:#}", hiwar_record::now_rfc3339()),
        }
        if once {
            return Ok(0);
        }
        std::thread::sleep(every);
    }
}

fn round(base: &str, id: &str, signer: &Signer25519, state: &mut WatchState) -> Result<Round> {
    let doc: Value = serde_json::from_slice(&read_record(&format!("{base}/checkpoint")).map_err(anyhow::Error::msg)?)
        .context("the checkpoint is not JSON")?;
    let new = Checkpoint::from_value(&doc["checkpoint"]).map_err(anyhow::Error::msg)?;
    if new.dialogue != id {
        bail!("the server's checkpoint is of dialogue {}, not {id}", new.dialogue);
    }
    let inconsistent = |state: &WatchState, detail: String, proof: Option<&ForkProof>, lines: &str| {
        let path = state.evidence(&detail, &new, proof, lines)?;
        Ok(Round::Inconsistent(path, detail))
    };
    match (state.cosigned.clone(), state.dialogue_key) {
        (Some(old), Some(key)) => {
            let lines = if new.size > old.size {
                read_record(&format!("{base}/record?from={}&limit={}", old.size, new.size - old.size))
                    .map_err(anyhow::Error::msg)?
            } else {
                Vec::new()
            };
            let lines = String::from_utf8(lines).context("the record is not UTF-8")?;
            if let Err(e) = check_extension(&key, &old, &new, &lines) {
                // Stop for good only on evidence: two signed histories, or a shorter head
                // signed after the longer one. A cached checkpoint or a broken download
                // is a failed round, tried again: a server must not be able to switch a
                // witness off with a glitch.
                let signed_rollback = new.size < old.size && new.time > old.time && new.verify(&key).is_ok();
                if e.proof.is_some() || signed_rollback {
                    return inconsistent(state, e.detail, e.proof.as_deref(), &lines);
                }
                bail!("not co-signed: {}", e.detail);
            }
        }
        (_, pinned) => {
            // First round: the whole record so far must verify, under the pinned key if any.
            let record = read_record(&format!("{base}/record?limit={}", new.size)).map_err(anyhow::Error::msg)?;
            let record = String::from_utf8(record).context("the record is not UTF-8")?;
            let options = hiwar_record::Options {
                pinned_key: pinned.map(|k| hex::encode(k.as_bytes())),
                checkpoints: vec![new.clone()],
                ..Default::default()
            };
            // A record that does not verify is not co-signed; the round is tried again.
            let summary = hiwar_record::verify(&record, &options)
                .map_err(|failure| anyhow::anyhow!("not co-signed: the record does not verify: {failure}"))?;
            if summary.lines as u64 != new.size {
                bail!("the server served {} lines for a checkpoint of {}", summary.lines, new.size);
            }
            if pinned.is_none() {
                eprintln!(
                    "pinned the dialogue key {} from the record: compare it with the one the convener published",
                    summary.public_key
                );
                state.pin(parse_dialogue_key(&summary.public_key)?)?;
            }
        }
    }
    let cosignature = Cosignature::sign(&new, &hiwar_record::now_rfc3339(), signer);
    state.cosigned(&new)?;
    let url = format!("{base}/checkpoint/cosignatures");
    let answer = crate::decide::post_json(&url, &cosignature.to_value())?;
    Ok(Round::Cosigned { size: new.size, recorded_at: answer["recorded_at"].as_u64() })
}

/// `hiwar witness check-proof`: whether a file holds a valid fork proof (exit 0) or not
/// (1) — under the dialogue's key as the convener published it, if given: anyone can
/// make a "fork proof" under a key of their own.
pub fn check_proof(file: &Path, dialogue_key: Option<&str>) -> Result<u8> {
    let text = std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let value: Value = serde_json::from_str(&text).with_context(|| format!("{} is not JSON", file.display()))?;
    let key_in_proof = value["fork_proof"]["dialogue_key"].as_str().unwrap_or_default();
    if let Some(pinned) = dialogue_key {
        if !pinned.eq_ignore_ascii_case(key_in_proof) {
            println!("not a proof about this dialogue: it is made under the key {key_in_proof}, not {pinned}");
            return Ok(1);
        }
    } else {
        println!("(the proof is under the key {key_in_proof}: compare it with the dialogue key the convener published, or pass --dialogue-key)");
    }
    match ForkProof::check(&value) {
        Ok(what) => {
            println!("VALID FORK PROOF: {what}");
            Ok(0)
        }
        Err(e) => {
            println!("not a valid fork proof: {e}");
            Ok(1)
        }
    }
}
