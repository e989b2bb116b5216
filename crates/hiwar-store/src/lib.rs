//! Persistence for hiwar behind one interface, [`Store`], with two real backends:
//! SQLite (one file in the data directory, WAL mode, `synchronous=FULL` so a commit
//! is on disk before the request that caused it is answered) and PostgreSQL (shared by
//! several `hiwar serve` processes).
//!
//! Invariants kept here:
//! - every state change that is public appends its record line **in the same
//!   transaction**, so the record and the state never disagree;
//! - appends to one dialogue's record are serialised by updating the dialogue row
//!   first (a row lock on PostgreSQL, the write lock on SQLite), so two processes can
//!   never write two lines with the same sequence number;
//! - codes are stored only as hashes computed by the caller; this crate never sees a
//!   code in clear.

mod attempts;
mod deliberation;
mod record;
mod schema;
mod selections;

use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use ed25519_dalek::SigningKey;
use hiwar_record::events::{self, body, ROLES};
use rand::Rng;
use serde::Serialize;
use serde_json::Value;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions, AnyRow};
use sqlx::{Any, AnyPool, Executor, Row, Transaction};
use zeroize::Zeroizing;

pub use deliberation::{statement_key, Statement, StatementText, VoteRow};
pub use schema::MIGRATIONS;
pub use selections::{NewSelection, Selection, SelectionStatus};

/// Which database a [`Store`] runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Storage errors. `NotFound`, `Conflict` and `Unusable` are the caller's to show;
/// `Database` is an operational failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0}")]
    Conflict(String),
    #[error("the code is used, revoked or unknown")]
    Unusable,
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("record error: {0}")]
    Record(String),
    /// The change would write a record line the verifier rejects: nothing was stored.
    #[error("refused: {0}")]
    Refused(String),
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// A bilingual text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Text {
    pub ar: String,
    pub en: String,
}

