//! Polis's published method, for organisations moving from Polis that want the groups
//! they are used to, side by side with hiwar's own (`--method polis`).
//!
//! 1. Participants with at least `min(7, statements)` votes are placed.
//! 2. Each missing vote is filled with its statement's mean vote (mean imputation), the
//!    columns are centred, and the first two principal components are found by
//!    subspace iteration on the statements' covariance
//!    ([`space::principal_directions`], over the votes cast only).
//! 3. Each participant's projection is scaled by `√(statements / votes cast)`, Polis's
//!    correction for the pull of imputed means towards the centre.
//! 4. k-means with 100 base clusters on the projections; then the base clusters'
//!    centres, weighted by their sizes, are grouped by k-means for k = 2…5, and the k
//!    with the best silhouette (over the participants) is kept.
//!
//! Groups are reported in the same [`Grouping`] form as hiwar's, so repness, consensus
//! and the report follow from them unchanged.

use crate::groups::{kmeans, silhouette, Grouping};
use crate::matrix::Indexed;
use crate::space;

/// Base clusters, as Polis.
const BASE_CLUSTERS: usize = 100;
/// Groups tried, as Polis.
const MAX_GROUPS: usize = 5;

/// The Polis-method groups: each participant's group (`None` if not placed), the
/// grouping of the placed participants' 2-D projections, and every participant's
/// projection (Polis's map; those not placed are projected the same way).
pub fn groups(votes: &Indexed, min_votes: usize) -> (Vec<Option<usize>>, Grouping, Vec<[f64; 2]>) {
    let (np, ns) = (votes.participants, votes.statements);
    let enough = min_votes.min(ns).max(1);
    let placed: Vec<usize> = (0..np).filter(|&p| votes.participant_votes(p).len() >= enough).collect();
    let means: Vec<f64> = (0..ns)
        .map(|s| {
            let col = votes.statement_votes(s);
            if col.is_empty() {
                0.0
            } else {
                col.iter().map(|&(_, v)| v as f64).sum::<f64>() / col.len() as f64
            }
        })
        .collect();
    // Centred, a missing vote (imputed with its statement's mean) is 0: only the votes
    // cast enter the principal directions and the projections.
    let (components, _) = space::principal_directions(votes, &means, &placed, 2, 200);
    let map: Vec<[f64; 2]> = (0..np)
        .map(|p| {
            let row = votes.participant_votes(p);
            let scale = (ns as f64 / row.len().max(1) as f64).sqrt();
            let along = |c: &[f64]| {
                scale * row.iter().map(|&(s, v)| (v as f64 - means[s as usize]) * c[s as usize]).sum::<f64>()
            };
            [along(&components[0]), components.get(1).map_or(0.0, |c| along(c))]
        })
        .collect();
    let points: Vec<f64> = placed.iter().flat_map(|&p| map[p]).collect();
    let grouping = cluster(&points);
    (crate::membership_of(&placed, &grouping, np), grouping, map)
}

/// Base clusters, then the best k of 2…5 over their size-weighted centres.
fn cluster(points: &[f64]) -> Grouping {
    let n = points.len() / 2;
    if n < 4 {
        return Grouping { labels: vec![0; n], centroids: centre(points, &vec![0; n], 1), dim: 2, silhouette: 0.0 };
    }
    let base_k = BASE_CLUSTERS.min(n);
    let (base_labels, base_centres) = kmeans(points, 2, base_k, 1, 0x706f6c6973);
    let sizes: Vec<f64> = (0..base_k).map(|b| base_labels.iter().filter(|&&l| l == b).count() as f64).collect();
    let mut best: Option<Grouping> = None;
    for k in 2..=MAX_GROUPS.min(base_k) {
        let group_of_base = weighted_kmeans(&base_centres, &sizes, k);
        let labels: Vec<usize> = base_labels.iter().map(|&b| group_of_base[b]).collect();
        let score = silhouette(points, 2, &labels, k);
        if best.as_ref().is_none_or(|b| score > b.silhouette) {
            best = Some(Grouping { centroids: centre(points, &labels, k), labels, dim: 2, silhouette: score });
        }
    }
    best.expect("k = 2 is tried")
}

fn centre(points: &[f64], labels: &[usize], k: usize) -> Vec<f64> {
    let mut sums = vec![0.0; k * 2];
    let mut counts = vec![0.0; k];
    for (i, &g) in labels.iter().enumerate() {
        counts[g] += 1.0;
        sums[g * 2] += points[i * 2];
        sums[g * 2 + 1] += points[i * 2 + 1];
    }
    sums.iter().enumerate().map(|(j, s)| if counts[j / 2] > 0.0 { s / counts[j / 2] } else { 0.0 }).collect()
}

/// Lloyd's k-means on weighted 2-D points, from the unweighted k-means++ solution.
fn weighted_kmeans(points: &[f64], weights: &[f64], k: usize) -> Vec<usize> {
    let (mut labels, mut centres) = kmeans(points, 2, k, 4, 0x6b6d65616e73);
    for _ in 0..100 {
        let mut sums = vec![0.0; k * 2];
        let mut totals = vec![0.0; k];
        for (i, &g) in labels.iter().enumerate() {
            totals[g] += weights[i];
            sums[g * 2] += weights[i] * points[i * 2];
            sums[g * 2 + 1] += weights[i] * points[i * 2 + 1];
        }
        for g in 0..k {
            if totals[g] > 0.0 {
                centres[g * 2] = sums[g * 2] / totals[g];
                centres[g * 2 + 1] = sums[g * 2 + 1] / totals[g];
            }
        }
        let mut changed = false;
        for (i, label) in labels.iter_mut().enumerate() {
            let p = &points[i * 2..i * 2 + 2];
            let g = (0..k)
                .min_by(|&a, &b| {
                    let da = (p[0] - centres[a * 2]).powi(2) + (p[1] - centres[a * 2 + 1]).powi(2);
                    let db = (p[0] - centres[b * 2]).powi(2) + (p[1] - centres[b * 2 + 1]).powi(2);
                    da.total_cmp(&db)
                })
                .expect("k ≥ 1");
            changed |= *label != g;
            *label = g;
        }
        if !changed {
            break;
        }
    }
    labels
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::groups::adjusted_rand_index;
    use crate::synthetic::Planted;

    #[test]
    fn the_polis_method_finds_planted_groups() {
        let planted = Planted {
            participants: 900,
            statements: 50,
            groups: vec![2.0, 1.0],
            consensus: 5,
            density: 0.5,
            noise: 0.1,
            seed: 11,
        }
        .generate();
        let (membership, grouping, map) = groups(&planted.votes, 7);
        assert_eq!(grouping.k(), 2, "{grouping:?}");
        let (found, truth): (Vec<usize>, Vec<usize>) =
            membership.iter().zip(&planted.truth).filter_map(|(m, t)| m.map(|m| (m, *t))).unzip();
        assert!(adjusted_rand_index(&found, &truth) > 0.9);
        // The map is where the groups were formed: each centroid is its members' mean there.
        assert_eq!(map.len(), 900);
        for g in 0..2 {
            let members: Vec<[f64; 2]> = (0..900).filter(|&p| membership[p] == Some(g)).map(|p| map[p]).collect();
            for axis in 0..2 {
                let mean = members.iter().map(|m| m[axis]).sum::<f64>() / members.len() as f64;
                assert!((mean - grouping.centroid(g)[axis]).abs() < 1e-9);
            }
        }
    }
}
