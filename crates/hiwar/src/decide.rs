//! The command line of Decide, for the people whose secrets must never reach the
//! server: the credential authority (`election authority`, `election credentials`),
//! the trustees (`trustee keygen`, `trustee ceremony`; `trustee decrypt` is in
//! [`crate::ballots`]) and the voters (`vote`). Each reads and fully verifies the
//! public record before it acts on it, and sends the server only public, signed steps.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use hiwar_crypto::ballot::{Credential, Question};
use hiwar_crypto::elgamal::ElectionKey;
use hiwar_crypto::group::{point_from_hex, scalar_from_hex};
use hiwar_crypto::signing::Signer25519;
use hiwar_record::election::election_hash;
use hiwar_record::election::roles::{credential_lists, CeremonyStep, TrusteeRole, VotingBooth};
use hiwar_record::election::wire;
use serde_json::{json, Value};
use zeroize::Zeroizing;

/// Where an election lives: the server, the dialogue and the election id.
#[derive(Clone, clap::Args)]
pub struct Target {
    /// The hiwar server, e.g. https://hiwar.example.org
    #[arg(long, value_name = "URL")]
    pub server: String,
    /// The dialogue's id
    #[arg(long)]
    pub dialogue: String,
    /// The election's id
    #[arg(long)]
    pub election: String,
}

impl Target {
    fn base(&self) -> String {
        self.server.trim_end_matches('/').to_string()
    }

    pub fn record_url(&self) -> String {
        format!("{}/dialogues/{}/record", self.base(), self.dialogue)
    }

    fn api(&self, rest: &str) -> String {
        format!("{}/api/dialogues/{}/elections/{}{rest}", self.base(), self.dialogue, self.election)
    }

    /// Sends a signed step (`election.*`) for the server to check and record.
    pub fn relay(&self, kind: &str, body: Value) -> Result<Value> {
        post_json(&self.api("/events"), &json!({"kind": kind, "body": body}))
    }

    /// The record, fully verified: its events, the election's `election.created` body
    /// and the election hash.
    #[allow(clippy::type_complexity)]
    fn verified(&self) -> Result<(Vec<(String, Value)>, Value, [u8; 32])> {
        let (dialogue, events) = crate::ballots::verified_events(&self.record_url())?;
        if dialogue != self.dialogue {
            bail!("the record at {} is of dialogue {dialogue}, not {}", self.record_url(), self.dialogue);
        }
        let created = crate::ballots::of_election(&events, &self.election, "election.created")
            .next()
            .with_context(|| format!("election {} is not in the record", self.election))?
            .clone();
        let hash = election_hash(&dialogue, &created);
        Ok((events, created, hash))
    }
}

fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new().timeout(Duration::from_secs(60)).build()
}

/// The server's answer, or an error with what it said was wrong.
fn answer(url: &str, result: Result<ureq::Response, ureq::Error>) -> Result<Value> {
    match result {
        Ok(response) => {
            let text = response.into_string().with_context(|| format!("reading the answer of {url}"))?;
            Ok(if text.trim().is_empty() { Value::Null } else { serde_json::from_str(&text)? })
        }
        Err(ureq::Error::Status(code, response)) => {
            let text = response.into_string().unwrap_or_default();
            let detail = serde_json::from_str::<Value>(&text)
                .ok()
                .and_then(|v| v["detail"].as_str().or(v["error"].as_str()).map(str::to_string))
                .unwrap_or(text);
            bail!("{url} answered {code}: {detail}")
        }
        Err(e) => bail!("cannot reach {url}: {e}"),
    }
}

pub(crate) fn post_json(url: &str, body: &Value) -> Result<Value> {
    answer(url, agent().post(url).set("Content-Type", "application/json").send_string(&body.to_string()))
}

/// Writes a secret file readable only by its owner.
pub(crate) fn write_secret(path: &Path, contents: &str) -> Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("creating {} (it must not exist yet)", path.display()))?;
    file.write_all(contents.as_bytes()).with_context(|| format!("writing {}", path.display()))
}

