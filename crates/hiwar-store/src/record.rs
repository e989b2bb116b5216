//! Appending to a dialogue's record — the only way lines are written — and reading it.
//!
//! Before a line is sealed, its event goes through the verifier's own body checks
//! ([`hiwar_record::checks::BodyChecks`]: R9, S1–S2, E1–E10) against everything before
//! it, and the sealed line must fit R1's size limit: the server cannot publish a line
//! that `hiwar verify` would reject. The checks' state is kept per dialogue between
//! appends and is trusted only if it was built from exactly the lines up to the current
//! head (sequence number and head hash); otherwise it is rebuilt from the stored lines,
//! which also covers lines written by another server process on the same database.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use hiwar_record::checks::{BodyChecks, BodyFailure};
use hiwar_record::verify::MAX_LINE_BYTES;
use hiwar_record::Event;
use serde_json::Value;
use sqlx::{Any, Row, Transaction};
use zeroize::Zeroizing;

use crate::{now, signing_key_from_hex, Result, Store, StoreError};

/// The body checks of each dialogue, as of some head.
#[derive(Default, Clone)]
pub(crate) struct CheckCache(Arc<Mutex<HashMap<String, Checked>>>);

struct Checked {
    /// Lines applied so far (the next line's sequence number).
    lines: u64,
    /// Hash of the last line applied.
    head: String,
    checks: BodyChecks,
}

impl CheckCache {
    fn take(&self, dialogue: &str) -> Option<Checked> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).remove(dialogue)
    }

    fn put(&self, dialogue: &str, checked: Checked) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).insert(dialogue.to_string(), checked);
    }
}

impl Store {
    /// Appends one event to a dialogue's record inside `tx`, after the verifier's body
    /// checks accept it. The first statement updates the dialogue row, which serialises
    /// concurrent appends (so the checks' state cannot change meanwhile).
    pub(crate) async fn append(
        &self,
        tx: &mut Transaction<'_, Any>,
        dialogue: &str,
        kind: &str,
        body: Value,
    ) -> Result<()> {
        self.append_with(tx, dialogue, kind, false, |checks, seq| {
            checks.apply(seq, kind, body.clone()).and_then(|()| checks.settle())?;
            Ok(body)
        })
        .await
        .map(|_| ())
    }

    /// Appends one event of `kind` whose body `make` computes from the checks' state at
    /// the head and applies to it (returning a failed check refuses the append). The
    /// line's sequence number is returned. `refusal_keeps_state`: the caller knows
    /// that `make` changes nothing when it fails (the ballot checks), so a refusal
    /// keeps the checks' state instead of rebuilding it from the stored lines.
    pub(crate) async fn append_with(
        &self,
        tx: &mut Transaction<'_, Any>,
        dialogue: &str,
        kind: &str,
        refusal_keeps_state: bool,
        make: impl FnOnce(&mut BodyChecks, u64) -> std::result::Result<Value, BodyFailure>,
    ) -> Result<u64> {
        let row = sqlx::query(
            "UPDATE dialogues SET record_len = record_len + 1 WHERE id = $1 \
             RETURNING record_len, record_head, record_time, signing_key",
        )
        .bind(dialogue)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or(StoreError::NotFound("dialogue"))?;
        let seq = row.get::<i64, _>(0) as u64 - 1;
        let prev: String = row.get(1);
        let last_time: String = row.get(2);
        let key_hex = Zeroizing::new(row.get::<String, _>(3));
        let key = signing_key_from_hex(&key_hex)?;

        let mut checked = self.checks_at(tx, dialogue, seq, &prev).await?;
        // Clocks of several processes may differ slightly; the record's time never goes back.
        let time = std::cmp::max(now(), last_time);
        checked.checks.at_time(&time);
        let body = match make(&mut checked.checks, seq) {
            Ok(body) => body,
            Err((check, _, detail)) => {
                if refusal_keeps_state {
                    // Still the state at the head before this append.
                    self.checks.put(dialogue, checked);
                }
                return Err(StoreError::Refused(format!("{kind} would fail the record's check {check}: {detail}")));
            }
        };

        let sealed =
            Event { dialogue: dialogue.to_string(), seq, prev, time: time.clone(), kind: kind.to_string(), body }
                .seal(&key)
                .map_err(|e| StoreError::Record(e.to_string()))?;
        if sealed.text.len() > MAX_LINE_BYTES {
            return Err(StoreError::Refused(format!(
                "{kind} would be a line of {} bytes, over the record's limit of {MAX_LINE_BYTES} (check R1)",
                sealed.text.len()
            )));
        }
        let head = hex::encode(sealed.hash);
        checked.checks.line_sealed(sealed.hash);
        sqlx::query("UPDATE dialogues SET record_head = $2, record_time = $3 WHERE id = $1")
            .bind(dialogue)
            .bind(&head)
            .bind(time)
            .execute(&mut **tx)
            .await?;
        sqlx::query("INSERT INTO record_lines (dialogue_id, seq, line) VALUES ($1, $2, $3)")
            .bind(dialogue)
            .bind(seq as i64)
            .bind(sealed.text)
            .execute(&mut **tx)
            .await?;
        // If the transaction rolls back after this, the cached head no longer matches the
        // stored one and the next append rebuilds.
        self.checks.put(dialogue, Checked { lines: seq + 1, head, checks: checked.checks });
        Ok(seq)
    }

