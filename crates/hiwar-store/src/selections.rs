//! Selections: a lottery computed in the background, then published to the record
//! (its manifest hash, before the beacon exists), drawn, and seated through a batch of
//! delegate invitations. Each step is one transaction that moves the status forward
//! only from the step before, so a double submit or two servers cannot draw twice.

use hiwar_record::selection::body;
use serde::Serialize;
use serde_json::Value;
use sqlx::Row;

use crate::{now, HashedCode, Result, Store, StoreError};

/// Where a selection stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SelectionStatus {
    /// The optimiser is running.
    Running,
    /// The optimiser stopped with an error (quotas infeasible, interrupted, …).
    Failed,
    /// The manifest is ready for the convener to review; nothing is public yet.
    Computed,
    /// The manifest hash is in the record; the beacon is awaited.
    Published,
    Drawn,
    /// The drawn volunteers have delegate invitations.
    Seated,
}

impl SelectionStatus {
    fn as_str(self) -> &'static str {
        match self {
            SelectionStatus::Running => "running",
            SelectionStatus::Failed => "failed",
            SelectionStatus::Computed => "computed",
            SelectionStatus::Published => "published",
            SelectionStatus::Drawn => "drawn",
            SelectionStatus::Seated => "seated",
        }
    }
    fn parse(s: &str) -> Result<Self> {
        Ok(match s {
            "running" => SelectionStatus::Running,
            "failed" => SelectionStatus::Failed,
            "computed" => SelectionStatus::Computed,
            "published" => SelectionStatus::Published,
            "drawn" => SelectionStatus::Drawn,
            "seated" => SelectionStatus::Seated,
            other => return Err(StoreError::Record(format!("unknown selection status {other:?}"))),
        })
    }
    /// Whether the manifest is public.
    pub fn is_public(self) -> bool {
        matches!(self, SelectionStatus::Published | SelectionStatus::Drawn | SelectionStatus::Seated)
    }
}

/// A selection without its large texts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Selection {
    pub id: String,
    pub status: SelectionStatus,
    pub size: u64,
    pub panels: u64,
    pub volunteers: u64,
    /// The optimiser's last progress report.
    pub progress: String,
    pub error: Option<String>,
    pub manifest_hash: Option<String>,
    /// Figures computed with the manifest (minimum probabilities, Gini, gap, time, …).
    pub summary: Option<Value>,
    /// The announced public random value, e.g. "the main numbers of the national lottery draw of 1 Dec 2026".
    pub beacon_source: Option<String>,
    pub beacon: Option<String>,
    pub drawn_index: Option<u64>,
    pub batch: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

/// What a new selection starts from.
pub struct NewSelection<'a> {
    pub size: u64,
    pub panels: u64,
    pub volunteers: u64,
    pub pool_csv: &'a str,
    pub quotas_csv: &'a str,
}

const COLUMNS: &str = "id, status, size, panels, volunteers, progress, error, manifest_hash, summary, \
                       beacon_source, beacon, drawn_index, batch_id, created_at, updated_at";

fn selection_from(r: &sqlx::any::AnyRow) -> Result<Selection> {
    let summary: Option<String> = r.get(8);
    Ok(Selection {
        id: r.get(0),
        status: SelectionStatus::parse(r.get::<&str, _>(1))?,
        size: r.get::<i64, _>(2) as u64,
        panels: r.get::<i64, _>(3) as u64,
        volunteers: r.get::<i64, _>(4) as u64,
        progress: r.get(5),
        error: r.get(6),
        manifest_hash: r.get(7),
        summary: summary
            .map(|s| serde_json::from_str(&s))
            .transpose()
            .map_err(|e| StoreError::Record(e.to_string()))?,
        beacon_source: r.get(9),
        beacon: r.get(10),
        drawn_index: r.get::<Option<i64>, _>(11).map(|i| i as u64),
        batch: r.get(12),
        created_at: r.get(13),
        updated_at: r.get(14),
    })
}

impl Store {
    /// Starts a selection in status `running`; returns its id.
    pub async fn create_selection(&self, dialogue: &str, new: &NewSelection<'_>) -> Result<String> {
        self.dialogue_exists(dialogue).await?;
        let id = crate::random_id("s-", 10);
        let at = now();
        sqlx::query(
            "INSERT INTO selections (id, dialogue_id, status, size, panels, volunteers, pool_csv, quotas_csv, \
             progress, created_at, updated_at) VALUES ($1, $2, 'running', $3, $4, $5, $6, $7, '', $8, $8)",
        )
        .bind(&id)
        .bind(dialogue)
        .bind(new.size as i64)
        .bind(new.panels as i64)
        .bind(new.volunteers as i64)
        .bind(new.pool_csv)
        .bind(new.quotas_csv)
        .bind(&at)
        .execute(&self.pool)
        .await?;
        Ok(id)
    }

