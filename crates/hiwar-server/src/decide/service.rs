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
use std::sync::Mutex;

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

/// Most ballots appended in one transaction.
pub const MAX_BATCH: usize = 256;
/// Ballots waiting for the ballot box of one election, at most.
const QUEUE: usize = 4096;

/// The voting page's script and the WebAssembly module it runs (built from
/// `hiwar-wasm` by `tools/build-voter-wasm.sh`).
pub const VOTE_JS: &str = include_str!("../../assets/vote.js");
pub const VOTER_WASM: &[u8] = include_bytes!("../../assets/hiwar_voter.wasm");

/// The voting client voters are served, whose hash `election.created` announces:
/// `SHA-256("hiwar/v2/client\n" ‖ SHA-256(vote.js) ‖ SHA-256(hiwar_voter.wasm))`, so
/// anyone can compare it with what the server hands out.
pub fn client_hash() -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"hiwar/v2/client\n");
    h.update(Sha256::digest(VOTE_JS.as_bytes()));
    h.update(Sha256::digest(VOTER_WASM));
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

/// Stores the election described by `input` and records `election.created`.
pub async fn store_election(store: &Store, dialogue: &str, input: &ElectionInput) -> Result<String, AppError> {
    let roll = roll(store, dialogue, &input.electorate).await?;
    let total_weight: u64 = roll.iter().map(|(_, w)| w).sum();
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
    let closes_at = input.closes_at.as_deref().map(str::trim).filter(|s| !s.is_empty());
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

/// A challenged ballot, published opened and never counted.
pub async fn spoil(state: &AppState, dialogue: &str, election: &str, body: Value) -> Result<u64, AppError> {
    Ok(state.store.spoil_ballot(dialogue, election, body).await?)
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

/// One open election's checker and the queue of its ballot box.
#[derive(Clone)]
pub struct BallotBox {
    checker: CastChecker,
    queue: mpsc::Sender<Submission>,
}

/// The ballot boxes of open elections, started on first use.
#[derive(Default)]
pub struct BallotBoxes {
    boxes: Mutex<HashMap<(String, String), BallotBox>>,
}

impl BallotBoxes {
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
        let (counters, tracking) = state.store.ballot_box_state(dialogue, election).await?;
        let mut boxes = self.boxes.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(b) = boxes.get(&key) {
            return Ok(b.clone());
        }
        let (queue, rx) = mpsc::channel(QUEUE);
        tokio::spawn(run_ballot_box(state.clone(), key.0.clone(), key.1.clone(), rx, counters, tracking));
        let b = BallotBox { checker, queue };
        boxes.insert(key, b.clone());
        Ok(b)
    }
}

/// Appends waiting ballots in groups. Before a group is written, each ballot's counter
/// and tracking code are checked against those already accepted, so one replayed
/// ballot does not fail the group; if a group fails anyway (another server process
/// wrote meanwhile), each of its ballots is tried alone.
async fn run_ballot_box(
    state: AppState,
    dialogue: String,
    election: String,
    mut rx: mpsc::Receiver<Submission>,
    counters: HashMap<String, u64>,
    tracking: Vec<String>,
) {
    let mut counters: HashMap<[u8; 32], u64> =
        counters.into_iter().filter_map(|(c, n)| Some((hex::decode(c).ok()?.try_into().ok()?, n))).collect();
    let mut used: HashSet<[u8; 32]> =
        tracking.into_iter().filter_map(|t| hex::decode(t).ok()?.try_into().ok()).collect();
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
                let replay = if used.contains(&c.tracking) {
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
                    used.insert(c.tracking);
                }
                let _ = reply.send(outcome);
            }
        }
    }
}
