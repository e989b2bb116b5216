//! The opinion space: a low-rank model fitted to the votes cast, and only those.
//!
//! Model: `x_ps ≈ m_s + u_p · v_s` for every observed vote `x_ps ∈ {+1, 0, −1}` of
//! participant `p` on statement `s`, with `u_p, v_s ∈ ℝ^d`. Regularised alternating
//! least squares minimises
//!
//! `Σ_observed (x_ps − m_s − u_p·v_s)² + λ (Σ_p |u_p|² + Σ_s |v_s|²) + λ_m Σ_s m_s²`:
//!
//! with `V` and `m` fixed, each `u_p` solves the `d × d` system
//! `(Σ_s v_s v_sᵀ + λI) u_p = Σ_s (x_ps − m_s) v_s` over `p`'s votes; with `U` fixed, each
//! `(m_s, v_s)` solves the `(d+1) × (d+1)` system over `s`'s votes with features
//! `(1, u_p)`. Each half-step cannot increase the objective. A missing vote contributes
//! nothing — unlike Polis, which fills it with the statement's mean and so pulls
//! participants who voted little towards the centre of the map by construction; here
//! the ridge term does that, in proportion to how little they voted.
//!
//! The result is rotated so the axes are the principal directions of the participants'
//! coordinates (first axis the widest spread), which leaves every product `u_p · v_s`
//! unchanged. Warm start: passing the previous fit's `V` and `m` makes an update after
//! a few thousand new votes converge in a few sweeps.

use rand::{Rng, SeedableRng};

use crate::matrix::Indexed;

/// Ridge weight on the factors.
const LAMBDA: f64 = 1.0;
/// Ridge weight on the statement means.
const LAMBDA_MEAN: f64 = 1.0;

/// A fitted opinion space.
#[derive(Debug, Clone)]
pub struct Space {
    pub dim: usize,
    /// `participants × dim`, row-major.
    pub participants: Vec<f64>,
    /// `statements × dim`, row-major.
    pub statements: Vec<f64>,
    /// Each statement's mean vote `m_s`.
    pub means: Vec<f64>,
}

impl Space {
    pub fn participant(&self, p: usize) -> &[f64] {
        &self.participants[p * self.dim..(p + 1) * self.dim]
    }
    pub fn statement(&self, s: usize) -> &[f64] {
        &self.statements[s * self.dim..(s + 1) * self.dim]
    }
}

/// Solves `A x = b` for a small symmetric positive-definite `A` (row-major `n × n`) by
/// Cholesky; `A` is regularised, so it is always positive definite.
fn solve_spd(a: &mut [f64], b: &mut [f64], n: usize) {
    for j in 0..n {
        let mut d = a[j * n + j];
        for k in 0..j {
            d -= a[j * n + k] * a[j * n + k];
        }
        let d = d.max(1e-12).sqrt();
        a[j * n + j] = d;
        for i in j + 1..n {
            let mut s = a[i * n + j];
            for k in 0..j {
                s -= a[i * n + k] * a[j * n + k];
            }
            a[i * n + j] = s / d;
        }
    }
    for i in 0..n {
        let mut s = b[i];
        for k in 0..i {
            s -= a[i * n + k] * b[k];
        }
        b[i] = s / a[i * n + i];
    }
    for i in (0..n).rev() {
        let mut s = b[i];
        for k in i + 1..n {
            s -= a[k * n + i] * b[k];
        }
        b[i] = s / a[i * n + i];
    }
}

/// Adds one observation with features `f` and target `t` to the normal equations
/// (`a += f fᵀ`, lower triangle only; `b += t f`).
fn accumulate(a: &mut [f64], b: &mut [f64], f: &[f64], t: f64) {
    let n = f.len();
    for i in 0..n {
        b[i] += t * f[i];
        for j in 0..=i {
            a[i * n + j] += f[i] * f[j];
        }
    }
}

/// Completes the upper triangle from the lower one and solves; the answer is left in `b`.
fn solve_normal_equations(a: &mut [f64], b: &mut [f64], n: usize) {
    for i in 0..n {
        for j in 0..i {
            a[j * n + i] = a[i * n + j];
        }
    }
    solve_spd(a, b, n);
}

