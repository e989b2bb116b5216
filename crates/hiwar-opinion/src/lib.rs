//! Hearing everyone at national scale: a sparse vote matrix ([`matrix`]), an opinion
//! space fitted to the votes cast and only those ([`space`]), opinion groups with
//! stable labels ([`groups`]), each group's representative statements, consensus across
//! groups and a bridging score ([`stats`]), the statement router ([`router`]), coverage
//! figures, and Polis's export format ([`polis`]). Takes plain data, does no I/O.

pub mod evaluate;
pub mod groups;
pub mod matrix;
pub mod polis;
pub mod polis_method;
pub mod router;
pub mod space;
pub mod stats;
pub mod synthetic;

use groups::Grouping;
use matrix::{Indexed, VoteMatrix};
use serde_json::{json, Value};
use space::Space;
use stats::{Repness, Tally};

/// Settings of an analysis; the defaults follow Polis where it has one.
#[derive(Debug, Clone)]
pub struct Options {
    /// Dimensions of the opinion space (the map shows the first two).
    pub dim: usize,
    /// Alternating least-squares sweeps (a warm update needs fewer).
    pub sweeps: usize,
    /// Participants with fewer votes are not placed in groups (Polis: 7).
    pub min_votes: usize,
    /// Representative statements reported per group (Polis: 5).
    pub per_group: usize,
    /// Votes per group that make a statement covered.
    pub coverage_votes: u32,
    /// Consensus statements the coverage figure looks at.
    pub consensus_top: usize,
    /// How groups are formed.
    pub method: Method,
}

/// How opinion groups are formed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Method {
    /// k-means in the opinion space fitted to the votes cast (`space`, `groups`), the
    /// number of groups chosen by held-out votes ([`evaluate`]).
    #[default]
    Hiwar,
    /// Polis's published method: mean imputation, PCA, base clusters ([`polis_method`]).
    Polis,
}

impl Method {
    pub const ALL: [Method; 2] = [Method::Hiwar, Method::Polis];

    /// The method's name in settings, addresses and reports: `hiwar` or `polis`.
    pub fn name(self) -> &'static str {
        match self {
            Method::Hiwar => "hiwar",
            Method::Polis => "polis",
        }
    }

    pub fn from_name(name: &str) -> Option<Method> {
        Method::ALL.into_iter().find(|m| m.name() == name)
    }
}

impl Default for Options {
    fn default() -> Self {
        Options {
            dim: 2,
            sweeps: 15,
            min_votes: 7,
            per_group: 5,
            coverage_votes: 5,
            consensus_top: 10,
            method: Method::Hiwar,
        }
    }
}

/// "Everyone was heard", measured.
#[derive(Debug, Clone, PartialEq)]
pub struct Coverage {
    /// Statements (not moderated out) with at least `votes` votes from every group.
    pub covered: usize,
    pub statements: usize,
    pub votes: u32,
    /// For each group, its mean agreement rate over the top consensus statements; the
    /// smallest of these says whether the least convinced group is on board.
    pub top_consensus_agreement: Vec<f64>,
}

impl Coverage {
    pub fn share(&self) -> f64 {
        if self.statements == 0 {
            0.0
        } else {
            self.covered as f64 / self.statements as f64
        }
    }
}

/// One analysis of a conversation.
#[derive(Debug, Clone)]
pub struct Analysis {
    pub space: Space,
    /// Each participant's place on the opinion map: the space's first two axes (hiwar's
    /// method) or Polis's scaled projection on two principal components (Polis's), so
    /// that each method's groups are drawn where that method formed them.
    pub map: Vec<[f64; 2]>,
    /// Groups of the participants with enough votes.
    pub grouping: Grouping,
    /// Each participant's group, `None` for those with too few votes.
    pub membership: Vec<Option<usize>>,
    pub tallies: Vec<Tally>,
    pub representative: Vec<Vec<Repness>>,
    /// Group-informed consensus per statement.
    pub consensus: Vec<f64>,
    /// Bridging intercept per statement.
    pub bridging: Vec<f64>,
    /// Statements not moderated out, by consensus, best first.
    pub consensus_order: Vec<usize>,
    pub coverage: Coverage,
    /// How much the groups say, from the analysis's check on votes it hid from itself.
    pub confidence: evaluate::Confidence,
    /// How the groups were formed.
    pub method: Method,
}

impl Analysis {
    pub fn groups(&self) -> usize {
        self.grouping.k()
    }

    /// What the opinion map draws: each participant's place and group.
    pub fn map_points(&self) -> Vec<(f64, f64, Option<usize>)> {
        self.map.iter().zip(&self.membership).map(|(&[x, y], &g)| (x, y, g)).collect()
    }
}

/// Analyses the votes, warm-started from `previous` (same participants and statements
/// first, new ones after) so an update is quick and group labels stay put.
pub fn analyze(matrix: &VoteMatrix, previous: Option<&Analysis>, options: &Options) -> Analysis {
    let votes = matrix.index();
    analyze_indexed(&votes, &matrix.hidden, previous, options)
}

