//! `hiwar opinions analyze`: a conversation in Polis's export format, analysed.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Subcommand;
use hiwar_opinion::groups::adjusted_rand_index;
use hiwar_opinion::{analyze, polis, report, Audience, Options};

#[derive(Subcommand)]
pub enum OpinionsAction {
    /// Analyse a conversation exported from Polis (or written in its format): opinion
    /// groups, each group's representative statements, consensus across groups,
    /// coverage; writes the report as JSON and an opinion map as SVG beside it.
    Analyze {
        /// The export's directory: comments.csv and votes.csv; participants-votes.csv,
        /// if present, gives Polis's own groups to compare with.
        #[arg(long, value_name = "DIR")]
        polis: PathBuf,
        /// Where to write the report (JSON).
        #[arg(long, value_name = "REPORT")]
        out: PathBuf,
        /// Consensus statements listed in the report.
        #[arg(long, value_name = "N", default_value_t = 20)]
        consensus: usize,
    },
}

fn read(dir: &Path, name: &str) -> Result<String> {
    let path = dir.join(name);
    std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))
}

pub fn run(action: OpinionsAction) -> Result<()> {
    let OpinionsAction::Analyze { polis: dir, out, consensus } = action;
    let comments = read(&dir, "comments.csv")?;
    let votes = read(&dir, "votes.csv")?;
    let groups_file = dir.join("participants-votes.csv");
    let participants = groups_file.exists().then(|| read(&dir, "participants-votes.csv")).transpose()?;
    let started = std::time::Instant::now();
    let conversation = polis::read(&comments, &votes, participants.as_deref())?;
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_style(indicatif::ProgressStyle::with_template("{spinner} analysing [{elapsed}]").expect("template"));
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    let analysis = analyze(&conversation.matrix, None, &Options::default());
    bar.finish_and_clear();
    let seconds = started.elapsed().as_secs_f64();
    let mut value = report(&conversation.matrix, &conversation.texts, &analysis, consensus, Audience::Owner);

    let matrix = &conversation.matrix;
    println!(
        "{} participants, {} statements ({} moderated out), {} votes; analysed in {seconds:.2} s",
        matrix.participant_ids().len(),
        matrix.statement_ids().len(),
        matrix.hidden.iter().filter(|h| **h).count(),
        matrix.votes()
    );
    let sizes = analysis.grouping.sizes();
    println!(
        "{} groups (silhouette {:.3}): sizes {:?}; {} participants with too few votes to place",
        analysis.groups(),
        analysis.grouping.silhouette,
        sizes,
        analysis.membership.iter().filter(|m| m.is_none()).count()
    );
    if !conversation.polis_groups.is_empty() {
        let mut polis_labels: HashMap<&str, usize> = HashMap::new();
        let (mut ours, mut theirs) = (Vec::new(), Vec::new());
        for (p, id) in matrix.participant_ids().iter().enumerate() {
            if let (Some(g), Some(pg)) = (analysis.membership[p], conversation.polis_groups.get(id)) {
                let next = polis_labels.len();
                theirs.push(*polis_labels.entry(pg.as_str()).or_insert(next));
                ours.push(g);
            }
        }
        let ari = adjusted_rand_index(&ours, &theirs);
        println!(
            "agreement with the groups Polis assigned: adjusted Rand index {ari:.3} over {} participants",
            ours.len()
        );
        value["polis_comparison"] = serde_json::json!({"adjusted_rand_index": ari, "participants_compared": ours.len(), "polis_groups": polis_labels.len()});
    }
    let c = &analysis.coverage;
    println!(
        "coverage: {} of {} statements have {} or more votes from every group ({:.1} %)",
        c.covered,
        c.statements,
        c.votes,
        c.share() * 100.0
    );
    println!("top consensus statements:");
    for &s in analysis.consensus_order.iter().take(5) {
        let text: String = conversation.texts[s].chars().take(90).collect();
        println!("  {:>6.3}  {}  {text}", analysis.consensus[s], matrix.statement_ids()[s]);
    }
    std::fs::write(&out, serde_json::to_string_pretty(&value)? + "\n")
        .with_context(|| format!("writing {}", out.display()))?;
    let points: Vec<(f64, f64, Option<usize>)> = (0..matrix.participant_ids().len())
        .map(|p| {
            let u = analysis.space.participant(p);
            (u[0], u.get(1).copied().unwrap_or(0.0), analysis.membership[p])
        })
        .collect();
    let svg_path = out.with_extension("svg");
    std::fs::write(&svg_path, hiwar_plots::opinion_map(&points, &hiwar_plots::MapLabels::ENGLISH))
        .with_context(|| format!("writing {}", svg_path.display()))?;
    println!("wrote {} and {}", out.display(), svg_path.display());
    Ok(())
}
