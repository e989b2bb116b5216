//! Deliberation: members post statements and vote on them one at a time, as the router
//! chooses; conveners moderate in public; everyone sees the opinion map, what each
//! group thinks, what has support across groups, and coverage. The analysis is
//! `hiwar_opinion`, computed from the stored votes and shared by every request until a
//! member changes something (or a minute passes, for changes made through another
//! server process): a reader, logged in or not, never makes the server redo it alone.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hiwar_opinion::matrix::Indexed;
use hiwar_opinion::matrix::{Vote, VoteMatrix};
use hiwar_opinion::router::Router;
use hiwar_opinion::{analyze_indexed, Analysis, Method, Options};
use hiwar_record::events::MAX_STATEMENT_CHARS;
use hiwar_store::{Member, Statement};

use crate::dialogues::service::{require_convener, text_field};
use crate::web::{AppError, Ctx};
use crate::AppState;

/// A dialogue's conversation, analysed.
pub struct Results {
    pub statements: Vec<Statement>,
    pub matrix: VoteMatrix,
    /// The votes indexed once, shared by the analysis and the router.
    pub votes: Indexed,
    pub analysis: Analysis,
}

impl Results {
    pub fn texts(&self) -> Vec<String> {
        let by_id: std::collections::HashMap<&str, &str> =
            self.statements.iter().map(|s| (s.id.as_str(), s.text.as_str())).collect();
        self.matrix.statement_ids().iter().map(|id| by_id.get(id.as_str()).unwrap_or(&"").to_string()).collect()
    }
}

/// How many statements one member may post in a dialogue: enough to take part fully,
/// few enough that nobody can flood the conversation (or the record).
pub const MAX_STATEMENTS_PER_MEMBER: u64 = 50;

/// Whether the dialogue's current phase is a deliberation: statements and votes are
/// taken only then (results stay readable at any time).
pub fn is_open(dialogue: &hiwar_store::Dialogue) -> bool {
    dialogue.current_phase.and_then(|i| dialogue.phases.get(i)).is_some_and(|p| p.kind == "deliberation")
}

/// The caller's membership, which posting and voting require, during a deliberation phase.
pub async fn require_member(state: &AppState, ctx: &Ctx, dialogue: &str) -> Result<Member, AppError> {
    let d = state.store.dialogue(dialogue).await?;
    let account = ctx.account()?;
    let member = state.store.membership(dialogue, &account.id).await?.ok_or_else(AppError::forbidden)?;
    if member.roles.iter().all(|r| r == "observer") {
        // Observers watch; they do not take part.
        return Err(AppError::forbidden());
    }
    if !is_open(&d) {
        return Err(AppError::conflict("phase", "the dialogue is not in a deliberation phase"));
    }
    Ok(member)
}

pub async fn post(state: &AppState, ctx: &Ctx, dialogue: &str, text: &str) -> Result<String, AppError> {
    post_for(state, ctx, dialogue, text, false).await
}

/// [`post`], also proposing the statement for the dialogue's agenda when `agenda`.
pub async fn post_for(
    state: &AppState,
    ctx: &Ctx,
    dialogue: &str,
    text: &str,
    agenda: bool,
) -> Result<String, AppError> {
    let me = require_member(state, ctx, dialogue).await?;
    let text = text_field("text", text, 1, MAX_STATEMENT_CHARS)?;
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let id = state.store.post_statement_for(dialogue, &me.id, &text, MAX_STATEMENTS_PER_MEMBER, agenda).await?;
    state.analyses.changed(dialogue);
    Ok(id)
}

pub fn parse_vote(raw: &str) -> Result<i8, AppError> {
    match raw {
        "agree" => Ok(1),
        "disagree" => Ok(-1),
        "pass" => Ok(0),
        _ => Err(AppError::bad_request("vote", "vote must be agree, disagree or pass")),
    }
}