fn read_json(path: &Path, what: &str) -> Result<Zeroizing<String>> {
    let text = Zeroizing::new(std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?);
    serde_json::from_str::<Value>(&text).with_context(|| format!("{} is not {what} (JSON)", path.display()))?;
    Ok(text)
}

fn seed_of(v: &Value, name: &str, file: &Path) -> Result<Zeroizing<[u8; 32]>> {
    Ok(Zeroizing::new(wire::hex_bytes(&v[name], name).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?))
}

// ----- trustees -----

/// Reads a trustee's key file (from `trustee keygen`, or `election simulate --keys`).
pub fn load_trustee(path: &Path) -> Result<TrusteeRole> {
    let text = read_json(path, "a trustee key file")?;
    let v: Value = serde_json::from_str(&text)?;
    let signing_seed = seed_of(&v, "signing_seed", path)?;
    let share_secret = scalar_from_hex("share_secret", v["share_secret"].as_str().unwrap_or_default())
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    Ok(TrusteeRole::new(&signing_seed, share_secret))
}

/// `hiwar trustee keygen`: a trustee's long-term keys, kept in `out` (readable only by
/// its owner); prints the public keys to give the convener.
pub fn trustee_keygen(out: &Path) -> Result<()> {
    let role = TrusteeRole::generate(&mut rand::rngs::OsRng);
    write_secret(out, &Zeroizing::new(role.secret_json().to_string()))?;
    println!("{}", role.public());
    eprintln!("kept your secret keys in {}: back it up offline; give the convener the line above", out.display());
    Ok(())
}

fn of<'a>(events: &'a [(String, Value)], election: &'a str, kind: &'a str) -> impl Iterator<Item = &'a Value> {
    crate::ballots::of_election(events, election, kind)
}

/// `hiwar trustee ceremony`: takes this trustee through the key ceremony — commit,
/// reveal, deal encrypted shares, check the shares dealt to it (complaining, with a
/// proof, about a wrong one) — waiting for the other trustees between steps. Each step
/// is decided from the verified record, so it can be stopped and started again.
pub fn trustee_ceremony(target: &Target, key: &Path, wait: Duration) -> Result<()> {
    let role = load_trustee(key)?;
    let started = Instant::now();
    let mut announced = String::new();
    loop {
        let (events, _, _) = target.verified()?;
        let events: Vec<(String, Value)> =
            events.into_iter().filter(|(_, b)| b["election"] == target.election.as_str()).collect();
        let what = match role
            .next_step(&target.dialogue, &events, &mut rand::rngs::OsRng)
            .map_err(|e| anyhow::anyhow!(e))?
        {
            CeremonyStep::Send(kind, body) => {
                let dealer = body["dealer"].clone();
                target.relay(kind, body)?;
                if kind == "election.trustee_complaint" {
                    bail!("trustee {dealer} dealt you a wrong share: your complaint, with its proof, is in the record; the ceremony has failed");
                }
                format!("{kind}: sent")
            }
            CeremonyStep::Wait(what) => {
                if started.elapsed() > wait {
                    bail!("gave up {what} after {} s; run the same command again to resume", wait.as_secs());
                }
                std::thread::sleep(Duration::from_millis(500));
                what
            }
            CeremonyStep::Done => {
                eprintln!("the ceremony is complete and every share dealt to you checks out");
                return Ok(());
            }
            CeremonyStep::Failed(why) => bail!(why),
        };
        if what != announced {
            eprintln!("{what}");
            announced = what;
        }
    }
}

// ----- the credential authority -----

/// `hiwar election authority`: the credential authority's signing key, kept in `out`;
/// prints the public key to give the convener.
pub fn authority_keygen(out: &Path) -> Result<()> {
    let (seed, signer) = Signer25519::generate(&mut rand::rngs::OsRng);
    write_secret(out, &json!({"signing_seed": hex::encode(*seed)}).to_string())?;
    println!("{}", json!({"authority": hex::encode(signer.public())}));
    eprintln!("kept the authority's secret key in {}; give the convener the line above", out.display());
    Ok(())
}

