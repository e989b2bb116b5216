//! Test vectors: deterministic from fixed seeds, with their expected bytes committed in
//! `tests/vectors/crypto-v1.json` so that an independent implementation can check its
//! encryption, proofs, key generation and partial decryption against ours. Regenerate
//! (only on purpose) with `HIWAR_BLESS=1 cargo test -p hiwar-crypto --test vectors`.

use hiwar_crypto::elgamal::ElectionKey;
use hiwar_crypto::group::{generator, point_to_hex, scalar_to_hex};
use hiwar_crypto::proofs::{DisjunctiveProof, EqualityProof, KnowledgeProof};
use hiwar_crypto::threshold::{Dealer, TrusteeKey};
use hiwar_crypto::transcript::Transcript;
use hiwar_crypto::Scalar;
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;

fn context() -> Transcript {
    let mut t = Transcript::new("vector");
    t.bytes(&[0x11; 32]);
    t
}

fn vectors() -> String {
    let mut rng = ChaCha20Rng::seed_from_u64(2026);
    let x = Scalar::random(&mut rng);
    let key = ElectionKey::new(x * generator()).unwrap();
    let (ct, r) = key.encrypt(1, &mut rng);
    let proof = DisjunctiveProof::prove(context(), &key, &ct, &[0, 1], 1, &r, &mut rng);
    let pop = KnowledgeProof::prove(context(), &x, &mut rng);
    let (d, eq) = EqualityProof::prove(context(), &x, &ct.alpha, &mut rng);
    let hash = [0x22; 32];
    let dealers: Vec<Dealer> = (1..=3).map(|i| Dealer::new(i, 2, &mut rng)).collect();
    let publics: Vec<_> = dealers.iter().map(|d| d.public(&hash, &mut rng)).collect();
    let shares: Vec<_> = dealers.iter().zip(&publics).map(|(d, p)| (p.clone(), d.share_for(2))).collect();
    let trustee = TrusteeKey::from_shares(2, &shares).unwrap();
    let partial = trustee.partial_decrypt(&hash, &ct.alpha, &mut rng);
    let out = format!(
        concat!(
            "{{\n  \"seed\": 2026,\n  \"secret_key\": \"{}\",\n  \"election_key\": \"{}\",\n",
            "  \"nonce\": \"{}\",\n  \"encryption_of_1\": {{\"alpha\": \"{}\", \"beta\": \"{}\"}},\n",
            "  \"proof_0_or_1\": [{}],\n  \"knowledge_proof\": {{\"a\": \"{}\", \"z\": \"{}\"}},\n",
            "  \"equality_proof\": {{\"d\": \"{}\", \"a1\": \"{}\", \"a2\": \"{}\", \"z\": \"{}\"}},\n",
            "  \"dealer_commitments\": [{}],\n  \"dealer_commitment_hashes\": [{}],\n",
            "  \"partial_decryption_by_trustee_2\": {{\"share\": \"{}\", \"a1\": \"{}\", \"a2\": \"{}\", \"z\": \"{}\"}}\n}}\n"
        ),
        scalar_to_hex(&x),
        point_to_hex(key.point()),
        scalar_to_hex(r.scalar()),
        point_to_hex(&ct.alpha),
        point_to_hex(&ct.beta),
        proof
            .branches
            .iter()
            .map(|b| format!(
                "{{\"a\": \"{}\", \"b\": \"{}\", \"c\": \"{}\", \"z\": \"{}\"}}",
                hex::encode(b.a.as_bytes()),
                hex::encode(b.b.as_bytes()),
                scalar_to_hex(&b.c),
                scalar_to_hex(&b.z)
            ))
            .collect::<Vec<_>>()
            .join(", "),
        point_to_hex(&pop.a),
        scalar_to_hex(&pop.z),
        point_to_hex(&d),
        point_to_hex(&eq.a1),
        point_to_hex(&eq.a2),
        scalar_to_hex(&eq.z),
        publics
            .iter()
            .map(|p| format!("[{}]", p.commitments.iter().map(|c| format!("\"{}\"", point_to_hex(c))).collect::<Vec<_>>().join(", ")))
            .collect::<Vec<_>>()
            .join(", "),
        publics.iter().map(|p| format!("\"{}\"", hex::encode(p.commitment_hash()))).collect::<Vec<_>>().join(", "),
        point_to_hex(&partial.share),
        point_to_hex(&partial.proof.a1),
        point_to_hex(&partial.proof.a2),
        scalar_to_hex(&partial.proof.z),
    );
    // Everything in the vector verifies.
    proof.verify(context(), &key, &ct, &[0, 1]).unwrap();
    pop.verify(context(), key.point()).unwrap();
    eq.verify(context(), key.point(), &ct.alpha, &d).unwrap();
    out
}

#[test]
fn crypto_vectors_match_the_committed_bytes() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors/crypto-v1.json");
    let computed = vectors();
    if std::env::var("HIWAR_BLESS").is_ok() {
        std::fs::write(path, &computed).unwrap();
    }
    let committed = std::fs::read_to_string(path).expect("run once with HIWAR_BLESS=1 to create the vector file");
    assert!(computed == committed, "the cryptographic encoding changed: regenerate deliberately and say why");
    let parsed: serde_json::Value = serde_json::from_str(&committed).expect("the vector file is JSON");
    assert_eq!(parsed["seed"], 2026);
}
