//! Opinion groups: k-means in the opinion space for a given number of groups (the
//! analysis chooses it by held-out votes, [`crate::evaluate::choose_k`]), and labels kept
//! stable across updates by matching each new group to the nearest previous centroid.

use rand::{Rng, SeedableRng};

/// Most groups reported (as in Polis).
pub const MAX_GROUPS: usize = 5;
/// Points used to estimate the silhouette of large populations.
const SILHOUETTE_SAMPLE: usize = 2_000;
/// Points k-means runs on; larger populations are sampled evenly.
const KMEANS_SAMPLE: usize = 20_000;

/// Groups of points: each point's label, and each label's centroid.
#[derive(Debug, Clone, PartialEq)]
pub struct Grouping {
    pub labels: Vec<usize>,
    /// `k × dim`, row-major.
    pub centroids: Vec<f64>,
    pub dim: usize,
    pub silhouette: f64,
}

impl Grouping {
    pub fn k(&self) -> usize {
        self.centroids.len() / self.dim.max(1)
    }
    pub fn centroid(&self, g: usize) -> &[f64] {
        &self.centroids[g * self.dim..(g + 1) * self.dim]
    }
    /// The group whose centroid is nearest `point`.
    pub fn nearest(&self, point: &[f64]) -> usize {
        nearest(&self.centroids, self.dim, point).0
    }
    pub fn sizes(&self) -> Vec<usize> {
        let mut sizes = vec![0; self.k()];
        for &l in &self.labels {
            sizes[l] += 1;
        }
        sizes
    }
}

/// The centroid of all `points`.
fn mean(points: &[f64], dim: usize) -> Vec<f64> {
    let n = (points.len() / dim.max(1)).max(1) as f64;
    (0..dim).map(|j| points.iter().skip(j).step_by(dim).sum::<f64>() / n).collect()
}

fn distance2(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}

fn nearest(centroids: &[f64], dim: usize, point: &[f64]) -> (usize, f64) {
    centroids
        .chunks(dim)
        .enumerate()
        .map(|(g, c)| (g, distance2(c, point)))
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .unwrap_or((0, 0.0))
}

/// Lloyd's k-means from k-means++ seeds, best of `restarts` by within-group squared distance.
pub fn kmeans(points: &[f64], dim: usize, k: usize, restarts: usize, seed: u64) -> (Vec<usize>, Vec<f64>) {
    let n = points.len() / dim;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut best: Option<(f64, Vec<usize>, Vec<f64>)> = None;
    for _ in 0..restarts.max(1) {
        // k-means++: each next seed with probability ∝ squared distance to the nearest seed.
        let mut centroids: Vec<f64> = points[rng.gen_range(0..n) * dim..][..dim].to_vec();
        let mut d2: Vec<f64> = (0..n).map(|i| distance2(&points[i * dim..(i + 1) * dim], &centroids)).collect();
        while centroids.len() < k * dim {
            let total: f64 = d2.iter().sum();
            let next = if total <= 0.0 {
                rng.gen_range(0..n)
            } else {
                let mut r = rng.gen::<f64>() * total;
                d2.iter()
                    .position(|&d| {
                        r -= d;
                        r <= 0.0
                    })
                    .unwrap_or(n - 1)
            };
            let c = points[next * dim..(next + 1) * dim].to_vec();
            for (i, d) in d2.iter_mut().enumerate() {
                *d = d.min(distance2(&points[i * dim..(i + 1) * dim], &c));
            }
            centroids.extend(c);
        }
        let mut labels = vec![0usize; n];
        for _ in 0..100 {
            let mut changed = false;
            for i in 0..n {
                let (g, _) = nearest(&centroids, dim, &points[i * dim..(i + 1) * dim]);
                changed |= labels[i] != g;
                labels[i] = g;
            }
            let mut sums = vec![0.0; k * dim];
            let mut counts = vec![0usize; k];
            for i in 0..n {
                counts[labels[i]] += 1;
                for j in 0..dim {
                    sums[labels[i] * dim + j] += points[i * dim + j];
                }
            }
            for g in 0..k {
                if counts[g] > 0 {
                    for j in 0..dim {
                        centroids[g * dim + j] = sums[g * dim + j] / counts[g] as f64;
                    }
                }
            }
            if !changed {
                break;
            }
        }
        let inertia: f64 =
            (0..n).map(|i| distance2(&points[i * dim..(i + 1) * dim], &centroids[labels[i] * dim..][..dim])).sum();
        if best.as_ref().is_none_or(|b| inertia < b.0) {
            best = Some((inertia, labels, centroids));
        }
    }
    let (_, labels, centroids) = best.expect("at least one restart");
    (labels, centroids)
}