/// Writes a credential secret as the voter types it: 64 hex digits in groups of 4.
fn grouped(secret: &[u8; 32]) -> String {
    hex::encode(secret).as_bytes().chunks(4).map(|c| std::str::from_utf8(c).expect("hex")).collect::<Vec<_>>().join("-")
}

/// `hiwar election credentials`: one private credential per voter of the roll, written
/// to `out` as letters (HTML, Arabic and English), one file per voter for `hiwar vote`,
/// and a CSV for mail merge; the public list, signed, goes to the server. The
/// authority keeps no copy the server can use: `out` is for printing and then deleting.
pub fn credentials(
    target: &Target,
    authority: &Path,
    voters: &Path,
    registered: Option<&Path>,
    out: &Path,
    upload: bool,
) -> Result<()> {
    let text = read_json(authority, "the authority's key file")?;
    let seed = seed_of(&serde_json::from_str(&text)?, "signing_seed", authority)?;
    let signer = Signer25519::from_seed(&seed);
    let (_, created, hash) = target.verified()?;
    if created["authority"] != hex::encode(signer.public()) {
        bail!("the election names another credential authority key than {}", authority.display());
    }
    let roll_text = std::fs::read_to_string(voters).with_context(|| format!("reading {}", voters.display()))?;
    let rows = hiwar_csv::parse(&roll_text).map_err(|e| anyhow::anyhow!("{}: {e}", voters.display()))?;
    let header = rows.first().map(|(_, r)| r.clone()).unwrap_or_default();
    let column = |name: &str| header.iter().position(|h| h.trim() == name);
    let voter_col = column("voter").with_context(|| format!("{} has no column \"voter\"", voters.display()))?;
    let (name_col, weight_col) = (column("pseudonym"), column("weight"));
    let mut roll = Vec::new();
    for (line, row) in rows.iter().skip(1) {
        let voter = row.get(voter_col).map(|v| v.trim().to_string()).unwrap_or_default();
        if voter.is_empty() {
            bail!("{} line {line}: no voter", voters.display());
        }
        let weight =
            match weight_col.and_then(|c| row.get(c)).map(|w| w.trim()).filter(|w| !w.is_empty()) {
                Some(w) => w.parse::<u64>().ok().filter(|w| *w > 0).with_context(|| {
                    format!("{} line {line}: weight {w:?} is not a whole number ≥ 1", voters.display())
                })?,
                None => 1,
            };
        let name = name_col.and_then(|c| row.get(c)).cloned().unwrap_or_default();
        roll.push((voter, name, weight));
    }
    let listed: Vec<(String, u64)> = roll.iter().map(|(v, _, w)| (v.clone(), *w)).collect();
    let expected = &created["electorate"];
    if hex::encode(hiwar_record::election::roll_hash(&listed)) != expected["roll"] {
        bail!(
            "{} is not the roll the election committed to ({} voters of total weight {} with roll hash {}): download it again from the election page",
            voters.display(), expected["voters"], expected["total_weight"], expected["roll"].as_str().unwrap_or_default()
        );
    }
    let registered = match registered {
        Some(path) => registrations(path, &roll)?,
        None => Default::default(),
    };
    std::fs::create_dir_all(out.join("voters")).with_context(|| format!("creating {}", out.display()))?;
    let weighted = created["weighted"].as_bool().unwrap_or(false);
    let bar = crate::simulate::progress(roll.len() as u64, "credentials");
    let mut csv = hiwar_csv::line(&["voter", "pseudonym", "weight", "credential", "public"]);
    let mut letters = String::from(LETTERS_HEAD);
    let mut publics = Vec::with_capacity(roll.len());
    let mut made_by_members = Vec::new();
    for (voter, name, weight) in &roll {
        if let Some(public) = registered.get(voter) {
            made_by_members.push((*public, *weight));
            bar.inc(1);
            continue;
        }
        let (secret, credential) = Credential::generate(&mut rand::rngs::OsRng);
        let public = credential.public();
        let code = grouped(&secret);
        csv.push_str(&hiwar_csv::line(&[voter.as_str(), name, &weight.to_string(), &code, &hex::encode(public)]));
        letters.push_str(&letter(target, &created, name, voter, &code));
        let file = json!({"server": target.server, "dialogue": target.dialogue, "election": target.election,
            "voter": voter, "credential": hex::encode(*secret)});
        let safe: String = voter.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' }).collect();
        write_secret(&out.join("voters").join(format!("{safe}.json")), &file.to_string())?;
        publics.push((public, *weight));
        bar.inc(1);
    }
    bar.finish();
    letters.push_str("</body></html>\n");
    write_secret(&out.join("credentials.csv"), &csv)?;
    write_secret(&out.join("letters.html"), &letters)?;
    let mut events = credential_lists(&target.election, &hash, &signer, &made_by_members, weighted, "members");
    events.extend(credential_lists(&target.election, &hash, &signer, &publics, weighted, "authority"));
    eprintln!("{} credentials registered by members, {} made here", made_by_members.len(), publics.len());
    let list = out.join("public-list.jsonl");
    std::fs::write(&list, events.iter().map(|e| format!("{e}\n")).collect::<String>())
        .with_context(|| format!("writing {}", list.display()))?;
    if upload {
        for e in events {
            target.relay("election.credentials", e)?;
        }
        eprintln!("the signed public list of {} credentials is in the record", publics.len() + made_by_members.len());
    } else {
        eprintln!("the signed public list is in {}; send it with --upload or give it to the convener", list.display());
    }
    eprintln!(
        "print {} (or merge {}), hand each voter theirs, then delete the folder {}",
        out.join("letters.html").display(),
        out.join("credentials.csv").display(),
        out.display()
    );
    Ok(())
}

