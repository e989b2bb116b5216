//! `hiwar verify`: fetch or read a record, run every check, print each.

use std::path::Path;
use std::process::ExitCode;

use hiwar_record::verify::WitnessPolicy;
use hiwar_record::witness::{Checkpoint, Cosignature};
use hiwar_record::{Options, Summary, CHECKS};
use serde_json::Value;

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

/// What `hiwar verify` is told about witnesses and signed heads (checks W1–W4).
#[derive(Debug, Clone, clap::Args)]
pub struct WitnessArgs {
    /// The witnesses whose co-signatures count: a file of their public keys (64 hex
    /// digits each, one per line; anything after the key, and lines starting with #,
    /// are ignored). With it the record must be co-signed by --quorum of them (W4).
    #[arg(long, value_name = "FILE")]
    pub witnesses: Option<std::path::PathBuf>,
    /// How many of the named witnesses must have co-signed [default: a majority]
    #[arg(long, value_name = "K", requires = "witnesses")]
    pub quorum: Option<usize>,
    /// A signed head held from elsewhere, checked against the record (W1–W3): a ballot
    /// receipt, a saved /checkpoint document, a witness's evidence. Repeatable.
    #[arg(long = "checkpoint", value_name = "FILE")]
    pub checkpoints: Vec<std::path::PathBuf>,
    /// A co-signature counts as recent (for a record still growing) if made within this
    /// many seconds of now
    #[arg(long, default_value_t = DEFAULT_MAX_AGE, value_name = "SECONDS")]
    pub max_age: u64,
}

/// How recent a co-signature must be to count for a record still growing (W4).
const DEFAULT_MAX_AGE: u64 = 600;

impl Default for WitnessArgs {
    fn default() -> Self {
        WitnessArgs { witnesses: None, quorum: None, checkpoints: Vec::new(), max_age: DEFAULT_MAX_AGE }
    }
}

/// The checkpoints and co-signatures in a JSON document: a `/checkpoint` document
/// (`checkpoint`, `cosignatures`), a receipt (`checkpoint`), a witness's evidence
/// (`checkpoints`), or a checkpoint itself.
fn held_in(doc: &Value, into: &mut (Vec<Checkpoint>, Vec<Cosignature>)) -> Result<(), String> {
    if doc.get("head").is_some() {
        into.0.push(Checkpoint::from_value(doc)?);
        return Ok(());
    }
    let list = |name: &str| match doc.get(name) {
        None | Some(Value::Null) => Ok(&[][..]),
        Some(Value::Array(items)) => Ok(items.as_slice()),
        Some(_) => Err(format!("{name} is not a list")),
    };
    if let Some(c) = doc.get("checkpoint").filter(|c| !c.is_null()) {
        into.0.push(Checkpoint::from_value(c)?);
    }
    for c in list("checkpoints")?.iter().filter(|c| !c.is_null()) {
        into.0.push(Checkpoint::from_value(c)?);
    }
    for c in list("cosignatures")? {
        into.1.push(Cosignature::from_value(c)?);
    }
    Ok(())
}

/// The witnesses' keys from a file.
fn witness_keys(file: &Path) -> Result<Vec<String>, String> {
    let text = std::fs::read_to_string(file).map_err(|e| format!("reading {}: {e}", file.display()))?;
    let mut keys = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let Some(key) = line.split_whitespace().next().filter(|k| !k.starts_with('#')) else { continue };
        if key.len() != 64 || !key.bytes().all(|c| c.is_ascii_hexdigit()) {
            return Err(format!("{} line {}: {key:?} is not a public key (64 hex digits)", file.display(), n + 1));
        }
        let key = key.to_ascii_lowercase();
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    if keys.is_empty() {
        return Err(format!("{} names no witness", file.display()));
    }
    Ok(keys)
}

