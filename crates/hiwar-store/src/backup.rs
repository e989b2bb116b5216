//! Consistent online backups, and restoring them on either backend.
//!
//! [`Store::backup`] reads every table inside **one read transaction** — REPEATABLE
//! READ on PostgreSQL, a WAL read transaction on SQLite — so the copy is the database
//! as of one instant even while servers keep writing: a record and the state it
//! describes, a vote and its deliberation version, always agree in it.
//!
//! The file is JSON lines: a header (`{"hiwar_backup": 1, "schema": N, …}`), then for
//! each table a line naming it and its columns followed by one array per row, and a
//! trailer with the counts and the SHA-256 of every byte before it. It holds what the
//! database holds — the dialogues' signing keys included — so it is written readable
//! by its owner only.
//!
//! [`Store::restore`] checks the whole file against its trailer before writing
//! anything, then fills an empty database in one transaction, table by table in the
//! order the migrations created them (so every foreign key finds its row). A backup
//! taken on SQLite restores on PostgreSQL and the other way round.

use std::collections::HashMap;
use std::io::{BufRead, Write};

use futures_util::TryStreamExt;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use sqlx::{Executor, Row};

use crate::schema::MIGRATIONS;
use crate::{Backend, Result, Store, StoreError};

/// The format's version, in every header.
pub const BACKUP_FORMAT: u64 = 1;

/// Rows per INSERT when restoring.
const RESTORE_ROWS: usize = 200;

/// What a backup held, or a restore wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BackupSummary {
    pub tables: u64,
    pub rows: u64,
    /// Rows per table, in the order written.
    pub per_table: Vec<(String, u64)>,
}

/// The application's tables in the order the migrations create them.
fn tables() -> Vec<String> {
    let mut names = Vec::new();
    for (_, sql) in MIGRATIONS {
        for statement in sql.split(';') {
            let words: Vec<&str> = statement.split_whitespace().collect();
            if let ["CREATE", "TABLE", name, ..] = words[..] {
                names.push(name.trim_end_matches('(').to_string());
            }
        }
    }
    names
}

fn bad(detail: impl Into<String>) -> StoreError {
    StoreError::Record(format!("backup file: {}", detail.into()))
}

/// The longest line a backup may hold: far above any row hiwar writes (a record line
/// carries at most an upload's 8 MiB, escaped), so that a damaged or hostile file is
/// refused instead of filling memory.
pub const MAX_BACKUP_LINE: u64 = 64 << 20;

/// The lines of a backup, each at most [`MAX_BACKUP_LINE`] bytes of UTF-8, without
/// their line feeds; an error names the line that is not.
fn bounded_lines<R: BufRead>(mut input: R) -> impl Iterator<Item = Result<String>> {
    let mut number = 0u64;
    std::iter::from_fn(move || {
        number += 1;
        let mut bytes = Vec::new();
        match <&mut R as std::io::Read>::take(&mut input, MAX_BACKUP_LINE + 1).read_until(b'\n', &mut bytes) {
            Ok(0) => None,
            Ok(_) => {
                if bytes.last() == Some(&b'\n') {
                    bytes.pop();
                } else if bytes.len() as u64 > MAX_BACKUP_LINE {
                    return Some(Err(bad(format!("line {number} is longer than {MAX_BACKUP_LINE} bytes"))));
                }
                Some(String::from_utf8(bytes).map_err(|_| bad(format!("line {number} is not UTF-8"))))
            }
            Err(e) => Some(Err(bad(format!("line {number}: {e}")))),
        }
    })
}

/// Hashes every line written through it.
struct Hashed<W: Write> {
    out: W,
    hash: Sha256,
}

impl<W: Write> Hashed<W> {
    fn line(&mut self, value: &Value) -> std::io::Result<()> {
        let mut text = serde_json::to_vec(value).expect("JSON values serialise");
        text.push(b'\n');
        self.hash.update(&text);
        self.out.write_all(&text)
    }
}

impl Store {
    /// The latest schema version, which backups record and restores require.
    pub fn schema_version() -> i64 {
        MIGRATIONS.last().map_or(0, |(v, _)| *v)
    }

