//! Any bytes given to the record verifier, whole and streamed in small reads: it must
//! answer (accept or name a failed check), never panic, and give the same verdict both
//! ways.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let options = hiwar_record::Options::default();
    let reader = std::io::BufReader::with_capacity(7, data);
    let streamed = match hiwar_record::verify_stream(reader, &options, Default::default()) {
        Ok(_) => None,
        Err(hiwar_record::Stopped::Failed(f)) => Some((f.check, f.line)),
        Err(hiwar_record::Stopped::Unreadable { error, .. }) => panic!("a slice is always readable: {error}"),
    };
    if let Ok(text) = std::str::from_utf8(data) {
        let whole = hiwar_record::verify(text, &options).err().map(|f| (f.check, f.line));
        assert_eq!(streamed, whole);
    }
});
