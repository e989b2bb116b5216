//! Elections in a dialogue: a row per election (its stage and what pages show) and a
//! row per ballot on the public ballot board, each written in the transaction that
//! appends the event to the record. The record holds everything that counts; these
//! rows are an index of it.
//!
//! The server derives `election.opened`, `election.closed` and `election.result` from
//! the verifier's own state at the head ([`hiwar_record::election`]'s writer), so it
//! publishes what the checks recompute.

use std::collections::HashMap;

use hiwar_record::checks::BodyChecks;
use hiwar_record::election::{CastChecker, CheckedCast, ElectionStatus};
use serde::Serialize;
use serde_json::Value;
use sqlx::Row;

use crate::{now, Result, Store, StoreError, Text};

/// An election as pages list it.
#[derive(Debug, Clone, Serialize)]
pub struct Election {
    pub id: String,
    pub title: Text,
    /// `setup`, `open`, `closed` or `decided`.
    pub stage: String,
    /// The body of `election.created`.
    pub created: Value,
    pub public_key: Option<String>,
    /// The body of `election.result`, once decided.
    pub result: Option<Value>,
    /// When the convener said voting closes (informative; closing is an act).
    pub closes_at: Option<String>,
    pub created_at: String,
}

/// A line of the ballot board.
#[derive(Debug, Clone, Serialize)]
pub struct BoardEntry {
    pub tracking: String,
    /// Challenged by the voter: published opened, never counted.
    pub spoiled: bool,
    /// The record line.
    pub seq: u64,
    pub received_at: String,
}

/// The election kinds signed by the credential authority or a trustee, which the
/// server relays as they are.
pub const SIGNED_KINDS: [&str; 6] = [
    "election.credentials",
    "election.trustee_committed",
    "election.trustee_revealed",
    "election.trustee_shares",
    "election.trustee_complaint",
    "election.partial_decryption",
];

fn refused(kind: &'static str) -> impl FnOnce(String) -> hiwar_record::checks::BodyFailure {
    move |detail| (kind, 0, detail)
}

fn election_row(row: &sqlx::any::AnyRow) -> Result<Election> {
    let json = |text: Option<String>| -> Result<Option<Value>> {
        text.map(|t| serde_json::from_str(&t).map_err(|e| StoreError::Record(e.to_string()))).transpose()
    };
    Ok(Election {
        id: row.get(0),
        title: Text::new(row.get::<String, _>(1), row.get::<String, _>(2)),
        stage: row.get(3),
        created: json(Some(row.get(4)))?.unwrap_or_default(),
        public_key: row.get(5),
        result: json(row.get(6))?,
        closes_at: row.get(7),
        created_at: row.get(8),
    })
}

const ELECTION_COLUMNS: &str =
    "id, title_ar, title_en, stage, created_body, public_key, result_body, closes_at, created_at";

impl Store {
    /// Creates an election: `election.created` with `body` enters the record (E1 checks
    /// it) in the transaction that adds the row.
    /// `roll` (private: only its hash is public) is `[{"member", "weight"}]`.
    pub async fn create_election(
        &self,
        dialogue: &str,
        body: Value,
        closes_at: Option<&str>,
        roll: &Value,
    ) -> Result<String> {
        let id = body["election"].as_str().unwrap_or_default().to_string();
        let mut tx = self.begin_write().await?;
        Self::lock_dialogue(&mut tx, dialogue).await?;
        let exists = sqlx::query("SELECT 1 FROM elections WHERE dialogue_id = $1 AND id = $2")
            .bind(dialogue)
            .bind(&id)
            .fetch_optional(&mut *tx)
            .await?;
        if exists.is_some() {
            return Err(StoreError::Conflict(format!("election {id} exists already: questions never change")));
        }
        sqlx::query(
            "INSERT INTO elections (dialogue_id, id, title_ar, title_en, stage, created_body, closes_at, roll, created_at) \
             VALUES ($1, $2, $3, $4, 'setup', $5, $6, $7, $8)",
        )
        .bind(dialogue)
        .bind(&id)
        .bind(body["title"]["ar"].as_str().unwrap_or_default())
        .bind(body["title"]["en"].as_str().unwrap_or_default())
        .bind(body.to_string())
        .bind(closes_at)
        .bind(roll.to_string())
        .bind(now())
        .execute(&mut *tx)
        .await?;
        self.append(&mut tx, dialogue, "election.created", body).await?;
        tx.commit().await?;
        Ok(id)
    }

