//! Any `signatory.*`, `declaration.*` or `agenda.*` event, applied after the record of
//! the declaration test vector (record spec §10.5): the checks D1–D3 and R9 must accept
//! it or name what is wrong, never panic (a body is outside data: the server takes
//! registrations and signatures from anyone).
#![no_main]
use hiwar_record::checks::BodyChecks;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

const VECTOR: &str = include_str!("../../crates/hiwar-record/tests/vectors/declaration-v1.jsonl");

fuzz_target!(|data: &[u8]| {
    let Ok(event) = serde_json::from_slice::<Value>(data) else { return };
    let Some(kind) = event["kind"].as_str() else { return };
    let mut checks = BodyChecks::new("vector");
    let mut seq = 0;
    for line in VECTOR.lines() {
        let mut value: Value = serde_json::from_str(line).unwrap();
        checks.at_time(value["time"].as_str().unwrap());
        checks.apply(seq, value["kind"].as_str().unwrap().to_string().as_str(), value["body"].take()).unwrap();
        seq += 1;
    }
    checks.at_time(event["time"].as_str().unwrap_or("2026-01-01T00:01:00Z"));
    let _ = checks.apply(seq, kind, event["body"].clone());
});