impl Text {
    pub fn new(ar: impl Into<String>, en: impl Into<String>) -> Self {
        Text { ar: ar.into(), en: en.into() }
    }
    fn record(&self) -> Value {
        events::bilingual(&self.ar, &self.en)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Phase {
    pub kind: String,
    pub name: Text,
    /// `YYYY-MM-DD`
    pub starts: String,
    pub ends: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Dialogue {
    pub id: String,
    pub title: Text,
    pub description: Text,
    pub listed: bool,
    pub public_key: String,
    pub phases: Vec<Phase>,
    pub current_phase: Option<usize>,
    pub record_len: u64,
    pub record_head: String,
    pub members: u64,
    pub created_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DialogueSummary {
    pub id: String,
    pub title: Text,
    pub created_at: String,
}

pub struct NewDialogue {
    pub title: Text,
    pub description: Text,
    pub listed: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Member {
    pub id: String,
    pub pseudonym: String,
    pub roles: Vec<String>,
    pub joined_at: String,
}

impl Member {
    pub fn has(&self, role: &str) -> bool {
        self.roles.iter().any(|r| r == role)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: String,
    pub is_convener: bool,
}

/// A stored credential: an invitation code or a personal access key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    pub lookup: String,
    /// The PHC string of the code's argon2 hash.
    pub hash: String,
    pub kind: CredentialKind,
    pub usable: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialKind {
    /// Joins `dialogue` with `role`, once.
    Invitation { dialogue: String, role: String },
    /// Logs `account` in, until revoked.
    Access { account: String },
}

/// A code's public lookup part and its hash, as the caller computed them.
#[derive(Debug, Clone)]
pub struct HashedCode {
    pub lookup: String,
    pub hash: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Batch {
    pub id: String,
    pub role: String,
    pub size: u64,
    pub used: u64,
    pub revoked: u64,
    pub created_at: String,
}

/// The result of joining with an invitation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Joined {
    pub account: String,
    pub member: String,
    pub dialogue: String,
}

/// The one storage interface. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    checks: record::CheckCache,
    /// Keys the hashed names of rate-limit buckets (see `attempts`).
    bucket_key: std::sync::Arc<String>,
}

fn now() -> String {
    hiwar_record::now_rfc3339()
}

/// A random id: `prefix` then `len` characters of lowercase base32.
pub fn random_id(prefix: &str, len: usize) -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyz23456789";
    let mut rng = rand::thread_rng();
    let mut id = String::from(prefix);
    id.extend((0..len).map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char));
    id
}

/// How pseudonyms are compared for uniqueness: trimmed, lower-cased, then reduced to
/// their Unicode TR39 confusable skeleton, so "0mar" (digit zero) or a Cyrillic "Оmar"
/// cannot sit beside "Omar".
pub fn pseudonym_key(pseudonym: &str) -> String {
    unicode_security::skeleton(&pseudonym.trim().to_lowercase()).collect::<String>().to_lowercase()
}

impl Store {
    /// Opens (creating if needed) `hiwar.sqlite3` in `dir` and migrates it.
    /// The directory is created readable by its owner only (0700), and so is the
    /// database file (0600; SQLite gives its journal files the same mode): it holds the
    /// dialogues' signing keys.
    pub async fn open_sqlite(dir: &Path) -> Result<Store> {
        let io = |e: std::io::Error| StoreError::Database(sqlx::Error::Io(e));
        if !dir.exists() {
            std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir).map_err(io)?;
        }
        let path = dir.join("hiwar.sqlite3");
        if !path.exists() {
            std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&path).map_err(io)?;
        }
        let url = format!("sqlite://{}?mode=rwc", path.display());
        Self::connect(&url, Backend::Sqlite, 4).await
    }

    /// Opens a database by URL: `postgres://…` or `sqlite://…`.
    pub async fn open_url(url: &str) -> Result<Store> {
        let backend = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else {
            return Err(StoreError::Database(sqlx::Error::Configuration(
                format!("unsupported database URL (use postgres:// or sqlite://): {url}").into(),
            )));
        };
        Self::connect(url, backend, if backend == Backend::Sqlite { 4 } else { 16 }).await
    }

    async fn connect(url: &str, backend: Backend, max: u32) -> Result<Store> {
        sqlx::any::install_default_drivers();
        let options = AnyConnectOptions::from_str(url)?;
        let pool = AnyPoolOptions::new()
            .max_connections(max)
            .acquire_timeout(Duration::from_secs(30))
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // WAL for concurrent readers; FULL so a commit survives power loss;
                        // busy_timeout so writers queue instead of failing.
                        conn.execute("PRAGMA journal_mode = WAL").await?;
                        conn.execute("PRAGMA synchronous = FULL").await?;
                        conn.execute("PRAGMA foreign_keys = ON").await?;
                        conn.execute("PRAGMA busy_timeout = 10000").await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await?;
        let mut store = Store { pool, backend, checks: record::CheckCache::default(), bucket_key: Default::default() };
        store.migrate().await?;
        store.bucket_key = std::sync::Arc::new(store.bucket_secret().await?);
        Ok(store)
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    async fn migrate(&self) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        if self.backend == Backend::Postgres {
            tx.execute("SELECT pg_advisory_xact_lock(7236193)").await?;
        }
        tx.execute(
            "CREATE TABLE IF NOT EXISTS hiwar_migrations (version BIGINT PRIMARY KEY, applied_at TEXT NOT NULL)",
        )
        .await?;
        let applied: Vec<i64> = sqlx::query("SELECT version FROM hiwar_migrations")
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|r| r.get::<i64, _>(0))
            .collect();
        for (version, sql) in MIGRATIONS {
            if applied.contains(version) {
                continue;
            }
            for statement in sql.split(';').map(str::trim).filter(|s| !s.is_empty()) {
                tx.execute(statement).await?;
            }
            sqlx::query("INSERT INTO hiwar_migrations (version, applied_at) VALUES ($1, $2)")
                .bind(*version)
                .bind(now())
                .execute(&mut *tx)
                .await?;
            tracing::info!(version, "applied schema migration");
        }
        tx.commit().await?;
        Ok(())
    }

    /// Checks the database answers.
    pub async fn health(&self) -> Result<()> {
        sqlx::query("SELECT 1").fetch_one(&self.pool).await?;
        Ok(())
    }

    async fn dialogue_exists(&self, dialogue: &str) -> Result<()> {
        sqlx::query("SELECT 1 FROM dialogues WHERE id = $1")
            .bind(dialogue)
            .fetch_optional(&self.pool)
            .await?
            .map(|_| ())
            .ok_or(StoreError::NotFound("dialogue"))
    }

    // ----- accounts, credentials and sessions -----

