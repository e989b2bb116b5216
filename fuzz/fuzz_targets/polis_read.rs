//! A Polis export (comments.csv, votes.csv, participants-votes.csv, split at NUL
//! bytes): reading must never panic, and whatever reads can be analysed.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let mut parts = text.splitn(3, '\0');
    let (comments, votes, groups) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""), parts.next());
    if let Ok(c) = hiwar_opinion::polis::read(comments, votes, groups) {
        if c.matrix.votes() < 2_000 {
            let options = hiwar_opinion::Options { sweeps: 2, ..Default::default() };
            let analysis = hiwar_opinion::analyze(&c.matrix, None, &options);
            let _ = hiwar_opinion::report(&c.matrix, &c.texts, &analysis, 5, hiwar_opinion::Audience::Public);
        }
    }
});
