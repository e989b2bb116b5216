//! Who may add a witness, and what a checkpoint document holds.

use hiwar_record::witness::Cosignature;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::dialogues::service::require_convener;
use crate::web::{AppError, Ctx};
use crate::AppState;

/// A witness to add: a name people recognise and its Ed25519 public key (hex).
#[derive(Debug, Deserialize)]
pub struct WitnessInput {
    pub name: String,
    pub key: String,
}

/// A convener adds a witness; the record's check W1 refuses a malformed or repeated key.
pub async fn add(state: &AppState, ctx: &Ctx, dialogue: &str, input: WitnessInput) -> Result<String, AppError> {
    let member = require_convener(state, ctx, dialogue).await?;
    let name = input.name.trim();
    let length = name.chars().count();
    if length == 0 || length > hiwar_record::witness::MAX_WITNESS_NAME {
        return Err(AppError::bad_request("name", "a witness's name has 1 to 80 characters"));
    }
    let key = input.key.trim().to_ascii_lowercase();
    if key.len() != 64 || !key.bytes().all(|c| c.is_ascii_hexdigit()) {
        return Err(AppError::bad_request(
            "key",
            "a witness's key is 64 hexadecimal digits (hiwar witness init prints it)",
        ));
    }
    Ok(state.store.add_witness(dialogue, &member.id, name, &key).await?)
}

/// What `/dialogues/{id}/checkpoint` serves: the dialogue key's signed head of the record
/// as it is now, and each witness's latest co-signature.
pub async fn checkpoint_document(state: &AppState, dialogue: &str) -> Result<Value, AppError> {
    let checkpoint = state.store.checkpoint(dialogue).await?;
    let witnesses = state.store.witnesses(dialogue).await?;
    let cosignatures: Vec<&Value> =
        witnesses.iter().filter_map(|w| w.latest.as_ref()).map(|c| &c.cosignature).collect();
    let listed: Vec<Value> =
        witnesses.iter().map(|w| json!({"witness": w.id, "name": w.name, "key": w.public_key})).collect();
    Ok(json!({"checkpoint": checkpoint.to_value(), "cosignatures": cosignatures, "witnesses": listed}))
}

/// Takes a witness's co-signature; the line it entered the record as, if it did.
pub async fn cosign(state: &AppState, dialogue: &str, body: &Value) -> Result<Option<u64>, AppError> {
    let cosignature = Cosignature::from_value(body).map_err(|e| AppError::bad_request("cosignature", e))?;
    state.store.cosign(dialogue, &cosignature).await.map_err(AppError::from)
}

/// What pages say of the witnesses: the largest size that a majority of them co-signed
/// (0 if none), and that majority — the quorum `hiwar verify --witnesses` uses by default:
/// with any smaller one, two disjoint groups of witnesses could each vouch for a
/// different history.
pub fn witnessed(witnesses: &[hiwar_store::WitnessRow]) -> (u64, usize) {
    let quorum = witnesses.len() / 2 + 1;
    let mut sizes: Vec<u64> = witnesses.iter().filter_map(|w| w.latest.as_ref().map(|c| c.size)).collect();
    sizes.sort_unstable_by(|a, b| b.cmp(a));
    (sizes.get(quorum - 1).copied().unwrap_or(0), quorum)
}