/// Runs `f(index, row)` over the rows of `out` (each `width` long) on all cores.
fn par_rows(out: &mut [f64], width: usize, f: impl Fn(usize, &mut [f64]) + Sync) {
    let rows = out.len() / width.max(1);
    let workers = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1).min(rows.max(1));
    let per = rows.div_ceil(workers).max(1);
    std::thread::scope(|scope| {
        for (chunk_index, chunk) in out.chunks_mut(per * width).enumerate() {
            let f = &f;
            scope.spawn(move || {
                for (i, row) in chunk.chunks_mut(width).enumerate() {
                    f(chunk_index * per + i, row);
                }
            });
        }
    });
}

/// The first `count` principal directions of the centred vote matrix `X` over the
/// participants `rows` — `X_ps = x_ps − means_s` where `p` voted on `s` and 0 where they
/// did not (a missing vote counted as its statement's mean, Polis's imputation) — as
/// unit vectors over the statements, with the singular values `σ_i` of `X` along them.
///
/// Subspace iteration: `V ← orth(Xᵀ(X V))`, Gram–Schmidt each round, until no
/// direction moves (`1 − |⟨v_new, v_old⟩| < 10⁻¹²`) or after `iterations` rounds; then
/// `|Xᵀ X v_i| = σ_i²`. `X` is never formed: each round costs `O(votes × count)`.
pub fn principal_directions(
    votes: &Indexed,
    means: &[f64],
    rows: &[usize],
    count: usize,
    iterations: usize,
) -> (Vec<Vec<f64>>, Vec<f64>) {
    let ns = votes.statements;
    let mut directions: Vec<Vec<f64>> =
        (0..count).map(|c| (0..ns).map(|j| 1.0 + ((j * 7 + c * 13) % 11) as f64 / 11.0).collect()).collect();
    orthonormalise(&mut directions);
    let mut sigma = vec![0.0; count];
    for _ in 0..iterations.max(1) {
        let mut next = vec![vec![0.0; ns]; count];
        for &p in rows {
            let row = votes.participant_votes(p);
            for (v, out) in directions.iter().zip(next.iter_mut()) {
                let y: f64 = row.iter().map(|&(s, x)| (x as f64 - means[s as usize]) * v[s as usize]).sum();
                for &(s, x) in row {
                    out[s as usize] += (x as f64 - means[s as usize]) * y;
                }
            }
        }
        let norms = orthonormalise(&mut next);
        let settled = next
            .iter()
            .zip(&directions)
            .all(|(a, b)| 1.0 - a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>().abs() < 1e-12);
        sigma = norms.iter().map(|n| n.sqrt()).collect();
        directions = next;
        if settled {
            break;
        }
    }
    (directions, sigma)
}

/// Gram–Schmidt in place; returns each vector's norm after removing the earlier ones
/// (a vector with nothing left stays zero).
fn orthonormalise(vectors: &mut [Vec<f64>]) -> Vec<f64> {
    let mut norms = Vec::with_capacity(vectors.len());
    for i in 0..vectors.len() {
        let (done, rest) = vectors.split_at_mut(i);
        let v = &mut rest[0];
        for u in done.iter() {
            let along: f64 = v.iter().zip(u.iter()).map(|(a, b)| a * b).sum();
            v.iter_mut().zip(u.iter()).for_each(|(a, b)| *a -= along * b);
        }
        let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
        if norm > 0.0 {
            v.iter_mut().for_each(|x| *x /= norm);
        }
        norms.push(norm);
    }
    norms
}