/// The credentials members registered (CSV: voter, credential, from the vote's page),
/// each checked: a voter of the roll, once; a valid key, once.
fn registrations(path: &Path, roll: &[(String, String, u64)]) -> Result<std::collections::HashMap<String, [u8; 32]>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let rows = hiwar_csv::parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let mut out = std::collections::HashMap::new();
    let mut keys = std::collections::HashSet::new();
    for (line, row) in rows.iter().skip(1) {
        let (voter, credential) = match row.as_slice() {
            [v, c, ..] => (v.trim(), c.trim()),
            _ => bail!("{} line {line}: expected voter,credential", path.display()),
        };
        if !roll.iter().any(|(v, _, _)| v == voter) {
            bail!("{} line {line}: {voter} is not in the electorate", path.display());
        }
        let bytes: [u8; 32] = hex::decode(credential)
            .ok()
            .and_then(|b| b.try_into().ok())
            .with_context(|| format!("{} line {line}: the credential is not 64 hex digits", path.display()))?;
        hiwar_crypto::signing::public_key("credential", &bytes)
            .map_err(|e| anyhow::anyhow!("{} line {line}: {e}", path.display()))?;
        if out.insert(voter.to_string(), bytes).is_some() || !keys.insert(bytes) {
            bail!("{} line {line}: {voter} or its credential is registered twice", path.display());
        }
    }
    Ok(out)
}

const LETTERS_HEAD: &str = "<!doctype html><html lang=\"ar\"><head><meta charset=\"utf-8\"><title>hiwar</title>\
<style>section{page-break-after:always;font-family:sans-serif;max-width:40em;margin:2em auto}code{font-size:1.3em;letter-spacing:.05em}</style></head><body>\n";

fn escape(text: &str) -> String {
    hiwar_plots::escape(text)
}