/// Mean silhouette of a labelling, over an evenly spaced sample of at most 2,000 points.
pub fn silhouette(points: &[f64], dim: usize, labels: &[usize], k: usize) -> f64 {
    let n = labels.len();
    if n < 2 || k < 2 {
        return 0.0;
    }
    let step = n.div_ceil(SILHOUETTE_SAMPLE).max(1);
    let sample: Vec<usize> = (0..n).step_by(step).collect();
    let mut total = 0.0;
    for &i in &sample {
        let mut sum = vec![0.0; k];
        let mut count = vec![0usize; k];
        for &j in &sample {
            if i != j {
                sum[labels[j]] += distance2(&points[i * dim..(i + 1) * dim], &points[j * dim..(j + 1) * dim]).sqrt();
                count[labels[j]] += 1;
            }
        }
        let own = labels[i];
        if count[own] == 0 {
            continue; // a singleton scores 0
        }
        let a = sum[own] / count[own] as f64;
        let b = (0..k)
            .filter(|&g| g != own && count[g] > 0)
            .map(|g| sum[g] / count[g] as f64)
            .fold(f64::INFINITY, f64::min);
        if b.is_finite() && a.max(b) > 0.0 {
            total += (b - a) / a.max(b);
        }
    }
    total / sample.len() as f64
}

/// Groups `points` into `k` groups (fewer if there are fewer points), labels matched
/// to `previous` centroids where given; the silhouette is reported, not used.
pub fn group(points: &[f64], dim: usize, k: usize, previous: Option<&Grouping>) -> Grouping {
    let n = points.len() / dim.max(1);
    if n < 2 || k < 2 {
        let centroids = if n == 0 { Vec::new() } else { mean(points, dim) };
        return Grouping { labels: vec![0; n], centroids, dim, silhouette: 0.0 };
    }
    let k = k.min(n);
    // Large populations: centroids from an evenly spaced sample, then everyone is
    // assigned to the nearest (k-means on 20,000 points finds the same few centres).
    let step = n.div_ceil(KMEANS_SAMPLE).max(1);
    let sample: Vec<f64> = points.chunks(dim).step_by(step).flatten().copied().collect();
    let (_, mut centroids) = kmeans(&sample, dim, k, 4, 0x0067_726f_7570 + k as u64);
    let mut labels: Vec<usize> = points.chunks(dim).map(|p| nearest(&centroids, dim, p).0).collect();
    let s = silhouette(points, dim, &labels, k);
    if let Some(previous) = previous {
        let order = match_labels(&centroids, dim, k, previous);
        let mut relabelled = vec![0.0; k * dim];
        for g in 0..k {
            relabelled[order[g] * dim..(order[g] + 1) * dim].copy_from_slice(&centroids[g * dim..(g + 1) * dim]);
        }
        centroids = relabelled;
        for l in labels.iter_mut() {
            *l = order[*l];
        }
    }
    Grouping { labels, centroids, dim, silhouette: s }
}

/// For each new group, its label: the previous label of the nearest previous centroid
/// (minimum total squared distance over all assignments; k ≤ 5), new labels for extra groups.
fn match_labels(centroids: &[f64], dim: usize, k: usize, previous: &Grouping) -> Vec<usize> {
    let old = previous.k();
    let labels_available = k.max(old);
    let mut best: Option<(f64, Vec<usize>)> = None;
    let mut perm: Vec<usize> = (0..labels_available).collect();
    permutations(&mut perm, 0, &mut |p| {
        let cost: f64 =
            (0..k)
                .map(|g| {
                    if p[g] < old {
                        distance2(&centroids[g * dim..(g + 1) * dim], previous.centroid(p[g]))
                    } else {
                        1e6
                    }
                })
                .sum();
        if best.as_ref().is_none_or(|b| cost < b.0) {
            best = Some((cost, p[..k].to_vec()));
        }
    });
    let order = best.expect("one permutation").1;
    // Labels must be 0..k: compact any label ≥ k onto the unused ones below k.
    let mut unused: Vec<usize> = (0..k).filter(|l| !order.contains(l)).collect();
    order.into_iter().map(|l| if l < k { l } else { unused.pop().expect("as many unused as too large") }).collect()
}

