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

use crate::{now, Result, StoreError};

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
    fn sender(&self, pool: &AnyPool) -> mpsc::Sender<Pending> {
        let mut slot = self.0.lock().unwrap_or_else(|p| p.into_inner());
        match slot.as_ref() {
            Some(sender) if !sender.is_closed() => sender.clone(),
            _ => {
                let (sender, queue) = mpsc::channel(QUEUE);
                tokio::spawn(write_groups(pool.clone(), queue));
                *slot = Some(sender.clone());
                sender
            }
        }
    }

    /// Queues the vote and waits for its group's commit.
    pub(crate) async fn vote(
        &self,
        pool: &AnyPool,
        dialogue: &str,
        statement: &str,
        voter: Voter,
        vote: i8,
    ) -> Result<()> {
        let (done, answer) = oneshot::channel();
        let pending = Pending { dialogue: dialogue.into(), statement: statement.into(), voter, vote, done };
        let stopped = || StoreError::Unavailable("the vote writer stopped".into());
        self.sender(pool).send(pending).await.map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

/// The writer: one group at a time, each answered after its commit.
async fn write_groups(pool: AnyPool, mut queue: mpsc::Receiver<Pending>) {
    let mut group = Vec::with_capacity(MAX_GROUP);
    while queue.recv_many(&mut group, MAX_GROUP).await > 0 {
        match write_group(&pool, &group).await {
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
                    let outcome = match write_group(&pool, std::slice::from_ref(&pending)).await {
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
/// hidden statement, or by a session that is not a member's, is refused alone), or an
/// error for the whole group.
async fn write_group(pool: &AnyPool, group: &[Pending]) -> Result<Vec<Result<()>>> {
    let at = now();
    let mut tx = pool.begin().await?;
    // Raise each dialogue's version first, in a fixed order (no two writers can then
    // wait on each other), holding its row until the commit.
    let mut dialogues: Vec<&str> = group.iter().map(|p| p.dialogue.as_str()).collect();
    dialogues.sort_unstable();
    dialogues.dedup();
    // A vote into a dialogue that does not exist is refused by itself (it must not
    // break the group the others share).
    let mut versions = BTreeMap::new();
    for dialogue in dialogues {
        match raise_version(&mut tx, dialogue).await {
            Ok(version) => _ = versions.insert(dialogue, version),
            Err(StoreError::NotFound(_)) => {}
            Err(e) => return Err(e),
        }
    }
    let members = members(&mut tx, group).await?;
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
        if !versions.contains_key(p.dialogue.as_str()) {
            outcomes.push(Err(StoreError::NotFound("dialogue")));
            continue;
        }
        let Some(member) = member else {
            outcomes.push(Err(StoreError::Conflict("no member of this dialogue holds this session".into())));
            continue;
        };
        let key = (p.dialogue.clone(), p.statement.clone(), member);
        outcomes.push(if written.contains(&key) { Ok(()) } else { Err(why_refused(&mut tx, p, &key.2).await?) });
    }
    tx.commit().await?;
    Ok(outcomes)
}

/// Each vote's member: its own, or the member in the vote's dialogue of the account
/// holding its session, if the session has not expired (`None` where there is none).
/// Read in the group's transaction, so a session ended before the commit casts nothing.
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
             JOIN members m ON m.account_id = s.account_id AND m.dialogue_id = v.column1",
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
         FROM (VALUES {}) AS v JOIN statements s ON s.id = v.column1 \
         WHERE s.dialogue_id = $2 AND s.hidden = 0 \
         AND EXISTS (SELECT 1 FROM dialogues d JOIN phases p ON p.dialogue_id = d.id AND p.idx = d.current_phase \
                     WHERE d.id = $2 AND p.kind = 'deliberation') \
         AND EXISTS (SELECT 1 FROM members m JOIN member_roles r ON r.member_id = m.id \
                     WHERE m.id = v.column2 AND m.dialogue_id = $2 AND r.role <> 'observer') \
         ON CONFLICT (statement_id, member_id) DO UPDATE SET vote = excluded.vote, voted_at = excluded.voted_at, \
         changed_in = excluded.changed_in \
         RETURNING statement_id, member_id",
        values(rows, 3, 4)
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
