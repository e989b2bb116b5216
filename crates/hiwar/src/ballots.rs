//! What trustees and voters do with a record on their own machine:
//! `hiwar trustee decrypt` (a partial decryption of a tally the trustee recomputed
//! itself) and `hiwar vote check` (is my credential listed, is my ballot counted).
//! Both verify the whole record first and refuse to go on if any check fails.

use std::path::Path;

use anyhow::{bail, Context, Result};
use hiwar_crypto::group::{point_to_hex, scalar_from_hex};
use hiwar_crypto::signing::Signer25519;
use hiwar_crypto::threshold::{DealerPublic, ShareKey, TrusteeKey};
use hiwar_record::election::wire::{self, parse_ct, parse_encrypted_share, parse_knowledge};
use hiwar_record::election::{election_hash, partial_json, sign_event};
use serde_json::{json, Value};
use zeroize::Zeroizing;

/// Reads and fully verifies a record; returns its lines' (kind, body) in order.
fn verified_events(source: &str) -> Result<(String, Vec<(String, Value)>)> {
    let bytes = crate::verify::read_record(source).map_err(|e| anyhow::anyhow!(e))?;
    let record = String::from_utf8(bytes).context("the record is not UTF-8")?;
    let summary = hiwar_record::verify(&record, &Default::default())
        .map_err(|f| anyhow::anyhow!("the record does not verify, so nothing in it can be trusted: {f}"))?;
    let events = record
        .lines()
        .map(|l| {
            let mut v: Value = serde_json::from_str(l).expect("verified lines are JSON");
            (v["kind"].as_str().unwrap_or_default().to_string(), v["body"].take())
        })
        .collect();
    Ok((summary.dialogue, events))
}

fn of_election<'a>(events: &'a [(String, Value)], election: &'a str, kind: &'a str) -> impl Iterator<Item = &'a Value> {
    events.iter().filter(move |(k, b)| k == kind && b["election"] == election).map(|(_, b)| b)
}

/// `hiwar trustee decrypt`: trustee `j` recomputes its key share from the record (the
/// encrypted shares dealt to it) and decrypts the tally of a closed election — only a
/// tally the verifier has recomputed from the ballots (E8), so the server cannot use
/// the trustees to decrypt anything else, such as a single ballot.
pub fn trustee_decrypt(record: &str, key_file: &Path, out: Option<&Path>) -> Result<()> {
    let key: Value = serde_json::from_slice(&Zeroizing::new(
        std::fs::read(key_file).with_context(|| format!("reading {}", key_file.display()))?,
    ))
    .with_context(|| format!("{} is not a trustee key file (JSON)", key_file.display()))?;
    let election = key["election"].as_str().context("the key file lacks \"election\"")?;
    let j =
        key["trustee"].as_u64().filter(|j| (1..=1000).contains(j)).context("the key file lacks \"trustee\"")? as u32;
    let seed: Zeroizing<[u8; 32]> = Zeroizing::new(
        wire::hex_bytes(&key["signing_seed"], "signing_seed").map_err(|e| anyhow::anyhow!("the key file: {e}"))?,
    );
    let share_secret = scalar_from_hex("share_secret", key["share_secret"].as_str().unwrap_or_default())
        .map_err(|e| anyhow::anyhow!("the key file: {e}"))?;
    let signer = Signer25519::from_seed(&seed);
    let share_key = ShareKey::from_scalar(share_secret);

    let (dialogue, events) = verified_events(record)?;
    let created =
        of_election(&events, election, "election.created").next().context("no such election in the record")?;
    let hash = election_hash(&dialogue, created);
    let listed = &created["trustees"][j as usize - 1];
    if listed["signing_key"] != hex::encode(signer.public()) || listed["share_key"] != point_to_hex(&share_key.public())
    {
        bail!("the election does not name this key file's keys as trustee {j}");
    }
    let closed = of_election(&events, election, "election.closed")
        .next()
        .context("the election is not closed: there is no verified tally to decrypt")?;
    let mut shares = Vec::new();
    for reveal in of_election(&events, election, "election.trustee_revealed") {
        let i = reveal["trustee"].as_u64().unwrap_or_default() as u32;
        let commitments = reveal["commitments"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|c| wire::point(c, "commitment"))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| anyhow::anyhow!(e))?;
        let public = DealerPublic {
            index: i,
            commitments,
            proof: parse_knowledge(&reveal["proof"]).map_err(|e| anyhow::anyhow!(e))?,
        };
        let dealt = of_election(&events, election, "election.trustee_shares")
            .find(|b| b["trustee"] == i)
            .with_context(|| format!("trustee {i} dealt no shares"))?;
        let encrypted = parse_encrypted_share(&dealt["shares"][j as usize - 1]).map_err(|e| anyhow::anyhow!(e))?;
        let share = share_key
            .decrypt(&hash, i, j, &encrypted)
            .map_err(|e| anyhow::anyhow!("the share from trustee {i}: {e}"))?;
        shares.push((public, share));
    }
    let trustee = TrusteeKey::from_shares(j, &shares).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut rng = rand::rngs::OsRng;
    let partials = closed["tally"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|question| {
            question
                .as_array()
                .into_iter()
                .flatten()
                .map(|ct| {
                    let ct = parse_ct(ct, "tally", false).map_err(|e| anyhow::anyhow!(e))?;
                    Ok(partial_json(&trustee.partial_decrypt(&hash, &ct.alpha, &mut rng)))
                })
                .collect::<Result<Vec<_>>>()
        })
        .collect::<Result<Vec<_>>>()?;
    let body = json!({"election": election, "trustee": j, "shares": partials});
    let signed = sign_event("election.partial_decryption", &hash, body, &signer).to_string();
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
