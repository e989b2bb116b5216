//! Any bytes given to the record verifier: it must answer (accept or name a failed
//! check) and never panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = hiwar_record::verify(text, &hiwar_record::Options::default());
    }
});
