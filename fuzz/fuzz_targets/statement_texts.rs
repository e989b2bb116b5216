//! A server's `statements.json`, checked against a record's digests (check T1): the
//! check must never panic, whatever the JSON holds.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(served) = serde_json::from_slice::<serde_json::Value>(data) else { return };
    let salt = [1u8; 16];
    let digest = hex::encode(hiwar_record::events::statement_digest(&salt, "Roads before walls"));
    let record = vec![("st-1".to_string(), digest.clone(), false), ("st-2".to_string(), digest, true)];
    let _ = hiwar_record::events::check_statement_texts(&record, &served);
});