    /// Each column of `table` and whether it holds integers (else text).
    async fn columns(&self, tx: &mut sqlx::Transaction<'_, sqlx::Any>, table: &str) -> Result<Vec<(String, bool)>> {
        let sql = match self.backend {
            Backend::Sqlite => "SELECT name, type FROM pragma_table_info($1) ORDER BY cid",
            Backend::Postgres => {
                "SELECT column_name::text, data_type::text FROM information_schema.columns \
                 WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position"
            }
        };
        let rows = sqlx::query(sql).bind(table).fetch_all(&mut **tx).await?;
        Ok(rows
            .iter()
            .map(|r| {
                let kind: String = r.get(1);
                (r.get::<String, _>(0), kind.to_ascii_uppercase().contains("INT"))
            })
            .collect())
    }

    /// Writes a consistent copy of the whole database to `out`; `progress` is told the
    /// rows written so far, every 10,000.
    pub async fn backup(&self, out: impl Write, mut progress: impl FnMut(u64)) -> Result<BackupSummary> {
        let io = |e: std::io::Error| StoreError::Database(sqlx::Error::Io(e));
        let mut tx = self.pool.begin().await?;
        if self.backend == Backend::Postgres {
            tx.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY").await?;
        }
        let mut out = Hashed { out, hash: Sha256::new() };
        let backend = match self.backend {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        };
        out.line(&json!({
            "hiwar_backup": BACKUP_FORMAT,
            "schema": Self::schema_version(),
            "backend": backend,
            "taken_at": crate::now(),
        }))
        .map_err(io)?;
        let mut summary = BackupSummary::default();
        for table in tables() {
            let columns = self.columns(&mut tx, &table).await?;
            let names: Vec<&str> = columns.iter().map(|(n, _)| n.as_str()).collect();
            out.line(&json!({ "table": table, "columns": names })).map_err(io)?;
            let sql = format!("SELECT {} FROM {table}", names.join(", "));
            let mut rows = sqlx::query(&sql).fetch(&mut *tx);
            let mut count = 0u64;
            while let Some(row) = rows.try_next().await? {
                let values: Vec<Value> = columns
                    .iter()
                    .enumerate()
                    .map(|(i, (_, int))| {
                        Ok(if *int {
                            row.try_get::<Option<i64>, _>(i)?.map_or(Value::Null, Value::from)
                        } else {
                            row.try_get::<Option<String>, _>(i)?.map_or(Value::Null, Value::from)
                        })
                    })
                    .collect::<std::result::Result<_, sqlx::Error>>()?;
                out.line(&Value::Array(values)).map_err(io)?;
                count += 1;
                summary.rows += 1;
                if summary.rows % 10_000 == 0 {
                    progress(summary.rows);
                }
            }
            drop(rows);
            summary.tables += 1;
            summary.per_table.push((table, count));
        }
        tx.commit().await?;
        let hash = hex::encode(out.hash.clone().finalize());
        let counts: HashMap<&str, u64> = summary.per_table.iter().map(|(t, n)| (t.as_str(), *n)).collect();
        out.line(
            &json!({ "end": { "tables": summary.tables, "rows": summary.rows, "per_table": counts, "sha256": hash } }),
        )
        .map_err(io)?;
        out.out.flush().map_err(io)?;
        progress(summary.rows);
        Ok(summary)
    }

    /// Checks a backup read from `input` against its trailer, without writing anything:
    /// the format, the schema version and the SHA-256 of every line.
    pub fn check_backup(input: impl BufRead) -> Result<BackupSummary> {
        let mut hash = Sha256::new();
        let mut summary = BackupSummary::default();
        let mut lines = bounded_lines(input);
        let header = lines.next().ok_or_else(|| bad("empty"))??;
        let parsed: Value = serde_json::from_str(&header).map_err(|e| bad(format!("header: {e}")))?;
        if parsed["hiwar_backup"] != BACKUP_FORMAT {
            return Err(bad("not a hiwar backup (or a newer format)"));
        }
        if parsed["schema"] != Self::schema_version() {
            return Err(bad(format!(
                "taken at schema version {}, this hiwar has {}: restore it with the same hiwar version",
                parsed["schema"],
                Self::schema_version()
            )));
        }
        hash.update(header.as_bytes());
        hash.update(b"\n");
        for line in lines {
            let line = line?;
            if line.starts_with("{\"end\":") {
                let end: Value = serde_json::from_str(&line).map_err(|e| bad(format!("trailer: {e}")))?;
                let expected = end["end"]["sha256"].as_str().unwrap_or_default();
                if hex::encode(hash.finalize()) != expected {
                    return Err(bad("its SHA-256 does not match its trailer: the file is damaged or was changed"));
                }
                if end["end"]["rows"] != summary.rows {
                    return Err(bad("its row count does not match its trailer"));
                }
                return Ok(summary);
            }
            hash.update(line.as_bytes());
            hash.update(b"\n");
            if line.starts_with('{') {
                let table: Value = serde_json::from_str(&line).map_err(|e| bad(format!("table line: {e}")))?;
                let name = table["table"].as_str().ok_or_else(|| bad("a table line without a name"))?;
                summary.tables += 1;
                summary.per_table.push((name.to_string(), 0));
            } else {
                summary.rows += 1;
                summary.per_table.last_mut().ok_or_else(|| bad("a row before any table"))?.1 += 1;
            }
        }
        Err(bad("no trailer: the file was cut short"))
    }

