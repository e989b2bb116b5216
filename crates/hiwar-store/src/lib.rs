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

/// The kind of dialogue `d`'s current phase (NULL when none is current), as one SQL
/// expression over a `dialogues d` in the query: every question of whether a phase is
/// open asks it the same way.
macro_rules! current_phase_kind {
    () => {
        "(SELECT p.kind FROM phases p WHERE p.dialogue_id = d.id AND p.idx = d.current_phase)"
    };
}
pub(crate) use current_phase_kind;

mod accounts;
mod attempts;
mod backup;
mod codes;
mod declarations;
mod deliberation;
mod dialogues;
mod elections;
mod record;
mod schema;
mod selections;
mod vote_writer;
mod witnesses;

use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use ed25519_dalek::SigningKey;
use hiwar_record::events;
use rand::Rng;
use serde::Serialize;
use serde_json::Value;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions, AnyRow};
use sqlx::{Any, AnyPool, Connection, Executor, Transaction};
use zeroize::Zeroizing;

pub use backup::{BackupSummary, BACKUP_FORMAT};
pub use declarations::DeclareView;
pub use deliberation::{statement_key, Statement, StatementText, VoteRow};
pub use elections::{BoardEntry, Election, SIGNED_KINDS};
pub use schema::MIGRATIONS;
pub use selections::{NewSelection, Selection, SelectionStatus};
pub use vote_writer::NOT_DELIBERATING;
pub use witnesses::{Cosigned, WitnessRow};

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
    /// The database could not take the change (unreachable, restarting, out of space):
    /// nothing was stored, and trying again later may succeed.
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
}

impl StoreError {
    /// Whether the failure is the database's availability (connection lost or refused,
    /// the server shutting down or out of resources, the disk full or failing, a lock
    /// not granted in time) rather than anything about the request.
    pub fn is_unavailable(&self) -> bool {
        match self {
            StoreError::Unavailable(_) => true,
            StoreError::Database(e) => sqlx_unavailable(e),
            _ => false,
        }
    }
}

fn sqlx_unavailable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => {
            let code = db.code().unwrap_or_default();
            if code.len() == 5 {
                // PostgreSQL's SQLSTATE classes: connection exception, insufficient
                // resources (disk full, out of memory), operator intervention (shutdown),
                // system error (I/O); and a deadlock, a serialisation failure or a lock
                // not granted, which another try may not meet.
                ["08", "53", "57", "58"].iter().any(|class| code.starts_with(class))
                    || ["40P01", "40001", "55P03"].contains(&code.as_ref())
            } else {
                // SQLite's (extended) result code, whose low byte is the primary one:
                // BUSY, READONLY, IOERR, FULL, CANTOPEN.
                code.parse::<i64>().is_ok_and(|n| matches!(n & 0xff, 5 | 8 | 10 | 13 | 14))
            }
        }
        _ => false,
    }
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

/// Where an account stands in one dialogue ([`Store::standing`]): what every access
/// check and the deliberation's voters ask, read in one query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Standing {
    pub dialogue: String,
    /// The account's member id here (`None`: not a member).
    pub member: Option<String>,
    /// The member's roles (none for a member whose roles were all taken away).
    pub roles: Vec<String>,
    /// The kind of the dialogue's current phase, if one is current.
    pub phase: Option<String>,
}

/// The columns a standing is read from, over `dialogues d`, `members m` and
/// `member_roles r` joined as the query needs: one row per role (or one with no role).
pub(crate) const STANDING_COLUMNS: &str = concat!("d.id, m.id, r.role, ", current_phase_kind!());

impl Standing {
    /// The standing in `rows` selected with [`STANDING_COLUMNS`] from column `at` on;
    /// `None` when there is no dialogue.
    pub(crate) fn from_rows(rows: &[AnyRow], at: usize) -> Option<Standing> {
        use sqlx::Row;
        let first = rows.first()?;
        Some(Standing {
            dialogue: first.get::<Option<String>, _>(at)?,
            member: first.get(at + 1),
            roles: rows.iter().filter_map(|r| r.get::<Option<String>, _>(at + 2)).collect(),
            phase: first.get(at + 3),
        })
    }

    pub fn has(&self, role: &str) -> bool {
        self.roles.iter().any(|r| r == role)
    }

    /// Holds a role other than observer: observers watch, they do not take part.
    pub fn takes_part(&self) -> bool {
        self.roles.iter().any(|r| r != "observer")
    }

    /// The member id of one who takes part.
    pub fn participant(&self) -> Option<&str> {
        self.member.as_deref().filter(|_| self.takes_part())
    }

    pub fn in_phase(&self, kind: &str) -> bool {
        self.phase.as_deref() == Some(kind)
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
    votes: vote_writer::VoteWriter,
}

fn now() -> String {
    hiwar_record::now_rfc3339()
}

/// Begins a transaction that will write. On SQLite it takes the write lock at once
/// (`BEGIN IMMEDIATE`, waiting up to the busy timeout for it): a transaction that read
/// first and wrote later would find another connection's commit in between and fail at
/// once with `SQLITE_BUSY_SNAPSHOT`, which no busy timeout waits out.
pub(crate) async fn begin_write(pool: &AnyPool, backend: Backend) -> Result<Transaction<'static, Any>> {
    Ok(match backend {
        Backend::Sqlite => pool.begin_with("BEGIN IMMEDIATE").await?,
        Backend::Postgres => pool.begin().await?,
    })
}

