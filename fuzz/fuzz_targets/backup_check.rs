//! Any file given to `hiwar restore`: checking it against its trailer must never panic,
//! and must accept only a file whose every line its trailer's SHA-256 covers.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = hiwar_store::Store::check_backup(data);
});
