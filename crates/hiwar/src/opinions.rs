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
    #[command(group = clap::ArgGroup::new("conversation").required(true))]
    Evaluate {
        /// The export's directory (comments.csv, votes.csv; participants-votes.csv for
        /// Polis's own groups).
        #[arg(long, value_name = "DIR", group = "conversation")]
        polis: Option<PathBuf>,
        /// Instead, generated conversations with planted groups (small, medium and
        /// Polis's largest in shape, and one with no groups planted); the ARI is then
        /// against the planted groups.
        #[arg(long, group = "conversation")]
        generated: bool,
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
        OpinionsAction::Evaluate { polis, generated, fraction, runs } => {
            anyhow::ensure!(fraction > 0.0 && fraction < 1.0, "--fraction must be between 0 and 1");
            return match polis {
                Some(dir) => evaluate_polis(&dir, fraction, runs),
                None if generated => evaluate_generated(fraction, runs),
                None => anyhow::bail!("name a conversation: --polis DIR or --generated"),
            };
        }
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
    let check = &analysis.confidence;
    println!(
        "own check on {} hidden votes: the groups predict {:.1} % of them, each statement's majority {:.1} %; \
         {:.1} % of participants keep their group when they are put back",
        check.hidden,
        check.groups * 100.0,
        check.baseline * 100.0,
        check.stability * 100.0
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
    let points = analysis.map_points();
    let svg_path = out.with_extension("svg");
    std::fs::write(&svg_path, hiwar_plots::opinion_map(&points, &hiwar_plots::MapLabels::ENGLISH))
        .with_context(|| format!("writing {}", svg_path.display()))?;
    println!("wrote {} and {}", out.display(), svg_path.display());
    Ok(())
}

/// `hiwar opinions evaluate --polis DIR`: the held-out-vote table for both methods,
/// with each method's agreement with the groups Polis assigned.
fn evaluate_polis(dir: &Path, fraction: f64, runs: u64) -> Result<()> {
    let conversation = read_conversation(dir)?;
    let matrix = &conversation.matrix;
    held_out_table(&matrix.index(), &matrix.hidden, fraction, runs, "ARI vs Polis", |membership| {
        agreement_with_polis(&conversation, membership).map(|(ari, _, _)| ari)
    });
    Ok(())
}

/// `hiwar opinions evaluate --generated`: the same table for generated conversations,
/// each method's groups compared with the planted ones.
fn evaluate_generated(fraction: f64, runs: u64) -> Result<()> {
    use hiwar_opinion::synthetic::Planted;
    let four = vec![0.45, 0.3, 0.15, 0.1];
    let shapes = [
        (
            "small, 3 groups",
            Planted {
                participants: 300,
                statements: 40,
                groups: vec![0.5, 0.3, 0.2],
                consensus: 4,
                density: 0.3,
                noise: 0.2,
                seed: 1,
            },
        ),
        (
            "small, no groups",
            Planted {
                participants: 300,
                statements: 40,
                groups: vec![1.0],
                consensus: 4,
                density: 0.3,
                noise: 0.2,
                seed: 2,
            },
        ),
        (
            "medium, 4 groups",
            Planted {
                participants: 2_000,
                statements: 200,
                groups: four.clone(),
                consensus: 10,
                density: 0.1,
                noise: 0.25,
                seed: 3,
            },
        ),
        (
            "Polis's largest in shape, 4 groups",
            Planted {
                participants: 33_422,
                statements: 783,
                groups: four,
                consensus: 10,
                density: 2_000_000.0 / (33_422.0 * 783.0),
                noise: 0.2,
                seed: 2026,
            },
        ),
    ];
    for (name, planted) in shapes {
        println!("\n{name}:");
        let generated = planted.generate();
        let hidden = vec![false; generated.votes.statements];
        held_out_table(&generated.votes, &hidden, fraction, runs, "ARI vs planted", |membership| {
            let (ours, truth): (Vec<usize>, Vec<usize>) =
                membership.iter().zip(&generated.truth).filter_map(|(m, t)| m.map(|m| (m, *t))).unzip();
            Some(adjusted_rand_index(&ours, &truth))
        });
    }
    Ok(())
}

/// Prints, for hiwar's method and Polis's, the groups each split found, the accuracy of
/// each predictor on the hidden votes (mean over `runs` splits), the groups' agreement
/// with a reference (`compare`, on the analysis of all votes) and the time per split.
fn held_out_table(
    votes: &hiwar_opinion::matrix::Indexed,
    hidden_statements: &[bool],
    fraction: f64,
    runs: u64,
    reference: &str,
    compare: impl Fn(&[Option<usize>]) -> Option<f64>,
) {
    println!(
        "{} participants, {} statements, {} votes; hiding {:.0} % of the agree/disagree votes, {runs} splits",
        votes.participants,
        votes.statements,
        votes.votes(),
        fraction * 100.0
    );
    println!("method  groups  baseline  groups   space    {reference:<15} seconds");
    for method in [Method::Hiwar, Method::Polis] {
        let options = Options { method, ..Options::default() };
        let started = std::time::Instant::now();
        let scored: Vec<_> = (1..=runs.max(1))
            .map(|seed| hiwar_opinion::evaluate::held_out(votes, hidden_statements, &options, fraction, seed))
            .collect();
        let seconds = started.elapsed().as_secs_f64() / scored.len() as f64;
        let mean = |f: &dyn Fn(&hiwar_opinion::evaluate::HeldOut) -> f64| {
            scored.iter().map(f).sum::<f64>() / scored.len() as f64
        };
        let ks: Vec<String> = scored.iter().map(|s| s.k.to_string()).collect();
        let full = hiwar_opinion::analyze_indexed(votes, hidden_statements, None, &options);
        let agreement = compare(&full.membership).map_or("—".to_string(), |ari| format!("{ari:.3}"));
        println!(
            "{:<7} {:<7} {:.3}     {:.3}    {:.3}    {:<15} {seconds:.2}",
            if method == Method::Hiwar { "hiwar" } else { "polis" },
            ks.join("/"),
            mean(&|s| s.baseline),
            mean(&|s| s.groups),
            mean(&|s| s.space),
            agreement,
        );
    }
    println!("(accuracy on the hidden votes; space: the sign of the fitted model, the same for both methods)");
}