/// One voter's letter, in Arabic and in English.
fn letter(target: &Target, created: &Value, name: &str, voter: &str, code: &str) -> String {
    let title_ar = escape(created["title"]["ar"].as_str().unwrap_or_default());
    let title_en = escape(created["title"]["en"].as_str().unwrap_or_default());
    let page =
        format!("{}/dialogues/{}/decide/{}", target.server.trim_end_matches('/'), target.dialogue, target.election);
    let (name, voter, code, page) = (escape(name), escape(voter), escape(code), escape(&page));
    format!(
        "<section><div dir=\"rtl\" lang=\"ar\"><h1>{title_ar}</h1><p>إلى: <bdi>{name}</bdi> (<bdi>{voter}</bdi>)</p>\
<p>هذه بطاقة اعتمادك السرية للتصويت. لا تُطلع عليها أحدًا؛ من يملكها يستطيع التصويت باسمك.</p>\
<p><code dir=\"ltr\">{code}</code></p><p>صفحة التصويت: <bdi dir=\"ltr\">{page}</bdi></p>\
<p>يمكنك التصويت مجددًا قبل الإغلاق: لا تُحتسب إلا ورقتك الأخيرة. احتفظ برمز التتبّع الذي تحصل عليه وابحث عنه في لوحة الأوراق.</p></div>\
<div dir=\"ltr\" lang=\"en\"><h1>{title_en}</h1><p>To: <bdi>{name}</bdi> (<bdi>{voter}</bdi>)</p>\
<p>This is your secret voting credential. Show it to no one: whoever holds it can vote in your name.</p>\
<p><code>{code}</code></p><p>Voting page: {page}</p>\
<p>You may vote again before the vote closes: only your last ballot counts. Keep the tracking code you are given and look for it on the ballot board.</p></div></section>\n"
    )
}

// ----- voters -----

/// Reads a credential: a voter file from `election credentials`, or the code from the
/// letter (64 hex digits, dashes and spaces allowed).
pub fn read_credential(source: &str) -> Result<Credential> {
    let path = Path::new(source);
    let text = if path.exists() {
        let text = Zeroizing::new(std::fs::read_to_string(path).with_context(|| format!("reading {source}"))?);
        match serde_json::from_str::<Value>(&text) {
            Ok(v) => Zeroizing::new(v["credential"].as_str().unwrap_or_default().to_string()),
            Err(_) => text,
        }
    } else {
        Zeroizing::new(source.to_string())
    };
    let digits: Zeroizing<String> =
        Zeroizing::new(text.chars().filter(|c| !c.is_whitespace() && *c != '-').collect::<String>().to_lowercase());
    let mut secret = Zeroizing::new([0u8; 32]);
    hex::decode_to_slice(digits.as_bytes(), &mut *secret)
        .ok()
        .context("the credential is not 64 hex digits (from the letter) or a credential file")?;
    Ok(Credential::from_secret(&secret))
}

/// The election's questions as the cryptography needs them.
fn questions(created: &Value) -> Result<Vec<Question>> {
    created["questions"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|q| {
            Ok(Question {
                options: q["options"].as_array().map_or(0, Vec::len) as u32,
                min: q["min"].as_u64().context("a question without min")? as u32,
                max: q["max"].as_u64().context("a question without max")? as u32,
            })
        })
        .collect()
}

/// Parses choices like `0` or `1;0,2`: per question (separated by `;`) the numbers of
/// the chosen options, from 0.
pub fn parse_choices(text: &str, questions: &[Question]) -> Result<Vec<Vec<bool>>> {
    let parts: Vec<&str> = text.split(';').collect();
    if parts.len() != questions.len() {
        bail!(
            "--choices {text:?} answers {} questions; the election has {} (separate them with ;)",
            parts.len(),
            questions.len()
        );
    }
    parts
        .iter()
        .zip(questions)
        .enumerate()
        .map(|(q, (part, question))| {
            let mut chosen = vec![false; question.options as usize];
            for item in part.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                let o: usize = item.parse().ok().filter(|o| *o < chosen.len()).with_context(|| {
                    format!(
                        "question {}: {item:?} is not an option number from 0 to {}",
                        q + 1,
                        chosen.len().saturating_sub(1)
                    )
                })?;
                chosen[o] = true;
            }
            let n = chosen.iter().filter(|c| **c).count() as u32;
            if n < question.min || n > question.max {
                bail!("question {}: {n} options chosen; choose from {} to {}", q + 1, question.min, question.max);
            }
            Ok(chosen)
        })
        .collect()
}

