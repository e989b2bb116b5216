//! Grouped durable writes of deliberation votes.
//!
//! A vote is small and people cast many: committing each alone costs one fsync per
//! vote (about 300 a second on one connection). Here every vote waits in one queue
//! per process; a single writer takes whatever has queued (up to [`MAX_GROUP`]),
//! writes it in **one transaction** and answers each vote only once that transaction
//! has committed — so a vote acknowledged is a vote on disk, and under load one fsync
//! serves hundreds of votes. While a group commits, the next one gathers.
//!
//! Each group also raises the *deliberation version* of every dialogue it touches
//! (`deliberation_versions`) and stamps its votes with it (`changed_in`). The version
//! row is locked from the raise to the commit, so on one dialogue groups commit in
//! version order, across every server process on the database: a reader who sees
//! version `v` committed knows every vote stamped `≤ v` is committed too, and can load
//! exactly the votes that changed since the analysis it holds.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};

use sqlx::{Any, AnyPool, Row, Transaction};
use tokio::sync::{mpsc, oneshot};

use crate::{begin_write, now, Backend, Result, StoreError};

/// Most votes written in one transaction.
pub const MAX_GROUP: usize = 2_048;
/// Votes that may wait for the writer before callers wait to queue (back-pressure).
const QUEUE: usize = 32_768;

/// Who casts a vote: a member, or whoever holds a session (a token's hash), resolved
/// to its account's member in the dialogue by the group's own transaction.
pub(crate) enum Voter {
    Member(String),
    Session(String),
}

/// One vote waiting to be written, and whom to tell.
struct Pending {
    dialogue: String,
    statement: String,
    voter: Voter,
    vote: i8,
    done: oneshot::Sender<Result<()>>,
}

/// The process's vote queue; its writer task starts with the first vote (and again if
/// the runtime that ran it has gone).
#[derive(Clone, Default)]
pub(crate) struct VoteWriter(Arc<Mutex<Option<mpsc::Sender<Pending>>>>);

impl VoteWriter {
    fn sender(&self, pool: &AnyPool, backend: Backend) -> mpsc::Sender<Pending> {
        let mut slot = self.0.lock().unwrap_or_else(|p| p.into_inner());
        match slot.as_ref() {
            Some(sender) if !sender.is_closed() => sender.clone(),
            _ => {
                let (sender, queue) = mpsc::channel(QUEUE);
                tokio::spawn(write_groups(pool.clone(), backend, queue));
                *slot = Some(sender.clone());
                sender
            }
        }
    }