/// [`analyze`] on already indexed votes.
///
/// The analysis checks itself ([`evaluate`]): the space is first fitted with a fixed
/// tenth of the agree/disagree votes hidden, the groups found there are scored on how
/// well they predict the hidden votes, the number of groups is chosen by that score
/// (hiwar's method; Polis's keeps its silhouette), and the space is then refitted on all
/// the votes from that fit. The check costs a third more than a fit alone.
pub fn analyze_indexed(votes: &Indexed, hidden: &[bool], previous: Option<&Analysis>, options: &Options) -> Analysis {
    let warm_sweeps = options.sweeps.div_ceil(3);
    let sweeps = if previous.is_some() { warm_sweeps } else { options.sweeps };
    let eligible: Vec<bool> = (0..votes.statements).map(|s| !hidden.get(s).copied().unwrap_or(false)).collect();
    let shown = eligible.iter().filter(|e| **e).count();
    let enough = options.min_votes.min(shown).max(1);
    let (kept, check_votes) = evaluate::split(votes, evaluate::CHECK_FRACTION, evaluate::CHECK_SEED);
    let check_space = space::fit(&kept, options.dim, sweeps, previous.map(|a| &a.space));
    let space = space::fit(votes, options.dim, warm_sweeps, Some(&check_space));
    let (membership, grouping, check_membership, tried, map) = match options.method {
        Method::Hiwar => {
            let (check_placed, check_points) = placed_points(&kept, &check_space, enough);
            let candidates: Vec<(usize, Vec<Option<usize>>)> = (2..=groups::MAX_GROUPS)
                .map(|k| {
                    let grouping = groups::group(&check_points, space.dim, k, None);
                    (k, membership_of(&check_placed, &grouping, votes.participants))
                })
                .collect();
            let tried: Vec<(usize, f64)> =
                candidates.iter().map(|(k, m)| (*k, evaluate::group_accuracy(&kept, &check_votes, m, *k))).collect();
            let k = evaluate::choose_k(&tried, check_votes.len(), previous.map(Analysis::groups));
            let (placed, points) = placed_points(votes, &space, enough);
            let grouping = groups::group(&points, space.dim, k, previous.map(|a| &a.grouping));
            let membership = membership_of(&placed, &grouping, votes.participants);
            let check_membership = candidates.into_iter().find(|c| c.0 == k).map(|c| c.1).unwrap_or_default();
            let map = (0..votes.participants)
                .map(|p| {
                    let u = space.participant(p);
                    [u[0], u.get(1).copied().unwrap_or(0.0)]
                })
                .collect();
            (membership, grouping, check_membership, tried, map)
        }
        Method::Polis => {
            let (check_membership, _, _) = polis_method::groups(&kept, enough);
            let (membership, grouping, map) = polis_method::groups(votes, enough);
            (membership, grouping, check_membership, Vec::new(), map)
        }
    };
    let check_k = check_membership.iter().flatten().max().map_or(1, |m| m + 1);
    let (stability, compared) = evaluate::stability(&check_membership, &membership);
    let confidence = evaluate::Confidence {
        hidden: check_votes.len(),
        baseline: evaluate::group_accuracy(&kept, &check_votes, &vec![None; votes.participants], 1),
        groups: evaluate::group_accuracy(&kept, &check_votes, &check_membership, check_k),
        tried,
        stability,
        compared,
    };
    let k = grouping.k();
    let tallies = stats::tallies(votes, &membership, k);
    let representative = stats::representative(&tallies, k, votes.statements, &eligible, options.per_group);
    let consensus = stats::group_informed_consensus(&tallies, k, votes.statements);
    let (bridging, _) = stats::bridging(votes, options.sweeps);
    let mut consensus_order: Vec<usize> = (0..votes.statements).filter(|&s| eligible[s]).collect();
    consensus_order.sort_by(|&a, &b| consensus[b].total_cmp(&consensus[a]).then(a.cmp(&b)));
    let covered = (0..votes.statements)
        .filter(|&s| eligible[s] && (0..k).all(|g| tallies[g * votes.statements + s].seen >= options.coverage_votes))
        .count();
    let top = &consensus_order[..consensus_order.len().min(options.consensus_top)];
    let top_consensus_agreement = (0..k)
        .map(|g| {
            let rates: Vec<f64> = top
                .iter()
                .map(|&s| tallies[g * votes.statements + s])
                .filter(|t| t.seen > 0)
                .map(|t| t.agree as f64 / t.seen as f64)
                .collect();
            if rates.is_empty() {
                0.0
            } else {
                rates.iter().sum::<f64>() / rates.len() as f64
            }
        })
        .collect();
    let coverage = Coverage { covered, statements: shown, votes: options.coverage_votes, top_consensus_agreement };
    Analysis {
        space,
        map,
        grouping,
        membership,
        tallies,
        representative,
        consensus,
        bridging,
        consensus_order,
        coverage,
        confidence,
        method: options.method,
    }
}

