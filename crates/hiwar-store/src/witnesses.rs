//! Witnesses of a dialogue's record: the dialogue key's signed checkpoints, the
//! witnesses a convener added (`witness.added`), and each witness's latest co-signature.
//! A co-signature enters the record (`witness.cosigned`) when it covers lines other than
//! co-signatures that the witness had not co-signed in the record before; otherwise it
//! only replaces the witness's latest, served beside the checkpoint so that readers see
//! how recently each witness checked. Record spec §9.

use hiwar_record::witness::{Checkpoint, Cosignature};
use serde::Serialize;
use serde_json::json;
use sqlx::Row;
use zeroize::Zeroizing;

use crate::{now, signing_key_from_hex, Result, Store, StoreError};

/// How far ahead of the server's clock a co-signature's time may be.
const CLOCK_SKEW_SECS: i64 = 300;

/// A witness as pages show it.
#[derive(Debug, Clone, Serialize)]
pub struct WitnessRow {
    pub id: String,
    pub name: String,
    pub public_key: String,
    /// Its latest co-signature, if any.
    pub latest: Option<Cosigned>,
}

/// A witness's latest co-signature.
#[derive(Debug, Clone, Serialize)]
pub struct Cosigned {
    pub size: u64,
    /// When the witness co-signed, by its clock.
    pub time: String,
    pub cosignature: serde_json::Value,
}

