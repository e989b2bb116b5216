//! The election's wire format: keys, ciphertexts, proofs and ballots as canonical
//! JSON values (points and scalars as 64 lowercase hex digits), and their strict
//! decoders. Decoders name what is wrong and never panic.

use hiwar_crypto::ballot::{Answer, Ballot, BallotNonces};
use hiwar_crypto::elgamal::{Ciphertext, Nonce};
use hiwar_crypto::group::{nonzero_point_from_hex, point_from_hex, point_to_hex, scalar_from_hex, scalar_to_hex};
use hiwar_crypto::proofs::{Branch, DisjunctiveProof, EqualityProof, KnowledgeProof};
use hiwar_crypto::threshold::{DealerPublic, EncryptedShare, PartialDecryption};
use hiwar_crypto::{CompressedRistretto, CryptoError, RistrettoPoint};
use serde_json::{json, Map, Value};

/// A decoding or rule failure, described for the reader.
pub type R<T> = Result<T, String>;

pub fn ct_json(ct: &Ciphertext) -> Value {
    let (alpha, beta) = ct.hex();
    json!({"alpha": alpha, "beta": beta})
}

fn branch_json(b: &Branch) -> Value {
    json!({"a": hex::encode(b.a.as_bytes()), "b": hex::encode(b.b.as_bytes()), "c": scalar_to_hex(&b.c), "z": scalar_to_hex(&b.z)})
}

fn proof_json(p: &DisjunctiveProof) -> Value {
    Value::Array(p.branches.iter().map(branch_json).collect())
}

pub fn ballot_json(b: &Ballot) -> Value {
    json!({"answers": b.answers.iter().map(|a| json!({
        "choices": a.choices.iter().map(ct_json).collect::<Vec<_>>(),
        "choice_proofs": a.choice_proofs.iter().map(proof_json).collect::<Vec<_>>(),
        "selections_proof": proof_json(&a.selections_proof),
    })).collect::<Vec<_>>()})
}

/// The ciphertexts of a ballot without its proofs: what a challenged ballot publishes.
pub fn choices_json(b: &Ballot) -> Value {
    json!(b.answers.iter().map(|a| a.choices.iter().map(ct_json).collect::<Vec<_>>()).collect::<Vec<_>>())
}

pub fn nonces_json(n: &BallotNonces) -> Value {
    json!(n.0.iter().map(|q| q.iter().map(|r| scalar_to_hex(r.scalar())).collect::<Vec<_>>()).collect::<Vec<_>>())
}

pub fn dealer_json(d: &DealerPublic) -> (Value, Value) {
    (
        json!(d.commitments.iter().map(point_to_hex).collect::<Vec<_>>()),
        json!({"a": point_to_hex(&d.proof.a), "z": scalar_to_hex(&d.proof.z)}),
    )
}

pub fn encrypted_share_json(s: &EncryptedShare) -> Value {
    json!({"ephemeral": point_to_hex(&s.ephemeral), "share": hex::encode(s.ciphertext)})
}

pub fn equality_json(p: &EqualityProof) -> Value {
    json!({"a1": point_to_hex(&p.a1), "a2": point_to_hex(&p.a2), "z": scalar_to_hex(&p.z)})
}

pub fn partial_json(p: &PartialDecryption) -> Value {
    let mut v = equality_json(&p.proof);
    v["share"] = json!(point_to_hex(&p.share));
    v
}

/// `v` as an object with exactly the members `names`.
pub fn obj<'a>(v: &'a Value, what: &str, names: &[&str]) -> R<&'a Map<String, Value>> {
    let m = v.as_object().ok_or_else(|| format!("{what} is not an object"))?;
    for n in names {
        if !m.contains_key(*n) {
            return Err(format!("{what} lacks {n:?}"));
        }
    }
    if let Some(extra) = m.keys().find(|k| !names.contains(&k.as_str())) {
        return Err(format!("{what} has unexpected field {extra:?}"));
    }
    Ok(m)
}

pub fn arr<'a>(v: &'a Value, what: &str) -> R<&'a Vec<Value>> {
    v.as_array().ok_or_else(|| format!("{what} is not an array"))
}

pub fn s<'a>(v: &'a Value, what: &str) -> R<&'a str> {
    v.as_str().ok_or_else(|| format!("{what} is not a string"))
}

pub fn uint(v: &Value, what: &str) -> R<u64> {
    v.as_u64().ok_or_else(|| format!("{what} is not a non-negative integer"))
}

pub fn cerr(e: CryptoError) -> String {
    e.to_string()
}

/// `N` bytes from exactly `2N` lowercase hex digits.
pub fn hex_bytes<const N: usize>(v: &Value, what: &str) -> R<[u8; N]> {
    let text = s(v, what)?;
    if text.len() != 2 * N || !text.bytes().all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c)) {
        return Err(format!("{what} is not {} lowercase hex digits", 2 * N));
    }
    let mut out = [0u8; N];
    hex::decode_to_slice(text, &mut out).map_err(|e| e.to_string())?;
    Ok(out)
}