/// What a voter needs from the verified record to vote.
pub struct Ballotbox {
    pub target: Target,
    pub hash: [u8; 32],
    pub key: ElectionKey,
    pub questions: Vec<Question>,
}

impl Ballotbox {
    /// Reads and verifies the record; the election must be open.
    pub fn fetch(target: &Target) -> Result<Self> {
        let (events, created, hash) = target.verified()?;
        let opened = of(&events, &target.election, "election.opened").next().context("the election is not open yet")?;
        if of(&events, &target.election, "election.closed").next().is_some() {
            bail!("the election is closed");
        }
        let key = point_from_hex("public_key", opened["public_key"].as_str().unwrap_or_default())
            .and_then(ElectionKey::new)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        Ok(Ballotbox { target: target.clone(), hash, key, questions: questions(&created)? })
    }

    fn booth(&self) -> VotingBooth<'_> {
        VotingBooth { election: &self.target.election, hash: &self.hash, key: &self.key, questions: &self.questions }
    }

    pub fn cast_body(&self, credential: &Credential, choices: &[Vec<bool>], counter: u64) -> Result<Value> {
        self.booth().cast(credential, choices, counter, &mut rand::rngs::OsRng).map_err(|e| anyhow::anyhow!(e))
    }

    pub fn spoiled_body(&self, credential: &Credential, choices: &[Vec<bool>]) -> Result<Value> {
        self.booth()
            .challenge(credential, choices, &mut rand::rngs::OsRng)
            .map_err(|e| anyhow::anyhow!("{e}: do not trust this device"))
    }

    pub fn cast(&self, body: &Value) -> Result<Value> {
        post_json(&self.target.api("/ballots"), body)
    }

    pub fn spoil(&self, body: &Value) -> Result<Value> {
        post_json(&self.target.api("/spoiled"), body)
    }
}

/// A counter that grows with every ballot of a credential: the time in milliseconds.
fn counter() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(1, |d| d.as_millis() as u64)
}

/// `hiwar vote`: encrypts, proves and signs on this machine, casts, and prints the
/// receipt. With `challenge`, first publishes a challenged ballot (opened, never
/// counted) so the voter can see the device encrypts what they chose.
pub fn vote(
    target: &Target,
    credential: &str,
    choices: &str,
    challenge: bool,
    receipt_file: Option<&Path>,
) -> Result<()> {
    let credential = read_credential(credential)?;
    let b = Ballotbox::fetch(target)?;
    let chosen = parse_choices(choices, &b.questions)?;
    if challenge {
        let spoiled = b.spoiled_body(&credential, &chosen)?;
        let answer = b.spoil(&spoiled)?;
        println!("challenged ballot {} opened to your choices and published as challenged (record line {}); it is never counted",
            spoiled["tracking"].as_str().unwrap_or_default(), answer["line"]);
    }
    let body = b.cast_body(&credential, &chosen, counter())?;
    let receipt = b.cast(&body)?;
    println!(
        "cast: tracking code {} (record line {})",
        receipt["tracking"].as_str().unwrap_or_default(),
        receipt["line"]
    );
    println!(
        "check it on the ballot board: {}/dialogues/{}/decide/{}/board?q={}",
        target.base(),
        target.dialogue,
        target.election,
        receipt["tracking"].as_str().unwrap_or_default()
    );
    if let Some(file) = receipt_file {
        std::fs::write(file, serde_json::to_string_pretty(&receipt)?)
            .with_context(|| format!("writing {}", file.display()))?;
        println!(
            "kept your receipt in {} (check a record against it: hiwar verify URL --checkpoint {})",
            file.display(),
            file.display()
        );
    }
    println!("you may vote again before the vote closes: only your last ballot counts");
    Ok(())
}