/// Calls `f` with every ordering of `items` (from position `start` on).
pub(crate) fn permutations(items: &mut [usize], start: usize, f: &mut impl FnMut(&[usize])) {
    if start == items.len() {
        f(items);
        return;
    }
    for i in start..items.len() {
        items.swap(start, i);
        permutations(items, start + 1, f);
        items.swap(start, i);
    }
}

/// The adjusted Rand index of two labellings of the same points (1 = identical
/// partitions, about 0 = as alike as chance).
pub fn adjusted_rand_index(a: &[usize], b: &[usize]) -> f64 {
    assert_eq!(a.len(), b.len(), "two labellings of the same points");
    let (ka, kb) = (a.iter().max().map_or(0, |m| m + 1), b.iter().max().map_or(0, |m| m + 1));
    let mut table = vec![0u64; ka * kb];
    for (&x, &y) in a.iter().zip(b) {
        table[x * kb + y] += 1;
    }
    let pairs = |n: u64| (n * n.saturating_sub(1)) as f64 / 2.0;
    let index: f64 = table.iter().map(|&n| pairs(n)).sum();
    let rows: f64 = (0..ka).map(|x| pairs((0..kb).map(|y| table[x * kb + y]).sum())).sum();
    let cols: f64 = (0..kb).map(|y| pairs((0..ka).map(|x| table[x * kb + y]).sum())).sum();
    let total = pairs(a.len() as u64);
    let expected = rows * cols / total.max(1.0);
    let max = (rows + cols) / 2.0;
    if (max - expected).abs() < 1e-12 {
        return 1.0;
    }
    (index - expected) / (max - expected)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blobs(centres: &[(f64, f64)], per: usize) -> (Vec<f64>, Vec<usize>) {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        let mut points = Vec::new();
        let mut truth = Vec::new();
        for (g, (x, y)) in centres.iter().enumerate() {
            for _ in 0..per {
                points.push(x + rng.gen_range(-0.3..0.3));
                points.push(y + rng.gen_range(-0.3..0.3));
                truth.push(g);
            }
        }
        (points, truth)
    }

    #[test]
    fn three_blobs_make_three_groups() {
        let (points, truth) = blobs(&[(0.0, 0.0), (3.0, 0.0), (0.0, 3.0)], 50);
        let g = group(&points, 2, 3, None);
        assert_eq!(g.k(), 3);
        assert!((adjusted_rand_index(&g.labels, &truth) - 1.0).abs() < 1e-9);
    }

    #[test]
    fn labels_stay_with_their_group_across_updates() {
        let (points, _) = blobs(&[(0.0, 0.0), (3.0, 0.0), (0.0, 3.0)], 50);
        let first = group(&points, 2, 3, None);
        // The same people, listed in another order, and slightly moved.
        let mut moved: Vec<f64> = Vec::new();
        let order: Vec<usize> = (0..150).rev().collect();
        for &i in &order {
            moved.push(points[2 * i] + 0.05);
            moved.push(points[2 * i + 1]);
        }
        let second = group(&moved, 2, 3, Some(&first));
        for (new_i, &old_i) in order.iter().enumerate() {
            assert_eq!(second.labels[new_i], first.labels[old_i]);
        }
    }

    #[test]
    fn adjusted_rand_index_known_values() {
        assert!((adjusted_rand_index(&[0, 0, 1, 1], &[1, 1, 0, 0]) - 1.0).abs() < 1e-12);
        let ari = adjusted_rand_index(&[0, 0, 0, 1, 1, 1], &[0, 0, 1, 1, 2, 2]);
        assert!((ari - 0.24242424).abs() < 1e-6, "{ari}"); // textbook example
    }
}
