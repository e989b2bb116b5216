//! Selection events in the record (`docs/record-spec.md` §7): the lottery manifest's
//! hash is published before the public random value (the beacon) exists, then the
//! draw names the beacon, the seed and the panel, then the drawn volunteers are seated
//! through a batch of delegate invitations.
//!
//! The draw is the one procedure of `docs/selection-spec.md` ("Draw"):
//! `seed = SHA-256(manifest hash bytes ‖ beacon UTF-8)`; for `j = 0, 1, …`, `v` is the
//! first 8 bytes of `SHA-256(seed ‖ j as 8 bytes little-endian)` read little-endian,
//! and the first `v < 2^64 − (2^64 mod m)` gives the panel index `v mod m`. Rejecting
//! the top partial block makes every index exactly equally likely, so a convener who
//! knows the manifest but not the beacon cannot favour a panel.
//!
//! Security property: once the hash is in the record, the operator cannot change the
//! manifest (SHA-256 is collision resistant) and cannot pick the panel (the beacon is
//! not yet known, and the index is a fixed function of hash and beacon). Checks S1 and
//! S2 need only the record; S3 (the panel is the manifest's panel at that index, and
//! every panel meets the quotas) needs the manifest, and is run by `hiwar verify`.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use crate::events::{fields, hex_field, id, text, uint, State};

/// Longest beacon announcement or beacon value, in characters.
pub const MAX_BEACON_CHARS: usize = 500;
/// Longest volunteer id, in characters.
pub const MAX_VOLUNTEER_ID_CHARS: usize = 64;

/// `SHA-256(manifest hash ‖ beacon)`.
pub fn draw_seed(manifest_hash: &[u8; 32], beacon: &str) -> [u8; 32] {
    Sha256::new().chain_update(manifest_hash).chain_update(beacon.as_bytes()).finalize().into()
}

/// The index in `0..m` that `seed` draws, by rejection sampling. `m` must be at least 1.
pub fn draw_index(seed: &[u8; 32], m: u64) -> u64 {
    assert!(m > 0, "a lottery needs at least one panel");
    // The largest multiple of m that fits, minus one: values above it are rejected.
    let limit = u64::MAX - (u64::MAX % m + 1) % m;
    for j in 0u64.. {
        let block = Sha256::new().chain_update(seed).chain_update(j.to_le_bytes()).finalize();
        let v = u64::from_le_bytes(block[..8].try_into().expect("8 bytes"));
        if v <= limit {
            return v % m;
        }
    }
    unreachable!("each block is accepted with probability above 1/2")
}

/// Event bodies; [`Selections::apply`] is the one place they are checked.
pub mod body {
    use super::*;

    /// The manifest is fixed: its hash, what it covers, and which public random value
    /// will draw from it (announced now, known later).
    pub fn selection_published(
        selection: &str,
        manifest_hash: &str,
        pool_hash: &str,
        volunteers: u64,
        size: u64,
        panels: u64,
        beacon_source: &str,
    ) -> Value {
        json!({
            "selection": selection, "manifest_hash": manifest_hash, "pool_hash": pool_hash,
            "volunteers": volunteers, "size": size, "panels": panels, "beacon_source": beacon_source,
        })
    }
    pub fn selection_drawn(selection: &str, beacon: &str, seed: &str, index: u64, panel: &[String]) -> Value {
        json!({"selection": selection, "beacon": beacon, "seed": seed, "index": index, "panel": panel})
    }
    /// The drawn volunteers get delegate invitations from `batch`.
    pub fn selection_seated(selection: &str, batch: &str) -> Value {
        json!({"selection": selection, "batch": batch})
    }
}

/// One selection as the record establishes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    pub id: String,
    pub manifest_hash: String,
    pub pool_hash: String,
    pub volunteers: u64,
    pub size: u64,
    pub panels: u64,
    pub beacon_source: String,
    /// `(beacon, index, panel)` once drawn.
    pub drawn: Option<(String, u64, Vec<String>)>,
    pub seated_batch: Option<String>,
    /// How many batches had been issued when the selection was published: its seats
    /// must come from a batch issued later.
    batches_before: u64,
}

/// The selections of one record, checked event by event.
#[derive(Debug, Default)]
pub struct Selections {
    pub by_id: BTreeMap<String, Selection>,
    /// Batches that seated a selection: each seats one.
    seating_batches: std::collections::BTreeSet<String>,
}