    pub async fn elections(&self, dialogue: &str) -> Result<Vec<Election>> {
        sqlx::query(&format!(
            "SELECT {ELECTION_COLUMNS} FROM elections WHERE dialogue_id = $1 ORDER BY created_at DESC, id"
        ))
        .bind(dialogue)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(election_row)
        .collect()
    }

    pub async fn election(&self, dialogue: &str, id: &str) -> Result<Election> {
        let row = sqlx::query(&format!("SELECT {ELECTION_COLUMNS} FROM elections WHERE dialogue_id = $1 AND id = $2"))
            .bind(dialogue)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound("election"))?;
        election_row(&row)
    }

    /// The electorate's roll: (member id, weight) in the order its hash commits to.
    pub async fn election_roll(&self, dialogue: &str, id: &str) -> Result<Vec<(String, u64)>> {
        let row = sqlx::query("SELECT roll FROM elections WHERE dialogue_id = $1 AND id = $2")
            .bind(dialogue)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound("election"))?;
        let roll: Value = serde_json::from_str(row.get::<&str, _>(0)).map_err(|e| StoreError::Record(e.to_string()))?;
        Ok(roll
            .as_array()
            .into_iter()
            .flatten()
            .map(|e| (e["member"].as_str().unwrap_or_default().to_string(), e["weight"].as_u64().unwrap_or(1)))
            .collect())
    }

    /// Open elections whose closing time is at or before `now` (both `…Z` UTC times,
    /// which compare as text): `(dialogue, election)`.
    pub async fn elections_due(&self, now: &str) -> Result<Vec<(String, String)>> {
        Ok(sqlx::query(
            "SELECT dialogue_id, id FROM elections WHERE stage = 'open' AND closes_at IS NOT NULL AND closes_at <= $1",
        )
        .bind(now)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect())
    }

    /// Registers the public credential a member made on their device, before opening:
    /// one per member of the roll, each credential once.
    pub async fn register_credential(&self, dialogue: &str, id: &str, member: &str, credential: &str) -> Result<()> {
        let e = self.election(dialogue, id).await?;
        if e.stage != "setup" {
            return Err(StoreError::Conflict(format!(
                "the vote is {}: credentials are registered before it opens",
                e.stage
            )));
        }
        if !self.election_roll(dialogue, id).await?.iter().any(|(m, _)| m == member) {
            return Err(StoreError::Conflict("you are not in this vote's electorate".into()));
        }
        let mut tx = self.begin_write().await?;
        let taken = sqlx::query(
            "SELECT member_id FROM election_registrations WHERE dialogue_id = $1 AND election_id = $2 \
             AND (member_id = $3 OR credential = $4)",
        )
        .bind(dialogue)
        .bind(id)
        .bind(member)
        .bind(credential)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(row) = taken {
            return Err(StoreError::Conflict(if row.get::<String, _>(0) == member {
                "a credential is already registered for you in this vote: use it (you may vote again with it)".into()
            } else {
                "this credential is already registered".into()
            }));
        }
        sqlx::query(
            "INSERT INTO election_registrations (dialogue_id, election_id, member_id, credential, registered_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(dialogue)
        .bind(id)
        .bind(member)
        .bind(credential)
        .bind(now())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The registered credentials: (member, public credential), in registration order.
    pub async fn registrations(&self, dialogue: &str, id: &str) -> Result<Vec<(String, String)>> {
        Ok(sqlx::query(
            "SELECT member_id, credential FROM election_registrations WHERE dialogue_id = $1 AND election_id = $2 \
             ORDER BY registered_at, member_id",
        )
        .bind(dialogue)
        .bind(id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect())
    }

    /// Where the election stands, from the record's checks.
    pub async fn election_status(&self, dialogue: &str, id: &str) -> Result<ElectionStatus> {
        self.election(dialogue, id).await?;
        self.with_checks(dialogue, |c| c.elections().status(id)).await?.ok_or(StoreError::NotFound("election"))
    }

    /// The checker of ballots, once the election is open.
    pub async fn cast_checker(&self, dialogue: &str, id: &str) -> Result<Option<CastChecker>> {
        self.with_checks(dialogue, |c| c.elections().cast_checker(id)).await
    }

    /// Relays an event signed by the credential authority or a trustee (the record's
    /// checks verify the signature and the step). A partial decryption that completes
    /// the threshold also publishes the result.
    pub async fn election_event(&self, dialogue: &str, id: &str, kind: &str, body: Value) -> Result<u64> {
        if !SIGNED_KINDS.contains(&kind) {
            return Err(StoreError::Conflict(format!("{kind} is not an event the server relays")));
        }
        if body["election"] != id {
            return Err(StoreError::Conflict(format!("the event names election {}, not {id}", body["election"])));
        }
        let mut tx = self.begin_write().await?;
        self.election(dialogue, id).await?;
        let mut decided = false;
        // The set-up and decryption checks change nothing when they refuse, so junk
        // from an anonymous sender costs its own checks only.
        let seq = self
            .append_with(&mut tx, dialogue, kind, true, |c: &mut BodyChecks, seq| {
                c.apply(seq, kind, body.clone()).and_then(|()| c.settle())?;
                decided = kind == "election.partial_decryption"
                    && c.elections().status(id).is_some_and(|s| s.decrypted.len() as u32 >= s.threshold)
                    && c.elections().status(id).is_some_and(|s| s.stage == "closed");
                Ok(body)
            })
            .await?;
        if decided {
            let mut result = Value::Null;
            self.append_with(&mut tx, dialogue, "election.result", false, |c, seq| {
                let body = c.elections().result_body(id).map_err(refused("E10"))?;
                c.apply(seq, "election.result", body.clone())?;
                result = body.clone();
                Ok(body)
            })
            .await?;
            self.set_stage(&mut tx, dialogue, id, "decided", None, Some(&result)).await?;
        }
        tx.commit().await?;
        Ok(seq)
    }

    async fn set_stage(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        dialogue: &str,
        id: &str,
        stage: &str,
        public_key: Option<&str>,
        result: Option<&Value>,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE elections SET stage = $3, public_key = COALESCE($4, public_key), \
             result_body = COALESCE($5, result_body) WHERE dialogue_id = $1 AND id = $2",
        )
        .bind(dialogue)
        .bind(id)
        .bind(stage)
        .bind(public_key)
        .bind(result.map(Value::to_string))
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// Opens the election: `election.opened` with the key the trustees' commitments
    /// give. Refused (E3, E4) until the ceremony is complete and every credential listed.
    pub async fn open_election(&self, dialogue: &str, id: &str) -> Result<String> {
        let mut tx = self.begin_write().await?;
        self.election(dialogue, id).await?;
        let mut key = String::new();
        self.append_with(&mut tx, dialogue, "election.opened", false, |c, seq| {
            let body = c.elections().opened_body(id).map_err(refused("E3"))?;
            c.apply(seq, "election.opened", body.clone())?;
            key = body["public_key"].as_str().unwrap_or_default().to_string();
            Ok(body)
        })
        .await?;
        self.set_stage(&mut tx, dialogue, id, "open", Some(&key), None).await?;
        tx.commit().await?;
        Ok(key)
    }

    /// Closes the election: `election.closed` with the tally the verifier recomputes,
    /// which is returned.
    pub async fn close_election(&self, dialogue: &str, id: &str) -> Result<Value> {
        let mut tx = self.begin_write().await?;
        self.election(dialogue, id).await?;
        let mut closed = Value::Null;
        self.append_with(&mut tx, dialogue, "election.closed", false, |c, seq| {
            let body = c.elections().closed_body(id).map_err(refused("E8"))?;
            c.apply(seq, "election.closed", body.clone())?;
            closed = body.clone();
            Ok(body)
        })
        .await?;
        self.set_stage(&mut tx, dialogue, id, "closed", None, None).await?;
        tx.commit().await?;
        Ok(closed)
    }

    /// Appends checked ballots in one transaction (one durable write for all of them):
    /// each ballot's record line and board entry, or none of them if any is refused.
    /// Returns each ballot's line.
    pub async fn cast_ballots(&self, dialogue: &str, id: &str, ballots: &[(Value, CheckedCast)]) -> Result<Vec<u64>> {
        let mut tx = self.begin_write().await?;
        let mut lines = Vec::with_capacity(ballots.len());
        let received_at = now();
        for (body, checked) in ballots {
            let single = ballots.len() == 1;
            let seq = self
                .append_with(&mut tx, dialogue, "ballot.cast", single, |c, seq| {
                    c.apply_checked_cast(seq, body.clone(), checked)?;
                    Ok(body.clone())
                })
                .await?;
            sqlx::query(
                "INSERT INTO ballots (dialogue_id, election_id, tracking, spoiled, credential, counter, seq, received_at) \
                 VALUES ($1, $2, $3, 0, $4, $5, $6, $7)",
            )
            .bind(dialogue)
            .bind(id)
            .bind(hex::encode(checked.tracking))
            .bind(hex::encode(checked.credential))
            .bind(checked.counter as i64)
            .bind(seq as i64)
            .bind(&received_at)
            .execute(&mut *tx)
            .await?;
            lines.push(seq);
        }
        tx.commit().await?;
        Ok(lines)
    }

    /// Publishes a challenged ballot, opened (E7); it is never counted.
    pub async fn spoil_ballot(&self, dialogue: &str, id: &str, body: Value) -> Result<u64> {
        if body["election"] != id {
            return Err(StoreError::Conflict(format!("the ballot names election {}, not {id}", body["election"])));
        }
        let tracking = body["tracking"].as_str().unwrap_or_default().to_string();
        let mut tx = self.begin_write().await?;
        let seq = self
            .append_with(&mut tx, dialogue, "ballot.spoiled", true, |c, seq| {
                c.apply(seq, "ballot.spoiled", body.clone())?;
                Ok(body)
            })
            .await?;
        sqlx::query(
            "INSERT INTO ballots (dialogue_id, election_id, tracking, spoiled, seq, received_at) \
             VALUES ($1, $2, $3, 1, $4, $5)",
        )
        .bind(dialogue)
        .bind(id)
        .bind(tracking)
        .bind(seq as i64)
        .bind(now())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(seq)
    }

    /// The latest counter of each credential that cast a ballot, and every tracking
    /// code used: what the ballot box checks before it queues a ballot.
    pub async fn ballot_box_state(&self, dialogue: &str, id: &str) -> Result<(HashMap<String, u64>, Vec<String>)> {
        let rows = sqlx::query(
            "SELECT tracking, credential, counter FROM ballots WHERE dialogue_id = $1 AND election_id = $2",
        )
        .bind(dialogue)
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        let mut counters = HashMap::new();
        let mut tracking = Vec::with_capacity(rows.len());
        for row in rows {
            tracking.push(row.get::<String, _>(0));
            if let (Some(c), Some(n)) = (row.get::<Option<String>, _>(1), row.get::<Option<i64>, _>(2)) {
                let e = counters.entry(c).or_insert(0);
                *e = std::cmp::max(*e, n as u64);
            }
        }
        Ok((counters, tracking))
    }

    /// The ballot board: entries in record order, those whose tracking code starts with
    /// `search` if given; and how many match.
    pub async fn ballot_board(
        &self,
        dialogue: &str,
        id: &str,
        search: &str,
        offset: u64,
        limit: u64,
    ) -> Result<(Vec<BoardEntry>, u64)> {
        let pattern = format!("{}%", search.chars().filter(char::is_ascii_hexdigit).collect::<String>().to_lowercase());
        let total: i64 = sqlx::query(
            "SELECT COUNT(*) FROM ballots WHERE dialogue_id = $1 AND election_id = $2 AND tracking LIKE $3",
        )
        .bind(dialogue)
        .bind(id)
        .bind(&pattern)
        .fetch_one(&self.pool)
        .await?
        .get(0);
        let rows = sqlx::query(
            "SELECT tracking, spoiled, seq, received_at FROM ballots \
             WHERE dialogue_id = $1 AND election_id = $2 AND tracking LIKE $3 ORDER BY seq LIMIT $4 OFFSET $5",
        )
        .bind(dialogue)
        .bind(id)
        .bind(&pattern)
        .bind(limit.min(i64::MAX as u64) as i64)
        .bind(offset.min(i64::MAX as u64) as i64)
        .fetch_all(&self.pool)
        .await?;
        let entries = rows
            .iter()
            .map(|r| BoardEntry {
                tracking: r.get(0),
                spoiled: r.get::<i64, _>(1) != 0,
                seq: r.get::<i64, _>(2) as u64,
                received_at: r.get(3),
            })
            .collect();
        Ok((entries, total as u64))
    }
}