/// Fits the space with `sweeps` alternating sweeps, from `warm` if given (its
/// statements and means). A cold fit starts from the principal directions of the
/// mean-imputed votes, each scaled by `√σ` (the balanced split of a rank-`d`
/// approximation `X ≈ Σ σ_i a_i e_iᵀ` into `u = √σ a`, `v = √σ e`): on sparse votes
/// alternating least squares from small random factors needs several times the sweeps
/// to get as far. New statements in a warm fit start small and random.
pub fn fit(votes: &Indexed, dim: usize, sweeps: usize, warm: Option<&Space>) -> Space {
    let (np, ns) = (votes.participants, votes.statements);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0x0068_6977_6172);
    let mut statements: Vec<f64> = (0..ns * dim).map(|_| rng.gen_range(-0.1..0.1)).collect();
    let mut means: Vec<f64> = (0..ns)
        .map(|s| {
            let col = votes.statement_votes(s);
            col.iter().map(|&(_, v)| v as f64).sum::<f64>() / (col.len() as f64 + LAMBDA_MEAN)
        })
        .collect();
    match warm.filter(|w| w.dim == dim) {
        Some(w) => {
            let known = w.means.len().min(ns);
            statements[..known * dim].copy_from_slice(&w.statements[..known * dim]);
            means[..known].copy_from_slice(&w.means[..known]);
        }
        None => {
            let everyone: Vec<usize> = (0..np).collect();
            let (directions, sigma) = principal_directions(votes, &means, &everyone, dim, 30);
            for (i, (e, sigma)) in directions.iter().zip(&sigma).enumerate() {
                if *sigma > 0.0 {
                    for s in 0..ns {
                        statements[s * dim + i] = sigma.sqrt() * e[s];
                    }
                }
            }
        }
    }
    let mut participants = vec![0.0; np * dim];
    for _ in 0..sweeps.max(1) {
        par_rows(&mut participants, dim, |p, u| {
            let mut a = vec![0.0; dim * dim];
            let mut b = vec![0.0; dim];
            for i in 0..dim {
                a[i * dim + i] = LAMBDA;
            }
            for &(s, x) in votes.participant_votes(p) {
                let v = &statements[s as usize * dim..(s as usize + 1) * dim];
                accumulate(&mut a, &mut b, v, x as f64 - means[s as usize]);
            }
            solve_normal_equations(&mut a, &mut b, dim);
            u.copy_from_slice(&b);
        });
        let width = dim + 1;
        let mut joint = vec![0.0; ns * width];
        par_rows(&mut joint, width, |s, out| {
            let mut a = vec![0.0; width * width];
            let mut b = vec![0.0; width];
            a[0] = LAMBDA_MEAN;
            for i in 1..width {
                a[i * width + i] = LAMBDA;
            }
            let mut f = vec![1.0; width];
            for &(p, x) in votes.statement_votes(s) {
                f[1..].copy_from_slice(&participants[p as usize * dim..(p as usize + 1) * dim]);
                accumulate(&mut a, &mut b, &f, x as f64);
            }
            solve_normal_equations(&mut a, &mut b, width);
            out.copy_from_slice(&b);
        });
        for s in 0..ns {
            means[s] = joint[s * width];
            statements[s * dim..(s + 1) * dim].copy_from_slice(&joint[s * width + 1..(s + 1) * width]);
        }
    }
    let mut space = Space { dim, participants, statements, means };
    rotate_to_principal_axes(&mut space);
    space
}