    /// Runs `f` on the checks' state at the record's current head (holding the append
    /// lock, so no line is added meanwhile).
    pub(crate) async fn with_checks<T>(&self, dialogue: &str, f: impl FnOnce(&mut BodyChecks) -> T) -> Result<T> {
        let mut tx = self.begin_write().await?;
        let row =
            sqlx::query("UPDATE dialogues SET record_len = record_len WHERE id = $1 RETURNING record_len, record_head")
                .bind(dialogue)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or(StoreError::NotFound("dialogue"))?;
        let lines = row.get::<i64, _>(0) as u64;
        let head: String = row.get(1);
        let mut checked = self.checks_at(&mut tx, dialogue, lines, &head).await?;
        let out = f(&mut checked.checks);
        self.checks.put(dialogue, checked);
        tx.commit().await?;
        Ok(out)
    }

    /// The body checks as of the record's first `lines` lines, whose last hash is `head`:
    /// from the cache if it is exactly there, else replayed from the stored lines.
    async fn checks_at(
        &self,
        tx: &mut Transaction<'_, Any>,
        dialogue: &str,
        lines: u64,
        head: &str,
    ) -> Result<Checked> {
        let cached = self.checks.take(dialogue).filter(|c| c.lines <= lines);
        if cached.as_ref().is_some_and(|c| c.lines == lines && c.head == head) {
            return Ok(cached.expect("just matched"));
        }
        // Continue from the cache when its head is where the stored lines continue from.
        let (from, mut checked) = match cached {
            Some(c) => (c.lines, Some(c)),
            None => (0, None),
        };
        let rows = sqlx::query("SELECT seq, line FROM record_lines WHERE dialogue_id = $1 AND seq >= $2 ORDER BY seq")
            .bind(dialogue)
            .bind(from as i64)
            .fetch_all(&mut **tx)
            .await?;
        let replay = |rows: &[sqlx::any::AnyRow], mut checked: Checked| -> Result<Checked> {
            for row in rows {
                let seq = row.get::<i64, _>(0) as u64;
                let line: &str = row.get(1);
                let mut value: Value =
                    serde_json::from_str(line).map_err(|e| StoreError::Record(format!("stored line {seq}: {e}")))?;
                if seq != checked.lines || value["prev"].as_str() != Some(checked.head.as_str()) && seq > 0 {
                    return Err(StoreError::Record(format!("stored line {seq} does not continue the chain")));
                }
                let kind = value["kind"].as_str().unwrap_or_default().to_string();
                checked.checks.at_time(value["time"].as_str().unwrap_or_default());
                let body = value.as_object_mut().and_then(|o| o.remove("body")).unwrap_or_default();
                checked.checks.apply(seq, &kind, body).map_err(|(check, _, detail)| {
                    StoreError::Record(format!("stored line {seq} fails check {check}: {detail}"))
                })?;
                let hash = hiwar_record::line_hash(line);
                checked.checks.line_sealed(hash);
                checked.lines = seq + 1;
                checked.head = hex::encode(hash);
            }
            checked.checks.settle().map_err(|(check, line, detail)| {
                StoreError::Record(format!("stored line {line} fails check {check}: {detail}"))
            })?;
            Ok(checked)
        };
        let fresh = || Checked { lines: 0, head: String::new(), checks: BodyChecks::new(dialogue) };
        let continued = match checked.take() {
            Some(c) if rows.first().is_some_and(|r| r.get::<i64, _>(0) as u64 == c.lines) => replay(&rows, c).ok(),
            _ => None,
        };
        let result = match continued {
            Some(c) => c,
            None => {
                let all = sqlx::query("SELECT seq, line FROM record_lines WHERE dialogue_id = $1 ORDER BY seq")
                    .bind(dialogue)
                    .fetch_all(&mut **tx)
                    .await?;
                replay(&all, fresh())?
            }
        };
        if result.lines != lines || (lines > 0 && result.head != head) {
            return Err(StoreError::Record(format!(
                "the stored record has {} lines ending in {}, the dialogue row says {lines} ending in {head}",
                result.lines, result.head
            )));
        }
        Ok(result)
    }

    /// Lines `from`, `from + 1`, … of the record, at most `limit` of them, each ending in `\n`.
    pub async fn record_lines(&self, dialogue: &str, from: u64, limit: u64) -> Result<String> {
        let rows =
            sqlx::query("SELECT line FROM record_lines WHERE dialogue_id = $1 AND seq >= $2 ORDER BY seq LIMIT $3")
                .bind(dialogue)
                .bind(from.min(i64::MAX as u64) as i64)
                .bind(limit.min(i64::MAX as u64) as i64)
                .fetch_all(&self.pool)
                .await?;
        let mut out = String::new();
        for row in rows {
            out.push_str(row.get::<&str, _>(0));
            out.push('\n');
        }
        Ok(out)
    }

    /// The dialogue's record as served: one line per event, each ending in `\n`.
    pub async fn record(&self, dialogue: &str) -> Result<String> {
        self.dialogue_exists(dialogue).await?;
        self.record_lines(dialogue, 0, u64::MAX).await
    }
}
