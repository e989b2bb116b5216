//! What a witness pays per round, measured on a real record: the hash-chain consistency
//! check hiwar uses (download the new lines; check each line's form, signature and
//! chain) against an RFC 6962 Merkle tree (download a logarithmic proof; but the server
//! keeps the tree). `docs/performance.md` reports its output.
//!
//!     cargo run --release -p hiwar-record --example extension_cost -- RECORD.jsonl

use std::time::Instant;

use ed25519_dalek::VerifyingKey;
use sha2::{Digest, Sha256};

fn main() {
    let path = std::env::args().nth(1).expect("give a record file");
    let record = std::fs::read_to_string(&path).expect("readable");
    let lines: Vec<&str> = record.lines().collect();
    let first: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
    let key_bytes: [u8; 32] = hex::decode(first["body"]["public_key"].as_str().unwrap()).unwrap().try_into().unwrap();
    let key = VerifyingKey::from_bytes(&key_bytes).unwrap();

    // Hash chain: every new line is fetched and checked.
    let started = Instant::now();
    let mut prev = hiwar_record::GENESIS_PREV.to_string();
    for line in &lines {
        let object = hiwar_record::witness::check_signed_line(line, &key).expect("a valid line");
        assert_eq!(object["prev"].as_str(), Some(prev.as_str()));
        prev = hex::encode(hiwar_record::line_hash(line));
    }
    let chain = started.elapsed();
    let bytes = record.len();
    println!(
        "hash chain: {} lines, {:.1} MB to download, checked in {:.2} s ({:.0} lines/s, {:.1} MB/s)",
        lines.len(),
        bytes as f64 / 1e6,
        chain.as_secs_f64(),
        lines.len() as f64 / chain.as_secs_f64(),
        bytes as f64 / 1e6 / chain.as_secs_f64()
    );

    // Merkle tree (RFC 6962): the server hashes every leaf and node; a consistency proof
    // has at most about 2·log2(n) hashes.
    let started = Instant::now();
    let mut level: Vec<[u8; 32]> =
        lines.iter().map(|l| Sha256::new().chain_update([0u8]).chain_update(l.as_bytes()).finalize().into()).collect();
    while level.len() > 1 {
        level = level
            .chunks(2)
            .map(|pair| match pair {
                [a, b] => Sha256::new().chain_update([1u8]).chain_update(a).chain_update(b).finalize().into(),
                [a] => *a,
                _ => unreachable!(),
            })
            .collect();
    }
    let tree = started.elapsed();
    let depth = (lines.len() as f64).log2().ceil() as usize;
    println!(
        "merkle tree: root of {} leaves computed in {:.3} s; a consistency proof is at most {} hashes ({} bytes)",
        lines.len(),
        tree.as_secs_f64(),
        2 * depth,
        64 * depth
    );
}