    /// Restores a backup into this database, which must be empty (freshly created):
    /// the file is checked first ([`Store::check_backup`], by the caller reading it
    /// twice: `open` gives a fresh reader each time), then written in one transaction.
    pub async fn restore<R: BufRead>(
        &self,
        mut open: impl FnMut() -> std::io::Result<R>,
        mut progress: impl FnMut(u64),
    ) -> Result<BackupSummary> {
        let io = |e: std::io::Error| bad(e.to_string());
        let expected = Self::check_backup(open().map_err(io)?)?;
        let mut tx = self.begin_write().await?;
        for table in tables() {
            if table == "server_secrets" {
                continue;
            }
            let any = sqlx::query(&format!("SELECT 1 FROM {table} LIMIT 1")).fetch_optional(&mut *tx).await?;
            if any.is_some() {
                return Err(StoreError::Conflict(format!(
                    "the target database is not empty (table {table} has rows): restore into a new one"
                )));
            }
        }
        // The target made its own secrets when it was opened; the backup's replace them.
        tx.execute("DELETE FROM server_secrets").await?;
        let known: Vec<String> = tables();
        let mut summary = BackupSummary::default();
        let mut lines = bounded_lines(open().map_err(io)?).skip(1);
        let mut table: Option<(String, Vec<(String, bool)>)> = None;
        let mut pending: Vec<Vec<Value>> = Vec::new();
        loop {
            let line = lines.next().transpose()?;
            let next_table = line.as_deref().is_none_or(|l| l.starts_with('{'));
            if next_table || pending.len() == RESTORE_ROWS {
                if let Some((name, columns)) = &table {
                    self.insert_rows(&mut tx, name, columns, &pending).await?;
                    summary.rows += pending.len() as u64;
                    summary.per_table.last_mut().expect("a table is open").1 += pending.len() as u64;
                    progress(summary.rows);
                    pending.clear();
                }
            }
            let Some(line) = line else { break };
            if line.starts_with("{\"end\":") {
                break;
            }
            if line.starts_with('{') {
                let head: Value = serde_json::from_str(&line).map_err(|e| bad(e.to_string()))?;
                let name = head["table"].as_str().unwrap_or_default().to_string();
                if !known.contains(&name) {
                    return Err(bad(format!("unknown table {name}")));
                }
                let present = self.columns(&mut tx, &name).await?;
                let columns = head["columns"]
                    .as_array()
                    .ok_or_else(|| bad(format!("table {name} without columns")))?
                    .iter()
                    .map(|c| {
                        let c = c.as_str().unwrap_or_default();
                        present
                            .iter()
                            .find(|(n, _)| n == c)
                            .cloned()
                            .ok_or_else(|| bad(format!("table {name} has no column {c} here")))
                    })
                    .collect::<Result<Vec<_>>>()?;
                summary.tables += 1;
                summary.per_table.push((name.clone(), 0));
                table = Some((name, columns));
            } else {
                let row: Vec<Value> = serde_json::from_str(&line).map_err(|e| bad(e.to_string()))?;
                let width = table.as_ref().map_or(0, |(_, c)| c.len());
                if row.len() != width {
                    return Err(bad("a row with the wrong number of values"));
                }
                pending.push(row);
            }
        }
        if summary.rows != expected.rows {
            return Err(bad("fewer rows read than checked"));
        }
        tx.commit().await?;
        Ok(summary)
    }