    /// Creates a convener account that logs in with `access`.
    pub async fn create_convener(&self, access: &HashedCode) -> Result<String> {
        let account = random_id("a-", 16);
        let mut tx = self.pool.begin().await?;
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
        let mut tx = self.pool.begin().await?;
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

    pub async fn delete_session(&self, token_hash: &str) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1 OR expires_at < $2")
            .bind(token_hash)
            .bind(time::OffsetDateTime::now_utc().unix_timestamp())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    // ----- dialogues -----

    /// Creates a dialogue with a fresh signing key; its creator joins as convener.
    pub async fn create_dialogue(&self, new: &NewDialogue, creator: &str, pseudonym: &str) -> Result<String> {
        let id = random_id("", 12);
        let key = SigningKey::generate(&mut rand::rngs::OsRng);
        let secret_hex = Zeroizing::new(hex::encode(key.to_bytes()));
        let public_hex = hex::encode(key.verifying_key().to_bytes());
        let created = now();
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO dialogues (id, title_ar, title_en, description_ar, description_en, listed, signing_key, \
             public_key, current_phase, record_len, record_head, record_time, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL, 0, $9, $10, $10)",
        )
        .bind(&id)
        .bind(&new.title.ar)
        .bind(&new.title.en)
        .bind(&new.description.ar)
        .bind(&new.description.en)
        .bind(new.listed as i64)
        .bind(secret_hex.as_str())
        .bind(&public_hex)
        .bind(hiwar_record::GENESIS_PREV)
        .bind(&created)
        .execute(&mut *tx)
        .await?;
        let created_body = body::dialogue_created(&new.title.record(), &new.description.record(), &public_hex);
        self.append(&mut tx, &id, "dialogue.created", created_body).await?;
        let member = insert_member(self, &mut tx, &id, creator, pseudonym, "convener", None).await?;
        sqlx::query("UPDATE dialogues SET creator_member = $2 WHERE id = $1")
            .bind(&id)
            .bind(&member)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(id)
    }

    pub async fn list_dialogues(&self) -> Result<Vec<DialogueSummary>> {
        let rows = sqlx::query(
            "SELECT id, title_ar, title_en, created_at FROM dialogues WHERE listed = 1 ORDER BY created_at DESC, id",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(|r| DialogueSummary {
                id: r.get(0),
                title: Text::new(r.get::<String, _>(1), r.get::<String, _>(2)),
                created_at: r.get(3),
            })
            .collect())
    }

    pub async fn dialogue(&self, id: &str) -> Result<Dialogue> {
        let r = sqlx::query(
            "SELECT id, title_ar, title_en, description_ar, description_en, listed, public_key, current_phase, \
             record_len, record_head, created_at, (SELECT COUNT(*) FROM members m WHERE m.dialogue_id = d.id) \
             FROM dialogues d WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound("dialogue"))?;
        let phases =
            sqlx::query("SELECT kind, name_ar, name_en, starts, ends FROM phases WHERE dialogue_id = $1 ORDER BY idx")
                .bind(id)
                .fetch_all(&self.pool)
                .await?
                .iter()
                .map(|p| Phase {
                    kind: p.get(0),
                    name: Text::new(p.get::<String, _>(1), p.get::<String, _>(2)),
                    starts: p.get(3),
                    ends: p.get(4),
                })
                .collect();
        Ok(Dialogue {
            id: r.get(0),
            title: Text::new(r.get::<String, _>(1), r.get::<String, _>(2)),
            description: Text::new(r.get::<String, _>(3), r.get::<String, _>(4)),
            listed: r.get::<i64, _>(5) == 1,
            public_key: r.get(6),
            current_phase: r.get::<Option<i64>, _>(7).map(|p| p as usize),
            record_len: r.get::<i64, _>(8) as u64,
            record_head: r.get(9),
            created_at: r.get(10),
            members: r.get::<i64, _>(11) as u64,
            phases,
        })
    }

    /// Adds a phase at the end of the dialogue's schedule.
    pub async fn add_phase(&self, dialogue: &str, phase: &Phase) -> Result<usize> {
        let mut tx = self.pool.begin().await?;
        // Lock the dialogue row first (see `append`) so the index is computed under the lock.
        Self::lock_dialogue(&mut tx, dialogue).await?;
        let count: i64 = sqlx::query("SELECT COUNT(*) FROM phases WHERE dialogue_id = $1")
            .bind(dialogue)
            .fetch_one(&mut *tx)
            .await?
            .get(0);
        sqlx::query(
            "INSERT INTO phases (dialogue_id, idx, kind, name_ar, name_en, starts, ends) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(dialogue)
        .bind(count)
        .bind(&phase.kind)
        .bind(&phase.name.ar)
        .bind(&phase.name.en)
        .bind(&phase.starts)
        .bind(&phase.ends)
        .execute(&mut *tx)
        .await?;
        let b = body::phase_added(count as u64, &phase.kind, &phase.name.record(), &phase.starts, &phase.ends);
        self.append(&mut tx, dialogue, "phase.added", b).await?;
        tx.commit().await?;
        Ok(count as usize)
    }

    /// Moves the dialogue to phase `index` (or to none).
    pub async fn set_current_phase(&self, dialogue: &str, index: Option<usize>) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        Self::lock_dialogue(&mut tx, dialogue).await?;
        if let Some(index) = index {
            let exists = sqlx::query("SELECT 1 FROM phases WHERE dialogue_id = $1 AND idx = $2")
                .bind(dialogue)
                .bind(index as i64)
                .fetch_optional(&mut *tx)
                .await?;
            if exists.is_none() {
                return Err(StoreError::NotFound("phase"));
            }
        }
        sqlx::query("UPDATE dialogues SET current_phase = $2 WHERE id = $1")
            .bind(dialogue)
            .bind(index.map(|i| i as i64))
            .execute(&mut *tx)
            .await?;
        self.append(&mut tx, dialogue, "phase.changed", body::phase_changed(index.map(|i| i as u64))).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Takes the dialogue's write lock for the rest of the transaction.
    async fn lock_dialogue(tx: &mut Transaction<'_, Any>, dialogue: &str) -> Result<()> {
        let done = sqlx::query("UPDATE dialogues SET record_len = record_len WHERE id = $1")
            .bind(dialogue)
            .execute(&mut **tx)
            .await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::NotFound("dialogue"));
        }
        Ok(())
    }