pub async fn vote(state: &AppState, ctx: &Ctx, dialogue: &str, statement: &str, vote: &str) -> Result<(), AppError> {
    let me = require_member(state, ctx, dialogue).await?;
    let vote = parse_vote(vote)?;
    state.store.vote(dialogue, statement, &me.id, vote).await.map_err(|e| match e {
        hiwar_store::StoreError::NotFound(_) => {
            AppError::bad_request("statement", "no such statement in this dialogue")
        }
        hiwar_store::StoreError::Conflict(detail) => AppError::conflict("statement", detail),
        other => other.into(),
    })?;
    state.analyses.changed(dialogue);
    Ok(())
}

pub async fn moderate(
    state: &AppState,
    ctx: &Ctx,
    dialogue: &str,
    statement: &str,
    hidden: bool,
    reason: &str,
) -> Result<(), AppError> {
    let me = require_convener(state, ctx, dialogue).await?;
    let reason = text_field("reason", reason, 1, 500)?;
    state.store.moderate_statement(dialogue, statement, hidden, &reason, &me.id).await?;
    state.analyses.changed(dialogue);
    Ok(())
}

pub async fn redact(
    state: &AppState,
    ctx: &Ctx,
    dialogue: &str,
    statement: &str,
    reason: &str,
) -> Result<(), AppError> {
    let me = require_convener(state, ctx, dialogue).await?;
    let reason = text_field("reason", reason, 1, 500)?;
    state.store.redact_statement(dialogue, statement, &reason, &me.id).await?;
    state.analyses.changed(dialogue);
    Ok(())
}

pub async fn publish_tally(state: &AppState, ctx: &Ctx, dialogue: &str) -> Result<usize, AppError> {
    require_convener(state, ctx, dialogue).await?;
    Ok(state.store.publish_tally(dialogue).await?)
}

/// How long an analysis serves when nothing changed through this process.
const ANALYSIS_MAX_AGE: Duration = Duration::from_secs(60);

/// The latest analysis of each dialogue, shared by all requests.
#[derive(Default)]
pub struct Analyses {
    /// One slot per dialogue and grouping method (the page can show either).
    slots: Mutex<HashMap<(String, Method), SharedSlot>>,
}

type SharedSlot = Arc<tokio::sync::Mutex<Slot>>;

#[derive(Default)]
struct Slot {
    /// The analysis, when it was computed and whether a change came since.
    latest: Option<(Instant, Arc<Results>)>,
    stale: bool,
}

impl Analyses {
    fn slot(&self, dialogue: &str, method: Method) -> SharedSlot {
        self.slots.lock().unwrap_or_else(|p| p.into_inner()).entry((dialogue.to_string(), method)).or_default().clone()
    }

