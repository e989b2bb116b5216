//! `hiwar verify`: fetch or read a record, run every check, print each.

use std::path::Path;
use std::process::ExitCode;

use hiwar_record::verify::WitnessPolicy;
use hiwar_record::witness::{Checkpoint, Cosignature};
use hiwar_record::{Options, Summary, CHECKS};
use serde_json::{json, Value};

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
fn failed_beside(check: &'static str, detail: &str, json: bool, skipped: &dyn Fn(&str) -> bool) -> ExitCode {
    if json {
        let failure = hiwar_record::Failure { check, line: None, detail: detail.into() };
        let outcome = |id: &str| match id {
            _ if id == check => "fail",
            "S3" | "T1" => "not established",
            _ if skipped(id) => "skip",
            _ => "ok",
        };
        return print_json(
            json!({"verdict": "failed", "checks": checks_json(outcome), "failure": failure_json(&failure)}),
            1,
        );
    }
    println!("  ok    every check of the record itself held");
    println!("  FAIL  {check}  {}", CHECKS.iter().find(|(id, _)| *id == check).map(|(_, t)| *t).unwrap_or(""));
    println!("VERIFICATION FAILED: {check} failed: {detail}");
    ExitCode::from(1)
}

/// Where the record is read from: a file or an HTTP response, read as it arrives;
/// its length when known (for the progress bar).
fn open_record(source: &str) -> Result<(Box<dyn std::io::BufRead + Send>, Option<u64>), String> {
    const BUFFER: usize = 1 << 20;
    if source.starts_with("http://") || source.starts_with("https://") {
        let response = ureq::get(source).call().map_err(|e| format!("fetching {source}: {e}"))?;
        let length = response.header("content-length").and_then(|l| l.parse().ok());
        Ok((Box::new(std::io::BufReader::with_capacity(BUFFER, response.into_reader())), length))
    } else {
        let file = std::fs::File::open(source).map_err(|e| format!("reading {source}: {e}"))?;
        let length = file.metadata().ok().map(|m| m.len());
        Ok((Box::new(std::io::BufReader::with_capacity(BUFFER, file)), length))
    }
}

/// Line `i` of the record read again (for a fork proof): the file scanned anew, or the
/// one line asked of the server.
fn line_at(source: &str, i: usize) -> Option<String> {
    if source.starts_with("http") {
        let separator = if source.contains('?') { '&' } else { '?' };
        let text = read_record(&format!("{source}{separator}from={i}&limit=1")).ok()?;
        return String::from_utf8(text).ok()?.lines().next().map(str::to_string);
    }
    let file = std::fs::File::open(source).ok()?;
    std::io::BufRead::lines(std::io::BufReader::new(file)).nth(i)?.ok()
}

/// Each credential's latest ballot, kept in a temporary file (removed when the
/// verification ends, even if it is killed): 64 bytes per option per credential on disk
/// instead of in memory.
struct FileBallots {
    file: std::fs::File,
    slot: usize,
}

impl FileBallots {
    fn create(slot: usize, slots: usize) -> std::io::Result<Box<dyn hiwar_record::election::BallotStore>> {
        let name = format!("hiwar-verify-{}-{:016x}.ballots", std::process::id(), rand::random::<u64>());
        let path = std::env::temp_dir().join(name);
        let file = std::fs::OpenOptions::new().read(true).write(true).create_new(true).open(&path)?;
        // Unlinked at once: the space is the process's alone and returns when it ends.
        std::fs::remove_file(&path)?;
        file.set_len((slot * slots) as u64)?;
        Ok(Box::new(FileBallots { file, slot }))
    }
}

impl hiwar_record::election::BallotStore for FileBallots {
    fn read(&mut self, index: usize, out: &mut [u8]) -> std::io::Result<()> {
        std::os::unix::fs::FileExt::read_exact_at(&self.file, out, (index * self.slot) as u64)
    }

    fn write(&mut self, index: usize, data: &[u8]) -> std::io::Result<()> {
        std::os::unix::fs::FileExt::write_all_at(&self.file, data, (index * self.slot) as u64)
    }
}

/// What `--tracking CODE` finds: the ballot with that code, and whether a later ballot
/// of the same credential superseded it.
#[derive(Default)]
struct TrackedBallot {
    code: String,
    /// (line, election, kind, credential) of the line with the code.
    found: Option<(u64, String, String, String)>,
    superseded_at: Option<u64>,
}

