//! Decide: secret, end-to-end verifiable votes in a dialogue (record-spec §6).
//!
//! The server never holds a secret that counts: credentials are made by the credential
//! authority (`hiwar election credentials`) and only their public keys reach the
//! server, signed; trustees keep their key shares on their own machines and send only
//! signed, public steps (`hiwar trustee ceremony`, `hiwar trustee decrypt`); voters
//! encrypt, prove and sign on their own device (`hiwar vote`). The server relays,
//! checks each step with the verifier's own rules, and writes the record.
//!
//! Casting is grouped: each ballot's signature and proofs are checked on the blocking
//! pool by any number of requests at once; then one ballot box per election appends
//! whatever ballots are waiting in one transaction (one durable write for all), and
//! answers each request only after that commit.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use hiwar_record::election::{roll_hash, CastChecker, CheckedCast};
use hiwar_record::events::bilingual;
use hiwar_store::{Member, Store};
use serde::Deserialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use tokio::sync::{mpsc, oneshot};

use crate::dialogues::service::require_convener;
use crate::web::{AppError, Ctx};
use crate::AppState;

/// The largest weight of one voter, and of the whole electorate (10⁶ voters of weight
/// 10⁶ would need a table of 10⁶ entries to read the result).
pub const MAX_WEIGHT: u64 = 1_000_000;
pub const MAX_TOTAL_WEIGHT: u64 = 1_000_000_000_000;

/// Most ballots appended in one transaction.
pub const MAX_BATCH: usize = 256;
/// Ballots waiting for the ballot box of one election, at most.
const QUEUE: usize = 4096;

/// The pages' scripts and the WebAssembly module they run (built from `hiwar-wasm` by
/// `tools/build-voter-wasm.sh`): the loader, the voting page's and the trustee pages'.
pub const WASM_JS: &str = include_str!("../../assets/wasm.js");
pub const VOTE_JS: &str = include_str!("../../assets/vote.js");
pub const TRUSTEE_JS: &str = include_str!("../../assets/trustee.js");
pub const REGISTER_JS: &str = include_str!("../../assets/register.js");
pub const VOTER_WASM: &[u8] = include_bytes!("../../assets/hiwar_voter.wasm");

/// The client voters, trustees and members are served, whose hash `election.created`
/// announces: `SHA-256("hiwar/v2/client\n" ‖ SHA-256(wasm.js) ‖ SHA-256(vote.js) ‖
/// SHA-256(trustee.js) ‖ SHA-256(register.js) ‖ SHA-256(hiwar_voter.wasm))` — every
/// script that handles a secret — so anyone can compare it with what the server hands
/// out.
pub fn client_hash() -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"hiwar/v2/client\n");
    for part in [WASM_JS.as_bytes(), VOTE_JS.as_bytes(), TRUSTEE_JS.as_bytes(), REGISTER_JS.as_bytes(), VOTER_WASM] {
        h.update(Sha256::digest(part));
    }
    h.finalize().into()
}

/// A bilingual text as submitted.
#[derive(Debug, Deserialize)]
pub struct TextInput {
    pub ar: String,
    pub en: String,
}

#[derive(Debug, Deserialize)]
pub struct QuestionInput {
    pub title: TextInput,
    pub options: Vec<TextInput>,
    pub min: u32,
    pub max: u32,
}

#[derive(Debug, Deserialize)]
pub struct TrusteeInput {
    pub signing_key: String,
    pub share_key: String,
}

/// Who may vote: every member with a role (each with weight 1), or a register kept
/// outside the platform (voter ids the convener and the credential authority agree on,
/// such as member ids or register numbers, with weights).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ElectorateInput {
    Role(String),
    List(Vec<RollEntry>),
}

#[derive(Debug, Deserialize)]
pub struct RollEntry {
    pub voter: String,
    #[serde(default = "one")]
    pub weight: u64,
}

fn one() -> u64 {
    1
}

/// A new election, as the convener describes it.
#[derive(Debug, Deserialize)]
pub struct ElectionInput {
    pub id: String,
    pub title: TextInput,
    pub questions: Vec<QuestionInput>,
    pub electorate: ElectorateInput,
    pub trustees: Vec<TrusteeInput>,
    pub threshold: u32,
    /// The credential authority's Ed25519 key (`hiwar election authority`).
    pub authority: String,
    /// When the convener intends to close (shown to voters; closing is an act).
    pub closes_at: Option<String>,
}

