//! `hiwar opinions analyze`: a conversation in Polis's export format, analysed.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Subcommand;
use hiwar_opinion::groups::adjusted_rand_index;
use hiwar_opinion::{analyze, polis, report, Audience, Method, Options};

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
        /// How groups are formed: hiwar's (k-means in the space fitted to the votes cast)
        /// or Polis's published method (mean imputation, PCA, 100 base clusters).
        #[arg(long, value_enum, default_value_t = MethodArg::Hiwar)]
        method: MethodArg,
    },
    /// Measure how much the groups say about how people vote: hide a share of the
    /// agree/disagree votes, analyse the rest, and predict each hidden vote from the
    /// statement's majority (baseline), from the participant's group, and from their
    /// place in the opinion space — for hiwar's method and Polis's, side by side.
    Evaluate {
        /// The export's directory (comments.csv, votes.csv; participants-votes.csv for
        /// Polis's own groups).
        #[arg(long, value_name = "DIR")]
        polis: PathBuf,
        /// Share of the agree/disagree votes hidden.
        #[arg(long, default_value_t = 0.1)]
        fraction: f64,
        /// Splits tried (each with its own seed); the table gives their mean.
        #[arg(long, default_value_t = 3)]
        runs: u64,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum MethodArg {
    Hiwar,
    Polis,
}

impl From<MethodArg> for Method {
    fn from(m: MethodArg) -> Method {
        match m {
            MethodArg::Hiwar => Method::Hiwar,
            MethodArg::Polis => Method::Polis,
        }
    }
}

fn read(dir: &Path, name: &str) -> Result<String> {
    let path = dir.join(name);
    std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))
}

fn read_conversation(dir: &Path) -> Result<polis::Conversation> {
    let comments = read(dir, "comments.csv")?;
    let votes = read(dir, "votes.csv")?;
    let groups_file = dir.join("participants-votes.csv");
    let participants = groups_file.exists().then(|| read(dir, "participants-votes.csv")).transpose()?;
    Ok(polis::read(&comments, &votes, participants.as_deref())?)
}

/// The adjusted Rand index between `membership` and the groups Polis assigned, over the
/// participants both placed, and how many that is.
fn agreement_with_polis(
    conversation: &polis::Conversation,
    membership: &[Option<usize>],
) -> Option<(f64, usize, usize)> {
    if conversation.polis_groups.is_empty() {
        return None;
    }
    let mut polis_labels: HashMap<&str, usize> = HashMap::new();
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    for (p, id) in conversation.matrix.participant_ids().iter().enumerate() {
        if let (Some(g), Some(pg)) = (membership[p], conversation.polis_groups.get(id)) {
            let next = polis_labels.len();
            theirs.push(*polis_labels.entry(pg.as_str()).or_insert(next));
            ours.push(g);
        }
    }
    Some((adjusted_rand_index(&ours, &theirs), ours.len(), polis_labels.len()))
}

pub fn run(action: OpinionsAction) -> Result<()> {
    let (dir, out, consensus, method) = match action {
        OpinionsAction::Analyze { polis, out, consensus, method } => (polis, out, consensus, method),
        OpinionsAction::Evaluate { polis, fraction, runs } => return evaluate(&polis, fraction, runs),
    };
    let started = std::time::Instant::now();
    let conversation = read_conversation(&dir)?;
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_style(indicatif::ProgressStyle::with_template("{spinner} analysing [{elapsed}]").expect("template"));
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    let analysis = analyze(&conversation.matrix, None, &Options { method: method.into(), ..Options::default() });
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
    if let Some((ari, compared, polis_groups)) = agreement_with_polis(&conversation, &analysis.membership) {
        println!("agreement with the groups Polis assigned: adjusted Rand index {ari:.3} over {compared} participants");
        value["polis_comparison"] = serde_json::json!({"adjusted_rand_index": ari, "participants_compared": compared, "polis_groups": polis_groups});
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

/// `hiwar opinions evaluate`: the held-out-vote table for both methods.
fn evaluate(dir: &Path, fraction: f64, runs: u64) -> Result<()> {
    anyhow::ensure!(fraction > 0.0 && fraction < 1.0, "--fraction must be between 0 and 1");
    let conversation = read_conversation(dir)?;
    let votes = conversation.matrix.index();
    println!(
        "{} participants, {} statements, {} votes; hiding {:.0} % of the agree/disagree votes, {runs} splits",
        votes.participants,
        votes.statements,
        votes.votes(),
        fraction * 100.0
    );
    println!("method  groups  baseline  groups   space    ARI vs Polis  seconds");
    for method in [Method::Hiwar, Method::Polis] {
        let options = Options { method, ..Options::default() };
        let started = std::time::Instant::now();
        let scored: Vec<_> = (1..=runs.max(1))
            .map(|seed| {
                hiwar_opinion::evaluate::held_out(&votes, &conversation.matrix.hidden, &options, fraction, seed)
            })
            .collect();
        let seconds = started.elapsed().as_secs_f64() / scored.len() as f64;
        let mean = |f: &dyn Fn(&hiwar_opinion::evaluate::HeldOut) -> f64| {
            scored.iter().map(f).sum::<f64>() / scored.len() as f64
        };
        let ks: Vec<String> = scored.iter().map(|s| s.k.to_string()).collect();
        let full = analyze(&conversation.matrix, None, &options);
        let ari = agreement_with_polis(&conversation, &full.membership)
            .map_or("—".to_string(), |(ari, _, _)| format!("{ari:.3}"));
        println!(
            "{:<7} {:<7} {:.3}     {:.3}    {:.3}    {:<13} {seconds:.2}",
            if method == Method::Hiwar { "hiwar" } else { "polis" },
            ks.join("/"),
            mean(&|s| s.baseline),
            mean(&|s| s.groups),
            mean(&|s| s.space),
            ari,
        );
    }
    println!("(accuracy on the hidden votes; space: the sign of the fitted model, the same for both methods)");
    Ok(())
}
