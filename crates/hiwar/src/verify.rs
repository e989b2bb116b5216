//! `hiwar verify`: fetch or read a record, run every check, print each.

use std::path::Path;
use std::process::ExitCode;

use hiwar_record::{Options, Summary, CHECKS};

/// Largest record accepted over HTTP.
const MAX_DOWNLOAD: u64 = 4 << 30;

pub(crate) fn read_record(source: &str) -> Result<Vec<u8>, String> {
    if source.starts_with("http://") || source.starts_with("https://") {
        let response = ureq::get(source).call().map_err(|e| format!("fetching {source}: {e}"))?;
        let mut body = Vec::new();
        std::io::Read::read_to_end(&mut std::io::Read::take(response.into_reader(), MAX_DOWNLOAD), &mut body)
            .map_err(|e| format!("reading {source}: {e}"))?;
        Ok(body)
    } else {
        std::fs::read(source).map_err(|e| format!("reading {source}: {e}"))
    }
}

/// Where each published selection's manifest comes from.
fn manifest_source(source: &str, manifests: Option<&Path>, selection: &str) -> Option<String> {
    if let Some(dir) = manifests {
        return Some(dir.join(format!("{selection}-manifest.json")).display().to_string());
    }
    let base = source.strip_suffix("/record").filter(|_| source.starts_with("http"))?;
    Some(format!("{base}/selections/{selection}/manifest.json"))
}

/// Check S3 for every selection in the record: `Ok(None)` when there are selections
/// but no manifests to check them against.
fn check_manifests(source: &str, manifests: Option<&Path>, summary: &Summary) -> Result<Option<usize>, String> {
    let mut checked = 0;
    for s in &summary.selections {
        let Some(location) = manifest_source(source, manifests, &s.id) else { return Ok(None) };
        let text =
            read_record(&location).map_err(|e| format!("selection {}: the manifest is not available: {e}", s.id))?;
        let manifest: serde_json::Value =
            serde_json::from_slice(&text).map_err(|e| format!("selection {}: {location} is not JSON: {e}", s.id))?;
        let draw = s.drawn.as_ref().map(|(beacon, _, panel)| (beacon.as_str(), panel.as_slice()));
        let verified =
            hiwar_sortition::lottery::verify(&manifest, draw).map_err(|e| format!("selection {}: {e}", s.id))?;
        let mismatch =
            |what: &str| Err(format!("selection {}: the manifest's {what} is not the one in the record", s.id));
        if manifest["manifest_hash"].as_str() != Some(s.manifest_hash.as_str()) {
            return mismatch("hash");
        }
        if manifest["pool_hash"].as_str() != Some(s.pool_hash.as_str()) {
            return mismatch("pool hash");
        }
        if manifest["size"].as_u64() != Some(s.size) {
            return mismatch("panel size");
        }
        if verified.panels as u64 != s.panels || verified.volunteers as u64 != s.volunteers {
            return mismatch("number of panels or volunteers");
        }
        if let (Some((_, index, _)), Some(drawn)) = (&s.drawn, verified.drawn) {
            if *index != drawn as u64 {
                return mismatch("drawn index");
            }
        }
        checked += 1;
    }
    Ok(Some(checked))
}

/// Check T1: the statement texts served beside the record (fetched from the same server,
/// or given as a file) match the digests in the record. `Ok(None)` when there are
/// statements but no texts to check them against.
fn check_texts(source: &str, texts: Option<&Path>, summary: &Summary) -> Result<Option<usize>, String> {
    if summary.statements.is_empty() {
        return Ok(Some(0));
    }
    let location = match texts {
        Some(file) => file.display().to_string(),
        None => match source.strip_suffix("/record").filter(|_| source.starts_with("http")) {
            Some(base) => format!("{base}/statements.json"),
            None => return Ok(None),
        },
    };
    let text = read_record(&location).map_err(|e| format!("the statement texts are not available: {e}"))?;
    let served: serde_json::Value =
        serde_json::from_slice(&text).map_err(|e| format!("{location} is not JSON: {e}"))?;
    hiwar_record::events::check_statement_texts(&summary.statements, &served).map(Some)
}

/// A check of what is served beside the record (S3, T1) failed, after every check of
/// the record itself held.
fn failed_beside(check: &str, detail: &str) -> ExitCode {
    println!("  ok    every check of the record itself held");
    println!("  FAIL  {check}  {}", CHECKS.iter().find(|(id, _)| *id == check).map(|(_, t)| *t).unwrap_or(""));
    println!("VERIFICATION FAILED: {check} failed: {detail}");
    ExitCode::from(1)
}

pub fn run(
    source: &str,
    key: Option<String>,
    previous: Option<&Path>,
    manifests: Option<&Path>,
    texts: Option<&Path>,
) -> ExitCode {
    let record = match read_record(source).map(String::from_utf8) {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => {
            println!("  FAIL  R1  the record is not UTF-8 ({e})");
            println!("VERIFICATION FAILED: R1 failed: the record is not UTF-8");
            return ExitCode::from(1);
        }
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let previous = match previous.map(std::fs::read_to_string).transpose() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: reading the earlier copy: {e}");
            return ExitCode::from(2);
        }
    };
    let options = Options { pinned_key: key.clone(), previous: previous.clone() };
    println!("verifying {source}");
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {pos} ballots verified ({per_sec})")
            .expect("valid template"),
    );
    let progress = bar.clone();
    let verdict = hiwar_record::verify_observed(&record, &options, move |n| progress.set_position(n));
    bar.finish_and_clear();
    match verdict {
        Ok(summary) => {
            let manifests_checked = match check_manifests(source, manifests, &summary) {
                Ok(n) => n,
                Err(detail) => return failed_beside("S3", &detail),
            };
            let texts_checked = match check_texts(source, texts, &summary) {
                Ok(n) => n,
                Err(detail) => return failed_beside("T1", &detail),
            };
            for (id, title) in CHECKS {
                let skipped = (id == "R10" && !summary.previous_checked)
                    || (id == "S3" && manifests_checked.is_none())
                    || (id == "T1" && texts_checked.is_none());
                println!("  {}  {id}  {title}", if skipped { "skip" } else { " ok " });
            }
            println!(
                "all checks hold: {} events, {} members, {} ballots with proofs, dialogue {}",
                summary.lines, summary.members, summary.ballots, summary.dialogue
            );
            if manifests_checked.is_none() {
                println!("S3 was skipped: give --manifests DIR, or verify from the server's URL, to check the selection manifests");
            }
            if texts_checked.is_none() {
                println!("T1 was skipped: give --statements FILE (statements.json), or verify from the server's URL, to check the statement texts");
            }
            println!(
                "dialogue key: {}{}",
                summary.public_key,
                if key.is_some() {
                    " (pinned)"
                } else {
                    " (from the record: compare it with the key the convener published)"
                }
            );
            println!("head hash:    {} (keep it, or this file, and check later copies with --previous)", summary.head);
            ExitCode::SUCCESS
        }
        Err(failure) => {
            match failure.line {
                Some(0) | None => {}
                Some(line) => println!("  ok    R1-R9 held for lines 0 to {}", line - 1),
            }
            let title = CHECKS.iter().find(|(id, _)| *id == failure.check).map(|(_, t)| *t).unwrap_or("");
            println!("  FAIL  {}  {title}", failure.check);
            println!("VERIFICATION FAILED: {failure}");
            ExitCode::from(1)
        }
    }
}
