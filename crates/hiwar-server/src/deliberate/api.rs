//! The deliberation's JSON API, for clients other than the pages (apps, kiosks, load
//! tests): post a statement, ask for the next statement to vote on, vote. Same rules
//! and same service as the forms; authentication by bearer token.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;

use super::service;
use crate::web::{ApiJson, AppError, Ctx, LoggedIn};
use crate::AppState;

type ApiResult = Result<Response, AppError>;

#[derive(Deserialize)]
pub struct StatementInput {
    text: String,
}

pub async fn post_statement(
    State(state): State<AppState>,
    LoggedIn(ctx): LoggedIn,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<StatementInput>,
) -> ApiResult {
    let statement = service::post(&state, &ctx, &id, &input.text).await?;
    Ok((StatusCode::CREATED, Json(json!({ "id": statement }))).into_response())
}

#[derive(Deserialize)]
pub struct VoteInput {
    vote: String,
}

pub async fn vote(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((id, sid)): Path<(String, String)>,
    ApiJson(input): ApiJson<VoteInput>,
) -> ApiResult {
    service::vote(&state, &ctx, &id, &sid, &input.vote).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The statement the router gives the caller next (`null` when none is left), and when
/// the analysis that routed it was computed.
pub async fn next(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>) -> ApiResult {
    let (results, next) = service::next_for(&state, &ctx, &id).await?;
    let statement = next.map(|s| json!({ "id": s.id, "text": s.text }));
    Ok(Json(json!({ "statement": statement, "computed_at": results.computed_at })).into_response())
}
