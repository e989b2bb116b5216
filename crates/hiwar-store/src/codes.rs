//! Batches of invitation codes: issued (the count in the record), listed, revoked.

use hiwar_record::events::{body, INVITED_ROLES};
use sqlx::{Any, Row, Transaction};

use crate::*;

impl Store {
    // ----- invitation codes -----

    /// Stores a batch of invitation codes (hashed by the caller) and records its size.
    pub async fn issue_codes(&self, dialogue: &str, role: &str, codes: &[HashedCode]) -> Result<String> {
        if !INVITED_ROLES.contains(&role) {
            return Err(StoreError::Conflict(format!("unknown role {role:?}")));
        }
        let mut tx = self.begin_write().await?;
        Self::lock_dialogue(&mut tx, dialogue).await?;
        let batch = self.insert_batch(&mut tx, dialogue, role, codes).await?;
        tx.commit().await?;
        Ok(batch)
    }

    /// Inserts a batch and its codes and records it, inside the caller's transaction.
    pub(crate) async fn insert_batch(
        &self,
        tx: &mut Transaction<'_, Any>,
        dialogue: &str,
        role: &str,
        codes: &[HashedCode],
    ) -> Result<String> {
        let batch = random_id("b-", 10);
        let created = now();
        sqlx::query("INSERT INTO code_batches (id, dialogue_id, role, size, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(&batch)
            .bind(dialogue)
            .bind(role)
            .bind(codes.len() as i64)
            .bind(&created)
            .execute(&mut **tx)
            .await?;
        for code in codes {
            sqlx::query(
                "INSERT INTO credentials (lookup, hash, kind, batch_id, created_at) VALUES ($1, $2, 'invitation', $3, $4)",
            )
            .bind(&code.lookup)
            .bind(&code.hash)
            .bind(&batch)
            .bind(&created)
            .execute(&mut **tx)
            .await
            .map_err(unique_as_conflict("a code's lookup part is already in use"))?;
        }
        self.append(tx, dialogue, "codes.issued", body::codes_issued(&batch, role, codes.len() as u64)).await?;
        Ok(batch)
    }

    /// Whether a lookup part is free (the caller draws another if not).
    pub async fn lookup_is_free(&self, lookup: &str) -> Result<bool> {
        Ok(self.credential(lookup).await?.is_none())
    }

    pub async fn batches(&self, dialogue: &str) -> Result<Vec<Batch>> {
        let rows = sqlx::query(
            "SELECT b.id, b.role, b.size, b.created_at, \
             (SELECT COUNT(*) FROM credentials c WHERE c.batch_id = b.id AND c.used_at IS NOT NULL), \
             (SELECT COUNT(*) FROM credentials c WHERE c.batch_id = b.id AND c.revoked_at IS NOT NULL) \
             FROM code_batches b WHERE b.dialogue_id = $1 ORDER BY b.created_at, b.id",
        )
        .bind(dialogue)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(|r| Batch {
                id: r.get(0),
                role: r.get(1),
                size: r.get::<i64, _>(2) as u64,
                created_at: r.get(3),
                used: r.get::<i64, _>(4) as u64,
                revoked: r.get::<i64, _>(5) as u64,
            })
            .collect())
    }

    /// Revokes the unused codes of a batch, or only the one with `lookup`. Returns how
    /// many were revoked (0 changes nothing and records nothing).
    pub async fn revoke_codes(&self, dialogue: &str, batch: &str, lookup: Option<&str>) -> Result<u64> {
        let mut tx = self.begin_write().await?;
        Self::lock_dialogue(&mut tx, dialogue).await?;
        let exists = sqlx::query("SELECT 1 FROM code_batches WHERE id = $1 AND dialogue_id = $2")
            .bind(batch)
            .bind(dialogue)
            .fetch_optional(&mut *tx)
            .await?;
        if exists.is_none() {
            return Err(StoreError::NotFound("batch"));
        }
        let revoked = sqlx::query(
            "UPDATE credentials SET revoked_at = $3 WHERE batch_id = $1 AND ($2 = '' OR lookup = $2) \
             AND used_at IS NULL AND revoked_at IS NULL",
        )
        .bind(batch)
        .bind(lookup.unwrap_or(""))
        .bind(now())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if revoked > 0 {
            self.append(&mut tx, dialogue, "codes.revoked", body::codes_revoked(batch, revoked)).await?;
        }
        tx.commit().await?;
        Ok(revoked)
    }

    /// Revokes an invitation code by its lookup part, whatever its batch.
    pub async fn revoke_code(&self, dialogue: &str, lookup: &str) -> Result<u64> {
        let row = sqlx::query(
            "SELECT c.batch_id FROM credentials c JOIN code_batches b ON b.id = c.batch_id \
             WHERE c.lookup = $1 AND b.dialogue_id = $2",
        )
        .bind(lookup)
        .bind(dialogue)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound("code"))?;
        let batch: String = row.get(0);
        self.revoke_codes(dialogue, &batch, Some(lookup)).await
    }
}
