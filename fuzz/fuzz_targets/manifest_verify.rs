//! A downloaded selection manifest, with a beacon and panel: verification must never
//! panic, whatever the JSON holds.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(manifest) = serde_json::from_slice::<serde_json::Value>(data) else { return };
    let panel = vec!["0".to_string(), "1".to_string()];
    let _ = hiwar_sortition::lottery::verify(&manifest, None);
    let _ = hiwar_sortition::lottery::verify(&manifest, Some(("beacon", &panel)));
    let _ = hiwar_sortition::lottery::draw(&manifest, "beacon");
});