fn text(t: &TextInput) -> Value {
    bilingual(t.ar.trim(), t.en.trim())
}

/// The electorate's roll: (member id, weight), in a fixed order.
async fn roll(store: &Store, dialogue: &str, electorate: &ElectorateInput) -> Result<Vec<(String, u64)>, AppError> {
    let roll: Vec<(String, u64)> = match electorate {
        ElectorateInput::Role(role) => {
            let members: Vec<Member> = store.members(dialogue).await?;
            if !hiwar_record::events::ROLES.contains(&role.as_str()) {
                return Err(AppError::bad_request("electorate", format!("{role:?} is not a role")));
            }
            members.iter().filter(|m| m.has(role)).map(|m| (m.id.clone(), 1)).collect()
        }
        ElectorateInput::List(list) => {
            let mut seen = HashSet::new();
            for entry in list {
                let id = entry.voter.as_str();
                if id.is_empty() || id.chars().count() > 64 || id.chars().any(char::is_control) {
                    return Err(AppError::bad_request(
                        "electorate",
                        format!("{id:?} is not a voter id (1 to 64 characters)"),
                    ));
                }
                if !seen.insert(id) {
                    return Err(AppError::bad_request("electorate", format!("{id} is listed twice")));
                }
                if entry.weight == 0 {
                    return Err(AppError::bad_request("electorate", format!("{id} has weight 0")));
                }
            }
            list.iter().map(|e| (e.voter.clone(), e.weight)).collect()
        }
    };
    if roll.is_empty() {
        return Err(AppError::bad_request("electorate", "nobody is in the electorate"));
    }
    Ok(roll)
}

/// Creates the election: everything public about it enters the record at once, and
/// never changes.
pub async fn create(state: &AppState, ctx: &Ctx, dialogue: &str, input: ElectionInput) -> Result<String, AppError> {
    require_convener(state, ctx, dialogue).await?;
    store_election(&state.store, dialogue, &input).await
}

/// A closing time as `YYYY-MM-DDTHH:MM:SSZ` (UTC), from that form or a form's
/// `YYYY-MM-DDTHH:MM` (read as UTC).
fn closing_time(raw: &str) -> Result<String, AppError> {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let text = raw.trim_end_matches('Z');
    let (date, clock) = text.split_once('T').unwrap_or((text, ""));
    let d: Vec<&str> = date.split('-').collect();
    let mut c: Vec<&str> = clock.split(':').collect();
    if c.len() == 2 {
        c.push("00");
    }
    let shaped = d.len() == 3 && c.len() == 3 && d.iter().chain(&c).all(|p| digits(p));
    let [year, month, day, hour, minute, second] = [d.first(), d.get(1), d.get(2), c.first(), c.get(1), c.get(2)]
        .map(|p| p.and_then(|p| p.parse::<u32>().ok()).unwrap_or(u32::MAX));
    if !shaped
        || year > 9999
        || !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return Err(AppError::bad_request("closes_at", format!("{raw:?} is not a time like 2027-01-10T18:00 (UTC)")));
    }
    Ok(format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}Z"))
}

/// Closes every open election whose closing time has come; runs in the background
/// every 15 seconds in each server process (closing twice is refused by the record's
/// checks, so two processes cannot both close one election).
pub async fn close_when_due(state: AppState) {
    let mut every = tokio::time::interval(std::time::Duration::from_secs(15));
    loop {
        every.tick().await;
        let due = match state.store.elections_due(&hiwar_record::now_rfc3339()).await {
            Ok(due) => due,
            Err(e) => {
                tracing::warn!(error = %e, "listing elections due to close");
                continue;
            }
        };
        for (dialogue, election) in due {
            match state.store.close_election(&dialogue, &election).await {
                Ok(_) => {
                    state.ballot_boxes.forget(&dialogue, &election);
                    tracing::info!(dialogue, election, "closed at its closing time");
                }
                Err(e) => tracing::warn!(dialogue, election, error = %e, "closing at the closing time"),
            }
        }
    }
}