    /// Records progress of a running selection (and that its runner is alive).
    pub async fn selection_progress(&self, id: &str, progress: &str) -> Result<()> {
        sqlx::query("UPDATE selections SET progress = $2, updated_at = $3 WHERE id = $1 AND status = 'running'")
            .bind(id)
            .bind(progress)
            .bind(now())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Ends a running selection with its manifest, or with an error.
    pub async fn finish_selection(
        &self,
        id: &str,
        outcome: std::result::Result<(&str, &str, &Value), &str>,
    ) -> Result<()> {
        let query = match outcome {
            Ok((manifest, hash, summary)) => sqlx::query(
                "UPDATE selections SET status = 'computed', manifest = $2, manifest_hash = $3, summary = $4, \
                 updated_at = $5 WHERE id = $1 AND status = 'running'",
            )
            .bind(id)
            .bind(manifest.to_string())
            .bind(hash.to_string())
            .bind(summary.to_string()),
            Err(error) => sqlx::query(
                "UPDATE selections SET status = 'failed', error = $2, updated_at = $3 WHERE id = $1 AND status = 'running'",
            )
            .bind(id)
            .bind(error.to_string()),
        };
        query.bind(now()).execute(&self.pool).await?;
        Ok(())
    }

    pub async fn selections(&self, dialogue: &str) -> Result<Vec<Selection>> {
        self.dialogue_exists(dialogue).await?;
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM selections WHERE dialogue_id = $1 ORDER BY created_at DESC, id"
        ))
        .bind(dialogue)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(selection_from).collect()
    }

    pub async fn selection(&self, dialogue: &str, id: &str) -> Result<Selection> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM selections WHERE dialogue_id = $1 AND id = $2"))
            .bind(dialogue)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound("selection"))?;
        selection_from(&row)
    }

    /// The manifest JSON, once computed.
    pub async fn selection_manifest(&self, dialogue: &str, id: &str) -> Result<String> {
        sqlx::query("SELECT manifest FROM selections WHERE dialogue_id = $1 AND id = $2")
            .bind(dialogue)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .and_then(|r| r.get::<Option<String>, _>(0))
            .ok_or(StoreError::NotFound("manifest"))
    }

    /// Moves `id` from `from` to `to` inside `tx`, or fails with a conflict naming the status.
    async fn advance(
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        dialogue: &str,
        id: &str,
        from: SelectionStatus,
        to: SelectionStatus,
        set: &str,
        values: &[&str],
    ) -> Result<()> {
        let sql = format!(
            "UPDATE selections SET status = '{}', updated_at = $3{set} WHERE dialogue_id = $1 AND id = $2 AND status = '{}'",
            to.as_str(),
            from.as_str()
        );
        let mut query = sqlx::query(&sql).bind(dialogue).bind(id).bind(now());
        for v in values {
            query = query.bind(v.to_string());
        }
        if query.execute(&mut **tx).await?.rows_affected() == 1 {
            return Ok(());
        }
        let status = sqlx::query("SELECT status FROM selections WHERE dialogue_id = $1 AND id = $2")
            .bind(dialogue)
            .bind(id)
            .fetch_optional(&mut **tx)
            .await?
            .ok_or(StoreError::NotFound("selection"))?;
        Err(StoreError::Conflict(format!("the selection is {}, not {}", status.get::<&str, _>(0), from.as_str())))
    }

    /// Publishes the manifest hash to the record, naming the beacon to come.
    pub async fn publish_selection(&self, dialogue: &str, id: &str, beacon_source: &str) -> Result<()> {
        let mut tx = self.begin_write().await?;
        Self::lock_dialogue(&mut tx, dialogue).await?;
        Self::advance(
            &mut tx,
            dialogue,
            id,
            SelectionStatus::Computed,
            SelectionStatus::Published,
            ", beacon_source = $4",
            &[beacon_source],
        )
        .await?;
        let s = sqlx::query(
            "SELECT manifest_hash, size, panels, volunteers, manifest FROM selections WHERE dialogue_id = $1 AND id = $2",
        )
        .bind(dialogue)
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
        let manifest: Value =
            serde_json::from_str(s.get::<&str, _>(4)).map_err(|e| StoreError::Record(e.to_string()))?;
        let pool_hash = manifest["pool_hash"].as_str().unwrap_or_default().to_string();
        let b = body::selection_published(
            id,
            s.get::<&str, _>(0),
            &pool_hash,
            s.get::<i64, _>(3) as u64,
            s.get::<i64, _>(1) as u64,
            s.get::<i64, _>(2) as u64,
            beacon_source,
        );
        self.append(&mut tx, dialogue, "selection.published", b).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records the draw the caller computed from the beacon.
    pub async fn draw_selection(
        &self,
        dialogue: &str,
        id: &str,
        beacon: &str,
        seed: &str,
        index: u64,
        panel: &[String],
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        Self::lock_dialogue(&mut tx, dialogue).await?;
        Self::advance(
            &mut tx,
            dialogue,
            id,
            SelectionStatus::Published,
            SelectionStatus::Drawn,
            ", beacon = $4",
            &[beacon],
        )
        .await?;
        sqlx::query("UPDATE selections SET drawn_index = $3 WHERE dialogue_id = $1 AND id = $2")
            .bind(dialogue)
            .bind(id)
            .bind(index as i64)
            .execute(&mut *tx)
            .await?;
        self.append(&mut tx, dialogue, "selection.drawn", body::selection_drawn(id, beacon, seed, index, panel))
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Issues one delegate invitation per drawn volunteer and records the seating.
    pub async fn seat_selection(&self, dialogue: &str, id: &str, codes: &[HashedCode]) -> Result<String> {
        let mut tx = self.begin_write().await?;
        Self::lock_dialogue(&mut tx, dialogue).await?;
        let batch = self.insert_batch(&mut tx, dialogue, "delegate", codes).await?;
        Self::advance(
            &mut tx,
            dialogue,
            id,
            SelectionStatus::Drawn,
            SelectionStatus::Seated,
            ", batch_id = $4",
            &[&batch],
        )
        .await?;
        self.append(&mut tx, dialogue, "selection.seated", body::selection_seated(id, &batch)).await?;
        tx.commit().await?;
        Ok(batch)
    }
}