/// The options W1–W4 need: the checkpoint served beside a record fetched from a URL
/// (fetched first, so the record fetched after it must contain it), the files given,
/// and the witness policy.
pub(crate) fn witness_options(source: &str, args: &WitnessArgs) -> Result<Options, String> {
    let mut held = (Vec::new(), Vec::new());
    if let Some(base) = source.strip_suffix("/record").filter(|_| source.starts_with("http")) {
        let url = format!("{base}/checkpoint");
        let doc: Value = serde_json::from_slice(&read_record(&url)?).map_err(|e| format!("{url} is not JSON: {e}"))?;
        held_in(&doc, &mut held).map_err(|e| format!("{url}: {e}"))?;
    }
    for file in &args.checkpoints {
        let text = std::fs::read_to_string(file).map_err(|e| format!("reading {}: {e}", file.display()))?;
        let doc: Value = serde_json::from_str(&text).map_err(|e| format!("{} is not JSON: {e}", file.display()))?;
        held_in(&doc, &mut held).map_err(|e| format!("{}: {e}", file.display()))?;
    }
    let witnesses = match &args.witnesses {
        Some(file) => {
            let keys = witness_keys(file)?;
            let quorum = args.quorum.unwrap_or(keys.len() / 2 + 1);
            if quorum == 0 || quorum > keys.len() {
                return Err(format!("--quorum {quorum} with {} witnesses named", keys.len()));
            }
            Some(WitnessPolicy { keys, quorum, now: hiwar_record::now_rfc3339(), max_age_secs: args.max_age })
        }
        None => None,
    };
    Ok(Options { checkpoints: held.0, cosignatures: held.1, witnesses, ..Default::default() })
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
    witness_args: &WitnessArgs,
) -> ExitCode {
    // The signed head served beside the record is fetched first: the record fetched
    // after it must contain it.
    let witness_options = match witness_options(source, witness_args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
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
    let options = Options { pinned_key: key.clone(), previous: previous.clone(), ..witness_options };
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
                    || (id == "T1" && texts_checked.is_none())
                    || (id == "W4" && summary.witnessed.is_none());
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
            print_witnesses(&summary);
            ExitCode::SUCCESS
        }
        Err(failure) => {
            match failure.line {
                Some(0) | None => {}
                Some(line) => println!("  ok    R1-R9 held for lines 0 to {}", line - 1),
            }
            let title = CHECKS.iter().find(|(id, _)| *id == failure.check).map(|(_, t)| *t).unwrap_or("");
            println!("  FAIL  {}  {title}", failure.check);
            match failure.detail.split_once("; fork proof: ") {
                Some((detail, proof)) => {
                    println!(
                        "VERIFICATION FAILED: {}",
                        hiwar_record::Failure { detail: detail.into(), ..failure.clone() }
                    );
                    println!("FORK PROOF — two statements under the dialogue key that cannot both be true; anyone can check it with `hiwar witness check-proof FILE`:");
                    println!("{proof}");
                }
                None => println!("VERIFICATION FAILED: {failure}"),
            }
            ExitCode::from(1)
        }
    }
}

/// What the record and W1–W4 say of its witnesses.
fn print_witnesses(summary: &Summary) {
    if !summary.witnesses.is_empty() {
        println!("witnesses in the record:");
        for w in &summary.witnesses {
            let cosigned = match &w.cosigned {
                Some((size, time)) => format!("co-signed {size} lines at {time}"),
                None => "has not co-signed in the record".into(),
            };
            println!("  {} {} — {cosigned}", &w.key[..16], w.name);
        }
    }
    if summary.checkpoints_checked > 0 {
        println!("{} signed heads held beside the record agree with it", summary.checkpoints_checked);
    }
    if let Some(w) = &summary.witnessed {
        println!(
            "witnessed: lines 0 to {} co-signed in the last {} s by {} named witnesses ({})",
            w.size.saturating_sub(1),
            w.age_secs,
            w.by.len(),
            w.by.iter().map(|(k, size)| format!("{}… at {size}", &k[..16])).collect::<Vec<_>>().join(", ")
        );
        if w.content_lines > w.size {
            println!(
                "{} later lines are not yet witnessed by the quorum (they are recent; verify again later to cover them)",
                w.content_lines - w.size
            );
        }
    }
}
