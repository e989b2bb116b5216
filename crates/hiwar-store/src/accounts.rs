//! Accounts, their credentials (invitation codes and personal access keys) and
//! login sessions.

use sqlx::{Any, Row, Transaction};

use crate::dialogues::insert_member;
use crate::*;

impl Store {
    // ----- accounts, credentials and sessions -----

    /// Creates a convener account that logs in with `access`.
    pub async fn create_convener(&self, access: &HashedCode) -> Result<String> {
        let account = random_id("a-", 16);
        let mut tx = self.begin_write().await?;
        sqlx::query("INSERT INTO accounts (id, is_convener, created_at) VALUES ($1, 1, $2)")
            .bind(&account)
            .bind(now())
            .execute(&mut *tx)
            .await?;
        insert_access(&mut tx, &account, access).await?;
        tx.commit().await?;
        Ok(account)
    }

    /// Looks a credential up by its public part.
    pub async fn credential(&self, lookup: &str) -> Result<Option<Credential>> {
        let row = sqlx::query(
            "SELECT c.lookup, c.hash, c.kind, c.account_id, c.used_at, c.revoked_at, b.dialogue_id, b.role \
             FROM credentials c LEFT JOIN code_batches b ON b.id = c.batch_id WHERE c.lookup = $1",
        )
        .bind(lookup)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|r| {
            let kind = match r.get::<&str, _>(2) {
                "invitation" => CredentialKind::Invitation { dialogue: r.get(6), role: r.get(7) },
                _ => CredentialKind::Access { account: r.get(3) },
            };
            Credential {
                lookup: r.get(0),
                hash: r.get(1),
                usable: r.get::<Option<String>, _>(4).is_none() && r.get::<Option<String>, _>(5).is_none(),
                kind,
            }
        }))
    }

    /// Redeems an invitation: marks it used (only if it is still usable), creates the
    /// account and member, gives the member a personal access key, and records the
    /// join — all or nothing.
    pub async fn redeem_invitation(&self, lookup: &str, pseudonym: &str, access: &HashedCode) -> Result<Joined> {
        let mut tx = self.begin_write().await?;
        let used = sqlx::query(
            "UPDATE credentials SET used_at = $2 WHERE lookup = $1 AND kind = 'invitation' \
             AND used_at IS NULL AND revoked_at IS NULL",
        )
        .bind(lookup)
        .bind(now())
        .execute(&mut *tx)
        .await?;
        if used.rows_affected() != 1 {
            return Err(StoreError::Unusable);
        }
        let row = sqlx::query(
            "SELECT b.dialogue_id, b.role, b.id FROM credentials c JOIN code_batches b ON b.id = c.batch_id \
             WHERE c.lookup = $1",
        )
        .bind(lookup)
        .fetch_one(&mut *tx)
        .await?;
        let (dialogue, role, batch): (String, String, String) = (row.get(0), row.get(1), row.get(2));
        let account = random_id("a-", 16);
        sqlx::query("INSERT INTO accounts (id, is_convener, created_at) VALUES ($1, 0, $2)")
            .bind(&account)
            .bind(now())
            .execute(&mut *tx)
            .await?;
        insert_access(&mut tx, &account, access).await?;
        let member = insert_member(self, &mut tx, &dialogue, &account, pseudonym, &role, Some(&batch)).await?;
        tx.commit().await?;
        Ok(Joined { account, member, dialogue })
    }

    pub async fn create_session(&self, token_hash: &str, account: &str, expires_at: i64) -> Result<()> {
        sqlx::query("INSERT INTO sessions (token_hash, account_id, expires_at) VALUES ($1, $2, $3)")
            .bind(token_hash)
            .bind(account)
            .bind(expires_at)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The account of a live session.
    pub async fn session_account(&self, token_hash: &str, now_unix: i64) -> Result<Option<Account>> {
        let row = sqlx::query(
            "SELECT a.id, a.is_convener FROM sessions s JOIN accounts a ON a.id = s.account_id \
             WHERE s.token_hash = $1 AND s.expires_at > $2",
        )
        .bind(token_hash)
        .bind(now_unix)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|r| Account { id: r.get(0), is_convener: r.get::<i64, _>(1) == 1 }))
    }

    /// [`Store::session_account`] and, for a live session, where its account stands in
    /// `dialogue` ([`Store::standing`]), in one query: a request about a dialogue
    /// learns both in one round trip. The standing is `None` when the dialogue does not
    /// exist.
    pub async fn session_standing(
        &self,
        token_hash: &str,
        now_unix: i64,
        dialogue: &str,
    ) -> Result<Option<(Account, Option<Standing>)>> {
        let rows = sqlx::query(&format!(
            "SELECT a.id, a.is_convener, {STANDING_COLUMNS} \
             FROM sessions s JOIN accounts a ON a.id = s.account_id \
             LEFT JOIN dialogues d ON d.id = $3 \
             LEFT JOIN members m ON m.dialogue_id = d.id AND m.account_id = a.id \
             LEFT JOIN member_roles r ON r.member_id = m.id \
             WHERE s.token_hash = $1 AND s.expires_at > $2"
        ))
        .bind(token_hash)
        .bind(now_unix)
        .bind(dialogue)
        .fetch_all(&self.pool)
        .await?;
        let Some(first) = rows.first() else { return Ok(None) };
        let account = Account { id: first.get(0), is_convener: first.get::<i64, _>(1) == 1 };
        Ok(Some((account, Standing::from_rows(&rows, 2))))
    }

    pub async fn delete_session(&self, token_hash: &str) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1 OR expires_at < $2")
            .bind(token_hash)
            .bind(time::OffsetDateTime::now_utc().unix_timestamp())
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

pub(crate) async fn insert_access(tx: &mut Transaction<'_, Any>, account: &str, access: &HashedCode) -> Result<()> {
    sqlx::query(
        "INSERT INTO credentials (lookup, hash, kind, account_id, created_at) VALUES ($1, $2, 'access', $3, $4)",
    )
    .bind(&access.lookup)
    .bind(&access.hash)
    .bind(account)
    .bind(now())
    .execute(&mut **tx)
    .await
    .map_err(unique_as_conflict("the access key's lookup part is already in use"))?;
    Ok(())
}