impl Store {
    /// [`begin_write`] on this store.
    pub(crate) async fn begin_write(&self) -> Result<Transaction<'static, Any>> {
        begin_write(&self.pool, self.backend).await
    }
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
            .after_release(move |conn, _| {
                Box::pin(async move {
                    if backend != Backend::Sqlite {
                        return Ok(true);
                    }
                    // After a full disk or an I/O error SQLite may end a transaction by
                    // itself, or keep it open, and the driver's count of open
                    // transactions can go wrong: a connection left inside a transaction
                    // would hold the write lock for good. `BEGIN` fails inside one, so
                    // such a connection is closed here rather than reused; so is one
                    // whose driver still counts a transaction SQLite has ended (its next
                    // `BEGIN IMMEDIATE` would be refused).
                    match conn.execute("BEGIN").await {
                        Ok(_) => conn.execute("ROLLBACK").await.map(|_| !conn.is_in_transaction()),
                        Err(_) => Ok(false),
                    }
                })
            })
            .connect_with(options)
            .await?;
        let mut store = Store {
            pool,
            backend,
            checks: record::CheckCache::default(),
            bucket_key: Default::default(),
            votes: Default::default(),
        };
        store.migrate().await?;
        store.bucket_key = std::sync::Arc::new(store.bucket_secret().await?);
        Ok(store)
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Checks the database answers.
    pub async fn health(&self) -> Result<()> {
        sqlx::query("SELECT 1").fetch_one(&self.pool).await?;
        Ok(())
    }

    pub async fn dialogue_exists(&self, dialogue: &str) -> Result<()> {
        sqlx::query("SELECT 1 FROM dialogues WHERE id = $1")
            .bind(dialogue)
            .fetch_optional(&self.pool)
            .await?
            .map(|_| ())
            .ok_or(StoreError::NotFound("dialogue"))
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

    /// A value for [`bulk_insert`].
    enum Cell {
        Text(String),
        Int(i64),
    }

    /// Inserts `rows` into `table`'s `columns`, many rows per statement and many
    /// statements per transaction: for benchmarks that fill a database.
    async fn bulk_insert(store: &super::Store, table: &str, columns: &[&str], rows: Vec<Vec<Cell>>) {
        const ROWS: usize = 1_000;
        let width = columns.len();
        for batch in rows.chunks(50 * ROWS) {
            let mut tx = store.pool.begin().await.unwrap();
            for chunk in batch.chunks(ROWS) {
                let values: Vec<String> = (0..chunk.len())
                    .map(|r| {
                        let params: Vec<String> = (0..width).map(|c| format!("${}", 1 + r * width + c)).collect();
                        format!("({})", params.join(", "))
                    })
                    .collect();
                let sql = format!("INSERT INTO {table} ({}) VALUES {}", columns.join(", "), values.join(", "));
                let mut query = sqlx::query(&sql);
                for cell in chunk.iter().flatten() {
                    query = match cell {
                        Cell::Text(t) => query.bind(t.clone()),
                        Cell::Int(n) => query.bind(*n),
                    };
                }
                query.execute(&mut *tx).await.unwrap();
            }
            tx.commit().await.unwrap();
        }
    }

    /// For benchmarks at national scale: `n` participants of `dialogue`, written
    /// straight to the tables (accounts, members, roles) rather than through
    /// invitations, so the record does not list them — nothing in it refers to them
    /// either, and it still verifies. Returns `(account, member)` ids.
    pub async fn bulk_members(store: &super::Store, dialogue: &str, n: usize) -> Vec<(String, String)> {
        use Cell::{Int, Text};
        let at = super::now();
        let ids: Vec<(String, String)> =
            (0..n).map(|_| (super::random_id("a-", 12), super::random_id("m-", 12))).collect();
        let accounts = ids.iter().map(|(a, _)| vec![Text(a.clone()), Int(0), Text(at.clone())]).collect();
        bulk_insert(store, "accounts", &["id", "is_convener", "created_at"], accounts).await;
        let members = ids
            .iter()
            .enumerate()
            .map(|(i, (a, m))| {
                let pseudonym = format!("Participant {i}");
                vec![
                    Text(m.clone()),
                    Text(dialogue.into()),
                    Text(a.clone()),
                    Text(super::pseudonym_key(&pseudonym)),
                    Text(pseudonym),
                    Text(at.clone()),
                ]
            })
            .collect();
        let columns = ["id", "dialogue_id", "account_id", "pseudonym_key", "pseudonym", "joined_at"];
        bulk_insert(store, "members", &columns, members).await;
        let roles = ids.iter().map(|(_, m)| vec![Text(m.clone()), Text("participant".into())]).collect();
        bulk_insert(store, "member_roles", &["member_id", "role"], roles).await;
        ids
    }

    /// SQLite's own check of the database file (`"ok"` when sound); PostgreSQL checks
    /// its pages itself, so there it is always `"ok"`.
    pub async fn integrity_check(store: &super::Store) -> String {
        match store.backend {
            super::Backend::Sqlite => sqlx::Row::try_get::<String, _>(
                &sqlx::query("PRAGMA integrity_check").fetch_one(&store.pool).await.unwrap(),
                0,
            )
            .unwrap(),
            super::Backend::Postgres => "ok".into(),
        }
    }

    /// Records a schema version from the future, as a newer hiwar would have left it.
    pub async fn pretend_newer_schema(store: &super::Store) {
        sqlx::query("INSERT INTO hiwar_migrations (version, applied_at) VALUES (9999, 'later')")
            .execute(&store.pool)
            .await
            .unwrap();
    }

    /// Refreshes the planner's statistics after a bulk fill (as a restore would; the
    /// autovacuum daemon would do it too, later).
    pub async fn analyze(store: &super::Store) {
        sqlx::query("ANALYZE").execute(&store.pool).await.unwrap();
    }

    /// For benchmarks: stores `votes` `(member, statement, vote)` (indices into
    /// `members` and `statements`) of `dialogue` in bulk, as one deliberation version.
    pub async fn bulk_votes(
        store: &super::Store,
        dialogue: &str,
        members: &[String],
        statements: &[String],
        votes: &[(u32, u32, i8)],
    ) {
        use Cell::{Int, Text};
        // Stamped with the next version, which is raised only once they are all in (a
        // reader of that version must find every one of them).
        let version = store.deliberation_version(dialogue).await.unwrap() + 1;
        let at = super::now();
        let columns = ["statement_id", "member_id", "vote", "voted_at", "dialogue_id", "changed_in"];
        for part in votes.chunks(50_000) {
            let rows = part
                .iter()
                .map(|&(m, s, v)| {
                    vec![
                        Text(statements[s as usize].clone()),
                        Text(members[m as usize].clone()),
                        Int(v as i64),
                        Text(at.clone()),
                        Text(dialogue.into()),
                        Int(version),
                    ]
                })
                .collect();
            bulk_insert(store, "statement_votes", &columns, rows).await;
        }
        let mut tx = store.pool.begin().await.unwrap();
        assert_eq!(crate::vote_writer::raise_version(&mut tx, dialogue).await.unwrap(), version);
        tx.commit().await.unwrap();
    }

    /// What an operator holding the database and the dialogue key can do: replace a
    /// dialogue's record by `edit` of its events `(kind, body)`, re-signed from end to
    /// end with the dialogue's own key (line `i` keeps the time of the old line `i`, so a
    /// record only cut short keeps its bytes). For tests of
    /// what witnesses and verifiers catch.
    pub async fn rewrite_record(
        store: &super::Store,
        dialogue: &str,
        edit: impl FnOnce(Vec<(String, serde_json::Value)>) -> Vec<(String, serde_json::Value)>,
    ) {
        use sqlx::Row;
        let row = sqlx::query("SELECT signing_key, record_time FROM dialogues WHERE id = $1")
            .bind(dialogue)
            .fetch_one(&store.pool)
            .await
            .unwrap();
        let key = super::signing_key_from_hex(&row.get::<String, _>(0)).unwrap();
        let last_time: String = row.get(1);
        let lines = store.record(dialogue).await.unwrap();
        let times: Vec<String> = lines
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["time"].as_str().unwrap().to_string())
            .collect();
        let events: Vec<(String, serde_json::Value)> = lines
            .lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                (v["kind"].as_str().unwrap().to_string(), v["body"].clone())
            })
            .collect();
        let events = edit(events);
        let mut tx = store.pool.begin().await.unwrap();
        sqlx::query("DELETE FROM record_lines WHERE dialogue_id = $1").bind(dialogue).execute(&mut *tx).await.unwrap();
        let mut prev = hiwar_record::GENESIS_PREV.to_string();
        for (seq, (kind, body)) in events.iter().enumerate() {
            let event = hiwar_record::Event {
                dialogue: dialogue.to_string(),
                seq: seq as u64,
                prev: prev.clone(),
                time: times.get(seq).unwrap_or(&last_time).clone(),
                kind: kind.clone(),
                body: body.clone(),
            };
            let sealed = event.seal(&key).unwrap();
            prev = hex::encode(sealed.hash);
            sqlx::query("INSERT INTO record_lines (dialogue_id, seq, line) VALUES ($1, $2, $3)")
                .bind(dialogue)
                .bind(seq as i64)
                .bind(sealed.text)
                .execute(&mut *tx)
                .await
                .unwrap();
        }
        sqlx::query("UPDATE dialogues SET record_len = $2, record_head = $3 WHERE id = $1")
            .bind(dialogue)
            .bind(events.len() as i64)
            .bind(prev)
            .execute(&mut *tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }
}
