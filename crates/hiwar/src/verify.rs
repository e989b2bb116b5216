//! `hiwar verify`: fetch or read a record, run every check, print each.

use std::path::Path;
use std::process::ExitCode;

use hiwar_record::{Options, CHECKS};

/// Largest record accepted over HTTP.
const MAX_DOWNLOAD: u64 = 4 << 30;

fn read_record(source: &str) -> Result<Vec<u8>, String> {
    if source.starts_with("http://") || source.starts_with("https://") {
        let response = ureq::get(source).call().map_err(|e| format!("fetching {source}: {e}"))?;
        let mut body = Vec::new();
        std::io::Read::read_to_end(&mut std::io::Read::take(response.into_reader(), MAX_DOWNLOAD), &mut body)
            .map_err(|e| format!("reading {source}: {e}"))?;
        Ok(body)
    } else {
        std::fs::read(source).map_err(|e| format!("reading {source}: {e}"))
    }
}

pub fn run(source: &str, key: Option<String>, previous: Option<&Path>) -> ExitCode {
    let record = match read_record(source).map(String::from_utf8) {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => {
            println!("  FAIL  R1  the record is not UTF-8 ({e})");
            println!("VERIFICATION FAILED: R1 failed: the record is not UTF-8");
            return ExitCode::from(1);
        }
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let previous = match previous.map(std::fs::read_to_string).transpose() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: reading the earlier copy: {e}");
            return ExitCode::from(2);
        }
    };
    let options = Options { pinned_key: key.clone(), previous: previous.clone() };
    println!("verifying {source}");
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {pos} ballots verified ({per_sec})")
            .expect("valid template"),
    );
    let progress = bar.clone();
    let verdict = hiwar_record::verify_observed(&record, &options, move |n| progress.set_position(n));
    bar.finish_and_clear();
    match verdict {
        Ok(summary) => {
            for (id, title) in CHECKS {
                let skipped = id == "R10" && !summary.previous_checked;
                println!("  {}  {id}  {title}", if skipped { "skip" } else { " ok " });
            }
            println!(
                "all checks hold: {} events, {} members, {} ballots with proofs, dialogue {}",
                summary.lines, summary.members, summary.ballots, summary.dialogue
            );
            println!(
                "dialogue key: {}{}",
                summary.public_key,
                if key.is_some() {
                    " (pinned)"
                } else {
                    " (from the record: compare it with the key the convener published)"
                }
            );
            println!("head hash:    {} (keep it, or this file, and check later copies with --previous)", summary.head);
            ExitCode::SUCCESS
        }
        Err(failure) => {
            match failure.line {
                Some(0) | None => {}
                Some(line) => println!("  ok    R1-R9 held for lines 0 to {}", line - 1),
            }
            let title = CHECKS.iter().find(|(id, _)| *id == failure.check).map(|(_, t)| *t).unwrap_or("");
            println!("  FAIL  {}  {title}", failure.check);
            println!("VERIFICATION FAILED: {failure}");
            ExitCode::from(1)
        }
    }
}
