//! The transparent lottery (Flanigan, Kehne, Procaccia, NeurIPS 2021): the leximin
//! distribution is rounded to a published list of `m` panels, each volunteer's
//! probability becoming (panels containing them)/m; the manifest is published before
//! the public random value (the beacon) exists; then
//! `seed = SHA-256(manifest hash ‖ beacon)` picks one panel by rejection sampling, which
//! anyone can redo.
//!
//! Rounding: panel compositions get `m` slots by largest remainder on `λ·m`, then slots
//! move between them so that no profile falls further below its share than it must
//! (`rebalance`); then, in
//! each profile, seats are handed to its members in turn (round robin over the `m`
//! panels), so every member of a profile appears in ⌊T/c⌋ or ⌈T/c⌉ panels, where `T` is
//! the profile's seats over all panels and `c` its size.

use std::collections::{BTreeSet, HashMap};

use hiwar_record::selection;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::leximin::{Distribution, Instance};
use crate::pool::{panel_violation, Pool, Quota, Quotas};
use crate::Error;

/// Manifest format version.
pub const MANIFEST_VERSION: u64 = 1;

/// Rounds `distribution` to `m` panels of volunteer indices.
pub fn round(instance: &Instance, distribution: &Distribution, m: usize) -> Vec<Vec<usize>> {
    // Largest remainder: floor(λ m) slots each, then the largest fractional parts.
    let mut slots: Vec<(usize, f64)> =
        distribution.panels.iter().map(|(_, l)| ((l * m as f64).floor() as usize, l * m as f64)).collect();
    let assigned: usize = slots.iter().map(|s| s.0).sum();
    let mut order: Vec<usize> = (0..slots.len()).collect();
    order.sort_by(|&a, &b| {
        let fa = slots[a].1 - slots[a].0 as f64;
        let fb = slots[b].1 - slots[b].0 as f64;
        fb.partial_cmp(&fa).unwrap_or(std::cmp::Ordering::Equal).then(a.cmp(&b))
    });
    for &i in order.iter().take(m.saturating_sub(assigned)) {
        slots[i].0 += 1;
    }
    let mut counts: Vec<usize> = slots.iter().map(|s| s.0).collect();
    rebalance(instance, distribution, m, &mut counts);
    let compositions: Vec<&Vec<u32>> =
        distribution.panels.iter().zip(counts).flat_map(|((x, _), n)| std::iter::repeat_n(x, n)).collect();
    let mut next = vec![0usize; instance.profiles.members.len()];
    compositions
        .into_iter()
        .map(|x| {
            let mut panel = Vec::with_capacity(instance.k as usize);
            for (p, &seats) in x.iter().enumerate() {
                let members = &instance.profiles.members[p];
                for _ in 0..seats {
                    panel.push(members[next[p] % members.len()]);
                    next[p] += 1;
                }
            }
            panel.sort_unstable();
            panel
        })
        .collect()
}