    /// Queues the vote and waits for its group's commit.
    pub(crate) async fn vote(
        &self,
        pool: &AnyPool,
        backend: Backend,
        dialogue: &str,
        statement: &str,
        voter: Voter,
        vote: i8,
    ) -> Result<()> {
        let (done, answer) = oneshot::channel();
        let pending = Pending { dialogue: dialogue.into(), statement: statement.into(), voter, vote, done };
        let stopped = || StoreError::Unavailable("the vote writer stopped".into());
        self.sender(pool, backend).send(pending).await.map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

/// The writer: one group at a time, each answered after its commit.
async fn write_groups(pool: AnyPool, backend: Backend, mut queue: mpsc::Receiver<Pending>) {
    let mut group = Vec::with_capacity(MAX_GROUP);
    while queue.recv_many(&mut group, MAX_GROUP).await > 0 {
        match write_group(&pool, backend, &group).await {
            Ok(outcomes) => {
                for (pending, outcome) in group.drain(..).zip(outcomes) {
                    let _ = pending.done.send(outcome);
                }
            }
            Err(e) if !e.is_unavailable() && group.len() > 1 => {
                // Something in one vote broke the group (the database was fine): write
                // each alone, so that vote fails by itself and the others are kept.
                tracing::warn!(votes = group.len(), error = %e, "a group of votes failed; writing them one by one");
                for pending in group.drain(..) {
                    let outcome = match write_group(&pool, backend, std::slice::from_ref(&pending)).await {
                        Ok(mut outcomes) => outcomes.pop().expect("one outcome per vote"),
                        Err(e) if e.is_unavailable() => Err(StoreError::Unavailable(e.to_string())),
                        Err(e) => Err(StoreError::Record(format!("vote not written: {e}"))),
                    };
                    let _ = pending.done.send(outcome);
                }
            }
            Err(e) => {
                // Nothing of the group was written (the transaction rolled back): every
                // vote in it gets the same failure, and none was acknowledged.
                tracing::warn!(votes = group.len(), error = %e, "a group of votes was not written");
                let shared = e.to_string();
                let unavailable = e.is_unavailable();
                for pending in group.drain(..) {
                    let error = if unavailable {
                        StoreError::Unavailable(shared.clone())
                    } else {
                        StoreError::Record(format!("votes not written: {shared}"))
                    };
                    let _ = pending.done.send(Err(error));
                }
            }
        }
    }
}

/// Writes `group` in one transaction: each vote's own outcome (a vote on an unknown or
/// hidden statement, by a session that is no voting member's, or into a dialogue that
/// does not exist or is not deliberating, is refused alone), or an error for the whole
/// group. Votes that can write nothing raise no version and lock nothing: they cannot
/// hold up the others or make an analysis start again.
async fn write_group(pool: &AnyPool, backend: Backend, group: &[Pending]) -> Result<Vec<Result<()>>> {
    let at = now();
    let mut tx = begin_write(pool, backend).await?;
    let members = members(&mut tx, group).await?;
    // The dialogues with a voter to write for, each only while a deliberation is open.
    let mut dialogues: Vec<&str> =
        group.iter().zip(&members).filter(|(_, m)| m.is_some()).map(|(p, _)| p.dialogue.as_str()).collect();
    dialogues.sort_unstable();
    dialogues.dedup();
    let mut closed: HashMap<&str, Closed> = HashMap::new();
    let mut open = Vec::with_capacity(dialogues.len());
    for dialogue in dialogues {
        match deliberating(&mut tx, dialogue).await? {
            Ok(()) => open.push(dialogue),
            Err(why) => _ = closed.insert(dialogue, why),
        }
    }
    // Then raise each open dialogue's version, in a fixed order (no two writers can then
    // wait on each other), holding its row until the commit; the upserts check the
    // phase again under it.
    let mut versions = BTreeMap::new();
    for dialogue in open {
        versions.insert(dialogue, raise_version(&mut tx, dialogue).await?);
    }
    // Within a group a later vote on the same cell supersedes an earlier one (as it
    // would a moment later): only the last is written, and both are answered.
    let mut last: HashMap<(&str, &str, &str), usize> = HashMap::with_capacity(group.len());
    for (i, (p, member)) in group.iter().zip(&members).enumerate() {
        if let Some(member) = member {
            last.insert((p.dialogue.as_str(), p.statement.as_str(), member.as_str()), i);
        }
    }
    let mut written = HashSet::with_capacity(group.len());
    for (dialogue, version) in &versions {
        let mut rows: Vec<(&str, &str, i8)> = last
            .iter()
            .filter(|((d, _, _), _)| d == dialogue)
            .map(|(&(_, statement, member), &i)| (statement, member, group[i].vote))
            .collect();
        rows.sort_unstable();
        for chunk in rows.chunks(ROWS_PER_STATEMENT) {
            let sql = upsert_sql(chunk.len());
            let mut query = sqlx::query(&sql).bind(&at).bind(*dialogue).bind(*version);
            for (statement, member, vote) in chunk {
                query = query.bind(*statement).bind(*member).bind(*vote as i64);
            }
            for row in query.fetch_all(&mut *tx).await? {
                written.insert((dialogue.to_string(), row.get::<String, _>(0), row.get::<String, _>(1)));
            }
        }
    }
    let mut outcomes = Vec::with_capacity(group.len());
    for (p, member) in group.iter().zip(members) {
        let Some(member) = member else {
            outcomes.push(Err(StoreError::Conflict(NO_VOTER.into())));
            continue;
        };
        if let Some(why) = closed.get(p.dialogue.as_str()) {
            outcomes.push(Err(why.error()));
            continue;
        }
        let key = (p.dialogue.clone(), p.statement.clone(), member);
        outcomes.push(if written.contains(&key) { Ok(()) } else { Err(why_refused(&mut tx, p, &key.2).await?) });
    }
    tx.commit().await?;
    Ok(outcomes)
}

/// Why a vote's session found no voter.
const NO_VOTER: &str = "no member who takes part in this dialogue holds this session";

/// Why a dialogue takes no votes now.
enum Closed {
    Missing,
    NotDeliberating,
}

impl Closed {
    fn error(&self) -> StoreError {
        match self {
            Closed::Missing => StoreError::NotFound("dialogue"),
            Closed::NotDeliberating => StoreError::Conflict(NOT_DELIBERATING.into()),
        }
    }
}

/// The refusal of a vote or statement while no deliberation phase is current.
pub const NOT_DELIBERATING: &str = "the dialogue is not in a deliberation phase";

/// Whether `dialogue` exists and a deliberation phase is current in it (read, not
/// locked: the upserts check the phase again under the version row's lock).
async fn deliberating(tx: &mut Transaction<'_, Any>, dialogue: &str) -> Result<std::result::Result<(), Closed>> {
    let row = sqlx::query(concat!("SELECT ", crate::current_phase_kind!(), " FROM dialogues d WHERE d.id = $1"))
        .bind(dialogue)
        .fetch_optional(&mut **tx)
        .await?;
    Ok(match row.map(|r| r.get::<Option<String>, _>(0)) {
        None => Err(Closed::Missing),
        Some(kind) if kind.as_deref() == Some("deliberation") => Ok(()),
        Some(_) => Err(Closed::NotDeliberating),
    })
}

/// Each vote's member: its own (whose role the upserts check), or the member in the
/// vote's dialogue, taking part (a role other than observer), of the account holding
/// its session if the session has not expired — `None` where there is none. Read in
/// the group's transaction before anything is locked; a session that ends after this
/// read, like a role taken away, is honoured from the next group on.
async fn members(tx: &mut Transaction<'_, Any>, group: &[Pending]) -> Result<Vec<Option<String>>> {
    let mut sessions: Vec<(&str, &str)> = group
        .iter()
        .filter_map(|p| match &p.voter {
            Voter::Session(hash) => Some((p.dialogue.as_str(), hash.as_str())),
            Voter::Member(_) => None,
        })
        .collect();
    sessions.sort_unstable();
    sessions.dedup();
    let unix = time::OffsetDateTime::now_utc().unix_timestamp();
    let mut found: HashMap<(String, String), String> = HashMap::with_capacity(sessions.len());
    for chunk in sessions.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "SELECT v.column1, v.column2, m.id FROM (VALUES {}) AS v \
             JOIN sessions s ON s.token_hash = v.column2 AND s.expires_at > $1 \
             JOIN members m ON m.account_id = s.account_id AND m.dialogue_id = v.column1 \
             WHERE EXISTS (SELECT 1 FROM member_roles r WHERE r.member_id = m.id AND r.role <> 'observer')",
            values(chunk.len(), 2, 2)
        );
        let mut query = sqlx::query(&sql).bind(unix);
        for (dialogue, hash) in chunk {
            query = query.bind(*dialogue).bind(*hash);
        }
        for row in query.fetch_all(&mut **tx).await? {
            found.insert((row.get(0), row.get(1)), row.get(2));
        }
    }
    Ok(group
        .iter()
        .map(|p| match &p.voter {
            Voter::Member(member) => Some(member.clone()),
            Voter::Session(hash) => found.get(&(p.dialogue.clone(), hash.clone())).cloned(),
        })
        .collect())
}