/// `hiwar vote --batch`: many voters at once (for tests, drills and load measurements):
/// a CSV with columns `credential` (code or file) and `choices`. Ballots are made first,
/// on every core; then sent by `concurrency` connections, or written to `bodies` (one
/// JSON body per line) to be sent by a load generator.
pub fn vote_batch(target: &Target, batch: &Path, concurrency: usize, bodies: Option<&PathBuf>) -> Result<()> {
    let text = std::fs::read_to_string(batch).with_context(|| format!("reading {}", batch.display()))?;
    let rows = hiwar_csv::parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", batch.display()))?;
    let header = rows.first().map(|(_, r)| r.clone()).unwrap_or_default();
    let col = |name: &str| {
        header
            .iter()
            .position(|h| h.trim() == name)
            .with_context(|| format!("{} has no column {name:?}", batch.display()))
    };
    let (c_col, choice_col) = (col("credential")?, col("choices")?);
    let b = Ballotbox::fetch(target)?;
    let base = counter();
    let made = crate::simulate::progress(rows.len().saturating_sub(1) as u64, "encrypting");
    let jobs: Vec<(usize, &Vec<String>)> = rows.iter().skip(1).map(|(l, r)| (*l, r)).collect();
    let next = AtomicUsize::new(0);
    let out: Mutex<Vec<(usize, Value)>> = Mutex::new(Vec::with_capacity(jobs.len()));
    let failure: Mutex<Option<anyhow::Error>> = Mutex::new(None);
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| loop {
                let k = next.fetch_add(1, Ordering::Relaxed);
                let Some((line, row)) = jobs.get(k) else { return };
                let made_one = (|| -> Result<Value> {
                    let credential = read_credential(row.get(c_col).map(String::as_str).unwrap_or_default())?;
                    let chosen =
                        parse_choices(row.get(choice_col).map(String::as_str).unwrap_or_default(), &b.questions)?;
                    b.cast_body(&credential, &chosen, base + k as u64)
                })();
                match made_one {
                    Ok(v) => out.lock().expect("not poisoned").push((k, v)),
                    Err(e) => {
                        failure
                            .lock()
                            .expect("not poisoned")
                            .get_or_insert(e.context(format!("{} line {line}", batch.display())));
                        return;
                    }
                }
                made.inc(1);
            });
        }
    });
    made.finish();
    if let Some(e) = failure.into_inner().expect("not poisoned") {
        return Err(e);
    }
    let mut ballots = out.into_inner().expect("not poisoned");
    ballots.sort_by_key(|(k, _)| *k);
    if let Some(path) = bodies {
        let text: String = ballots.iter().map(|(_, v)| format!("{v}\n")).collect();
        std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
        eprintln!("wrote {} ballots to {}", ballots.len(), path.display());
        return Ok(());
    }
    let sent = crate::simulate::progress(ballots.len() as u64, "casting");
    let next = AtomicUsize::new(0);
    let errors: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let started = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..concurrency.max(1) {
            s.spawn(|| loop {
                let k = next.fetch_add(1, Ordering::Relaxed);
                let Some((_, body)) = ballots.get(k) else { return };
                if let Err(e) = b.cast(body) {
                    errors.lock().expect("not poisoned").push(format!("ballot {}: {e:#}", k + 1));
                }
                sent.inc(1);
            });
        }
    });
    sent.finish();
    let errors = errors.into_inner().expect("not poisoned");
    let seconds = started.elapsed().as_secs_f64();
    eprintln!(
        "cast {} ballots in {seconds:.1} s ({:.0} per second), {} refused",
        ballots.len() - errors.len(),
        (ballots.len() - errors.len()) as f64 / seconds,
        errors.len()
    );
    if let Some(first) = errors.first() {
        bail!("{} ballots were refused; the first: {first}", errors.len());
    }
    Ok(())
}