/// Moves lottery slots between the distribution's panels so that no profile falls
/// further below its leximin share than it must.
///
/// Rounding each panel's `λ m` on its own (largest remainder) keeps `m` slots, but a
/// profile's slots `S_p = Σ_P n_P x_{P,p}` can land well below its expected
/// `T_p = m Σ_P λ_P x_{P,p}` when the distribution spreads over more panels than `m`:
/// the 834-profile bench pool lost 0.9 points of its 4.8 % minimum. Each move takes the
/// profile furthest below, `p* = argmin (S_p − T_p)/c_p`, a slot from a panel `A` that
/// seats fewer of `p*` and whose profiles all stay above that value without it, and
/// gives it to the panel `B` that seats `p*` and most helps the profiles below their
/// share. Every move raises `p*` and lowers no profile to the minimum, so the profiles'
/// shortfalls improve in the leximin order and the moves end.
fn rebalance(instance: &Instance, distribution: &Distribution, m: usize, counts: &mut [usize]) {
    let sizes = instance.sizes();
    let panels: Vec<Vec<(usize, f64)>> = distribution
        .panels
        .iter()
        .map(|(x, _)| x.iter().enumerate().filter(|(_, s)| **s > 0).map(|(p, s)| (p, *s as f64)).collect())
        .collect();
    let expected: Vec<f64> =
        distribution.profile_probabilities.iter().zip(&sizes).map(|(pi, c)| pi * c * m as f64).collect();
    let mut seats = vec![0.0; sizes.len()];
    for (panel, &n) in panels.iter().zip(counts.iter()) {
        for &(p, x) in panel {
            seats[p] += n as f64 * x;
        }
    }
    let shortfall = |seats: &[f64], p: usize| (seats[p] - expected[p]) / sizes[p];
    // Each move raises the leximin order of the shortfalls; the bound is a safeguard.
    for _ in 0..20 * m {
        let Some(worst) = (0..sizes.len()).min_by(|&a, &b| shortfall(&seats, a).total_cmp(&shortfall(&seats, b)))
        else {
            return;
        };
        let floor = shortfall(&seats, worst);
        if floor >= -1e-9 {
            return;
        }
        let holds = |i: usize| panels[i].iter().find(|(p, _)| *p == worst).map_or(0.0, |(_, x)| *x);
        // The panel giving up a slot: its profiles stay above `floor` without it.
        let after_removal = |i: usize| {
            panels[i].iter().map(|&(p, x)| (seats[p] - x - expected[p]) / sizes[p]).fold(f64::INFINITY, f64::min)
        };
        let from = (0..panels.len())
            .filter(|&i| counts[i] > 0)
            .map(|i| (after_removal(i), holds(i), i))
            .filter(|&(after, _, _)| after > floor + 1e-12)
            .max_by(|a, b| a.0.total_cmp(&b.0).then(b.2.cmp(&a.2)));
        let Some((_, from_holds, from)) = from else { return };
        let help = |i: usize| panels[i].iter().map(|&(p, x)| x * (-shortfall(&seats, p)).max(0.0)).sum::<f64>();
        let to = (0..panels.len())
            .filter(|&i| holds(i) > from_holds)
            .map(|i| (help(i), i))
            .max_by(|a, b| a.0.total_cmp(&b.0).then(b.1.cmp(&a.1)));
        let Some((_, to)) = to else { return };
        counts[from] -= 1;
        counts[to] += 1;
        for &(p, x) in &panels[from] {
            seats[p] -= x;
        }
        for &(p, x) in &panels[to] {
            seats[p] += x;
        }
    }
}

/// A computed lottery: the manifest and the figures a convener reviews before
/// publishing it.
#[derive(Debug, Clone)]
pub struct Lottery {
    pub manifest: Value,
    /// Each volunteer's leximin probability, in pool order.
    pub leximin: Vec<f64>,
    /// Each volunteer's probability in the rounded lottery, (panels containing them)/m.
    pub lottery: Vec<f64>,
    pub profiles: usize,
    /// Panels with positive probability in the leximin distribution.
    pub support: usize,
    /// Distinct panels among the m of the lottery.
    pub distinct_panels: usize,
    pub gap: f64,
    /// False when a time limit stopped leximin early (see `Distribution::proven`).
    pub proven: bool,
    /// The largest change of any volunteer's probability by the rounding.
    pub largest_change: f64,
}

impl Lottery {
    pub fn manifest_hash(&self) -> &str {
        self.manifest["manifest_hash"].as_str().expect("set by manifest()")
    }
}

/// The smallest of `values` (infinity for none).
pub fn minimum(values: &[f64]) -> f64 {
    values.iter().copied().fold(f64::INFINITY, f64::min)
}