/// Stores the election described by `input` and records `election.created`.
pub async fn store_election(store: &Store, dialogue: &str, input: &ElectionInput) -> Result<String, AppError> {
    let roll = roll(store, dialogue, &input.electorate).await?;
    // The result is read off `count · G` by a table as large as the square root of the
    // counted weight: weights stay small enough for that to be cheap.
    if let Some((voter, weight)) = roll.iter().find(|(_, w)| *w > MAX_WEIGHT) {
        return Err(AppError::bad_request("electorate", format!("{voter} has weight {weight}, over {MAX_WEIGHT}")));
    }
    let total_weight: u64 = roll.iter().map(|(_, w)| w).sum();
    if total_weight > MAX_TOTAL_WEIGHT {
        return Err(AppError::bad_request(
            "electorate",
            format!("a total weight of {total_weight} is over {MAX_TOTAL_WEIGHT}"),
        ));
    }
    let weighted = roll.iter().any(|(_, w)| *w != 1);
    let body = json!({
        "election": input.id.trim(),
        "title": text(&input.title),
        "questions": input.questions.iter().map(|q| json!({"title": text(&q.title),
            "options": q.options.iter().map(text).collect::<Vec<_>>(), "min": q.min, "max": q.max})).collect::<Vec<_>>(),
        "threshold": input.threshold,
        "trustees": input.trustees.iter().map(|t| json!({"signing_key": t.signing_key.trim(), "share_key": t.share_key.trim()}))
            .collect::<Vec<_>>(),
        "weighted": weighted,
        "electorate": {"voters": roll.len(), "total_weight": total_weight, "roll": hex::encode(roll_hash(&roll))},
        "authority": input.authority.trim(),
        "client": hex::encode(client_hash()),
    });
    let closes_at =
        input.closes_at.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(closing_time).transpose()?;
    let closes_at = closes_at.as_deref();
    let roll: Vec<Value> = roll.iter().map(|(v, w)| json!({"member": v, "weight": w})).collect();
    Ok(store.create_election(dialogue, body, closes_at, &Value::Array(roll)).await?)
}

/// The roll as the credential authority needs it (convener only): voter (member id),
/// pseudonym, weight — in the order the roll hash commits to.
pub async fn roll_csv(state: &AppState, ctx: &Ctx, dialogue: &str, election: &str) -> Result<String, AppError> {
    require_convener(state, ctx, dialogue).await?;
    let roll = state.store.election_roll(dialogue, election).await?;
    let members = state.store.members(dialogue).await?;
    let pseudonyms: HashMap<&str, &str> = members.iter().map(|m| (m.id.as_str(), m.pseudonym.as_str())).collect();
    let mut csv = hiwar_csv::line(&["voter", "pseudonym", "weight"]);
    for (member, weight) in &roll {
        let pseudonym = pseudonyms.get(member.as_str()).copied().unwrap_or_default();
        csv.push_str(&hiwar_csv::line(&[member.as_str(), pseudonym, &weight.to_string()]));
    }
    Ok(csv)
}

/// A member registers the public credential their device made (before the vote opens;
/// one per member of the roll). The credential authority later checks the registrations
/// against the roll and signs them into the list as made by the members.
pub async fn register(
    state: &AppState,
    ctx: &Ctx,
    dialogue: &str,
    election: &str,
    credential: &str,
) -> Result<(), AppError> {
    let account = ctx.account()?;
    let member = state.store.membership(dialogue, &account.id).await?.ok_or_else(AppError::forbidden)?;
    let credential = credential.trim().to_lowercase();
    let bytes: [u8; 32] = hex::decode(&credential)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| AppError::bad_request("credential", "a credential is 64 hex digits"))?;
    hiwar_crypto::signing::public_key("credential", &bytes)
        .map_err(|e| AppError::bad_request("credential", e.to_string()))?;
    Ok(state.store.register_credential(dialogue, election, &member.id, &credential).await?)
}

