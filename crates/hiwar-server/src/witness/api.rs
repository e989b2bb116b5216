//! The witnesses' JSON: the checkpoint document, co-signatures (authenticated by the
//! witness's signature alone, no account), and adding a witness with a convener's token.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use crate::web::{ApiJson, AppError, LoggedIn};
use crate::witness::service::{self, WitnessInput};
use crate::AppState;

type ApiResult = Result<Response, AppError>;

pub async fn checkpoint(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult {
    Ok(Json(service::checkpoint_document(&state, &id).await?).into_response())
}

pub async fn cosign(State(state): State<AppState>, Path(id): Path<String>, ApiJson(body): ApiJson<Value>) -> ApiResult {
    state.store.dialogue(&id).await?;
    match service::cosign(&state, &id, &body).await {
        Ok(recorded) => Ok(Json(json!({ "recorded_at": recorded })).into_response()),
        Err(e) if e.status == StatusCode::NOT_FOUND => Err(AppError {
            detail: Some("this key is not one of the dialogue's witnesses: ask a convener to add it".into()),
            ..AppError::forbidden()
        }),
        Err(e) => Err(e),
    }
}

pub async fn add(
    State(state): State<AppState>,
    LoggedIn(ctx): LoggedIn,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<WitnessInput>,
) -> ApiResult {
    let witness = service::add(&state, &ctx, &id, input).await.map_err(|e| match e.field.as_deref() {
        Some("record") => AppError::conflict("key", e.detail.unwrap_or_default()),
        _ => e,
    })?;
    Ok((StatusCode::CREATED, Json(json!({ "witness": witness }))).into_response())
}
