//! `hiwar backup` and `hiwar restore`: a consistent copy of a running platform's
//! database, taken online, and putting it back (on the same backend or the other).

use std::fs::File;
use std::io::{BufReader, BufWriter};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use hiwar_store::Store;

/// Takes the backup into `out` (written beside it first, then renamed, readable by its
/// owner only: it holds the dialogues' signing keys) and prints what it holds.
pub async fn backup(store: &Store, out: &Path) -> Result<()> {
    let partial = PathBuf::from(format!("{}.partial", out.display()));
    // A file left by an earlier attempt may have another mode: start from nothing.
    match std::fs::remove_file(&partial) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e).context("removing an old partial backup"),
        _ => {}
    }
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&partial)
        .with_context(|| format!("creating {}", partial.display()))?;
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_message("backing up");
    let summary = store
        .backup(BufWriter::new(file), |rows| bar.set_message(format!("backing up: {rows} rows")))
        .await
        .context("taking the backup")?;
    File::open(&partial)?.sync_all()?;
    std::fs::rename(&partial, out).with_context(|| format!("moving the backup to {}", out.display()))?;
    bar.finish_and_clear();
    println!(
        "backup written to {}: {} tables, {} rows (schema {})",
        out.display(),
        summary.tables,
        summary.rows,
        Store::schema_version()
    );
    for (table, rows) in summary.per_table.iter().filter(|(_, n)| *n > 0) {
        println!("  {table:<24} {rows:>10}");
    }
    Ok(())
}

/// Restores `from` into `store` (which must be empty), then verifies every dialogue's
/// record in it, as `hiwar verify` would.
pub async fn restore(store: &Store, from: &Path) -> Result<()> {
    let open = || File::open(from).map(BufReader::new);
    open().with_context(|| format!("opening {}", from.display()))?;
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_message("checking the backup, then restoring");
    let summary = store
        .restore(open, |rows| bar.set_message(format!("restoring: {rows} rows")))
        .await
        .with_context(|| format!("restoring {}", from.display()))?;
    bar.finish_and_clear();
    println!("restored {}: {} tables, {} rows", from.display(), summary.tables, summary.rows);
    let dialogues = store.dialogue_ids().await?;
    for id in &dialogues {
        let record = store.record(id).await?;
        if let Err(failure) = hiwar_record::verify(&record, &hiwar_record::Options::default()) {
            bail!("the restored record of dialogue {id} does not verify: {failure}");
        }
    }
    println!("every record verifies ({} dialogues)", dialogues.len());
    Ok(())
}