/// The registrations, for the credential authority (convener only): voter, credential.
pub async fn registrations_csv(
    state: &AppState,
    ctx: &Ctx,
    dialogue: &str,
    election: &str,
) -> Result<String, AppError> {
    require_convener(state, ctx, dialogue).await?;
    let mut csv = hiwar_csv::line(&["voter", "credential"]);
    for (member, credential) in state.store.registrations(dialogue, election).await? {
        csv.push_str(&hiwar_csv::line(&[member, credential]));
    }
    Ok(csv)
}

/// Relays a step signed by the credential authority or a trustee.
pub async fn relay(state: &AppState, dialogue: &str, election: &str, kind: &str, body: Value) -> Result<u64, AppError> {
    if !hiwar_store::SIGNED_KINDS.contains(&kind) {
        return Err(AppError::bad_request("kind", format!("the server relays only {:?}", hiwar_store::SIGNED_KINDS)));
    }
    Ok(state.store.election_event(dialogue, election, kind, body).await?)
}

pub async fn open(state: &AppState, ctx: &Ctx, dialogue: &str, election: &str) -> Result<String, AppError> {
    require_convener(state, ctx, dialogue).await?;
    Ok(state.store.open_election(dialogue, election).await?)
}

pub async fn close(state: &AppState, ctx: &Ctx, dialogue: &str, election: &str) -> Result<(), AppError> {
    require_convener(state, ctx, dialogue).await?;
    state.store.close_election(dialogue, election).await?;
    state.ballot_boxes.forget(dialogue, election);
    Ok(())
}

/// A challenged ballot, published opened and never counted. At most three per voter of
/// the electorate: anyone can make a valid one (random choices and their nonces), and
/// each is a permanent line of the record.
pub async fn spoil(state: &AppState, dialogue: &str, election: &str, body: Value) -> Result<u64, AppError> {
    let status = state.store.election_status(dialogue, election).await?;
    if status.spoiled >= 3 * status.voters {
        return Err(AppError::conflict(
            "ballot",
            "this vote has as many challenged ballots as it accepts (three per voter)",
        ));
    }
    let tracking = body["tracking"].as_str().and_then(|t| <[u8; 32]>::try_from(hex::decode(t).ok()?).ok());
    let line = state.store.spoil_ballot(dialogue, election, body).await?;
    // Its tracking code may never be cast: the ballot box refuses it before a group.
    if let Some(tracking) = tracking {
        state.ballot_boxes.used(dialogue, election, tracking);
    }
    Ok(line)
}

/// What a voter keeps after casting.
pub struct Receipt {
    pub tracking: String,
    pub line: u64,
}

/// Checks a ballot (signature and proofs, on the blocking pool) and casts it through
/// the election's ballot box.
pub async fn cast(state: &AppState, dialogue: &str, election: &str, body: Value) -> Result<Receipt, AppError> {
    let ballot_box = state.ballot_boxes.get(state, dialogue, election).await?;
    let checker = ballot_box.checker.clone();
    let (body, checked) = tokio::task::spawn_blocking(move || checker.check(&body).map(|c| (body, c)))
        .await
        .map_err(AppError::internal)?
        .map_err(|(check, detail)| AppError::bad_request("ballot", format!("check {check}: {detail}")))?;
    let tracking = hex::encode(checked.tracking);
    let (reply, answer) = oneshot::channel();
    ballot_box.queue.try_send(Submission { body, checked, reply }).map_err(|_| AppError::too_many())?;
    let line = answer.await.map_err(|_| AppError::internal("the ballot box stopped"))??;
    Ok(Receipt { tracking, line })
}

struct Submission {
    body: Value,
    checked: CheckedCast,
    reply: oneshot::Sender<Result<u64, AppError>>,
}

/// Tracking codes already used in an election, cast or challenged.
type Used = Arc<Mutex<HashSet<[u8; 32]>>>;

/// One open election's checker, the queue of its ballot box, and the tracking codes it
/// has seen used.
#[derive(Clone)]
pub struct BallotBox {
    checker: CastChecker,
    queue: mpsc::Sender<Submission>,
    used: Used,
}

/// The ballot boxes of open elections, started on first use.
#[derive(Default)]
pub struct BallotBoxes {
    boxes: Mutex<HashMap<(String, String), BallotBox>>,
}