type Checked = Result<(), (&'static str, String)>;

impl Selections {
    /// Whether `kind` belongs to this module.
    pub fn handles(kind: &str) -> bool {
        kind.starts_with("selection.")
    }

    /// Checks one event against S1 (shape and order) and S2 (seed and index).
    pub fn apply(&mut self, kind: &str, body: &Value, state: &State) -> Checked {
        let s1 = |e: String| ("S1", format!("{kind}: {e}"));
        match kind {
            "selection.published" => {
                let b = fields(
                    body,
                    &["selection", "manifest_hash", "pool_hash", "volunteers", "size", "panels", "beacon_source"],
                )
                .map_err(s1)?;
                let selection = id(b, "selection").map_err(s1)?;
                let volunteers = uint(b, "volunteers").map_err(s1)?;
                let size = uint(b, "size").map_err(s1)?;
                let panels = uint(b, "panels").map_err(s1)?;
                if size == 0 || size > volunteers || panels == 0 {
                    return Err(s1(format!("{panels} panels of {size} from {volunteers} volunteers")));
                }
                let entry = Selection {
                    id: selection.clone(),
                    manifest_hash: hex_field(b, "manifest_hash", 32).map_err(s1)?,
                    pool_hash: hex_field(b, "pool_hash", 32).map_err(s1)?,
                    volunteers,
                    size,
                    panels,
                    beacon_source: text(b, "beacon_source", 1, MAX_BEACON_CHARS).map_err(s1)?,
                    drawn: None,
                    seated_batch: None,
                    batches_before: state.batches_issued(),
                };
                if self.by_id.insert(selection.clone(), entry).is_some() {
                    return Err(s1(format!("selection {selection} was already published")));
                }
            }
            "selection.drawn" => {
                let b = fields(body, &["selection", "beacon", "seed", "index", "panel"]).map_err(s1)?;
                let entry = self.published(b)?;
                if entry.drawn.is_some() {
                    return Err(s1(format!("selection {} was already drawn", entry.id)));
                }
                let beacon = text(b, "beacon", 1, MAX_BEACON_CHARS).map_err(s1)?;
                let seed = hex_field(b, "seed", 32).map_err(s1)?;
                let index = uint(b, "index").map_err(s1)?;
                let panel = volunteer_ids(b).map_err(s1)?;
                if panel.len() as u64 != entry.size {
                    return Err(s1(format!(
                        "the panel has {} members, the selection seats {}",
                        panel.len(),
                        entry.size
                    )));
                }
                let hash: [u8; 32] = hex::decode(&entry.manifest_hash).expect("checked hex").try_into().expect("32");
                let expected_seed = draw_seed(&hash, &beacon);
                if seed != hex::encode(expected_seed) {
                    return Err(("S2", format!("seed is not SHA-256(manifest hash ‖ beacon) for beacon {beacon:?}")));
                }
                let expected_index = draw_index(&expected_seed, entry.panels);
                if index != expected_index {
                    return Err(("S2", format!("index is {index}, but this beacon draws panel {expected_index}")));
                }
                entry.drawn = Some((beacon, index, panel));
            }
            "selection.seated" => {
                let b = fields(body, &["selection", "batch"]).map_err(s1)?;
                let seated_another = id(b, "batch").is_ok_and(|batch| self.seating_batches.contains(&batch));
                let entry = self.published(b)?;
                let drawn = entry.drawn.as_ref().ok_or_else(|| s1(format!("selection {} is not drawn", entry.id)))?;
                if entry.seated_batch.is_some() {
                    return Err(s1(format!("selection {} was already seated", entry.id)));
                }
                let batch = id(b, "batch").map_err(s1)?;
                let issued = state.batch(&batch).ok_or_else(|| s1(format!("batch {batch} was never issued")))?;
                if issued.role != "delegate" || issued.count != drawn.2.len() as u64 {
                    return Err(s1(format!(
                        "batch {batch} is {} {} invitations, not {} delegate invitations",
                        issued.count,
                        issued.role,
                        drawn.2.len()
                    )));
                }
                // A batch the server prepared earlier (perhaps already handed out), used by
                // anyone already, or seating another selection would let it choose who sits.
                if issued.order < entry.batches_before {
                    return Err(s1(format!("batch {batch} was issued before the selection was published")));
                }
                if issued.used > 0 {
                    return Err(s1(format!("batch {batch} was already used by {} joins or revocations", issued.used)));
                }
                if seated_another {
                    return Err(s1(format!("batch {batch} already seated another selection")));
                }
                entry.seated_batch = Some(batch.clone());
                self.seating_batches.insert(batch);
            }
            other => return Err(s1(format!("unknown event kind {other:?}"))),
        }
        Ok(())
    }

    fn published(&mut self, b: &Map<String, Value>) -> Result<&mut Selection, (&'static str, String)> {
        let selection = id(b, "selection").map_err(|e| ("S1", e))?;
        self.by_id.get_mut(&selection).ok_or_else(|| ("S1", format!("selection {selection} was never published")))
    }
}

fn volunteer_ids(b: &Map<String, Value>) -> Result<Vec<String>, String> {
    let list = b["panel"].as_array().ok_or("panel is not a list")?;
    let mut seen = std::collections::BTreeSet::new();
    list.iter()
        .map(|v| {
            let s = v.as_str().ok_or("a panel member is not a string")?;
            if s.is_empty() || s.chars().count() > MAX_VOLUNTEER_ID_CHARS {
                return Err(format!("panel member {s:?} is not 1 to {MAX_VOLUNTEER_ID_CHARS} characters"));
            }
            if !seen.insert(s) {
                return Err(format!("panel member {s:?} appears twice"));
            }
            Ok(s.to_string())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_index_is_reachable_and_the_draw_is_fixed() {
        let hash = [7u8; 32];
        let seed = draw_seed(&hash, "12 19 23 31 40 + 7");
        assert_eq!(draw_index(&seed, 1), 0);
        let again = draw_seed(&hash, "12 19 23 31 40 + 7");
        assert_eq!(draw_index(&seed, 1000), draw_index(&again, 1000));
        let mut hits = [0u32; 5];
        for i in 0..2000 {
            hits[draw_index(&draw_seed(&hash, &i.to_string()), 5) as usize] += 1;
        }
        assert!(hits.iter().all(|&h| (300..500).contains(&h)), "{hits:?}");
    }

    fn published() -> Value {
        body::selection_published("s1", &"ab".repeat(32), &"cd".repeat(32), 10, 2, 3, "the national lottery, 1 Dec")
    }

    fn drawn(beacon: &str) -> Value {
        let seed = draw_seed(&[0xab; 32], beacon);
        let index = draw_index(&seed, 3);
        body::selection_drawn("s1", beacon, &hex::encode(seed), index, &["a".into(), "b".into()])
    }

    #[test]
    fn a_draw_must_follow_its_publication_and_its_beacon() {
        let state = State::default();
        let mut s = Selections::default();
        assert_eq!(s.apply("selection.drawn", &drawn("7"), &state).unwrap_err().0, "S1");
        s.apply("selection.published", &published(), &state).unwrap();
        assert_eq!(s.apply("selection.published", &published(), &state).unwrap_err().0, "S1");
        let mut wrong_index = drawn("7");
        wrong_index["index"] = json!((wrong_index["index"].as_u64().unwrap() + 1) % 3);
        assert_eq!(s.apply("selection.drawn", &wrong_index, &state).unwrap_err().0, "S2");
        let mut wrong_seed = drawn("7");
        wrong_seed["beacon"] = json!("8");
        assert_eq!(s.apply("selection.drawn", &wrong_seed, &state).unwrap_err().0, "S2");
        let mut short = drawn("7");
        short["panel"] = json!(["a"]);
        assert_eq!(s.apply("selection.drawn", &short, &state).unwrap_err().0, "S1");
        let mut twice = drawn("7");
        twice["panel"] = json!(["a", "a"]);
        assert_eq!(s.apply("selection.drawn", &twice, &state).unwrap_err().0, "S1");
        s.apply("selection.drawn", &drawn("7"), &state).unwrap();
        assert_eq!(s.apply("selection.drawn", &drawn("7"), &state).unwrap_err().0, "S1");
    }

    #[test]
    fn seating_needs_a_delegate_batch_of_the_panel_size() {
        use crate::events::body::{codes_issued, member_joined};
        let mut state = State::default();
        state.apply(0, "dialogue.created", &crate::events::tests::created()).unwrap();
        state.apply(1, "member.joined", &member_joined("m-a", "A", "convener", None)).unwrap();
        state.apply(2, "codes.issued", &codes_issued("b-early", "delegate", 2)).unwrap();
        let mut s = Selections::default();
        s.apply("selection.published", &published(), &state).unwrap();
        state.apply(3, "codes.issued", &codes_issued("b-two", "delegate", 2)).unwrap();
        state.apply(4, "codes.issued", &codes_issued("b-three", "delegate", 3)).unwrap();
        state.apply(5, "codes.issued", &codes_issued("b-part", "participant", 2)).unwrap();
        state.apply(6, "codes.issued", &codes_issued("b-used", "delegate", 2)).unwrap();
        state.apply(7, "member.joined", &member_joined("m-b", "B", "delegate", Some("b-used"))).unwrap();
        let seat = |batch: &str| body::selection_seated("s1", batch);
        assert_eq!(s.apply("selection.seated", &seat("b-two"), &state).unwrap_err().0, "S1", "not drawn yet");
        s.apply("selection.drawn", &drawn("7"), &state).unwrap();
        for bad in ["b-three", "b-part", "b-none", "b-early", "b-used"] {
            assert_eq!(s.apply("selection.seated", &seat(bad), &state).unwrap_err().0, "S1", "{bad}");
        }
        s.apply("selection.seated", &seat("b-two"), &state).unwrap();
        assert_eq!(s.apply("selection.seated", &seat("b-two"), &state).unwrap_err().0, "S1");
        // A second selection cannot reuse the batch.
        let mut second = published();
        second["selection"] = json!("s2");
        s.apply("selection.published", &second, &state).unwrap();
        let mut drawn2 = drawn("7");
        drawn2["selection"] = json!("s2");
        s.apply("selection.drawn", &drawn2, &state).unwrap();
        let err = s.apply("selection.seated", &body::selection_seated("s2", "b-two"), &state).unwrap_err();
        assert_eq!(err.0, "S1", "{err:?}");
    }
}