    // ----- members and roles -----

    /// The member that `account` is in `dialogue`, if any.
    pub async fn membership(&self, dialogue: &str, account: &str) -> Result<Option<Member>> {
        let row = sqlx::query("SELECT id FROM members WHERE dialogue_id = $1 AND account_id = $2")
            .bind(dialogue)
            .bind(account)
            .fetch_optional(&self.pool)
            .await?;
        match row {
            Some(r) => Ok(self.members_where(dialogue, Some(r.get::<&str, _>(0))).await?.pop()),
            None => Ok(None),
        }
    }

    pub async fn members(&self, dialogue: &str) -> Result<Vec<Member>> {
        self.dialogue_exists(dialogue).await?;
        self.members_where(dialogue, None).await
    }

    async fn members_where(&self, dialogue: &str, member: Option<&str>) -> Result<Vec<Member>> {
        let rows: Vec<AnyRow> = sqlx::query(
            "SELECT m.id, m.pseudonym, m.joined_at, r.role FROM members m \
             LEFT JOIN member_roles r ON r.member_id = m.id \
             WHERE m.dialogue_id = $1 AND ($2 = '' OR m.id = $2) ORDER BY m.joined_at, m.id, r.role",
        )
        .bind(dialogue)
        .bind(member.unwrap_or(""))
        .fetch_all(&self.pool)
        .await?;
        let mut out: Vec<Member> = Vec::new();
        for r in rows {
            let id: String = r.get(0);
            if out.last().map(|m| &m.id) != Some(&id) {
                out.push(Member { id, pseudonym: r.get(1), joined_at: r.get(2), roles: Vec::new() });
            }
            if let Some(role) = r.get::<Option<String>, _>(3) {
                out.last_mut().expect("pushed above").roles.push(role);
            }
        }
        Ok(out)
    }

    /// Grants (`grant = true`) or revokes a role; `by` is the acting convener's member id.
    pub async fn change_role(&self, dialogue: &str, member: &str, role: &str, grant: bool, by: &str) -> Result<()> {
        if !ROLES.contains(&role) {
            return Err(StoreError::Conflict(format!("unknown role {role:?}")));
        }
        let mut tx = self.pool.begin().await?;
        Self::lock_dialogue(&mut tx, dialogue).await?;
        let exists = sqlx::query("SELECT 1 FROM members WHERE id = $1 AND dialogue_id = $2")
            .bind(member)
            .bind(dialogue)
            .fetch_optional(&mut *tx)
            .await?;
        if exists.is_none() {
            return Err(StoreError::NotFound("member"));
        }
        let sql = if grant {
            match self.backend {
                Backend::Sqlite => "INSERT OR IGNORE INTO member_roles (member_id, role) VALUES ($1, $2)",
                Backend::Postgres => {
                    "INSERT INTO member_roles (member_id, role) VALUES ($1, $2) ON CONFLICT DO NOTHING"
                }
            }
        } else {
            "DELETE FROM member_roles WHERE member_id = $1 AND role = $2"
        };
        let changed = sqlx::query(sql).bind(member).bind(role).execute(&mut *tx).await?;
        if changed.rows_affected() == 0 {
            return Err(StoreError::Conflict(format!(
                "the member {} the role {role}",
                if grant { "already has" } else { "does not have" }
            )));
        }
        if !grant && role == "convener" {
            let creator: Option<String> = sqlx::query("SELECT creator_member FROM dialogues WHERE id = $1")
                .bind(dialogue)
                .fetch_one(&mut *tx)
                .await?
                .get(0);
            if creator.as_deref() == Some(member) && by != member {
                return Err(StoreError::Conflict(
                    "only the convener who created the dialogue can give up that role".into(),
                ));
            }
            let left: i64 = sqlx::query(
                "SELECT COUNT(*) FROM member_roles r JOIN members m ON m.id = r.member_id \
                 WHERE m.dialogue_id = $1 AND r.role = 'convener'",
            )
            .bind(dialogue)
            .fetch_one(&mut *tx)
            .await?
            .get(0);
            if left == 0 {
                return Err(StoreError::Conflict("a dialogue keeps at least one convener".into()));
            }
        }
        let kind = if grant { "role.granted" } else { "role.revoked" };
        self.append(&mut tx, dialogue, kind, body::role_changed(member, role, by)).await?;
        tx.commit().await?;
        Ok(())
    }