impl BallotBoxes {
    /// A tracking code was used outside the box (a challenged ballot).
    fn used(&self, dialogue: &str, election: &str, tracking: [u8; 32]) {
        if let Some(b) = self.boxes.lock().unwrap_or_else(|p| p.into_inner()).get(&(dialogue.into(), election.into())) {
            b.used.lock().unwrap_or_else(|p| p.into_inner()).insert(tracking);
        }
    }

    fn forget(&self, dialogue: &str, election: &str) {
        self.boxes.lock().unwrap_or_else(|p| p.into_inner()).remove(&(dialogue.to_string(), election.to_string()));
    }

    async fn get(&self, state: &AppState, dialogue: &str, election: &str) -> Result<BallotBox, AppError> {
        let key = (dialogue.to_string(), election.to_string());
        if let Some(b) = self.boxes.lock().unwrap_or_else(|p| p.into_inner()).get(&key) {
            return Ok(b.clone());
        }
        let e = state.store.election(dialogue, election).await?;
        if e.stage != "open" {
            return Err(AppError::conflict("election", format!("the election is {}, not open", e.stage)));
        }
        let checker = state
            .store
            .cast_checker(dialogue, election)
            .await?
            .ok_or_else(|| AppError::conflict("election", "the election is not open"))?;
        let mut boxes = self.boxes.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(b) = boxes.get(&key) {
            return Ok(b.clone());
        }
        let (queue, rx) = mpsc::channel(QUEUE);
        let used = Used::default();
        tokio::spawn(run_ballot_box(state.clone(), key.0.clone(), key.1.clone(), rx, used.clone()));
        let b = BallotBox { checker, queue, used };
        boxes.insert(key, b.clone());
        Ok(b)
    }
}

/// The counters and used tracking codes of an election, as stored.
async fn ballot_box_state(
    state: &AppState,
    dialogue: &str,
    election: &str,
) -> (HashMap<[u8; 32], u64>, HashSet<[u8; 32]>) {
    let (counters, tracking) = state.store.ballot_box_state(dialogue, election).await.unwrap_or_else(|e| {
        tracing::warn!(error = %e, "reading the ballot box's state");
        Default::default()
    });
    let counters = counters.into_iter().filter_map(|(c, n)| Some((hex::decode(c).ok()?.try_into().ok()?, n))).collect();
    let used = tracking.into_iter().filter_map(|t| hex::decode(t).ok()?.try_into().ok()).collect();
    (counters, used)
}

/// Appends waiting ballots in groups. Before a group is written, each ballot's counter
/// and tracking code are checked against those already used (cast or challenged), so a
/// replayed ballot does not fail the group (a failed group costs the server a rebuild
/// of its check state); if a group fails anyway (another server process wrote
/// meanwhile), the box reloads what is stored and tries each ballot alone.
async fn run_ballot_box(
    state: AppState,
    dialogue: String,
    election: String,
    mut rx: mpsc::Receiver<Submission>,
    used: Used,
) {
    let (mut counters, stored) = ballot_box_state(&state, &dialogue, &election).await;
    used.lock().unwrap_or_else(|p| p.into_inner()).extend(stored);
    let mut waiting = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut waiting, MAX_BATCH).await > 0 {
        // One ballot per credential in a group; a credential's later ballot goes after.
        let mut group = Vec::with_capacity(waiting.len());
        let mut later = Vec::new();
        let mut in_group = HashSet::new();
        for s in waiting.drain(..) {
            if in_group.insert(s.checked.credential) {
                group.push(s);
            } else {
                later.push(s);
            }
        }
        for run in std::iter::once(group).chain(later.into_iter().map(|s| vec![s])) {
            let mut replies = Vec::with_capacity(run.len());
            let mut ballots = Vec::with_capacity(run.len());
            for s in run {
                let c = &s.checked;
                let previous = counters.get(&c.credential).copied().unwrap_or(0);
                let replay = if used.lock().unwrap_or_else(|p| p.into_inner()).contains(&c.tracking) {
                    Some(format!("tracking code {} is already on the ballot board", hex::encode(c.tracking)))
                } else if c.counter <= previous {
                    Some(format!("counter {} does not exceed {previous} of the credential's last ballot", c.counter))
                } else {
                    None
                };
                match replay {
                    Some(detail) => {
                        let _ =
                            s.reply.send(Err(AppError::conflict("ballot", format!("check E5 (a replay): {detail}"))));
                    }
                    None => {
                        replies.push(s.reply);
                        ballots.push((s.body, s.checked));
                    }
                }
            }
            if ballots.is_empty() {
                continue;
            }
            let outcomes: Vec<Result<u64, AppError>> =
                match state.store.cast_ballots(&dialogue, &election, &ballots).await {
                    Ok(lines) => lines.into_iter().map(Ok).collect(),
                    Err(e) if ballots.len() == 1 => vec![Err(AppError::from(e))],
                    Err(_) => {
                        let (stored_counters, stored) = ballot_box_state(&state, &dialogue, &election).await;
                        counters = stored_counters;
                        used.lock().unwrap_or_else(|p| p.into_inner()).extend(stored);
                        let mut one_by_one = Vec::with_capacity(ballots.len());
                        for ballot in &ballots {
                            let r = state.store.cast_ballots(&dialogue, &election, std::slice::from_ref(ballot)).await;
                            one_by_one.push(r.map(|l| l[0]).map_err(AppError::from));
                        }
                        one_by_one
                    }
                };
            for ((reply, (_, c)), outcome) in replies.into_iter().zip(&ballots).zip(outcomes) {
                if outcome.is_ok() {
                    counters.insert(c.credential, c.counter);
                    used.lock().unwrap_or_else(|p| p.into_inner()).insert(c.tracking);
                }
                let _ = reply.send(outcome);
            }
        }
    }
}