/// The whole computation: leximin, rounding to `m` panels, the manifest, and its own
/// verification (a manifest that fails [`verify`] is never returned). `progress` is
/// told each leximin level and its minimum; `time_limit` stops leximin with the best
/// distribution so far ([`Lottery::proven`] then says so).
pub fn compute(
    pool: &Pool,
    quotas: &Quotas,
    k: u32,
    m: usize,
    software: &str,
    time_limit: Option<std::time::Duration>,
    progress: impl FnMut(&crate::leximin::Progress),
) -> Result<Lottery, Error> {
    if m == 0 {
        return Err(Error::Manifest("a lottery needs at least one panel".into()));
    }
    let instance = Instance::new(pool, quotas, k)?.with_time_limit(time_limit);
    let distribution = instance.leximin(progress)?;
    let leximin = volunteer_probabilities(&instance, &distribution);
    let panels = round(&instance, &distribution, m);
    let manifest = manifest(pool, quotas, k as usize, &panels, &leximin, software);
    verify(&manifest, None).map_err(|e| Error::Manifest(format!("the manifest just built does not verify: {e}")))?;
    let lottery: Vec<f64> =
        pool.ids.iter().map(|id| manifest["probabilities"][id].as_f64().expect("verified numbers")).collect();
    let largest_change = leximin.iter().zip(&lottery).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
    Ok(Lottery {
        manifest,
        leximin,
        lottery,
        profiles: instance.profiles.members.len(),
        support: distribution.panels.len(),
        distinct_panels: distinct(&panels),
        gap: distribution.gap,
        proven: distribution.proven,
        largest_change,
    })
}

/// Builds the manifest JSON for panels of volunteer indices.
pub fn manifest(
    pool: &Pool,
    quotas: &Quotas,
    k: usize,
    panels: &[Vec<usize>],
    leximin: &[f64],
    software: &str,
) -> Value {
    let m = panels.len() as f64;
    let mut counts = vec![0u64; pool.len()];
    for panel in panels {
        for &v in panel {
            counts[v] += 1;
        }
    }
    let probabilities: serde_json::Map<String, Value> =
        pool.ids.iter().zip(&counts).map(|(id, c)| (id.clone(), json!(*c as f64 / m))).collect();
    let target: serde_json::Map<String, Value> =
        pool.ids.iter().zip(leximin).map(|(id, p)| (id.clone(), json!(p))).collect();
    let mut body = json!({
        "version": MANIFEST_VERSION,
        "software": software,
        "pool": pool_json(pool),
        "pool_hash": pool.hash(),
        "quotas": quotas.quotas,
        "size": k,
        "panels": panels.iter().map(|p| p.iter().map(|&v| pool.ids[v].clone()).collect::<Vec<_>>()).collect::<Vec<_>>(),
    });
    let hash = manifest_hash(&body).expect("the hashed part is strings and integers");
    let object = body.as_object_mut().expect("object");
    object.insert("probabilities".into(), Value::Object(probabilities));
    object.insert("leximin_probabilities".into(), Value::Object(target));
    object.insert("manifest_hash".into(), json!(hash));
    body
}

fn pool_json(pool: &Pool) -> Value {
    json!({
        "categories": pool.categories,
        "volunteers": pool.ids.iter().zip(&pool.features).map(|(id, f)| json!({"id": id, "features": f})).collect::<Vec<_>>(),
        "households": pool.households,
    })
}

/// The members the hash covers, in this order of importance: everything but the
/// derived `probabilities`, `leximin_probabilities` and the hash itself.
const HASHED: [&str; 7] = ["version", "software", "pool", "pool_hash", "quotas", "size", "panels"];

/// `SHA-256(canonical JSON of the manifest's hashed members)`, hex.
pub fn manifest_hash(manifest: &Value) -> Result<String, Error> {
    let object = manifest.as_object().ok_or_else(|| Error::Manifest("not a JSON object".into()))?;
    let mut hashed = serde_json::Map::new();
    for key in HASHED {
        let value = object.get(key).ok_or_else(|| Error::Manifest(format!("missing {key:?}")))?;
        hashed.insert(key.into(), value.clone());
    }
    let text = hiwar_record::canonical::to_canonical_string(&Value::Object(hashed))
        .map_err(|e| Error::Manifest(e.to_string()))?;
    Ok(hex::encode(Sha256::digest(text.as_bytes())))
}

