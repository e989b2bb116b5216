//! What trustees and voters do with a record on their own machine:
//! `hiwar trustee decrypt` (a partial decryption of a tally the trustee recomputed
//! itself) and `hiwar vote check` (is my credential listed, is my ballot counted).
//! Both verify the whole record first and refuse to go on if any check fails.

use std::path::Path;

use anyhow::{bail, Context, Result};
use serde_json::Value;

use crate::verify::WitnessArgs;

/// Reads and fully verifies a record; returns its lines' (kind, body) in order.
pub(crate) fn verified_events(source: &str) -> Result<(String, Vec<(String, Value)>)> {
    verified_record(source, &WitnessArgs::default()).map(|(summary, events)| (summary.dialogue, events))
}

/// Reads and fully verifies a record — with the signed head served beside it (from a
/// URL) and, if named, the witnesses' quorum (W1–W4); returns its summary and its
/// lines' (kind, body).
pub(crate) fn verified_record(
    source: &str,
    witnesses: &WitnessArgs,
) -> Result<(hiwar_record::Summary, Vec<(String, Value)>)> {
    let options = crate::verify::witness_options(source, witnesses).map_err(|e| anyhow::anyhow!(e))?;
    let bytes = crate::verify::read_record(source).map_err(|e| anyhow::anyhow!(e))?;
    let record = String::from_utf8(bytes).context("the record is not UTF-8")?;
    let summary = hiwar_record::verify(&record, &options)
        .map_err(|f| anyhow::anyhow!("the record does not verify, so nothing in it can be trusted: {f}"))?;
    let events = record
        .lines()
        .map(|l| {
            let mut v: Value = serde_json::from_str(l).expect("verified lines are JSON");
            (v["kind"].as_str().unwrap_or_default().to_string(), v["body"].take())
        })
        .collect();
    Ok((summary, events))
}

pub(crate) fn of_election<'a>(
    events: &'a [(String, Value)],
    election: &'a str,
    kind: &'a str,
) -> impl Iterator<Item = &'a Value> {
    events.iter().filter(move |(k, b)| k == kind && b["election"] == election).map(|(_, b)| b)
}

/// `hiwar trustee decrypt`: the trustee recomputes its key share from the record (the
/// encrypted shares dealt to it) and decrypts the tally of a closed election — only a
/// tally the verifier has recomputed from the ballots (E8), so the server cannot use
/// the trustees to decrypt anything else, such as a single ballot. The signed partial
/// decryption is written to `out`, printed, or sent to the server (`post`).
pub fn trustee_decrypt(
    record: &str,
    key_file: &Path,
    election: Option<&str>,
    out: Option<&Path>,
    post: Option<&crate::decide::Target>,
    witnesses: &WitnessArgs,
) -> Result<()> {
    let role = crate::decide::load_trustee(key_file)?;
    let key_text = std::fs::read_to_string(key_file).with_context(|| format!("reading {}", key_file.display()))?;
    let in_file = serde_json::from_str::<Value>(&key_text)?["election"].as_str().map(str::to_string);
    let election = election
        .map(str::to_string)
        .or(in_file)
        .context("name the election with --election (the key file does not)")?;
    let election = election.as_str();
    let (summary, events) = verified_record(record, witnesses)?;
    let events: Vec<(String, Value)> = events.into_iter().filter(|(_, b)| b["election"] == election).collect();
    let signed = role.decrypt(&summary.dialogue, &events, &mut rand::rngs::OsRng).map_err(|e| anyhow::anyhow!(e))?;
    let j = signed["trustee"].clone();
    // The holder of the dialogue key could show this trustee a fork of the record (one
    // voter's ballot alone, tallied): say what is being decrypted, to compare with
    // what observers and the other trustees see (record-spec §6.3).
    let closed = of_election(&events, election, "election.closed").next().cloned().unwrap_or_default();
    eprintln!(
        "decrypting the tally of {} counted ballots ({} cast), record of {} lines with head {}: check that observers and the other trustees see the same",
        closed["counted"], closed["counted"].as_u64().unwrap_or(0) + closed["superseded"].as_u64().unwrap_or(0), summary.lines, summary.head
    );
    if let Some(target) = post {
        target.relay("election.partial_decryption", signed)?;
        eprintln!("trustee {j}: decrypted the verified tally of election {election}; the server recorded it");
        return Ok(());
    }
    match out {
        Some(path) => {
            std::fs::write(path, format!("{signed}\n")).with_context(|| format!("writing {}", path.display()))?
        }
        None => println!("{signed}"),
    }
    eprintln!("trustee {j}: decrypted the verified tally of election {election}; give this line to the server");
    Ok(())
}