pub fn point(v: &Value, what: &'static str) -> R<RistrettoPoint> {
    point_from_hex(what, s(v, what)?).map_err(cerr)
}

pub fn nonzero_point(v: &Value, what: &'static str) -> R<RistrettoPoint> {
    nonzero_point_from_hex(what, s(v, what)?).map_err(cerr)
}

pub fn scalar(v: &Value, what: &'static str) -> R<hiwar_crypto::Scalar> {
    scalar_from_hex(what, s(v, what)?).map_err(cerr)
}

pub fn parse_ct(v: &Value, what: &str, nonzero_alpha: bool) -> R<Ciphertext> {
    let m = obj(v, what, &["alpha", "beta"])?;
    let (a, b) = (s(&m["alpha"], what)?, s(&m["beta"], what)?);
    if nonzero_alpha { Ciphertext::from_hex(a, b) } else { Ciphertext::from_hex_any(a, b) }.map_err(cerr)
}

fn parse_proof(v: &Value, what: &str) -> R<DisjunctiveProof> {
    let branches = arr(v, what)?
        .iter()
        .map(|b| {
            let m = obj(b, what, &["a", "b", "c", "z"])?;
            Ok(Branch {
                // Commitments stay encoded; the proof check decodes them (strictly).
                a: CompressedRistretto(hex_bytes(&m["a"], "proof commitment a")?),
                b: CompressedRistretto(hex_bytes(&m["b"], "proof commitment b")?),
                c: scalar(&m["c"], "proof challenge")?,
                z: scalar(&m["z"], "proof response")?,
            })
        })
        .collect::<R<Vec<_>>>()?;
    Ok(DisjunctiveProof { branches })
}

/// Per question, per option ciphertexts (α never the identity).
pub fn parse_choices(v: &Value) -> R<Vec<Vec<Ciphertext>>> {
    arr(v, "choices")?
        .iter()
        .map(|q| arr(q, "choices")?.iter().map(|c| parse_ct(c, "choice", true)).collect())
        .collect()
}

/// Decodes a ballot: every point canonical, every ciphertext's α not the identity.
pub fn parse_ballot(v: &Value) -> R<Ballot> {
    let m = obj(v, "ballot", &["answers"])?;
    let answers = arr(&m["answers"], "answers")?
        .iter()
        .map(|a| {
            let m = obj(a, "answer", &["choices", "choice_proofs", "selections_proof"])?;
            Ok(Answer {
                choices: arr(&m["choices"], "choices")?
                    .iter()
                    .map(|c| parse_ct(c, "choice", true))
                    .collect::<R<_>>()?,
                choice_proofs: arr(&m["choice_proofs"], "choice_proofs")?
                    .iter()
                    .map(|p| parse_proof(p, "choice proof"))
                    .collect::<R<_>>()?,
                selections_proof: parse_proof(&m["selections_proof"], "selections proof")?,
            })
        })
        .collect::<R<_>>()?;
    Ok(Ballot { answers })
}

pub fn parse_nonces(v: &Value) -> R<BallotNonces> {
    Ok(BallotNonces(
        arr(v, "nonces")?
            .iter()
            .map(|rs| arr(rs, "nonces")?.iter().map(|r| Ok(Nonce::from_scalar(scalar(r, "nonce")?))).collect())
            .collect::<R<_>>()?,
    ))
}

pub fn parse_equality(v: &Value, what: &str) -> R<EqualityProof> {
    let m = obj(v, what, &["a1", "a2", "z"])?;
    Ok(EqualityProof { a1: point(&m["a1"], "a1")?, a2: point(&m["a2"], "a2")?, z: scalar(&m["z"], "z")? })
}

pub fn parse_knowledge(v: &Value) -> R<KnowledgeProof> {
    let p = obj(v, "proof", &["a", "z"])?;
    Ok(KnowledgeProof { a: point(&p["a"], "proof commitment")?, z: scalar(&p["z"], "proof response")? })
}

pub fn parse_encrypted_share(v: &Value) -> R<EncryptedShare> {
    let m = obj(v, "encrypted share", &["ephemeral", "share"])?;
    Ok(EncryptedShare {
        ephemeral: nonzero_point(&m["ephemeral"], "ephemeral key")?,
        ciphertext: hex_bytes(&m["share"], "encrypted share")?,
    })
}

/// A bilingual text `{"ar": string, "en": string}`.
pub fn text(v: &Value, what: &str) -> R<()> {
    obj(v, what, &["ar", "en"])?;
    s(&v["ar"], what)?;
    s(&v["en"], what)?;
    Ok(())
}