/// The index of the drawn panel for `beacon` among `m`: the procedure of
/// [`hiwar_record::selection`], the one place it is defined.
pub fn draw_index(manifest_hash_hex: &str, beacon: &str, m: usize) -> Result<usize, Error> {
    let hash: [u8; 32] = hex::decode(manifest_hash_hex)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| Error::Manifest("manifest_hash is not 32 bytes of hex".into()))?;
    if m == 0 {
        return Err(Error::Manifest("the manifest has no panels".into()));
    }
    Ok(selection::draw_index(&selection::draw_seed(&hash, beacon), m as u64) as usize)
}

/// A drawn panel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Draw {
    pub index: usize,
    /// `SHA-256(manifest hash ‖ beacon)`, hex.
    pub seed: String,
    pub panel: Vec<String>,
}

/// Draws from a manifest (whose hash and panels the caller has verified or built).
pub fn draw(manifest: &Value, beacon: &str) -> Result<Draw, Error> {
    let hash_hex = manifest["manifest_hash"].as_str().ok_or_else(|| Error::Manifest("missing manifest_hash".into()))?;
    let panels = manifest["panels"].as_array().ok_or_else(|| Error::Manifest("panels is not a list".into()))?;
    let index = draw_index(hash_hex, beacon, panels.len())?;
    let panel: Vec<String> =
        serde_json::from_value(panels[index].clone()).map_err(|e| Error::Manifest(format!("panel {index}: {e}")))?;
    let hash: [u8; 32] = hex::decode(hash_hex).expect("draw_index checked").try_into().expect("32 bytes");
    Ok(Draw { index, seed: hex::encode(selection::draw_seed(&hash, beacon)), panel })
}

/// What `select verify` established.
#[derive(Debug, Clone, PartialEq)]
pub struct Verified {
    pub panels: usize,
    pub volunteers: usize,
    pub min_probability: f64,
    /// The drawn panel's index, when a beacon and panel were checked.
    pub drawn: Option<usize>,
}