impl TrackedBallot {
    fn see(&mut self, seq: u64, kind: &str, body: &Value) {
        if kind != "ballot.cast" && kind != "ballot.spoiled" {
            return;
        }
        let election = body["election"].as_str().unwrap_or_default();
        match &self.found {
            None if body["tracking"] == self.code.as_str() => {
                let credential = body["credential"].as_str().unwrap_or_default().to_string();
                self.found = Some((seq, election.into(), kind.into(), credential));
            }
            Some((_, e, k, credential))
                if k == "ballot.cast"
                    && kind == "ballot.cast"
                    && self.superseded_at.is_none()
                    && e == election
                    && body["credential"] == credential.as_str() =>
            {
                self.superseded_at = Some(seq)
            }
            _ => {}
        }
    }

    fn describe(&self) -> (bool, String, Value) {
        match &self.found {
            None => (false, format!("tracking code {} is NOT in the record", self.code), json!({"code": self.code, "status": "absent"})),
            Some((line, election, kind, _)) if kind == "ballot.spoiled" => (
                true,
                format!("tracking code {} is a challenged ballot of election {election} (line {line}): it was opened and is not counted", self.code),
                json!({"code": self.code, "status": "challenged", "election": election, "line": line}),
            ),
            Some((line, election, _, _)) => match self.superseded_at {
                Some(later) => (
                    true,
                    format!("tracking code {} was cast in election {election} (line {line}) and superseded by a later ballot of the same credential (line {later}): the later one counts", self.code),
                    json!({"code": self.code, "status": "superseded", "election": election, "line": line, "superseded_at": later}),
                ),
                None => (
                    true,
                    format!("tracking code {} was cast in election {election} (line {line}) and counts: no later ballot of its credential", self.code),
                    json!({"code": self.code, "status": "counted", "election": election, "line": line}),
                ),
            },
        }
    }
}

/// How `hiwar verify` reports.
pub struct Report {
    /// One JSON document on standard output instead of the lines for people.
    pub json: bool,
    /// A tracking code to look for.
    pub tracking: Option<String>,
}

fn failure_json(failure: &hiwar_record::Failure) -> Value {
    let (detail, proof) = match failure.detail.split_once("; fork proof: ") {
        Some((detail, proof)) => (detail.to_string(), serde_json::from_str::<Value>(proof).ok()),
        None => (failure.detail.clone(), None),
    };
    json!({"check": failure.check, "line": failure.line, "detail": detail, "fork_proof": proof})
}

fn checks_json(outcome: impl Fn(&str) -> &'static str) -> Value {
    Value::Array(CHECKS.iter().map(|(id, title)| json!({"id": id, "title": title, "outcome": outcome(id)})).collect())
}

fn print_json(doc: Value, code: u8) -> ExitCode {
    println!("{doc}");
    ExitCode::from(code)
}

