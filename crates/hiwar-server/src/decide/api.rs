//! The JSON API of Decide. Creating, opening and closing need a convener's bearer
//! token; the steps of the credential authority and the trustees are authenticated by
//! their signatures, and ballots by their credential's signature, so none of those
//! needs an account — and a ballot arrives with nothing that names a member.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::decide::service::{self, ElectionInput};
use crate::web::{ApiJson, AppError, LoggedIn};
use crate::AppState;

type ApiResult = Result<Response, AppError>;

pub async fn list(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult {
    state.store.dialogue(&id).await?;
    Ok(Json(state.store.elections(&id).await?).into_response())
}

pub async fn create(
    State(state): State<AppState>,
    LoggedIn(ctx): LoggedIn,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<ElectionInput>,
) -> ApiResult {
    let election = service::create(&state, &ctx, &id, input).await?;
    Ok((StatusCode::CREATED, Json(json!({ "election": election }))).into_response())
}

/// The election (as `election.created` and the stage) and where its ceremony, list
/// and ballots stand.
pub async fn show(State(state): State<AppState>, Path((id, election)): Path<(String, String)>) -> ApiResult {
    let e = state.store.election(&id, &election).await?;
    let s = state.store.election_status(&id, &election).await?;
    Ok(Json(json!({
        "dialogue": id, "election": e.id, "stage": s.stage, "created": e.created, "public_key": e.public_key,
        "closes_at": e.closes_at, "result": e.result,
        "ceremony": {"trustees": s.trustees, "threshold": s.threshold, "committed": s.committed,
            "revealed": s.revealed, "dealt": s.dealt, "failed": s.failed, "decrypted": s.decrypted},
        "credentials": {"listed": s.credentials, "voters": s.voters, "total_weight": s.total_weight},
        "ballots": {"cast": s.cast, "superseded": s.superseded, "spoiled": s.spoiled},
    }))
    .into_response())
}

/// A step signed by the credential authority or a trustee: `{"kind": …, "body": …}`.
#[derive(Deserialize)]
pub struct SignedStep {
    kind: String,
    body: Value,
}

pub async fn relay(
    State(state): State<AppState>,
    Path((id, election)): Path<(String, String)>,
    ApiJson(step): ApiJson<SignedStep>,
) -> ApiResult {
    let line = service::relay(&state, &id, &election, &step.kind, step.body).await?;
    Ok((StatusCode::CREATED, Json(json!({ "line": line }))).into_response())
}

pub async fn open(
    State(state): State<AppState>,
    LoggedIn(ctx): LoggedIn,
    Path((id, election)): Path<(String, String)>,
) -> ApiResult {
    let key = service::open(&state, &ctx, &id, &election).await?;
    Ok(Json(json!({ "public_key": key })).into_response())
}

pub async fn close(
    State(state): State<AppState>,
    LoggedIn(ctx): LoggedIn,
    Path((id, election)): Path<(String, String)>,
) -> ApiResult {
    service::close(&state, &ctx, &id, &election).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Casts a ballot: the body of `ballot.cast`. Answers after the ballot is on disk.
pub async fn cast(
    State(state): State<AppState>,
    Path((id, election)): Path<(String, String)>,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult {
    let receipt = service::cast(&state, &id, &election, body).await?;
    // The signed head just after the ballot entered: with it the voter can later prove a
    // record without their ballot at that line is a rewritten one (record spec §9).
    let checkpoint = state.store.checkpoint(&id).await?;
    let receipt = json!({"tracking": receipt.tracking, "line": receipt.line, "checkpoint": checkpoint.to_value()});
    Ok((StatusCode::CREATED, Json(receipt)).into_response())
}

/// Publishes a challenged ballot: the body of `ballot.spoiled`.
pub async fn spoil(
    State(state): State<AppState>,
    Path((id, election)): Path<(String, String)>,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult {
    let line = service::spoil(&state, &id, &election, body).await?;
    Ok((StatusCode::CREATED, Json(json!({ "line": line }))).into_response())
}

/// Which part of the ballot board: `?q=` a tracking code's beginning, `?from=`, `?limit=`.
#[derive(Deserialize)]
pub struct BoardQuery {
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub from: u64,
    pub limit: Option<u64>,
}

/// Most board entries per request.
pub const BOARD_PAGE: u64 = 100;

pub async fn board(
    State(state): State<AppState>,
    Path((id, election)): Path<(String, String)>,
    Query(query): Query<BoardQuery>,
) -> ApiResult {
    state.store.election(&id, &election).await?;
    let limit = query.limit.unwrap_or(BOARD_PAGE).clamp(1, 10 * BOARD_PAGE);
    let (entries, total) = state.store.ballot_board(&id, &election, &query.q, query.from, limit).await?;
    Ok(Json(json!({"total": total, "from": query.from, "entries": entries})).into_response())
}