impl Store {
    /// The dialogue key's signed head of the record as it is now.
    pub async fn checkpoint(&self, dialogue: &str) -> Result<Checkpoint> {
        let row = sqlx::query("SELECT record_len, record_head, signing_key FROM dialogues WHERE id = $1")
            .bind(dialogue)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound("dialogue"))?;
        let key_hex = Zeroizing::new(row.get::<String, _>(2));
        let key = signing_key_from_hex(&key_hex)?;
        Ok(Checkpoint::sign(dialogue, row.get::<i64, _>(0) as u64, &row.get::<String, _>(1), &now(), &key))
    }

    /// A convener adds a witness (its name and Ed25519 public key) through the record.
    pub async fn add_witness(&self, dialogue: &str, by_member: &str, name: &str, public_key: &str) -> Result<String> {
        let id = crate::random_id("w-", 10);
        let mut tx = self.begin_write().await?;
        let body = json!({"witness": id, "name": name, "key": public_key, "by": by_member});
        self.append(&mut tx, dialogue, "witness.added", body).await?;
        sqlx::query("INSERT INTO witnesses (dialogue_id, id, name, public_key, added_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(dialogue)
            .bind(&id)
            .bind(name)
            .bind(public_key)
            .bind(now())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// The dialogue's witnesses, in the order they were added, with their latest co-signature.
    pub async fn witnesses(&self, dialogue: &str) -> Result<Vec<WitnessRow>> {
        let rows = sqlx::query(
            "SELECT w.id, w.name, w.public_key, c.size, c.cosigned_at, c.cosignature FROM witnesses w \
             LEFT JOIN cosignatures c ON c.dialogue_id = w.dialogue_id AND c.witness_id = w.id \
             WHERE w.dialogue_id = $1 ORDER BY w.added_at, w.id",
        )
        .bind(dialogue)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let latest = match r.get::<Option<String>, _>(5) {
                    Some(text) => Some(Cosigned {
                        size: r.get::<i64, _>(3) as u64,
                        time: r.get(4),
                        cosignature: serde_json::from_str(&text)
                            .map_err(|e| StoreError::Record(format!("stored co-signature: {e}")))?,
                    }),
                    None => None,
                };
                Ok(WitnessRow { id: r.get(0), name: r.get(1), public_key: r.get(2), latest })
            })
            .collect()
    }

    /// Takes a witness's co-signature of a checkpoint. It must be by a witness of this
    /// dialogue, verify, be of a checkpoint the dialogue key signed whose head is the
    /// stored line at its size, and be later (in size and time) than the witness's
    /// latest. Returns the record line it entered as, if it did.
    pub async fn cosign(&self, dialogue: &str, cosignature: &Cosignature) -> Result<Option<u64>> {
        let refused = |detail: String| StoreError::Refused(detail);
        let witness = sqlx::query("SELECT id FROM witnesses WHERE dialogue_id = $1 AND public_key = $2")
            .bind(dialogue)
            .bind(&cosignature.witness)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound("witness"))?
            .get::<String, _>(0);
        cosignature.verify().map_err(refused)?;
        let checkpoint = &cosignature.checkpoint;
        let d = self.dialogue(dialogue).await?;
        let key = hiwar_record::witness::dialogue_key(&d.public_key)
            .ok_or_else(|| StoreError::Record("the dialogue's public key is not valid".into()))?;
        if checkpoint.dialogue != dialogue {
            return Err(refused(format!("the checkpoint is of dialogue {}", checkpoint.dialogue)));
        }
        checkpoint.verify(&key).map_err(refused)?;
        let at = hiwar_record::witness::parse_time(&cosignature.time)
            .ok_or_else(|| refused(format!("the co-signature's time {:?} is not a record time", cosignature.time)))?;
        if checkpoint.size == 0 {
            return Err(refused("a checkpoint has at least one line".into()));
        }
        let server_now = time::OffsetDateTime::now_utc();
        if at - server_now > time::Duration::seconds(CLOCK_SKEW_SECS) {
            return Err(refused(format!(
                "the co-signature's time {} is ahead of the server's clock",
                cosignature.time
            )));
        }
        let line = self.record_lines(dialogue, checkpoint.size - 1, 1).await?;
        let stored = line.strip_suffix('\n').map(|l| hex::encode(hiwar_record::line_hash(l)));
        if stored.as_deref() != Some(checkpoint.head.as_str()) {
            return Err(refused(format!(
                "the co-signed head {} is not this record's line {}",
                checkpoint.head,
                checkpoint.size - 1
            )));
        }

        let mut tx = self.begin_write().await?;
        let latest = sqlx::query(
            "SELECT size, cosigned_at, recorded_size FROM cosignatures WHERE dialogue_id = $1 AND witness_id = $2",
        )
        .bind(dialogue)
        .bind(&witness)
        .fetch_optional(&mut *tx)
        .await?;
        let (latest_size, latest_time, recorded_size) = match &latest {
            Some(r) => (r.get::<i64, _>(0) as u64, r.get::<String, _>(1), r.get::<i64, _>(2) as u64),
            None => (0, String::new(), 0),
        };
        if checkpoint.size < latest_size || cosignature.time <= latest_time {
            return Err(StoreError::Conflict(format!(
                "witness {witness} already co-signed {latest_size} lines at {latest_time}: a co-signature must be later"
            )));
        }
        let recorded = if checkpoint.size > recorded_size
            && self.has_content_between(&mut tx, dialogue, recorded_size, checkpoint.size).await?
        {
            let body = json!({"witness": witness, "cosignature": cosignature.to_value()});
            Some(
                self.append_with(&mut tx, dialogue, "witness.cosigned", false, |checks, seq| {
                    checks.apply(seq, "witness.cosigned", body.clone())?;
                    Ok(body)
                })
                .await?,
            )
        } else {
            None
        };
        let text = hiwar_record::canonical::to_canonical_string(&cosignature.to_value())
            .map_err(|e| StoreError::Record(e.to_string()))?;
        let recorded_size = if recorded.is_some() { checkpoint.size } else { recorded_size };
        // Only a later co-signature replaces the latest, even when two race.
        let stored = sqlx::query(
            "INSERT INTO cosignatures (dialogue_id, witness_id, size, cosigned_at, cosignature, recorded_size) \
             VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (dialogue_id, witness_id) DO UPDATE SET size = excluded.size, \
             cosigned_at = excluded.cosigned_at, cosignature = excluded.cosignature, \
             recorded_size = excluded.recorded_size \
             WHERE cosignatures.size <= excluded.size AND cosignatures.cosigned_at < excluded.cosigned_at",
        )
        .bind(dialogue)
        .bind(&witness)
        .bind(checkpoint.size as i64)
        .bind(&cosignature.time)
        .bind(&text)
        .bind(recorded_size as i64)
        .execute(&mut *tx)
        .await?;
        if stored.rows_affected() == 0 {
            return Err(StoreError::Conflict("a later co-signature by this witness arrived meanwhile".into()));
        }
        tx.commit().await?;
        Ok(recorded)
    }

    /// Whether lines `from..to` hold an event other than a co-signature: a witness's
    /// co-signature enters the record only then, so witnesses co-signing each other's
    /// co-signatures do not grow the record for ever.
    async fn has_content_between(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        dialogue: &str,
        from: u64,
        to: u64,
    ) -> Result<bool> {
        const PAGE: i64 = 64;
        let mut next = from as i64;
        while next < to as i64 {
            let rows = sqlx::query(
                "SELECT seq, line FROM record_lines WHERE dialogue_id = $1 AND seq >= $2 AND seq < $3 ORDER BY seq LIMIT $4",
            )
            .bind(dialogue)
            .bind(next)
            .bind(to as i64)
            .bind(PAGE)
            .fetch_all(&mut **tx)
            .await?;
            for row in &rows {
                let line: serde_json::Value = serde_json::from_str(row.get::<&str, _>(1))
                    .map_err(|e| StoreError::Record(format!("stored line: {e}")))?;
                if line["kind"] != "witness.cosigned" {
                    return Ok(true);
                }
            }
            match rows.last() {
                Some(last) => next = last.get::<i64, _>(0) + 1,
                None => break,
            }
        }
        Ok(false)
    }
}