pub fn run(
    source: &str,
    key: Option<String>,
    previous: Option<&Path>,
    manifests: Option<&Path>,
    texts: Option<&Path>,
    witness_args: &WitnessArgs,
    report: &Report,
) -> ExitCode {
    let error = |message: String| {
        if report.json {
            return print_json(json!({"source": source, "verdict": "error", "error": message}), 2);
        }
        eprintln!("error: {message}");
        ExitCode::from(2)
    };
    // The signed head served beside the record is fetched first: the record fetched
    // after it must contain it.
    let witness_options = match witness_options(source, witness_args) {
        Ok(o) => o,
        Err(e) => return error(e),
    };
    let previous = match previous.map(std::fs::read_to_string).transpose() {
        Ok(p) => p,
        Err(e) => return error(format!("reading the earlier copy: {e}")),
    };
    let (reader, length) = match open_record(source) {
        Ok(r) => r,
        Err(e) => return error(e),
    };
    let options = Options { pinned_key: key.clone(), previous: previous.clone(), ..witness_options };
    if !report.json {
        println!("verifying {source}");
    }
    // The time left comes from the file's or the response's length, or else from the
    // size of the signed head served beside the record (a streamed response has no length).
    let served_lines = options.checkpoints.iter().map(|c| c.size).max();
    let (bar, by_lines) = match (length, served_lines) {
        (Some(length), _) => (
            indicatif::ProgressBar::new(length).with_style(
                indicatif::ProgressStyle::with_template("{bar:30} {bytes}/{total_bytes} · {msg} · {eta} left")
                    .expect("valid template"),
            ),
            false,
        ),
        (None, Some(lines)) => (
            indicatif::ProgressBar::new(lines).with_style(
                indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} lines · {msg} · {eta} left")
                    .expect("valid template"),
            ),
            true,
        ),
        (None, None) => (
            indicatif::ProgressBar::new_spinner().with_style(
                indicatif::ProgressStyle::with_template("{spinner} {pos} lines read · {msg}").expect("valid template"),
            ),
            true,
        ),
    };
    let started = std::time::Instant::now();
    let (ballot_bar, line_bar) = (bar.clone(), bar.clone());
    let mut tracked =
        report.tracking.as_ref().map(|code| TrackedBallot { code: code.to_ascii_lowercase(), ..Default::default() });
    let hooks = hiwar_record::Hooks {
        on_ballots: Some(Box::new(move |n| {
            let rate = n as f64 / started.elapsed().as_secs_f64().max(1e-3);
            ballot_bar.set_message(format!("{n} ballots verified ({rate:.0}/s)"));
        })),
        on_lines: Some(Box::new(move |lines, bytes| line_bar.set_position(if by_lines { lines } else { bytes }))),
        on_event: tracked
            .as_mut()
            .map(|t| Box::new(move |seq: u64, kind: &str, body: &Value| t.see(seq, kind, body)) as _),
        line_at: Some(Box::new(|i| line_at(source, i))),
        ballot_store: Some(std::sync::Arc::new(FileBallots::create)),
    };
    let verdict = hiwar_record::verify_stream(reader, &options, hooks);
    bar.finish_and_clear();
    let tracking = tracked.as_ref().map(TrackedBallot::describe);
    match verdict {
        Ok(summary) => {
            let skipped_record =
                |id: &str| (id == "R10" && !summary.previous_checked) || (id == "W4" && summary.witnessed.is_none());
            let manifests_checked = match check_manifests(source, manifests, &summary) {
                Ok(n) => n,
                Err(detail) => return failed_beside("S3", &detail, report.json, &skipped_record),
            };
            let texts_checked = match check_texts(source, texts, &summary) {
                Ok(n) => n,
                Err(detail) => return failed_beside("T1", &detail, report.json, &skipped_record),
            };
            let skipped = |id: &str| {
                skipped_record(id)
                    || (id == "S3" && manifests_checked.is_none())
                    || (id == "T1" && texts_checked.is_none())
            };
            let found = tracking.as_ref().is_none_or(|t| t.0);
            if report.json {
                let w = summary.witnessed.as_ref();
                return print_json(
                    json!({
                        "source": source, "verdict": "ok",
                        "checks": checks_json(|id| if skipped(id) { "skip" } else { "ok" }),
                        "summary": {
                            "dialogue": summary.dialogue, "public_key": summary.public_key,
                            "key_pinned": key.is_some(), "lines": summary.lines, "members": summary.members,
                            "ballots": summary.ballots, "head": summary.head,
                            "witnesses": summary.witnesses.iter().map(|w| json!({"name": w.name, "key": w.key, "cosigned": w.cosigned.as_ref().map(|c| c.0)})).collect::<Vec<_>>(),
                            "checkpoints_checked": summary.checkpoints_checked,
                            "witnessed": w.map(|w| json!({"size": w.size, "content_lines": w.content_lines, "age_secs": w.age_secs, "by": w.by.iter().map(|b| b.0.clone()).collect::<Vec<_>>()})),
                        },
                        "tracking": tracking.map(|t| t.2),
                        "seconds": started.elapsed().as_secs_f64(),
                    }),
                    if found { 0 } else { 1 },
                );
            }
            for (id, title) in CHECKS {
                println!("  {}  {id}  {title}", if skipped(id) { "skip" } else { " ok " });
            }
            println!(
                "all checks hold: {} events, {} members, {} ballots with proofs, dialogue {} ({:.1} s)",
                summary.lines,
                summary.members,
                summary.ballots,
                summary.dialogue,
                started.elapsed().as_secs_f64()
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
            if let Some((_, text, _)) = &tracking {
                println!("{text}");
            }
            ExitCode::from(if found { 0 } else { 1 })
        }
        Err(hiwar_record::Stopped::Unreadable { lines, error: e }) => {
            let message = format!(
                "the record could not be read to its end after {lines} lines ({e}): the download was cut short or the file is unreadable, so there is no verdict on it — this is not a failed check; try again"
            );
            if report.json {
                return print_json(
                    json!({"source": source, "verdict": "unreadable", "lines_read": lines, "error": message}),
                    2,
                );
            }
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
        Err(hiwar_record::Stopped::Failed(failure)) if failure.check == "IO" => error(failure.detail),
        Err(hiwar_record::Stopped::Failed(failure)) => {
            if report.json {
                return print_json(
                    json!({"source": source, "verdict": "failed",
                        "checks": checks_json(|id| if id == failure.check { "fail" } else { "not established" }),
                        "failure": failure_json(&failure)}),
                    1,
                );
            }
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