/// `hiwar vote check`: whether a credential is on the authority's list, and which of
/// its ballots counts; or where a tracking code appears.
pub fn vote_check(record: &str, election: &str, credential: Option<&str>, tracking: Option<&str>) -> Result<bool> {
    if credential.is_none() && tracking.is_none() {
        bail!("give --credential HEX, --tracking CODE, or both");
    }
    let (_, events) = verified_events(record)?;
    of_election(&events, election, "election.created").next().context("no such election in the record")?;
    let mut all_found = true;
    if let Some(credential) = credential {
        let listed = of_election(&events, election, "election.credentials")
            .any(|b| b["credentials"].as_array().is_some_and(|l| l.iter().any(|c| c == credential)));
        let cast: Vec<&Value> =
            of_election(&events, election, "ballot.cast").filter(|b| b["credential"] == credential).collect();
        if listed {
            println!("credential {credential} is on the credential authority's list of election {election}");
        } else {
            println!("credential {credential} is NOT on the list of election {election}");
            all_found = false;
        }
        for (k, b) in cast.iter().enumerate() {
            let status = if k + 1 == cast.len() { "counts" } else { "superseded by a later ballot" };
            println!("  ballot {} (counter {}): {status}", b["tracking"].as_str().unwrap_or("?"), b["counter"]);
        }
        if listed && cast.is_empty() {
            println!("  no ballot cast with it (yet)");
        }
    }
    if let Some(code) = tracking {
        let as_cast = of_election(&events, election, "ballot.cast").any(|b| b["tracking"] == code);
        let as_spoiled = of_election(&events, election, "ballot.spoiled").any(|b| b["tracking"] == code);
        match (as_cast, as_spoiled) {
            (true, _) => println!("tracking code {code} is on the ballot board as a cast ballot"),
            (_, true) => println!("tracking code {code} is on the ballot board as a challenged ballot (never counted)"),
            _ => {
                println!("tracking code {code} is NOT on the ballot board");
                all_found = false;
            }
        }
    }
    Ok(all_found)
}

/// `hiwar ballot audit`: what a challenged ballot said, from the verified record — a
/// second device the voter trusts checks that the ballot their voting device showed
/// (by its tracking code) encrypted the choices they made (check E7 re-encrypts every
/// opened ballot with its published nonces).
pub fn ballot_audit(record: &str, election: &str, tracking: &str) -> Result<bool> {
    let (_, events) = verified_events(record)?;
    let created =
        of_election(&events, election, "election.created").next().context("no such election in the record")?;
    let code = tracking.trim().to_lowercase();
    if of_election(&events, election, "ballot.cast").any(|b| b["tracking"] == code.as_str()) {
        println!("ballot {code} was cast, not challenged: it is counted and its choices stay secret");
        return Ok(false);
    }
    let Some(spoiled) = of_election(&events, election, "ballot.spoiled").find(|b| b["tracking"] == code.as_str())
    else {
        println!("no challenged ballot {code} in election {election}");
        return Ok(false);
    };
    println!("ballot {code} was challenged, opened and never counted; the record's checks confirm it encrypted:");
    for (q, question) in created["questions"].as_array().into_iter().flatten().enumerate() {
        let chosen: Vec<String> = question["options"]
            .as_array()
            .into_iter()
            .flatten()
            .enumerate()
            .filter(|(o, _)| spoiled["plaintext"][q][*o] == 1)
            .map(|(o, option)| {
                format!("{o} ({} / {})", option["en"].as_str().unwrap_or(""), option["ar"].as_str().unwrap_or(""))
            })
            .collect();
        let title = question["title"]["en"].as_str().unwrap_or_default();
        println!("  {title}: {}", if chosen.is_empty() { "nothing".to_string() } else { chosen.join(", ") });
    }
    Ok(true)
}
