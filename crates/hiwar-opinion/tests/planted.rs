//! Planted structure is found: groups (adjusted Rand index against the planted groups)
//! and consensus statements (at the top of the consensus list), across densities.

use hiwar_opinion::groups::adjusted_rand_index;
use hiwar_opinion::synthetic::Planted;
use hiwar_opinion::{analyze_indexed, Options};

fn conversation(density: f64, seed: u64) -> Planted {
    Planted {
        participants: 900,
        statements: 150,
        groups: vec![0.5, 0.3, 0.2],
        consensus: 5,
        density,
        noise: 0.15,
        seed,
    }
}

/// ARI of the found groups against the planted ones, over the participants placed.
fn recovery(planted: &Planted) -> (f64, Vec<usize>, usize) {
    let generated = planted.generate();
    let hidden = vec![false; planted.statements];
    let analysis = analyze_indexed(&generated.votes, &hidden, None, &Options::default());
    let (found, truth): (Vec<usize>, Vec<usize>) =
        analysis.membership.iter().zip(&generated.truth).filter_map(|(m, t)| m.map(|m| (m, *t))).unzip();
    (adjusted_rand_index(&found, &truth), analysis.consensus_order[..planted.consensus].to_vec(), analysis.groups())
}

#[test]
fn planted_groups_are_recovered_at_20_percent_density() {
    for seed in [1, 2, 3] {
        let (ari, top, groups) = recovery(&conversation(0.2, seed));
        assert!(ari >= 0.9, "seed {seed}: ARI {ari:.3} with {groups} groups");
        let mut top = top;
        top.sort();
        assert_eq!(top, vec![0, 1, 2, 3, 4], "seed {seed}: the planted consensus statements lead");
    }
}

#[test]
fn planted_consensus_leads_at_every_density() {
    for density in [0.05, 0.1, 0.3, 0.5] {
        // At 5 % a participant votes on 15 of 300 statements.
        let planted = Planted { participants: 2000, statements: 300, ..conversation(density, 11) };
        let (ari, mut top, _) = recovery(&planted);
        eprintln!("density {density}: ARI {ari:.3}");
        top.sort();
        assert_eq!(top, vec![0, 1, 2, 3, 4], "density {density}");
        assert!(ari >= 0.6, "density {density}: ARI {ari:.3}");
    }
}

#[test]
fn an_update_keeps_group_labels() {
    let planted = conversation(0.2, 5);
    let generated = planted.generate();
    let hidden = vec![false; planted.statements];
    let options = Options::default();
    let first = analyze_indexed(&generated.votes, &hidden, None, &options);
    let second = analyze_indexed(&generated.votes, &hidden, Some(&first), &options);
    let same = first.membership.iter().zip(&second.membership).filter(|(a, b)| a == b).count();
    assert!(
        same as f64 >= 0.98 * first.membership.len() as f64,
        "{same} of {} kept their label",
        first.membership.len()
    );
}