/// The creation form's fields: one question, its kind chosen from a list, the options
/// one per line (`Arabic | English`), the trustees one per line as `hiwar trustee
/// keygen` prints them.
#[derive(Debug, Deserialize)]
pub struct ElectionForm {
    pub id: String,
    pub title_ar: String,
    pub title_en: String,
    pub question_ar: String,
    pub question_en: String,
    /// `yes-no`, `one` or `approve`
    pub kind: String,
    #[serde(default)]
    pub options: String,
    #[serde(default)]
    pub min: String,
    #[serde(default)]
    pub max: String,
    /// A role, or `register` with `register` lines `voter,weight`
    pub electorate: String,
    #[serde(default)]
    pub register: String,
    pub trustees: String,
    pub threshold: String,
    pub authority: String,
    #[serde(default)]
    pub closes_at: String,
}

fn whole(field: &str, raw: &str) -> Result<u32, AppError> {
    raw.trim().parse().map_err(|_| AppError::bad_request(field, format!("{field} must be a whole number")))
}

impl ElectionForm {
    /// The election the form describes, or a 400 naming the field that is wrong.
    pub fn input(&self) -> Result<ElectionInput, AppError> {
        let both = |ar: &str, en: &str| TextInput { ar: ar.trim().into(), en: en.trim().into() };
        let options: Vec<TextInput> = match self.kind.as_str() {
            "yes-no" => vec![both("نعم", "Yes"), both("لا", "No")],
            "one" | "approve" => self
                .options
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(|l| match l.split_once('|') {
                    Some((ar, en)) => both(ar, en),
                    None => both(l, l),
                })
                .collect(),
            other => return Err(AppError::bad_request("kind", format!("{other:?} is not a kind of question"))),
        };
        if options.len() < 2 {
            return Err(AppError::bad_request("options", "give at least two options, one per line"));
        }
        let (min, max) = match self.kind.as_str() {
            "approve" => (whole("min", &self.min)?, whole("max", &self.max)?),
            _ => (1, 1),
        };
        let trustees = self
            .trustees
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .enumerate()
            .map(|(i, l)| {
                let v: Value = serde_json::from_str(l).map_err(|_| {
                    AppError::bad_request("trustees", format!("line {} is not what hiwar trustee keygen prints", i + 1))
                })?;
                Ok(TrusteeInput {
                    signing_key: v["signing_key"].as_str().unwrap_or_default().into(),
                    share_key: v["share_key"].as_str().unwrap_or_default().into(),
                })
            })
            .collect::<Result<Vec<_>, AppError>>()?;
        let electorate = if self.electorate == "register" {
            let rows =
                hiwar_csv::parse(&self.register).map_err(|e| AppError::bad_request("register", e.to_string()))?;
            let entries = rows
                .into_iter()
                .filter(|(_, r)| r.first().is_some_and(|v| !v.trim().is_empty() && v.trim() != "voter"))
                .map(|(line, r)| {
                    let weight = match r.get(1).map(|w| w.trim()).filter(|w| !w.is_empty()) {
                        Some(w) => w.parse().map_err(|_| {
                            AppError::bad_request(
                                "register",
                                format!("line {line}: weight {w:?} is not a whole number"),
                            )
                        })?,
                        None => 1,
                    };
                    Ok(RollEntry { voter: r[0].trim().to_string(), weight })
                })
                .collect::<Result<Vec<_>, AppError>>()?;
            ElectorateInput::List(entries)
        } else {
            ElectorateInput::Role(self.electorate.clone())
        };
        Ok(ElectionInput {
            id: self.id.trim().into(),
            title: both(&self.title_ar, &self.title_en),
            questions: vec![QuestionInput { title: both(&self.question_ar, &self.question_en), options, min, max }],
            electorate,
            trustees,
            threshold: whole("threshold", &self.threshold)?,
            authority: self.authority.trim().into(),
            closes_at: Some(self.closes_at.clone()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closing_times_are_utc_and_checked() {
        assert_eq!(closing_time("2027-01-10T18:00").unwrap(), "2027-01-10T18:00:00Z");
        assert_eq!(closing_time("2027-01-10T18:00:05Z").unwrap(), "2027-01-10T18:00:05Z");
        for bad in ["2027-13-10T18:00", "tomorrow", "2027-01-10", "2027-01-10T25:00", "2027-01-10T18:00:00+02:00"] {
            assert_eq!(closing_time(bad).unwrap_err().field.as_deref(), Some("closes_at"), "{bad}");
        }
    }

    fn form(kind: &str, options: &str, electorate: &str, register: &str) -> ElectionForm {
        ElectionForm {
            id: " charter ".into(),
            title_ar: "ميثاق".into(),
            title_en: "Charter".into(),
            question_ar: "هل توافق؟".into(),
            question_en: "Do you agree?".into(),
            kind: kind.into(),
            options: options.into(),
            min: "1".into(),
            max: "2".into(),
            electorate: electorate.into(),
            register: register.into(),
            trustees: "{\"signing_key\": \"aa\", \"share_key\": \"bb\"}\n\n".into(),
            threshold: "1".into(),
            authority: "cc".into(),
            closes_at: String::new(),
        }
    }

    #[test]
    fn the_creation_form_describes_one_question_and_names_what_is_wrong() {
        let yes_no = form("yes-no", "", "delegate", "").input().unwrap();
        assert_eq!(yes_no.id, "charter");
        assert_eq!(yes_no.questions[0].options.len(), 2);
        assert_eq!((yes_no.questions[0].min, yes_no.questions[0].max), (1, 1));
        assert!(matches!(yes_no.electorate, ElectorateInput::Role(ref r) if r == "delegate"));
        assert_eq!(yes_no.trustees.len(), 1);
        let approve =
            form("approve", "ماء | Water\nكهرباء | Power\nطرق | Roads", "register", "voter,weight\nv-1,2\nv-2\n")
                .input()
                .unwrap();
        assert_eq!(approve.questions[0].options[1].en, "Power");
        assert_eq!((approve.questions[0].min, approve.questions[0].max), (1, 2));
        match approve.electorate {
            ElectorateInput::List(l) => assert_eq!(l.iter().map(|e| e.weight).collect::<Vec<_>>(), vec![2, 1]),
            _ => panic!("a register"),
        }
        assert_eq!(form("one", "only one", "delegate", "").input().unwrap_err().field.as_deref(), Some("options"));
        assert_eq!(form("rank", "", "delegate", "").input().unwrap_err().field.as_deref(), Some("kind"));
        let mut bad = form("yes-no", "", "delegate", "");
        bad.trustees = "not json".into();
        assert_eq!(bad.input().unwrap_err().field.as_deref(), Some("trustees"));
        assert_eq!(form("one", "a\nb", "register", "v,x").input().unwrap_err().field.as_deref(), Some("register"));
    }
}
