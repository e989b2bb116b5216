//! `hiwar select run|draw|verify`: the fair lottery from the command line.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Subcommand;
use hiwar_sortition::lottery::{self, gini, minimum};
use hiwar_sortition::pool::{parse_csv, Pool, Quotas};
use serde_json::Value;

#[derive(Subcommand)]
pub enum SelectAction {
    /// Compute the leximin panel distribution, round it to M panels and write the
    /// lottery manifest (publish it before the beacon exists), with a histogram of
    /// selection probabilities as SVG beside it.
    Run {
        /// Volunteers: CSV with an `id` column (else the row number is the id), one
        /// column per quota category, optionally `household`.
        #[arg(long, value_name = "FILE")]
        pool: PathBuf,
        /// Quotas: CSV `category,feature,min,max`.
        #[arg(long, value_name = "FILE")]
        quotas: PathBuf,
        /// Seats on the panel.
        #[arg(long, value_name = "K")]
        size: u32,
        /// Panels in the published lottery.
        #[arg(long, value_name = "M", default_value_t = 1000)]
        panels: usize,
        /// Also estimate the legacy greedy procedure's probabilities over this many draws, for comparison.
        #[arg(long, value_name = "RUNS")]
        legacy: Option<usize>,
        /// Stop leximin after this many seconds and use the best distribution so far,
        /// reported as not proven optimal (default: run until every level is proven).
        #[arg(long, value_name = "SECONDS")]
        time_limit: Option<f64>,
        /// Where to write the manifest (JSON).
        #[arg(long, value_name = "MANIFEST")]
        out: PathBuf,
    },
    /// Draw the panel from the public random value: seed = SHA-256(manifest hash ‖ beacon).
    Draw {
        #[arg(long, value_name = "MANIFEST")]
        manifest: PathBuf,
        /// The public random value exactly as announced, e.g. the numbers of a named lottery draw.
        #[arg(long, value_name = "TEXT")]
        beacon: String,
        /// Where to write the drawn panel (CSV: a header, then one id per line).
        #[arg(long, value_name = "PANEL")]
        out: PathBuf,
    },
    /// Re-check a manifest (hash, quotas of every panel, probabilities) and, with a
    /// beacon and panel, the draw.
    Verify {
        #[arg(long, value_name = "MANIFEST")]
        manifest: PathBuf,
        #[arg(long, value_name = "TEXT", requires = "panel")]
        beacon: Option<String>,
        #[arg(long, value_name = "PANEL", requires = "beacon")]
        panel: Option<PathBuf>,
    },
}

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
}

fn read_manifest(path: &Path) -> Result<Value> {
    serde_json::from_str(&read(path)?).with_context(|| format!("{} is not JSON", path.display()))
}

pub fn run(action: SelectAction) -> Result<()> {
    match action {
        SelectAction::Run { pool, quotas, size, panels, legacy, time_limit, out } => {
            let limit = time_limit
                .map(|s| {
                    anyhow::ensure!(s.is_finite() && s > 0.0, "--time-limit must be a positive number of seconds");
                    Ok(std::time::Duration::from_secs_f64(s))
                })
                .transpose()?;
            run_selection(&pool, &quotas, size, panels, legacy, limit, &out)
        }
        SelectAction::Draw { manifest, beacon, out } => {
            let value = read_manifest(&manifest)?;
            lottery::verify(&value, None)?;
            let m = value["panels"].as_array().expect("verified").len();
            let lottery::Draw { index, panel, .. } = lottery::draw(&value, &beacon)?;
            let mut csv = String::from("id\n");
            for id in &panel {
                csv.push_str(id);
                csv.push('\n');
            }
            std::fs::write(&out, csv).with_context(|| format!("writing {}", out.display()))?;
            println!(
                "beacon {beacon:?} draws panel {index} of {m}; {} delegates written to {}",
                panel.len(),
                out.display()
            );
            Ok(())
        }
        SelectAction::Verify { manifest, beacon, panel } => {
            let value = read_manifest(&manifest)?;
            let panel_ids = match &panel {
                Some(path) => {
                    let rows = parse_csv(&read(path)?, "panel")?;
                    Some(
                        rows.iter()
                            .skip(1)
                            .filter_map(|(_, r)| r.first().map(|s| s.trim().to_string()))
                            .collect::<Vec<_>>(),
                    )
                }
                None => None,
            };
            let draw = beacon.as_deref().zip(panel_ids.as_deref());
            match lottery::verify(&value, draw) {
                Ok(v) => {
                    println!("ok  manifest hash matches its content");
                    println!("ok  all {} panels have {} seats and meet every quota", v.panels, value["size"]);
                    println!(
                        "ok  each of {} volunteers' probabilities is (panels containing them)/{}",
                        v.volunteers, v.panels
                    );
                    println!("    lowest selection probability: {:.4} %", v.min_probability * 100.0);
                    if let Some(i) = v.drawn {
                        println!("ok  the beacon draws panel {i}, which is the panel given");
                    }
                    Ok(())
                }
                Err(e) => {
                    // A failed check is a verdict (exit 1), unlike an unreadable file (exit 2).
                    println!("VERIFICATION FAILED: {e}");
                    std::process::exit(1);
                }
            }
        }
    }
}

