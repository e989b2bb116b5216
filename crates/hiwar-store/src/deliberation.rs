//! Deliberation: statements (public, in the record, without their author), votes
//! (private: only counts are ever published), and moderation decisions (public, with
//! the reason and the convener who made them).

use std::collections::HashSet;

use hiwar_record::events::body;
use serde::Serialize;
use sqlx::Row;

use crate::vote_writer::Voter;
use crate::{now, random_id, unique_as_conflict, Result, Store, StoreError};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Statement {
    pub id: String,
    /// Empty once redacted.
    pub text: String,
    pub hidden: bool,
    pub reason: Option<String>,
    /// Why the text was removed, if it was.
    pub redacted: Option<String>,
    pub created_at: String,
}

/// A statement as served beside the record for check T1: its text and salt, or the
/// reason it was redacted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatementText {
    pub statement: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub salt: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redacted: Option<String>,
}

/// Whether `member` may post and vote in `dialogue` now: they take part (a role other
/// than observer) and a deliberation phase is current. Asked inside the writing
/// transaction, so that a role taken away or a phase closed while a request was on its
/// way is honoured. A refusal is a `Conflict` naming the reason.
pub(crate) async fn may_deliberate(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    dialogue: &str,
    member: &str,
) -> Result<()> {
    let row = sqlx::query(concat!(
        "SELECT (SELECT COUNT(*) FROM members m JOIN member_roles r ON r.member_id = m.id \
                 WHERE m.id = $2 AND m.dialogue_id = $1 AND r.role <> 'observer'), \
                (SELECT ",
        crate::current_phase_kind!(),
        " FROM dialogues d WHERE d.id = $1)"
    ))
    .bind(dialogue)
    .bind(member)
    .fetch_one(&mut **tx)
    .await?;
    if row.get::<Option<String>, _>(1).as_deref() != Some("deliberation") {
        return Err(StoreError::Conflict(crate::vote_writer::NOT_DELIBERATING.into()));
    }
    if row.get::<Option<i64>, _>(0).unwrap_or(0) == 0 {
        return Err(StoreError::Conflict("only members who take part may post and vote".into()));
    }
    Ok(())
}

/// One vote, for analysis: `(member, statement, vote)` with vote in {1, 0, −1}.
pub type VoteRow = (String, String, i8);

/// Statements per `votes.tallied` line.
pub const TALLY_LINE_STATEMENTS: usize = 2_000;

