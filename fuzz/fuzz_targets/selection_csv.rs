//! An uploaded quotas file and pool file (split at the first NUL byte): parsing must
//! never panic, and whatever parses must be consistent — every volunteer has one
//! feature per category, ids are unique, and every quota has min ≤ max.
#![no_main]
use libfuzzer_sys::fuzz_target;
use hiwar_sortition::pool::{Pool, Quotas};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (quotas, pool) = text.split_once('\0').unwrap_or((text, ""));
    let Ok(quotas) = Quotas::parse(quotas) else { return };
    assert!(quotas.quotas.iter().all(|q| q.min <= q.max));
    if let Ok(pool) = Pool::parse(pool, &quotas) {
        assert!(pool.features.iter().all(|f| f.len() == pool.categories.len()));
        let mut ids = pool.ids.clone();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), pool.len());
        let _ = pool.hash();
    }
});