/// `rows` tuples of `width` numbered parameters, the first numbered `first`:
/// `($2, $3), ($4, $5)`.
fn values(rows: usize, width: usize, first: usize) -> String {
    let tuple = |r: usize| {
        let params: Vec<String> = (0..width).map(|c| format!("${}", first + width * r + c)).collect();
        format!("({})", params.join(", "))
    };
    (0..rows).map(tuple).collect::<Vec<_>>().join(", ")
}

/// Votes per INSERT statement (3 parameters each: well inside both backends' limits).
const ROWS_PER_STATEMENT: usize = 500;

/// One INSERT of `rows` votes into dialogue `$2` at version `$3` and time `$1`, taking
/// only votes on the dialogue's shown statements, by members who take part, while a
/// deliberation phase is current — checked here, in the write, and not only when the
/// request arrived (a member who lost their role, or a phase that closed, while a
/// request's body was on its way) — replacing earlier votes on the same statement by
/// the same member, and returning the `(statement, member)` written.
fn upsert_sql(rows: usize) -> String {
    format!(
        "INSERT INTO statement_votes (statement_id, member_id, vote, voted_at, dialogue_id, changed_in) \
         SELECT s.id, v.column2, v.column3, $1, s.dialogue_id, $3 \
         FROM (VALUES {values}) AS v JOIN statements s ON s.id = v.column1 \
         WHERE s.dialogue_id = $2 AND s.hidden = 0 \
         AND EXISTS (SELECT 1 FROM dialogues d WHERE d.id = $2 AND {phase} = 'deliberation') \
         AND EXISTS (SELECT 1 FROM members m JOIN member_roles r ON r.member_id = m.id \
                     WHERE m.id = v.column2 AND m.dialogue_id = $2 AND r.role <> 'observer') \
         ON CONFLICT (statement_id, member_id) DO UPDATE SET vote = excluded.vote, voted_at = excluded.voted_at, \
         changed_in = excluded.changed_in \
         RETURNING statement_id, member_id",
        phase = crate::current_phase_kind!(),
        values = values(rows, 3, 4)
    )
}

