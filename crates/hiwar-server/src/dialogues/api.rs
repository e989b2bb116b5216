//! The JSON API (described in `assets/openapi.json`), the public record and the
//! health check. Authentication is by `Authorization: Bearer <token>` from
//! `POST /api/login`, never by cookie, so the API needs no CSRF token.

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;

use crate::dialogues::service::{self, DialogueInput, PhaseInput};
use crate::web::{ApiJson, AppError, Ctx, LoggedIn};
use crate::AppState;

type ApiResult = Result<Response, AppError>;

pub async fn healthz(State(state): State<AppState>) -> ApiResult {
    state.store.health().await?;
    Ok(Json(json!({"status": "ok", "version": env!("CARGO_PKG_VERSION")})).into_response())
}

pub async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], include_str!("../../assets/openapi.json")).into_response()
}

/// `GET /dialogues/{id}/record`: the public record as JSON lines, for anyone.
/// Which lines of a record to serve: `?from=N` (from 0) and `?limit=M`; all by default.
#[derive(Deserialize)]
pub struct RecordRange {
    from: Option<u64>,
    limit: Option<u64>,
}

/// Lines read from the database per step while a record is sent, so a request for a
/// whole, large record holds only this many in memory.
const RECORD_PAGE_LINES: u64 = 2_000;

/// The public record (or the lines asked for), streamed page by page.
pub async fn record(
    State(state): State<AppState>,
    Path(id): Path<String>,
    axum::extract::Query(range): axum::extract::Query<RecordRange>,
) -> ApiResult {
    state.store.dialogue(&id).await?;
    let from = range.from.unwrap_or(0);
    let end = range.limit.map_or(u64::MAX, |l| from.saturating_add(l));
    let pages = futures_util::stream::unfold(from, move |next| {
        let (state, id) = (state.clone(), id.clone());
        async move {
            if next >= end {
                return None;
            }
            let wanted = (end - next).min(RECORD_PAGE_LINES);
            match state.store.record_lines(&id, next, wanted).await {
                Ok(text) if text.is_empty() => None,
                Ok(text) => {
                    let got = text.bytes().filter(|&b| b == b'\n').count() as u64;
                    Some((Ok::<_, hiwar_store::StoreError>(text), next + got))
                }
                Err(e) => Some((Err(e), end)),
            }
        }
    });
    Ok(([(header::CONTENT_TYPE, "application/x-ndjson; charset=utf-8")], axum::body::Body::from_stream(pages))
        .into_response())
}

#[derive(Deserialize)]
pub struct LoginInput {
    code: String,
    pseudonym: Option<String>,
}

pub async fn login(State(state): State<AppState>, ctx: Ctx, ApiJson(input): ApiJson<LoginInput>) -> ApiResult {
    let outcome = service::login(&state, ctx.client, &input.code, input.pseudonym.as_deref()).await?;
    Ok(Json(outcome).into_response())
}

pub async fn logout(State(state): State<AppState>, ctx: Ctx) -> ApiResult {
    ctx.account()?;
    service::logout(&state, &ctx).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub async fn me(ctx: Ctx) -> ApiResult {
    let account = ctx.account()?;
    Ok(Json(json!({"account": account.id, "is_convener": account.is_convener})).into_response())
}

pub async fn list_dialogues(State(state): State<AppState>) -> ApiResult {
    Ok(Json(state.store.list_dialogues().await?).into_response())
}

pub async fn create_dialogue(
    State(state): State<AppState>,
    LoggedIn(ctx): LoggedIn,
    ApiJson(input): ApiJson<DialogueInput>,
) -> ApiResult {
    let id = service::create_dialogue(&state, &ctx, input).await?;
    Ok((StatusCode::CREATED, Json(json!({ "id": id }))).into_response())
}

pub async fn dialogue(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult {
    Ok(Json(state.store.dialogue(&id).await?).into_response())
}

pub async fn members(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult {
    Ok(Json(state.store.members(&id).await?).into_response())
}

#[derive(Deserialize)]
pub struct IssueInput {
    role: String,
    count: u32,
}

pub async fn issue_codes(
    State(state): State<AppState>,
    LoggedIn(ctx): LoggedIn,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<IssueInput>,
) -> ApiResult {
    let (batch, codes) = service::issue_codes(&state, &ctx, &id, &input.role, input.count).await?;
    Ok((StatusCode::CREATED, Json(json!({"batch": batch, "role": input.role, "codes": codes}))).into_response())
}

pub async fn batches(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>) -> ApiResult {
    service::require_convener(&state, &ctx, &id).await?;
    Ok(Json(state.store.batches(&id).await?).into_response())
}

#[derive(Deserialize)]
pub struct RevokeInput {
    batch: Option<String>,
    code: Option<String>,
}

pub async fn revoke_codes(
    State(state): State<AppState>,
    LoggedIn(ctx): LoggedIn,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<RevokeInput>,
) -> ApiResult {
    let revoked = service::revoke_codes(&state, &ctx, &id, input.batch.as_deref(), input.code.as_deref()).await?;
    Ok(Json(json!({ "revoked": revoked })).into_response())
}

#[derive(Deserialize)]
pub struct RoleInput {
    member: String,
    role: String,
    grant: bool,
}

pub async fn change_role(
    State(state): State<AppState>,
    LoggedIn(ctx): LoggedIn,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<RoleInput>,
) -> ApiResult {
    service::change_role(&state, &ctx, &id, &input.member, &input.role, input.grant).await?;
    Ok(Json(state.store.members(&id).await?).into_response())
}

pub async fn add_phase(
    State(state): State<AppState>,
    LoggedIn(ctx): LoggedIn,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<PhaseInput>,
) -> ApiResult {
    let index = service::add_phase(&state, &ctx, &id, input).await?;
    Ok((StatusCode::CREATED, Json(json!({ "index": index }))).into_response())
}

#[derive(Deserialize)]
pub struct SetPhaseInput {
    index: Option<usize>,
}

pub async fn set_phase(
    State(state): State<AppState>,
    LoggedIn(ctx): LoggedIn,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<SetPhaseInput>,
) -> ApiResult {
    service::set_phase(&state, &ctx, &id, input.index).await?;
    Ok(Json(json!({ "current_phase": input.index })).into_response())
}