/// How duplicates are recognised: case-folded, whitespace collapsed.
pub fn statement_key(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

impl Store {
    /// Posts a statement by `author` (a member) and records it; a duplicate of an
    /// existing statement in the dialogue, or more than `per_member` statements by one
    /// member, is a conflict.
    pub async fn post_statement(&self, dialogue: &str, author: &str, text: &str, per_member: u64) -> Result<String> {
        self.post_statement_for(dialogue, author, text, per_member, false).await
    }

    /// [`Store::post_statement`], also proposed for the dialogue's agenda when
    /// `agenda` (an `agenda.proposed` line after its `statement.posted`, in the same
    /// transaction).
    pub async fn post_statement_for(
        &self,
        dialogue: &str,
        author: &str,
        text: &str,
        per_member: u64,
        agenda: bool,
    ) -> Result<String> {
        let id = random_id("st-", 10);
        let mut salt = [0u8; 16];
        rand::RngCore::fill_bytes(&mut rand::thread_rng(), &mut salt);
        let mut tx = self.begin_write().await?;
        Self::lock_dialogue(&mut tx, dialogue).await?;
        // The version row next, as vote groups take it first: statements after it, in
        // one order everywhere, so the two can never wait on each other.
        crate::vote_writer::raise_version(&mut tx, dialogue).await?;
        let posted: i64 = sqlx::query("SELECT COUNT(*) FROM statements WHERE dialogue_id = $1 AND author_member = $2")
            .bind(dialogue)
            .bind(author)
            .fetch_one(&mut *tx)
            .await?
            .get(0);
        may_deliberate(&mut tx, dialogue, author).await?;
        if posted as u64 >= per_member {
            return Err(StoreError::Conflict(format!("a member may post at most {per_member} statements")));
        }
        sqlx::query(
            "INSERT INTO statements (id, dialogue_id, author_member, text, text_key, hidden, created_at, salt) \
             VALUES ($1, $2, $3, $4, $5, 0, $6, $7)",
        )
        .bind(&id)
        .bind(dialogue)
        .bind(author)
        .bind(text)
        .bind(statement_key(text))
        .bind(now())
        .bind(hex::encode(salt))
        .execute(&mut *tx)
        .await
        .map_err(unique_as_conflict("this statement was already posted"))?;
        let digest = hiwar_record::events::statement_digest(&salt, text);
        self.append(&mut tx, dialogue, "statement.posted", body::statement_posted(&id, &digest)).await?;
        if agenda {
            self.append(&mut tx, dialogue, "agenda.proposed", body::agenda_proposed(&id)).await?;
        }
        tx.commit().await?;
        Ok(id)
    }

    /// How the dialogue's opinion groups are shown first: `"hiwar"` or `"polis"`.
    pub async fn opinion_method(&self, dialogue: &str) -> Result<String> {
        sqlx::query("SELECT opinion_method FROM dialogues WHERE id = $1")
            .bind(dialogue)
            .fetch_optional(&self.pool)
            .await?
            .map(|r| r.get(0))
            .ok_or(StoreError::NotFound("dialogue"))
    }

    /// Sets [`Store::opinion_method`]; the caller has checked the value.
    pub async fn set_opinion_method(&self, dialogue: &str, method: &str) -> Result<()> {
        let done = sqlx::query("UPDATE dialogues SET opinion_method = $2 WHERE id = $1")
            .bind(dialogue)
            .bind(method)
            .execute(&self.pool)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("dialogue"));
        }
        Ok(())
    }

    pub async fn statements(&self, dialogue: &str) -> Result<Vec<Statement>> {
        self.dialogue_exists(dialogue).await?;
        let rows = sqlx::query(
            "SELECT id, text, hidden, reason, created_at, redacted_reason, salt FROM statements \
             WHERE dialogue_id = $1 ORDER BY created_at, id",
        )
        .bind(dialogue)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(|r| Statement {
                id: r.get(0),
                text: r.get(1),
                hidden: r.get::<i64, _>(2) != 0,
                reason: r.get(3),
                redacted: r.get(5),
                created_at: r.get(4),
            })
            .collect())
    }

    /// Every statement's text and salt (or its redaction), as served beside the record.
    pub async fn statement_texts(&self, dialogue: &str) -> Result<Vec<StatementText>> {
        self.dialogue_exists(dialogue).await?;
        let rows = sqlx::query(
            "SELECT id, text, salt, redacted_reason FROM statements WHERE dialogue_id = $1 ORDER BY created_at, id",
        )
        .bind(dialogue)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(|r| {
                let redacted: Option<String> = r.get(3);
                StatementText {
                    statement: r.get(0),
                    text: redacted.is_none().then(|| r.get(1)),
                    salt: if redacted.is_none() { r.get(2) } else { None },
                    redacted,
                }
            })
            .collect())
    }

    /// Removes a statement's text for good (it is hidden too), recording the reason and
    /// the convener: the record keeps only the digest, which still proves what was there
    /// to whoever holds the text.
    pub async fn redact_statement(&self, dialogue: &str, statement: &str, reason: &str, by: &str) -> Result<()> {
        let mut tx = self.begin_write().await?;
        Self::lock_dialogue(&mut tx, dialogue).await?;
        // The version row next, as vote groups take it first: statements after it, in
        // one order everywhere, so the two can never wait on each other.
        crate::vote_writer::raise_version(&mut tx, dialogue).await?;
        let changed = sqlx::query(
            "UPDATE statements SET text = '', text_key = id, salt = NULL, hidden = 1, redacted_reason = $3 \
             WHERE id = $1 AND dialogue_id = $2 AND redacted_reason IS NULL",
        )
        .bind(statement)
        .bind(dialogue)
        .bind(reason)
        .execute(&mut *tx)
        .await?;
        if changed.rows_affected() != 1 {
            return Err(
                Self::unchanged_statement(&mut tx, dialogue, statement, "the statement was already redacted").await
            );
        }
        self.append(&mut tx, dialogue, "statement.redacted", body::statement_redacted(statement, reason, by)).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Why an update of `statement` changed no row: it is not in the dialogue (not
    /// found), or it already was as asked (`conflict`).
    async fn unchanged_statement(
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        dialogue: &str,
        statement: &str,
        conflict: &str,
    ) -> StoreError {
        let exists = sqlx::query("SELECT 1 FROM statements WHERE id = $1 AND dialogue_id = $2")
            .bind(statement)
            .bind(dialogue)
            .fetch_optional(&mut **tx)
            .await;
        match exists {
            Ok(None) => StoreError::NotFound("statement"),
            Ok(Some(_)) => StoreError::Conflict(conflict.to_string()),
            Err(e) => e.into(),
        }
    }

    /// Records `member`'s vote; a later vote replaces the earlier one. Votes on unknown
    /// or hidden statements are refused. The vote is written with the others that
    /// arrive meanwhile, in one transaction (see `vote_writer`); this returns once that
    /// transaction has committed.
    pub async fn vote(&self, dialogue: &str, statement: &str, member: &str, vote: i8) -> Result<()> {
        self.votes.vote(&self.pool, self.backend, dialogue, statement, Voter::Member(member.into()), vote).await
    }

    /// [`Store::vote`] by whoever holds the session `token_hash`: its account's member
    /// in the dialogue, found by the group's own transaction — nothing is read before
    /// (the write decides who may vote). A session that has ended, or whose account is
    /// no member of the dialogue who takes part, is a `Conflict`.
    pub async fn vote_in_session(&self, dialogue: &str, statement: &str, token_hash: &str, vote: i8) -> Result<()> {
        self.votes.vote(&self.pool, self.backend, dialogue, statement, Voter::Session(token_hash.into()), vote).await
    }

    /// Every vote in the dialogue, for analysis (never published as such), with the
    /// deliberation version they are complete up to.
    pub async fn votes(&self, dialogue: &str) -> Result<(i64, Vec<VoteRow>)> {
        let version = self.deliberation_version(dialogue).await?;
        Ok((version, self.votes_upto(dialogue, version).await?))
    }

    /// Every vote stamped with a deliberation version up to `upto` (read from
    /// [`Store::deliberation_version`]), in a fixed order, so that every analysis of
    /// the same votes is the same.
    pub async fn votes_upto(&self, dialogue: &str, upto: i64) -> Result<Vec<VoteRow>> {
        let mut votes = self.votes_changed(dialogue, i64::MIN, upto).await?;
        votes.sort_unstable();
        Ok(votes)
    }

    /// The votes stamped with a deliberation version in `(after, upto]`: what changed
    /// since an analysis of version `after`, when `upto` was read from
    /// [`Store::deliberation_version`] (so all of them have committed).
    pub async fn votes_changed(&self, dialogue: &str, after: i64, upto: i64) -> Result<Vec<VoteRow>> {
        let rows = sqlx::query(
            "SELECT member_id, statement_id, vote FROM statement_votes \
             WHERE dialogue_id = $1 AND changed_in > $2 AND changed_in <= $3",
        )
        .bind(dialogue)
        .bind(after)
        .bind(upto)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1), r.get::<i64, _>(2) as i8)).collect())
    }

    /// The dialogue's deliberation version: raised by every committed change to its
    /// votes or statements (0 before the first).
    pub async fn deliberation_version(&self, dialogue: &str) -> Result<i64> {
        Ok(sqlx::query("SELECT version FROM deliberation_versions WHERE dialogue_id = $1")
            .bind(dialogue)
            .fetch_optional(&self.pool)
            .await?
            .map_or(0, |r| r.get(0)))
    }

    /// The statements `member` has voted on (a member belongs to one dialogue, so the
    /// member's index alone finds them).
    pub async fn member_votes(&self, member: &str) -> Result<HashSet<String>> {
        let rows = sqlx::query("SELECT statement_id FROM statement_votes WHERE member_id = $1")
            .bind(member)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    /// The member of `dialogue` who holds the session `token_hash` (unexpired at
    /// `now_unix`) and takes part (a role other than observer), with the statements
    /// they have voted on: who asks and what they have done, in one query. `None` when
    /// no such member holds it.
    pub async fn session_votes(
        &self,
        token_hash: &str,
        now_unix: i64,
        dialogue: &str,
    ) -> Result<Option<(String, HashSet<String>)>> {
        let rows = sqlx::query(
            "SELECT m.id, v.statement_id FROM sessions s \
             JOIN members m ON m.account_id = s.account_id AND m.dialogue_id = $3 \
             LEFT JOIN statement_votes v ON v.member_id = m.id \
             WHERE s.token_hash = $1 AND s.expires_at > $2 \
             AND EXISTS (SELECT 1 FROM member_roles r WHERE r.member_id = m.id AND r.role <> 'observer')",
        )
        .bind(token_hash)
        .bind(now_unix)
        .bind(dialogue)
        .fetch_all(&self.pool)
        .await?;
        let Some(first) = rows.first() else { return Ok(None) };
        let voted = rows.iter().filter_map(|r| r.get::<Option<String>, _>(1)).collect();
        Ok(Some((first.get(0), voted)))
    }

    /// Hides or restores a statement, recording the decision and its reason.
    pub async fn moderate_statement(
        &self,
        dialogue: &str,
        statement: &str,
        hidden: bool,
        reason: &str,
        by: &str,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        Self::lock_dialogue(&mut tx, dialogue).await?;
        // The version row next, as vote groups take it first: statements after it, in
        // one order everywhere, so the two can never wait on each other.
        crate::vote_writer::raise_version(&mut tx, dialogue).await?;
        let changed = sqlx::query(
            "UPDATE statements SET hidden = $3, reason = $4 WHERE id = $1 AND dialogue_id = $2 AND hidden <> $3",
        )
        .bind(statement)
        .bind(dialogue)
        .bind(hidden as i64)
        .bind(reason)
        .execute(&mut *tx)
        .await?;
        if changed.rows_affected() != 1 {
            let conflict = format!("the statement is already {}", if hidden { "hidden" } else { "shown" });
            return Err(Self::unchanged_statement(&mut tx, dialogue, statement, &conflict).await);
        }
        self.append(&mut tx, dialogue, "statement.moderated", body::statement_moderated(statement, hidden, reason, by))
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Publishes the vote counts of every statement to the record.
    pub async fn publish_tally(&self, dialogue: &str) -> Result<usize> {
        let mut tx = self.begin_write().await?;
        Self::lock_dialogue(&mut tx, dialogue).await?;
        let rows = sqlx::query(
            "SELECT s.id, \
             COALESCE(SUM(CASE WHEN v.vote = 1 THEN 1 ELSE 0 END), 0), \
             COALESCE(SUM(CASE WHEN v.vote = -1 THEN 1 ELSE 0 END), 0), \
             COALESCE(SUM(CASE WHEN v.vote = 0 THEN 1 ELSE 0 END), 0) \
             FROM statements s LEFT JOIN statement_votes v ON v.statement_id = s.id \
             WHERE s.dialogue_id = $1 GROUP BY s.id, s.created_at ORDER BY s.created_at, s.id",
        )
        .bind(dialogue)
        .fetch_all(&mut *tx)
        .await?;
        let counts: Vec<(String, u64, u64, u64)> = rows
            .iter()
            .map(|r| (r.get(0), r.get::<i64, _>(1) as u64, r.get::<i64, _>(2) as u64, r.get::<i64, _>(3) as u64))
            .collect();
        // Split so that no line nears the record's 1 MiB limit (about 100 bytes a statement).
        for part in counts.chunks(TALLY_LINE_STATEMENTS) {
            self.append(&mut tx, dialogue, "votes.tallied", body::votes_tallied(part)).await?;
        }
        tx.commit().await?;
        Ok(counts.len())
    }
}