/// The participants with at least `enough` votes, and their points in `space`.
fn placed_points(votes: &Indexed, space: &Space, enough: usize) -> (Vec<usize>, Vec<f64>) {
    let placed: Vec<usize> = (0..votes.participants).filter(|&p| votes.participant_votes(p).len() >= enough).collect();
    let points = placed.iter().flat_map(|&p| space.participant(p).iter().copied()).collect();
    (placed, points)
}

/// Each of `participants`' group: `grouping`'s label for the placed, `None` for the rest.
pub(crate) fn membership_of(placed: &[usize], grouping: &Grouping, participants: usize) -> Vec<Option<usize>> {
    let mut membership = vec![None; participants];
    for (i, &p) in placed.iter().enumerate() {
        membership[p] = Some(grouping.labels[i]);
    }
    membership
}

/// Who a report is for. The platform's public reports never say who is in which group;
/// a user analysing their own Polis export may see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// Group sizes and statistics only: no participant id anywhere.
    Public,
    /// Also each group's members and the ungrouped participants, by id.
    Owner,
}

/// The report (DESIGN §5): groups with their sizes (and, for [`Audience::Owner`], their
/// members) and representative statements, the consensus list best first, coverage; ids
/// as in the input. `texts` by statement index.
pub fn report(
    matrix: &VoteMatrix,
    texts: &[String],
    analysis: &Analysis,
    consensus_listed: usize,
    audience: Audience,
) -> Value {
    let ids = matrix.statement_ids();
    let people = matrix.participant_ids();
    let ns = ids.len();
    let text = |s: usize| texts.get(s).cloned().unwrap_or_default();
    let sizes = analysis.grouping.sizes();
    let groups: Vec<Value> = (0..analysis.groups())
        .map(|g| {
            let members: Vec<&str> = analysis
                .membership
                .iter()
                .enumerate()
                .filter(|(_, m)| **m == Some(g))
                .map(|(p, _)| people[p].as_str())
                .collect();
            let representative: Vec<Value> = analysis.representative[g]
                .iter()
                .map(|r| {
                    json!({
                        "statement": ids[r.statement], "text": text(r.statement),
                        "direction": if r.agree { "agree" } else { "disagree" },
                        "probability": r.probability, "ratio": r.ratio,
                        "probability_z": r.probability_z, "ratio_z": r.ratio_z, "significant": r.significant,
                        "agree": r.tally.agree, "disagree": r.tally.disagree, "seen": r.tally.seen,
                    })
                })
                .collect();
            let mut group = json!({"id": g.to_string(), "size": sizes[g], "representative": representative});
            if audience == Audience::Owner {
                group["members"] = json!(members);
            }
            group
        })
        .collect();
    let consensus: Vec<Value> = analysis
        .consensus_order
        .iter()
        .take(consensus_listed)
        .map(|&s| {
            let per_group: Vec<Value> = (0..analysis.groups())
                .map(|g| {
                    let t = analysis.tallies[g * ns + s];
                    json!({"group": g.to_string(), "agree": t.agree, "disagree": t.disagree, "seen": t.seen})
                })
                .collect();
            let votes: u32 = (0..analysis.groups()).map(|g| analysis.tallies[g * ns + s].seen).sum();
            json!({
                "statement": ids[s], "text": text(s),
                "group_informed_consensus": analysis.consensus[s], "bridging": analysis.bridging[s],
                "votes": votes, "groups": per_group,
            })
        })
        .collect();
    let mut bridging_order: Vec<usize> = analysis.consensus_order.clone();
    bridging_order.sort_by(|&a, &b| analysis.bridging[b].total_cmp(&analysis.bridging[a]));
    let bridging: Vec<Value> = bridging_order
        .iter()
        .take(consensus_listed)
        .map(|&s| json!({"statement": ids[s], "text": text(s), "bridging": analysis.bridging[s]}))
        .collect();
    let unplaced: Vec<&str> =
        analysis.membership.iter().enumerate().filter(|(_, m)| m.is_none()).map(|(p, _)| people[p].as_str()).collect();
    let ungrouped = match audience {
        Audience::Owner => json!(unplaced),
        Audience::Public => json!(unplaced.len()),
    };
    let c = &analysis.coverage;
    json!({
        "participants": people.len(),
        "statements": ns,
        "votes": matrix.votes(),
        "silhouette": analysis.grouping.silhouette,
        "method": analysis.method.name(),
        "confidence": {
            "hidden_votes": analysis.confidence.hidden,
            "baseline_accuracy": analysis.confidence.baseline,
            "group_accuracy": analysis.confidence.groups,
            "groups_tried": analysis.confidence.tried.iter().map(|(k, a)| json!({"groups": k, "accuracy": a})).collect::<Vec<_>>(),
            "stability": analysis.confidence.stability,
            "stability_over": analysis.confidence.compared,
        },
        "groups": groups,
        "ungrouped": ungrouped,
        "consensus": consensus,
        "bridging": bridging,
        "coverage": {
            "votes_per_group": c.votes, "covered": c.covered, "statements": c.statements, "share": c.share(),
            "top_consensus_agreement_by_group": c.top_consensus_agreement,
            "smallest_top_consensus_agreement": c.top_consensus_agreement.iter().copied().fold(f64::INFINITY, f64::min),
        },
    })
}