    /// A member changed the conversation: the next reader recomputes.
    pub fn changed(&self, dialogue: &str) {
        // One guard for the map: taking it a second time below would deadlock.
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        for method in Method::ALL {
            let key = (dialogue.to_string(), method);
            let being_computed = match slots.get(&key).map(|slot| slot.try_lock()) {
                Some(Ok(mut s)) => {
                    s.stale = true;
                    false
                }
                Some(Err(_)) => true,
                None => false,
            };
            if being_computed {
                // Perhaps without this change: drop the slot, so the next reader recomputes.
                slots.remove(&key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A change that arrives while the analysis is being computed drops the slot (and
    /// returns: it used to take the map's lock twice and hang).
    #[test]
    fn a_change_during_a_computation_drops_the_slot() {
        let analyses = Analyses::default();
        let slot = analyses.slot("d-1", Method::Hiwar);
        let computing = slot.try_lock().unwrap();
        analyses.changed("d-1");
        drop(computing);
        assert!(!analyses.slots.lock().unwrap().contains_key(&("d-1".to_string(), Method::Hiwar)));
        // Not computing: the slot stays, marked stale — for both methods.
        let (hiwar, polis) = (analyses.slot("d-2", Method::Hiwar), analyses.slot("d-2", Method::Polis));
        analyses.changed("d-2");
        assert!(hiwar.try_lock().unwrap().stale && polis.try_lock().unwrap().stale);
    }
}

/// The dialogue's grouping method as its conveners set it.
pub async fn method(state: &AppState, dialogue: &str) -> Result<Method, AppError> {
    let name = state.store.opinion_method(dialogue).await?;
    Ok(Method::from_name(&name).unwrap_or_default())
}

/// A convener sets how the dialogue's groups are formed by default (the other method
/// stays one link away on the results page, for everyone). No analysis changes: each
/// method has its own cached one, and readers look the setting up on every request.
pub async fn set_method(state: &AppState, ctx: &Ctx, dialogue: &str, name: &str) -> Result<Method, AppError> {
    require_convener(state, ctx, dialogue).await?;
    let method =
        Method::from_name(name).ok_or_else(|| AppError::bad_request("method", "method must be hiwar or polis"))?;
    state.store.set_opinion_method(dialogue, method.name()).await?;
    Ok(method)
}

/// The dialogue's analysis by `method` (`None`: the dialogue's own): the shared one if
/// it is current, else computed once while concurrent requests for it wait.
pub async fn results(state: &AppState, dialogue: &str, method: Option<Method>) -> Result<Arc<Results>, AppError> {
    let method = match method {
        Some(m) => m,
        None => self::method(state, dialogue).await?,
    };
    let slot = state.analyses.slot(dialogue, method);
    let mut slot = slot.lock().await;
    if let Some((at, results)) = &slot.latest {
        if !slot.stale && at.elapsed() < ANALYSIS_MAX_AGE {
            return Ok(results.clone());
        }
    }
    slot.stale = false;
    let results = Arc::new(compute(state, dialogue, method).await?);
    slot.latest = Some((Instant::now(), results.clone()));
    Ok(results)
}

/// Loads statements and votes and analyses them (on a blocking thread).
async fn compute(state: &AppState, dialogue: &str, method: Method) -> Result<Results, AppError> {
    let statements = state.store.statements(dialogue).await?;
    let votes = state.store.votes(dialogue).await?;
    tokio::task::spawn_blocking(move || {
        let mut matrix = VoteMatrix::new();
        for s in &statements {
            let i = matrix.statement(&s.id) as usize;
            matrix.hidden[i] = s.hidden;
        }
        for (member, statement, vote) in &votes {
            let p = matrix.participant(member);
            if let (Some(s), Some(v)) = (matrix.statement_index(statement), Vote::from_i8(*vote)) {
                matrix.vote(p, s, v);
            }
        }
        let indexed = matrix.index();
        let analysis = analyze_indexed(&indexed, &matrix.hidden, None, &Options { method, ..Options::default() });
        Results { statements, matrix, votes: indexed, analysis }
    })
    .await
    .map_err(AppError::internal)
}

/// The statement the router gives `member` next, if any is left; `voted` holds the
/// statements the member has voted on (read fresh, since the analysis may be older).
pub fn next_statement<'a>(
    results: &'a Results,
    member: &str,
    participant_number: u64,
    voted: &HashSet<String>,
) -> Option<&'a Statement> {
    let matrix = &results.matrix;
    let analysis = &results.analysis;
    let mut router = Router::new(analysis.groups(), Options::default().coverage_votes);
    router.statements(matrix.statement_ids().len());
    for (s, hidden) in matrix.hidden.iter().enumerate() {
        router.hide(s, *hidden);
    }
    let votes = &results.votes;
    for p in 0..votes.participants {
        for &(s, _) in votes.participant_votes(p) {
            router.record(s as usize, analysis.membership[p]);
        }
    }
    let me = matrix.participant_index(member);
    let group = me.and_then(|p| analysis.membership[p as usize]);
    let next = router.next(participant_number, group, |s| voted.contains(&matrix.statement_ids()[s]))?;
    let id = &matrix.statement_ids()[next];
    results.statements.iter().find(|s| &s.id == id)
}
