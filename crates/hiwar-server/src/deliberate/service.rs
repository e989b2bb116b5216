//! Deliberation: members post statements and vote on them one at a time, as the router
//! chooses; conveners moderate in public; everyone sees the opinion map, what each
//! group thinks, what has support across groups, and coverage.
//!
//! The analysis is `hiwar_opinion`'s, kept in memory per dialogue and grouping method
//! ([`Analyses`]) and shared by every request: a reader, logged in or not, never makes
//! the server redo it alone. It follows the store's deliberation version (raised by
//! every committed vote or statement change, through any server process on the
//! database): a reader who finds it behind starts a warm update in the background —
//! only the votes changed since are loaded, and the fit starts from the last one — and
//! is served the analysis it has, which says when it was computed. Where updates are
//! quick (under [`WAIT_FOR_UPDATES_UNDER`]: a small dialogue) the reader waits for the
//! update instead, so one's own vote shows at once.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hiwar_opinion::matrix::Indexed;
use hiwar_opinion::matrix::{Vote, VoteMatrix};
use hiwar_opinion::router::Router;
use hiwar_opinion::{analyze_indexed, Analysis, Method, Options};
use hiwar_record::events::MAX_STATEMENT_CHARS;
use hiwar_store::{Standing, Statement};

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
    /// The statement router, primed with every vote analysed and its voter's group.
    pub router: Router,
    /// Each statement's text, in the matrix's order (empty when redacted).
    pub texts: Vec<String>,
    /// Participants per group as the analysis's grouping counts them, and those placed
    /// in each group on the map (with those in none): counted once, not per page.
    pub grouping_sizes: Vec<usize>,
    pub group_sizes: Vec<usize>,
    pub ungrouped: usize,
    /// The store's deliberation version these results are complete up to: raised in
    /// place by an update that finds nothing changed since (see [`compute`]).
    version: AtomicI64,
    /// When the analysis was finished (RFC 3339, UTC), and how long it took.
    pub computed_at: String,
    pub took: Duration,
    /// When these results were last known to be the conversation's analysis: when
    /// finished, or when an update found nothing changed since (on this process's
    /// clock). How stale they are is counted from here.
    current_at: Mutex<Instant>,
}

impl Results {
    /// The store's deliberation version these results are complete up to.
    pub fn version(&self) -> i64 {
        self.version.load(Ordering::Acquire)
    }

