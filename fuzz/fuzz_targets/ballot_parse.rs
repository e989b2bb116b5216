//! Any JSON given to the ballot decoder: it must decode or name what is wrong, never
//! panic; and whatever it decodes must re-encode to a value that decodes the same.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) {
        if let Ok(ballot) = hiwar_record::election::parse_ballot(&value) {
            let again = hiwar_record::election::parse_ballot(&hiwar_record::election::ballot_json(&ballot));
            assert_eq!(again.as_ref().ok(), Some(&ballot));
        }
    }
});