/// Checks a manifest: its hash, every panel against the quotas, the probabilities as
/// counts/m; and, given a beacon and a panel, that the panel is the one drawn.
pub fn verify(manifest: &Value, draw: Option<(&str, &[String])>) -> Result<Verified, Error> {
    let bad = |m: String| Error::Manifest(m);
    let claimed =
        manifest.get("manifest_hash").and_then(Value::as_str).ok_or_else(|| bad("missing manifest_hash".into()))?;
    let computed = manifest_hash(manifest)?;
    if claimed != computed {
        return Err(bad(format!("manifest_hash is {claimed}, the content hashes to {computed}")));
    }
    let pool_value = &manifest["pool"];
    let categories: Vec<String> =
        serde_json::from_value(pool_value["categories"].clone()).map_err(|e| bad(format!("pool.categories: {e}")))?;
    let volunteers = pool_value["volunteers"].as_array().ok_or_else(|| bad("pool.volunteers is not a list".into()))?;
    let mut ids = Vec::with_capacity(volunteers.len());
    let mut features = Vec::with_capacity(volunteers.len());
    for v in volunteers {
        ids.push(v["id"].as_str().ok_or_else(|| bad("a volunteer id is not a string".into()))?.to_string());
        let f: Vec<String> =
            serde_json::from_value(v["features"].clone()).map_err(|e| bad(format!("features: {e}")))?;
        if f.len() != categories.len() {
            return Err(bad(format!(
                "volunteer {} has {} features for {} categories",
                ids.last().expect("pushed"),
                f.len(),
                categories.len()
            )));
        }
        features.push(f);
    }
    let households: Option<Vec<String>> =
        serde_json::from_value(pool_value["households"].clone()).map_err(|e| bad(format!("households: {e}")))?;
    let pool = Pool { ids, categories, features, households };
    if manifest["pool_hash"].as_str() != Some(pool.hash().as_str()) {
        return Err(bad("pool_hash does not match the pool".into()));
    }
    let quotas = Quotas {
        quotas: serde_json::from_value::<Vec<Quota>>(manifest["quotas"].clone())
            .map_err(|e| bad(format!("quotas: {e}")))?,
    };
    let k = manifest["size"].as_u64().ok_or_else(|| bad("size is not a number".into()))? as usize;
    let index: HashMap<&str, usize> = pool.ids.iter().enumerate().map(|(i, id)| (id.as_str(), i)).collect();
    if index.len() != pool.len() {
        return Err(bad("volunteer ids are not unique".into()));
    }
    let panels = manifest["panels"].as_array().ok_or_else(|| bad("panels is not a list".into()))?;
    let mut counts = vec![0u64; pool.len()];
    let mut panel_ids = Vec::with_capacity(panels.len());
    for (i, panel) in panels.iter().enumerate() {
        let members: Vec<String> = serde_json::from_value(panel.clone()).map_err(|e| bad(format!("panel {i}: {e}")))?;
        let seats = members
            .iter()
            .map(|id| {
                index
                    .get(id.as_str())
                    .copied()
                    .ok_or_else(|| bad(format!("panel {i} seats {id:?}, who is not in the pool")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        if let Some(problem) = panel_violation(&pool, &quotas, k, &seats) {
            return Err(bad(format!("panel {i} breaks the quotas: {problem}")));
        }
        for v in &seats {
            counts[*v] += 1;
        }
        panel_ids.push(members);
    }
    let m = panels.len();
    let probabilities =
        manifest["probabilities"].as_object().ok_or_else(|| bad("probabilities is not an object".into()))?;
    if probabilities.len() != pool.len() {
        return Err(bad("probabilities do not list every volunteer exactly once".into()));
    }
    for (id, &c) in pool.ids.iter().zip(&counts) {
        let p = probabilities.get(id).and_then(Value::as_f64).ok_or_else(|| bad(format!("no probability for {id}")))?;
        if (p - c as f64 / m as f64).abs() > 1e-12 {
            return Err(bad(format!("{id} is in {c} of {m} panels, but its probability is given as {p}")));
        }
    }
    let min_probability = counts.iter().map(|&c| c as f64 / m as f64).fold(f64::INFINITY, f64::min);
    let drawn = match draw {
        None => None,
        Some((beacon, panel)) => {
            let i = draw_index(claimed, beacon, m)?;
            let mut expected = panel_ids[i].clone();
            let mut given = panel.to_vec();
            expected.sort();
            given.sort();
            if expected != given {
                return Err(Error::Draw(format!("this beacon draws panel {i}, which is not the panel given")));
            }
            Some(i)
        }
    };
    Ok(Verified { panels: m, volunteers: pool.len(), min_probability, drawn })
}

/// Per-volunteer probabilities from profile probabilities.
pub fn volunteer_probabilities(instance: &Instance, distribution: &Distribution) -> Vec<f64> {
    let mut out = vec![0.0; instance.pool.len()];
    for (p, members) in instance.profiles.members.iter().enumerate() {
        for &v in members {
            out[v] = distribution.profile_probabilities[p];
        }
    }
    out
}

/// Gini coefficient of a list of probabilities (0 = all equal).
pub fn gini(values: &[f64]) -> f64 {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    if mean == 0.0 {
        return 0.0;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(|a, b| a.partial_cmp(b).expect("finite"));
    let weighted: f64 = sorted.iter().enumerate().map(|(i, v)| (2.0 * (i as f64 + 1.0) - n - 1.0) * v).sum();
    weighted / (n * n * mean)
}

/// Number of distinct panels among `panels`.
pub fn distinct(panels: &[Vec<usize>]) -> usize {
    panels.iter().collect::<BTreeSet<_>>().len()
}