    // ----- invitation codes -----

    /// Stores a batch of invitation codes (hashed by the caller) and records its size.
    pub async fn issue_codes(&self, dialogue: &str, role: &str, codes: &[HashedCode]) -> Result<String> {
        if !ROLES.contains(&role) {
            return Err(StoreError::Conflict(format!("unknown role {role:?}")));
        }
        let mut tx = self.pool.begin().await?;
        Self::lock_dialogue(&mut tx, dialogue).await?;
        let batch = self.insert_batch(&mut tx, dialogue, role, codes).await?;
        tx.commit().await?;
        Ok(batch)
    }

    /// Inserts a batch and its codes and records it, inside the caller's transaction.
    async fn insert_batch(
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
        let mut tx = self.pool.begin().await?;
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

fn signing_key_from_hex(hex_key: &str) -> Result<SigningKey> {
    let bytes =
        Zeroizing::new(hex::decode(hex_key).map_err(|_| StoreError::Record("stored signing key is not hex".into()))?);
    let array: &[u8; 32] =
        bytes.as_slice().try_into().map_err(|_| StoreError::Record("stored signing key is not 32 bytes".into()))?;
    Ok(SigningKey::from_bytes(array))
}

fn unique_as_conflict(message: &'static str) -> impl Fn(sqlx::Error) -> StoreError {
    move |e| match e.as_database_error() {
        Some(db) if db.is_unique_violation() => StoreError::Conflict(message.into()),
        _ => StoreError::Database(e),
    }
}

async fn insert_access(tx: &mut Transaction<'_, Any>, account: &str, access: &HashedCode) -> Result<()> {
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

async fn insert_member(
    store: &Store,
    tx: &mut Transaction<'_, Any>,
    dialogue: &str,
    account: &str,
    pseudonym: &str,
    role: &str,
    batch: Option<&str>,
) -> Result<String> {
    let member = random_id("m-", 10);
    let pseudonym = pseudonym.trim();
    sqlx::query(
        "INSERT INTO members (id, dialogue_id, account_id, pseudonym, pseudonym_key, joined_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&member)
    .bind(dialogue)
    .bind(account)
    .bind(pseudonym)
    .bind(pseudonym_key(pseudonym))
    .bind(now())
    .execute(&mut **tx)
    .await
    .map_err(unique_as_conflict("this pseudonym is already taken in this dialogue"))?;
    sqlx::query("INSERT INTO member_roles (member_id, role) VALUES ($1, $2)")
        .bind(&member)
        .bind(role)
        .execute(&mut **tx)
        .await?;
    store.append(tx, dialogue, "member.joined", body::member_joined(&member, pseudonym, role, batch)).await?;
    Ok(member)
}

/// Helpers for test suites that need a real PostgreSQL server.
pub mod testing {
    use sqlx::{Connection, Executor};

    /// The server tests use: `HIWAR_TEST_POSTGRES`, or the local one CI starts.
    pub fn postgres_server() -> String {
        std::env::var("HIWAR_TEST_POSTGRES").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into())
    }

    /// Creates an empty database on the test server and returns its URL. Panics with
    /// instructions when the server is unreachable: these tests never skip silently.
    pub async fn fresh_postgres_database() -> String {
        sqlx::any::install_default_drivers();
        let server = postgres_server();
        let mut conn = sqlx::AnyConnection::connect(&format!("{server}/postgres")).await.unwrap_or_else(|e| {
            panic!(
                "PostgreSQL is needed at {server} ({e}); start it with \
                     `pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start` \
                     or set HIWAR_TEST_POSTGRES"
            )
        });
        let name = super::random_id("hiwar_test_", 12);
        conn.execute(format!("CREATE DATABASE {name}").as_str()).await.expect("create test database");
        format!("{server}/{name}")
    }
}
