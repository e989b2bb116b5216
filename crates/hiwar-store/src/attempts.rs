//! Login attempts counted per minute in the database, so every server process on one
//! database shares the same limits. A bucket names what is limited — a client address
//! or a code's lookup part — only as a keyed hash (SHA-256 under a random secret kept in
//! the database), and rows older than two minutes are deleted: no address is ever
//! stored in clear, and none is kept.

use rand::RngCore;
use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::{Result, Store};

impl Store {
    /// The secret that keys bucket names, created on first use.
    pub(crate) async fn bucket_secret(&self) -> Result<String> {
        let mut fresh = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut fresh);
        sqlx::query("INSERT INTO server_secrets (name, value) VALUES ('rate-limit', $1) ON CONFLICT (name) DO NOTHING")
            .bind(hex::encode(fresh))
            .execute(&self.pool)
            .await?;
        Ok(sqlx::query("SELECT value FROM server_secrets WHERE name = 'rate-limit'")
            .fetch_one(&self.pool)
            .await?
            .get(0))
    }

    /// Counts one attempt against `what` (say, `client:192.0.2.1`) in minute `minute`
    /// (Unix time / 60) and returns the attempts counted in that minute and the one
    /// before: a limit on that sum holds over every 60 seconds, whatever the minute
    /// boundaries (a fixed one-minute window would allow twice the limit across one).
    pub async fn count_attempt(&self, what: &str, minute: i64) -> Result<u64> {
        let bucket = hex::encode(Sha256::new().chain_update(self.bucket_key.as_bytes()).chain_update(what).finalize());
        sqlx::query("DELETE FROM login_attempts WHERE window_start < $1").bind(minute - 1).execute(&self.pool).await?;
        let row = sqlx::query(
            "INSERT INTO login_attempts (bucket, window_start, attempts) VALUES ($1, $2, 1) \
             ON CONFLICT (bucket, window_start) DO UPDATE SET attempts = login_attempts.attempts + 1 \
             RETURNING attempts",
        )
        .bind(&bucket)
        .bind(minute)
        .fetch_one(&self.pool)
        .await?;
        let previous: Option<i64> =
            sqlx::query("SELECT attempts FROM login_attempts WHERE bucket = $1 AND window_start = $2")
                .bind(&bucket)
                .bind(minute - 1)
                .fetch_optional(&self.pool)
                .await?
                .map(|r| r.get(0));
        Ok((row.get::<i64, _>(0) + previous.unwrap_or(0)) as u64)
    }
}