/// Why a vote wrote nothing: its statement is not in the dialogue, the deliberation
/// is closed, the voter does not take part, or the statement is hidden.
async fn why_refused(tx: &mut Transaction<'_, Any>, p: &Pending, member: &str) -> Result<StoreError> {
    let row = sqlx::query("SELECT hidden FROM statements WHERE id = $1 AND dialogue_id = $2")
        .bind(&p.statement)
        .bind(&p.dialogue)
        .fetch_optional(&mut **tx)
        .await?;
    if row.is_none() {
        return Ok(StoreError::NotFound("statement"));
    }
    if let Err(refused) = crate::deliberation::may_deliberate(tx, &p.dialogue, member).await {
        return Ok(refused);
    }
    Ok(StoreError::Conflict("the statement was moderated out".into()))
}

/// Raises the dialogue's deliberation version and returns it; the row stays locked
/// until the transaction ends. Statements posted, hidden or redacted raise it too, so
/// an analysis knows to reload them. `NotFound` (and nothing written) when there is no
/// such dialogue.
pub(crate) async fn raise_version(tx: &mut Transaction<'_, Any>, dialogue: &str) -> Result<i64> {
    Ok(sqlx::query(
        "INSERT INTO deliberation_versions (dialogue_id, version) SELECT id, 1 FROM dialogues WHERE id = $1 \
         ON CONFLICT (dialogue_id) DO UPDATE SET version = deliberation_versions.version + 1 RETURNING version",
    )
    .bind(dialogue)
    .fetch_optional(&mut **tx)
    .await?
    .ok_or(StoreError::NotFound("dialogue"))?
    .get(0))
}
