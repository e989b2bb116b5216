//! What witnesses and readers take from outside: a checkpoint document, a co-signature
//! posted to the server, a fork proof, and the lines said to extend a checkpoint. None of
//! them may panic, whatever the bytes hold.
#![no_main]
use hiwar_record::witness::{check_extension, Checkpoint, Cosignature, ForkProof};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let key = ed25519_dalek::SigningKey::from_bytes(&[1u8; 32]);
    let old = Checkpoint::sign("fuzz", 1, &"00".repeat(32), "2026-01-01T00:00:00Z", &key);
    if let Ok(text) = std::str::from_utf8(data) {
        let new = Checkpoint::sign("fuzz", 3, &"11".repeat(32), "2026-01-01T00:01:00Z", &key);
        let _ = check_extension(&key.verifying_key(), &old, &new, text);
    }
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) else { return };
    if let Ok(c) = Checkpoint::from_value(&value) {
        let _ = c.verify(&key.verifying_key());
    }
    if let Ok(c) = Cosignature::from_value(&value) {
        let _ = c.verify();
    }
    let _ = ForkProof::check(&value);
});
