//! Anything typed into the login form's code field: parsing must never panic, and a
//! parsed code must display as 23 characters.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Some(code) = hiwar_server::dialogues::codes::Code::parse(text) {
            assert_eq!(code.display().len(), 23);
        }
    }
});