/// Rotates both factor matrices by the eigenvectors of the participants' covariance
/// (Jacobi), widest spread first; products `u·v` are unchanged.
fn rotate_to_principal_axes(space: &mut Space) {
    let d = space.dim;
    let n = space.participants.len() / d.max(1);
    if n == 0 || d < 2 {
        return;
    }
    let mut mean = vec![0.0; d];
    for row in space.participants.chunks(d) {
        for (m, x) in mean.iter_mut().zip(row) {
            *m += x / n as f64;
        }
    }
    let mut c = vec![0.0; d * d];
    for p in 0..n {
        for i in 0..d {
            for j in 0..d {
                c[i * d + j] += (space.participants[p * d + i] - mean[i]) * (space.participants[p * d + j] - mean[j]);
            }
        }
    }
    // Jacobi eigenvalue iteration on the small symmetric matrix.
    let mut vecs = vec![0.0; d * d];
    for i in 0..d {
        vecs[i * d + i] = 1.0;
    }
    for _ in 0..50 {
        for p in 0..d {
            for q in p + 1..d {
                if c[p * d + q].abs() < 1e-15 {
                    continue;
                }
                let theta = (c[q * d + q] - c[p * d + p]) / (2.0 * c[p * d + q]);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let (cs, sn) = (1.0 / (t * t + 1.0).sqrt(), t / (t * t + 1.0).sqrt());
                for k in 0..d {
                    let (ckp, ckq) = (c[k * d + p], c[k * d + q]);
                    c[k * d + p] = cs * ckp - sn * ckq;
                    c[k * d + q] = sn * ckp + cs * ckq;
                }
                for k in 0..d {
                    let (cpk, cqk) = (c[p * d + k], c[q * d + k]);
                    c[p * d + k] = cs * cpk - sn * cqk;
                    c[q * d + k] = sn * cpk + cs * cqk;
                }
                for k in 0..d {
                    let (vkp, vkq) = (vecs[k * d + p], vecs[k * d + q]);
                    vecs[k * d + p] = cs * vkp - sn * vkq;
                    vecs[k * d + q] = sn * vkp + cs * vkq;
                }
            }
        }
    }
    let mut order: Vec<usize> = (0..d).collect();
    order.sort_by(|&a, &b| c[b * d + b].total_cmp(&c[a * d + a]));
    let rotate = |rows: &mut [f64]| {
        let mut out = vec![0.0; d];
        for row in rows.chunks_mut(d) {
            for (o, &axis) in order.iter().enumerate() {
                out[o] = (0..d).map(|k| row[k] * vecs[k * d + axis]).sum();
            }
            row.copy_from_slice(&out);
        }
    };
    rotate(&mut space.participants);
    rotate(&mut space.statements);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn principal_directions_match_the_dense_covariance() {
        // A small matrix with gaps; the dense XᵀX is formed here and only here.
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        let (np, ns) = (40, 7);
        let mut triples = Vec::new();
        for p in 0..np {
            for s in 0..ns {
                if rng.gen::<f64>() < 0.7 {
                    let lean = if (p % 3 == 0) == (s % 2 == 0) { 1 } else { -1 };
                    triples.push((p as u32, s as u32, if rng.gen::<f64>() < 0.8 { lean } else { -lean }));
                }
            }
        }
        let votes = Indexed::from_triples(np, ns, &triples);
        let means: Vec<f64> = (0..ns)
            .map(|s| {
                votes.statement_votes(s).iter().map(|&(_, v)| v as f64).sum::<f64>()
                    / votes.statement_votes(s).len() as f64
            })
            .collect();
        let rows: Vec<usize> = (0..np).filter(|p| p % 5 != 0).collect();
        let (directions, sigma) = principal_directions(&votes, &means, &rows, 2, 500);
        let mut xtx = vec![0.0; ns * ns];
        for &p in &rows {
            let mut x = vec![0.0; ns];
            for &(s, v) in votes.participant_votes(p) {
                x[s as usize] = v as f64 - means[s as usize];
            }
            for i in 0..ns {
                for j in 0..ns {
                    xtx[i * ns + j] += x[i] * x[j];
                }
            }
        }
        for (e, sigma) in directions.iter().zip(&sigma) {
            // XᵀX e = σ² e, and e is a unit vector.
            let norm: f64 = e.iter().map(|x| x * x).sum();
            assert!((norm - 1.0).abs() < 1e-9);
            for i in 0..ns {
                let product: f64 = (0..ns).map(|j| xtx[i * ns + j] * e[j]).sum();
                assert!(
                    (product - sigma * sigma * e[i]).abs() < 1e-5 * sigma * sigma,
                    "{product} vs {}",
                    sigma * sigma * e[i]
                );
            }
        }
        assert!(sigma[0] >= sigma[1]);
        let across: f64 = directions[0].iter().zip(&directions[1]).map(|(a, b)| a * b).sum();
        assert!(across.abs() < 1e-9);
    }

    #[test]
    fn cholesky_solves_small_systems() {
        let mut a = vec![4.0, 2.0, 2.0, 3.0];
        let mut b = vec![2.0, 1.0];
        solve_spd(&mut a, &mut b, 2);
        assert!((b[0] - 0.5).abs() < 1e-12 && b[1].abs() < 1e-12, "{b:?}");
    }

    #[test]
    fn two_camps_land_on_opposite_sides_and_products_survive_rotation() {
        // 40 participants: half agree with statements 0..5 and disagree with 5..10, half the reverse.
        let mut triples = Vec::new();
        for p in 0..40u32 {
            for s in 0..10u32 {
                if (p + s) % 3 == 0 {
                    continue; // missing
                }
                let camp = p < 20;
                let v = if (s < 5) == camp { 1 } else { -1 };
                triples.push((p, s, v));
            }
        }
        let votes = Indexed::from_triples(40, 10, &triples);
        let space = fit(&votes, 2, 30, None);
        let side = |p: usize| space.participant(p)[0].signum();
        assert!((0..20).all(|p| side(p) == side(0)));
        assert!((20..40).all(|p| side(p) == -side(0)));
        // The model reproduces the votes it was fitted to.
        let predict = |p: usize, s: usize| {
            space.means[s] + space.participant(p).iter().zip(space.statement(s)).map(|(a, b)| a * b).sum::<f64>()
        };
        let correct = triples.iter().filter(|&&(p, s, v)| predict(p as usize, s as usize).signum() == v as f64).count();
        assert_eq!(correct, triples.len());
    }
}