    async fn insert_rows(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        table: &str,
        columns: &[(String, bool)],
        rows: &[Vec<Value>],
    ) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let width = columns.len();
        let values: Vec<String> = (0..rows.len())
            .map(|r| {
                format!("({})", (0..width).map(|c| format!("${}", 1 + r * width + c)).collect::<Vec<_>>().join(", "))
            })
            .collect();
        let names: Vec<&str> = columns.iter().map(|(n, _)| n.as_str()).collect();
        let sql = format!("INSERT INTO {table} ({}) VALUES {}", names.join(", "), values.join(", "));
        let mut query = sqlx::query(&sql);
        for row in rows {
            for (value, (name, int)) in row.iter().zip(columns) {
                query = match (value, int) {
                    (Value::Null, true) => query.bind(None::<i64>),
                    (Value::Null, false) => query.bind(None::<String>),
                    (Value::Number(n), true) => {
                        query.bind(n.as_i64().ok_or_else(|| bad(format!("{table}.{name}: not an integer")))?)
                    }
                    (Value::String(s), false) => query.bind(s.clone()),
                    _ => return Err(bad(format!("{table}.{name}: a value of the wrong type"))),
                };
            }
        }
        query.execute(&mut **tx).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A backup of one table with one row, its trailer computed as `Store::backup` does.
    fn small_backup(schema: i64) -> String {
        let mut out = Hashed { out: Vec::new(), hash: Sha256::new() };
        out.line(&json!({"hiwar_backup": BACKUP_FORMAT, "schema": schema, "backend": "sqlite", "taken_at": "x"}))
            .unwrap();
        out.line(&json!({"table": "accounts", "columns": ["id", "is_convener", "created_at"]})).unwrap();
        out.line(&json!(["a-1", 1, "2026-12-03T12:00:00Z"])).unwrap();
        let hash = hex::encode(out.hash.clone().finalize());
        out.line(&json!({"end": {"tables": 1, "rows": 1, "sha256": hash}})).unwrap();
        String::from_utf8(out.out).unwrap()
    }

    #[test]
    fn a_backup_is_checked_against_its_trailer() {
        let good = small_backup(Store::schema_version());
        let summary = Store::check_backup(good.as_bytes()).unwrap();
        assert_eq!((summary.tables, summary.rows), (1, 1));
        let refused = |text: &str, why: &str| {
            let e = Store::check_backup(text.as_bytes()).unwrap_err().to_string();
            assert!(e.contains(why), "{e}");
        };
        refused(&good.replace("a-1", "a-2"), "SHA-256");
        refused(&good[..good.rfind("{\"end\"").unwrap()], "cut short");
        refused(&small_backup(Store::schema_version() - 1), "schema version");
        refused(&good.replacen("\"hiwar_backup\":1", "\"hiwar_backup\":2", 1), "not a hiwar backup");
        refused("", "empty");
        refused("\u{0}\n", "header");
        let mut not_utf8 = good.clone().into_bytes();
        let at = not_utf8.len() - 10;
        not_utf8[at] = 0xff;
        let e = Store::check_backup(&not_utf8[..]).unwrap_err().to_string();
        assert!(e.contains("line 4 is not UTF-8"), "{e}");
    }

    #[test]
    fn an_endless_line_is_refused_without_reading_it_all() {
        let header = good_header();
        let endless = std::io::BufReader::new(std::io::Read::chain(header.as_bytes(), std::io::repeat(b'a')));
        let e = Store::check_backup(endless).unwrap_err().to_string();
        assert!(e.contains("line 2 is longer than"), "{e}");
    }

    fn good_header() -> String {
        let backup = small_backup(Store::schema_version());
        backup[..=backup.find('\n').unwrap()].to_string()
    }

    #[test]
    fn every_table_in_creation_order() {
        let t = tables();
        assert_eq!(t.first().map(String::as_str), Some("accounts"));
        let position = |name: &str| t.iter().position(|x| x == name).unwrap();
        assert!(position("dialogues") < position("members"));
        assert!(position("statements") < position("statement_votes"));
        assert!(position("witnesses") < position("cosignatures"));
        assert!(t.contains(&"deliberation_versions".to_string()));
    }
}