    fn current_at(&self) -> Instant {
        *self.current_at.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// These results are still the conversation's analysis at `version`.
    fn still_current(&self, version: i64) {
        let mut current_at = self.current_at.lock().unwrap_or_else(|p| p.into_inner());
        self.version.store(version, Ordering::Release);
        *current_at = Instant::now();
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

/// The member id of the caller, who must take part in `dialogue` (observers watch;
/// they do not), and the standing it was read from. The access layer has usually read
/// it already.
async fn participant(state: &AppState, ctx: &Ctx, dialogue: &str) -> Result<(String, Standing), AppError> {
    let standing = ctx.standing(&state.store, dialogue).await?;
    ctx.account()?;
    let member = standing.participant().ok_or_else(AppError::forbidden)?.to_string();
    Ok((member, standing))
}

/// [`participant`], during a deliberation phase: what posting and voting require (and
/// the store checks again as it writes).
async fn deliberating_member(state: &AppState, ctx: &Ctx, dialogue: &str) -> Result<String, AppError> {
    let (member, standing) = participant(state, ctx, dialogue).await?;
    if !standing.in_phase("deliberation") {
        return Err(AppError::conflict("phase", hiwar_store::NOT_DELIBERATING));
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
    let member = deliberating_member(state, ctx, dialogue).await?;
    let text = text_field("text", text, 1, MAX_STATEMENT_CHARS)?;
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let id = state.store.post_statement_for(dialogue, &member, &text, MAX_STATEMENTS_PER_MEMBER, agenda).await?;
    state.analyses.changed(dialogue);
    Ok(id)
}

/// Whether `id` has the shape of a statement id (`st-` and ten base-32 characters):
/// anything else is refused before it reaches the shared group of votes.
fn is_statement_id(id: &str) -> bool {
    id.len() == 13 && id.starts_with("st-") && id[3..].bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

pub fn parse_vote(raw: &str) -> Result<i8, AppError> {
    match raw {
        "agree" => Ok(1),
        "disagree" => Ok(-1),
        "pass" => Ok(0),
        _ => Err(AppError::bad_request("vote", "vote must be agree, disagree or pass")),
    }
}

/// Records the caller's vote. Nothing is read first (the route's access is checked in
/// the query): the vote joins the store's next group write, whose transaction finds the
/// session's member and writes only if they take part while a deliberation is open,
/// and this returns once that group has committed.
pub async fn vote(state: &AppState, ctx: &Ctx, dialogue: &str, statement: &str, vote: &str) -> Result<(), AppError> {
    let vote = parse_vote(vote)?;
    if !is_statement_id(statement) {
        return Err(AppError::bad_request("statement", "no such statement in this dialogue"));
    }
    let session = ctx.session.as_deref().ok_or_else(AppError::unauthorized)?;
    state.store.vote_in_session(dialogue, statement, session, vote).await.map_err(|e| match e {
        hiwar_store::StoreError::NotFound("statement") => {
            AppError::bad_request("statement", "no such statement in this dialogue")
        }
        hiwar_store::StoreError::Conflict(detail) if detail == hiwar_store::NOT_DELIBERATING => {
            AppError::conflict("phase", detail)
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

/// How often a reader asks the store whether another server process changed the
/// conversation (one indexed read).
const VERSION_POLL: Duration = Duration::from_secs(1);

/// Background updates start at most this often, and never sooner after the last one
/// than it took: on a busy national dialogue the analysis takes at most half a core,
/// and the rest serves votes and pages.
pub const MIN_UPDATE_GAP: Duration = Duration::from_secs(5);

/// An analysis older than this is due: its update runs at the priority of requests
/// instead of in the machine's idle time (and one already running is raised to it), so
/// that a machine kept busy by requests still brings its results up to date.
pub const STALE_AFTER: Duration = Duration::from_secs(60);

/// Below this, an update is quick enough that readers wait for it rather than see the
/// previous analysis (a small dialogue: one's own vote shows at once).
pub const WAIT_FOR_UPDATES_UNDER: Duration = Duration::from_millis(250);

/// The latest analysis of each dialogue, shared by all requests.
#[derive(Default)]
pub struct Analyses {
    /// One slot per dialogue and grouping method (the page can show either).
    slots: Mutex<HashMap<(String, Method), Arc<Slot>>>,
    /// Each dialogue's own method as last read, and when (read again after
    /// [`VERSION_POLL`], or at once after a change through this process).
    methods: Mutex<HashMap<String, (Method, Instant)>>,
}

#[derive(Default)]
struct Slot {
    latest: Mutex<Option<Arc<Results>>>,
    /// Held by whoever computes: readers who must wait queue here, and at most one
    /// update runs per slot.
    computing: tokio::sync::Mutex<()>,
    /// An update is running in the background.
    updating: AtomicBool,
    /// This process changed the conversation since `latest`.
    changed: AtomicBool,
    /// When the store's version was last compared with `latest`'s.
    polled: Mutex<Option<Instant>>,
    /// No background update starts before this.
    next_update: Mutex<Option<Instant>>,
    /// The thread computing an update in idle time, so that a reader finding the
    /// analysis stale can raise its priority.
    worker: IdleThread,
}

impl Slot {
    fn latest(&self) -> Option<Arc<Results>> {
        self.latest.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Whether `latest` is behind the conversation: changed through this process, or
    /// (asked at most once per [`VERSION_POLL`]) through another.
    async fn behind(&self, state: &AppState, dialogue: &str, latest: &Results) -> Result<bool, AppError> {
        if self.changed.load(Ordering::Acquire) {
            return Ok(true);
        }
        {
            let mut polled = self.polled.lock().unwrap_or_else(|p| p.into_inner());
            if polled.is_some_and(|at| at.elapsed() < VERSION_POLL) {
                return Ok(false);
            }
            *polled = Some(Instant::now());
        }
        Ok(state.store.deliberation_version(dialogue).await? != latest.version())
    }

    /// Computes the next analysis from `latest` (warm) or from nothing; the caller
    /// holds `computing`. `priority` says whether it runs at the priority of requests
    /// or in the machine's idle time.
    async fn update(
        &self,
        state: &AppState,
        dialogue: &str,
        method: Method,
        priority: Priority,
    ) -> Result<Arc<Results>, AppError> {
        self.changed.store(false, Ordering::Release);
        let previous = self.latest();
        let thread = (priority == Priority::Idle).then(|| self.worker.clone());
        let Some(results) = compute(state, dialogue, method, previous.clone(), thread).await? else {
            return previous.ok_or_else(|| AppError::internal("an analysis not held was found still current"));
        };
        let results = Arc::new(results);
        tracing::info!(
            method = method.name(),
            participants = results.matrix.participant_ids().len(),
            votes = results.matrix.votes(),
            ms = results.took.as_millis() as u64,
            "analysis updated"
        );
        let previous = self.latest.lock().unwrap_or_else(|p| p.into_inner()).replace(results.clone());
        if let Some(previous) = previous {
            retire(previous);
        }
        Ok(results)
    }
}

/// Frees a replaced analysis on a thread of its own, in idle time, once no request
/// holds it any longer. At national scale it is hundreds of megabytes in hundreds of
/// thousands of allocations: freed by whichever request let go of it last, it would
/// hold up every request queued behind that one on the same runtime thread.
fn retire(results: Arc<Results>) {
    let spawned = std::thread::Builder::new().name("hiwar-retire".into()).spawn(move || {
        // The lowest nice value, not idle time: on a machine never idle it must still
        // free the memory before the next update retires another.
        // SAFETY: a plain system call on the calling thread.
        unsafe { libc::setpriority(libc::PRIO_PROCESS, libc::syscall(libc::SYS_gettid) as libc::id_t, 19) };
        let mut results = results;
        loop {
            match Arc::try_unwrap(results) {
                Ok(last) => {
                    let started = Instant::now();
                    drop(last);
                    tracing::debug!(ms = started.elapsed().as_millis() as u64, "previous analysis freed");
                    return;
                }
                Err(shared) => {
                    results = shared;
                    std::thread::sleep(Duration::from_millis(100));
                }
            }
        }
    });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "no thread to free the previous analysis on");
    }
}

impl Analyses {
    fn slot(&self, dialogue: &str, method: Method) -> Arc<Slot> {
        self.slots.lock().unwrap_or_else(|p| p.into_inner()).entry((dialogue.to_string(), method)).or_default().clone()
    }

    fn method(&self, dialogue: &str) -> Option<Method> {
        let methods = self.methods.lock().unwrap_or_else(|p| p.into_inner());
        methods.get(dialogue).filter(|(_, at)| at.elapsed() < VERSION_POLL).map(|(m, _)| *m)
    }

    fn set_method(&self, dialogue: &str, method: Method) {
        self.methods.lock().unwrap_or_else(|p| p.into_inner()).insert(dialogue.to_string(), (method, Instant::now()));
    }

    /// This process changed the conversation: the analyses are behind.
    pub fn changed(&self, dialogue: &str) {
        let slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        for method in Method::ALL {
            if let Some(slot) = slots.get(&(dialogue.to_string(), method)) {
                slot.changed.store(true, Ordering::Release);
            }
        }
    }
}

/// The dialogue's grouping method as its conveners set it.
pub async fn method(state: &AppState, dialogue: &str) -> Result<Method, AppError> {
    if let Some(method) = state.analyses.method(dialogue) {
        return Ok(method);
    }
    let name = state.store.opinion_method(dialogue).await?;
    let method = Method::from_name(&name).unwrap_or_default();
    state.analyses.set_method(dialogue, method);
    Ok(method)
}

/// A convener sets how the dialogue's groups are formed by default (the other method
/// stays one link away on the results page, for everyone). No analysis changes: each
/// method has its own cached one, and readers look the setting up on every request.
pub async fn set_method(state: &AppState, ctx: &Ctx, dialogue: &str, name: &str) -> Result<Method, AppError> {
    require_convener(state, ctx, dialogue).await?;
    let method =
        Method::from_name(name).ok_or_else(|| AppError::bad_request("method", "method must be hiwar or polis"))?;
    state.store.set_opinion_method(dialogue, method.name()).await?;
    state.analyses.set_method(dialogue, method);
    Ok(method)
}

/// The dialogue's analysis by `method` (`None`: the dialogue's own). The first reader
/// computes it while others wait; after that readers are served the latest at once,
/// and one behind the conversation is updated in the background (or, when updates are
/// quick, before answering).
pub async fn results(state: &AppState, dialogue: &str, method: Option<Method>) -> Result<Arc<Results>, AppError> {
    let arrived = Instant::now();
    // The dialogue's own method (read at most once a second) also says it exists: no
    // slot is made for a name that is not a dialogue.
    let own = self::method(state, dialogue).await?;
    let method = method.unwrap_or(own);
    let slot = state.analyses.slot(dialogue, method);
    if let Some(latest) = slot.latest() {
        if !slot.behind(state, dialogue, &latest).await? {
            return Ok(latest);
        }
        if latest.took >= WAIT_FOR_UPDATES_UNDER {
            let stale = latest.current_at().elapsed() >= STALE_AFTER;
            let due = slot.next_update.lock().unwrap_or_else(|p| p.into_inner()).is_none_or(|at| Instant::now() >= at);
            if stale {
                slot.worker.hurry();
            }
            if due && !slot.updating.swap(true, Ordering::AcqRel) {
                let priority = if stale { Priority::Requests } else { Priority::Idle };
                let (state, dialogue) = (state.clone(), dialogue.to_string());
                let slot = slot.clone();
                tokio::spawn(async move {
                    let _computing = slot.computing.lock().await;
                    let started = Instant::now();
                    if let Err(e) = slot.update(&state, &dialogue, method, priority).await {
                        tracing::warn!(error = ?e.detail, "the analysis was not updated");
                    }
                    let gap = started.elapsed().max(MIN_UPDATE_GAP);
                    *slot.next_update.lock().unwrap_or_else(|p| p.into_inner()) = Some(Instant::now() + gap);
                    slot.updating.store(false, Ordering::Release);
                });
            }
            return Ok(latest);
        }
    }
    // An update running in idle time may hold the slot: this reader waits for it.
    slot.worker.hurry();
    let _computing = slot.computing.lock().await;
    // Someone else may have computed it while this request waited: an analysis
    // known current after the request arrived is as fresh as the request can ask for.
    if let Some(latest) = slot.latest() {
        if latest.current_at() >= arrived
            || (!slot.changed.load(Ordering::Acquire)
                && state.store.deliberation_version(dialogue).await? == latest.version())
        {
            return Ok(latest);
        }
    }
    // A reader waits for this one: at the priority of requests.
    slot.update(state, dialogue, method, Priority::Requests).await
}

/// Analyses the conversation: warm from `previous` (its votes, with those changed since
/// loaded on top; its fit as the starting point) or cold from every stored vote. The
/// arithmetic runs on a thread of its own; with `idle_thread` (whose id it is kept in
/// while it runs) at the lowest CPU priority, so that on a busy machine requests are
/// served first and the analysis takes what is left.
///
/// `None` when `previous` is still the conversation's analysis: no vote changed its
/// value and no statement changed since (a vote cast again as it was, or refused after
/// its group raised the version), and its version is raised in place. Otherwise anyone
/// could make the server redo a national analysis by voting the same way again.
async fn compute(
    state: &AppState,
    dialogue: &str,
    method: Method,
    previous: Option<Arc<Results>>,
    idle_thread: Option<IdleThread>,
) -> Result<Option<Results>, AppError> {
    let started = Instant::now();
    let version = state.store.deliberation_version(dialogue).await?;
    // A version below the one held (a database restored under a running server) means
    // the votes held are not the store's: start again from nothing.
    let previous = previous.filter(|p| p.version() <= version);
    let statements = state.store.statements(dialogue).await?;
    // Up to the version read before the statements: a vote on a statement posted since
    // would find no statement to count against, and be skipped for good.
    let votes = match &previous {
        Some(p) => state.store.votes_changed(dialogue, p.version(), version).await?,
        None => state.store.votes_upto(dialogue, version).await?,
    };
    if let Some(p) = previous.as_ref().filter(|p| p.statements == statements && changes_nothing(&p.matrix, &votes)) {
        p.still_current(version);
        return Ok(None);
    }
    on_own_thread(idle_thread, move || {
        let mut matrix = previous.as_ref().map(|p| p.matrix.clone()).unwrap_or_default();
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
        let options = Options { method, ..Options::default() };
        let analysis = analyze_indexed(&indexed, &matrix.hidden, previous.as_ref().map(|p| &p.analysis), &options);
        let router = route(&matrix, &indexed, &analysis);
        let by_id: HashMap<&str, &str> = statements.iter().map(|s| (s.id.as_str(), s.text.as_str())).collect();
        let texts = matrix.statement_ids().iter().map(|id| by_id.get(id.as_str()).unwrap_or(&"").to_string()).collect();
        let mut group_sizes = vec![0; analysis.groups()];
        for g in analysis.membership.iter().flatten() {
            group_sizes[*g] += 1;
        }
        let ungrouped = analysis.membership.iter().filter(|m| m.is_none()).count();
        let grouping_sizes = analysis.grouping.sizes();
        Results {
            texts,
            grouping_sizes,
            group_sizes,
            ungrouped,
            statements,
            matrix,
            votes: indexed,
            analysis,
            router,
            version: AtomicI64::new(version),
            computed_at: hiwar_record::now_rfc3339(),
            current_at: Mutex::new(Instant::now()),
            took: started.elapsed(),
        }
    })
    .await
    .map(Some)
}

/// Whether every vote in `votes` (member, statement, value) is already in `matrix` with
/// that value.
fn changes_nothing(matrix: &VoteMatrix, votes: &[(String, String, i8)]) -> bool {
    votes.iter().all(|(member, statement, vote)| {
        let held =
            matrix.participant_index(member).zip(matrix.statement_index(statement)).and_then(|(p, s)| matrix.get(p, s));
        held.is_some() && held == Vote::from_i8(*vote)
    })
}

/// At what priority an analysis runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Priority {
    /// Someone waits for it, or the analysis served is stale: like requests.
    Requests,
    /// In the machine's idle time.
    Idle,
}

/// The id of a thread running in idle time (0 when none), held under a lock so that
/// the thread cannot end (and its id be reused by another process's thread) while
/// [`IdleThread::hurry`] changes its priority.
#[derive(Clone, Default)]
struct IdleThread(Arc<Mutex<libc::pid_t>>);

impl IdleThread {
    /// Lowers the calling thread to idle time (`SCHED_IDLE`; nice 19 where that is
    /// refused) and records it. On Linux each thread has its own policy: this lowers
    /// only this one, and failing to (a restricted container) changes nothing else.
    /// The record is cleared when the returned guard drops, a panic included.
    fn enter(&self) -> impl Drop + '_ {
        let mut id = self.0.lock().unwrap_or_else(|p| p.into_inner());
        // SAFETY: plain system calls on the calling thread; no memory is shared.
        unsafe {
            let thread = libc::syscall(libc::SYS_gettid) as libc::pid_t;
            let param = libc::sched_param { sched_priority: 0 };
            if libc::sched_setscheduler(thread, libc::SCHED_IDLE, &param) != 0 {
                libc::setpriority(libc::PRIO_PROCESS, thread as libc::id_t, 19);
            }
            *id = thread;
        }
        struct Leave<'a>(&'a IdleThread);
        impl Drop for Leave<'_> {
            fn drop(&mut self) {
                *self.0 .0.lock().unwrap_or_else(|p| p.into_inner()) = 0;
            }
        }
        Leave(self)
    }

    /// Raises the recorded thread, if one runs, to the priority of requests. Where the
    /// system refuses (an unprivileged process may not lower a nice value it raised),
    /// the update finishes in idle time as before.
    fn hurry(&self) {
        let id = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if *id > 0 {
            let param = libc::sched_param { sched_priority: 0 };
            // SAFETY: system calls on a thread of this process that cannot end while
            // the lock is held.
            // (Where `sched_setscheduler` is missing, as on musl, the nice value alone.)
            unsafe {
                libc::sched_setscheduler(*id, libc::SCHED_OTHER, &param);
                libc::setpriority(libc::PRIO_PROCESS, *id as libc::id_t, 0);
            }
        }
    }
}

/// Runs `work` on a new thread and waits for it; with `idle`, in idle time.
async fn on_own_thread<T: Send + 'static>(
    idle: Option<IdleThread>,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, AppError> {
    let (done, answer) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name("hiwar-analysis".into())
        .spawn(move || {
            let idle_time = idle.as_ref().map(IdleThread::enter);
            let result = work();
            drop(idle_time);
            let _ = done.send(result);
        })
        .map_err(AppError::internal)?;
    answer.await.map_err(|_| AppError::internal("the analysis thread panicked"))
}

/// The router primed with every analysed vote, counted in its voter's group.
fn route(matrix: &VoteMatrix, votes: &Indexed, analysis: &Analysis) -> Router {
    let mut router = Router::new(analysis.groups(), Options::default().coverage_votes);
    router.statements(matrix.statement_ids().len());
    for (s, hidden) in matrix.hidden.iter().enumerate() {
        router.hide(s, *hidden);
    }
    for p in 0..votes.participants {
        for &(s, _) in votes.participant_votes(p) {
            router.record(s as usize, analysis.membership[p]);
        }
    }
    router
}

/// A member's number for the router's tie-breaking: fixed per member, spread evenly.
pub fn participant_number(member: &str) -> u64 {
    member.bytes().fold(0u64, |h, b| h.wrapping_mul(31).wrapping_add(b as u64))
}

/// The statement the router gives the caller next in `dialogue`, with the analysis
/// that chose it. One query finds the session's member, who must take part, and the
/// statements they voted on (the route's access is checked in it); the analysis is the
/// shared one.
pub async fn next_for(
    state: &AppState,
    ctx: &Ctx,
    dialogue: &str,
) -> Result<(Arc<Results>, Option<Statement>), AppError> {
    let session = ctx.session.as_deref().ok_or_else(AppError::unauthorized)?;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let (member, voted) = state.store.session_votes(session, now, dialogue).await?.ok_or_else(AppError::forbidden)?;
    let results = results(state, dialogue, None).await?;
    let next = next_statement(&results, &member, participant_number(&member), &voted).cloned();
    Ok((results, next))
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
    let me = matrix.participant_index(member);
    let group = me.and_then(|p| results.analysis.membership[p as usize]);
    // By the matrix's index: one lookup per vote cast, not one per statement.
    let mut seen = vec![false; matrix.statement_ids().len()];
    for s in voted.iter().filter_map(|id| matrix.statement_index(id)) {
        seen[s as usize] = true;
    }
    let next = results.router.next(participant_number, group, |s| seen.get(s).copied().unwrap_or(false))?;
    let id = &matrix.statement_ids()[next];
    results.statements.iter().find(|s| &s.id == id)
}

#[cfg(test)]
mod tests {
    use super::IdleThread;

    fn policy(thread: libc::pid_t) -> i32 {
        // SAFETY: a query about a thread of this process.
        unsafe { libc::sched_getscheduler(thread) }
    }

    #[test]
    fn a_stale_update_is_raised_out_of_idle_time() {
        let idle = IdleThread::default();
        let (entered, wait) = std::sync::mpsc::channel();
        let (release, finish) = std::sync::mpsc::channel::<()>();
        let worker = {
            let idle = idle.clone();
            std::thread::spawn(move || {
                let _idle_time = idle.enter();
                // SAFETY: the calling thread's own id.
                let me = unsafe { libc::syscall(libc::SYS_gettid) } as libc::pid_t;
                entered.send(me).unwrap();
                finish.recv().unwrap();
            })
        };
        let thread = wait.recv().unwrap();
        assert_eq!(*idle.0.lock().unwrap(), thread);
        let lowered = policy(thread) == libc::SCHED_IDLE;
        idle.hurry();
        if lowered {
            // Root (as in CI) may always raise it; others within their RLIMIT_NICE.
            // SAFETY: no arguments.
            if unsafe { libc::geteuid() } == 0 {
                assert_eq!(policy(thread), libc::SCHED_OTHER);
            }
        }
        release.send(()).unwrap();
        worker.join().unwrap();
        assert_eq!(*idle.0.lock().unwrap(), 0, "the record is cleared when the thread leaves");
        idle.hurry(); // nothing runs: nothing happens
    }
}
