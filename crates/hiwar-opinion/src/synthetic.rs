//! Generated conversations with planted structure, for tests and benchmarks: groups
//! whose members vote alike, statements that divide them, and planted consensus
//! statements that every group agrees with.

use rand::{Rng, SeedableRng};

use crate::matrix::Indexed;

/// The shape of a generated conversation.
#[derive(Debug, Clone)]
pub struct Planted {
    pub participants: usize,
    pub statements: usize,
    /// Relative group sizes.
    pub groups: Vec<f64>,
    /// The first `consensus` statements are agreed with by every group.
    pub consensus: usize,
    /// Probability that a participant voted on a given statement.
    pub density: f64,
    /// Probability of a vote against one's group's leaning.
    pub noise: f64,
    pub seed: u64,
}

/// A generated conversation: the votes, each participant's planted group.
pub struct Generated {
    pub votes: Indexed,
    pub truth: Vec<usize>,
}

impl Planted {
    pub fn generate(&self) -> Generated {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(self.seed);
        let total: f64 = self.groups.iter().sum();
        let truth: Vec<usize> = (0..self.participants)
            .map(|_| {
                let mut r = rng.gen::<f64>() * total;
                self.groups
                    .iter()
                    .position(|w| {
                        r -= w;
                        r <= 0.0
                    })
                    .unwrap_or(self.groups.len() - 1)
            })
            .collect();
        // Each divisive statement is favoured by a random non-empty, proper subset of
        // groups; with a single group (no structure planted), by everyone or no one.
        let k = self.groups.len();
        let leaning: Vec<Vec<bool>> = (0..self.statements)
            .map(|s| {
                if s < self.consensus {
                    return vec![true; k];
                }
                loop {
                    let l: Vec<bool> = (0..k).map(|_| rng.gen()).collect();
                    if k == 1 || (l.iter().any(|x| *x) && !l.iter().all(|x| *x)) {
                        return l;
                    }
                }
            })
            .collect();
        let mut triples =
            Vec::with_capacity((self.participants as f64 * self.statements as f64 * self.density) as usize);
        let skip = (1.0 - self.density).ln();
        for (p, &g) in truth.iter().enumerate() {
            // Geometric skips: cost proportional to the votes cast, not to the matrix.
            let mut s = 0usize;
            loop {
                if self.density < 1.0 {
                    let u: f64 = rng.gen::<f64>().max(f64::MIN_POSITIVE);
                    s += (u.ln() / skip).floor() as usize;
                }
                if s >= self.statements {
                    break;
                }
                let r: f64 = rng.gen();
                let vote = if r < 0.1 {
                    0
                } else if (rng.gen::<f64>() < self.noise) != leaning[s][g] {
                    1
                } else {
                    -1
                };
                triples.push((p as u32, s as u32, vote));
                s += 1;
            }
        }
        Generated { votes: Indexed::from_triples(self.participants, self.statements, &triples), truth }
    }
}