fn run_selection(
    pool: &Path,
    quotas: &Path,
    k: u32,
    m: usize,
    legacy_runs: Option<usize>,
    time_limit: Option<std::time::Duration>,
    out: &Path,
) -> Result<()> {
    let quotas = Quotas::parse(&read(quotas)?)?;
    let pool = Pool::parse(&read(pool)?, &quotas)?;
    let started = std::time::Instant::now();
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_style(indicatif::ProgressStyle::with_template("{spinner} leximin: {msg} [{elapsed}]").expect("template"));
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    let progress = bar.clone();
    let software = format!("hiwar {}", env!("CARGO_PKG_VERSION"));
    let computed = lottery::compute(&pool, &quotas, k, m, &software, time_limit, move |p| {
        if p.done {
            // Each finished level stays on the screen: its value and how long it took.
            progress.println(p.describe());
        }
        progress.set_message(p.describe())
    })?;
    bar.finish_and_clear();
    let seconds = started.elapsed().as_secs_f64();
    std::fs::write(out, serde_json::to_string_pretty(&computed.manifest)? + "\n")
        .with_context(|| format!("writing {}", out.display()))?;
    println!(
        "pool: {} volunteers, {} profiles; panel of {k}; {} quotas",
        pool.len(),
        computed.profiles,
        quotas.quotas.len()
    );
    println!("{:<34} {:>12} {:>12}", "", "leximin", "lottery");
    println!(
        "{:<34} {:>11.4}% {:>11.4}%",
        "minimum selection probability",
        minimum(&computed.leximin) * 100.0,
        minimum(&computed.lottery) * 100.0
    );
    println!("{:<34} {:>12.4} {:>12.4}", "Gini coefficient", gini(&computed.leximin), gini(&computed.lottery));
    println!("{:<34} {:>12} {:>12}", "panels used", computed.support, computed.distinct_panels);
    println!("{:<34} {:>12.2e}", "optimality gap", computed.gap);
    if !computed.proven {
        println!(
            "NOT PROVEN OPTIMAL: the time limit stopped leximin; every volunteer not yet fixed holds the \
             last level's value, within {:.2e} of that level's optimum, and the later levels were not computed",
            computed.gap
        );
    }
    println!("{:<34} {:>12.4}%", "largest rounding change", computed.largest_change * 100.0);
    println!("time: {seconds:.2} s");
    let mut series = vec![("leximin", computed.leximin.clone()), ("lottery", computed.lottery.clone())];
    if let Some(runs) = legacy_runs {
        let legacy = hiwar_sortition::legacy::estimate(&pool, &quotas, k as usize, runs, 1)
            .context("the legacy procedure found no panel")?;
        println!("{:<34} {:>11.4}%  (legacy, {runs} draws)", "minimum selection probability", minimum(&legacy) * 100.0);
        println!("{:<34} {:>12.4}  (legacy)", "Gini coefficient", gini(&legacy));
        series.push(("legacy", legacy));
    }
    let svg_path = out.with_extension("svg");
    let svg = hiwar_plots::histogram(&series, k as f64 / pool.len() as f64, &hiwar_plots::HistogramLabels::ENGLISH);
    std::fs::write(&svg_path, svg).with_context(|| format!("writing {}", svg_path.display()))?;
    println!("wrote {} (publish it before the beacon is known) and {}", out.display(), svg_path.display());
    println!("manifest hash: {}", computed.manifest_hash());
    Ok(())
}
