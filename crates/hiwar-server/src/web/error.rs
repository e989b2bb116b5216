//! The errors handlers return: a status, a message id, and the field and detail that
//! name what was wrong.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use hiwar_store::StoreError;

/// An error a handler returns. Rendered by [`context`] once the language and the
/// wanted format are known.
#[derive(Debug, Clone)]
pub struct AppError {
    pub status: StatusCode,
    /// Fluent id of the explanation shown to people.
    pub message: &'static str,
    /// The request field that is wrong, if one is.
    pub field: Option<String>,
    /// Technical detail (English), for API clients and the page's small print.
    pub detail: Option<String>,
}

impl AppError {
    fn new(status: StatusCode, message: &'static str) -> Self {
        AppError { status, message, field: None, detail: None }
    }
    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "error-404")
    }
    pub fn unauthorized() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "error-401")
    }
    pub fn bad_code() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "login-failed")
    }
    pub fn forbidden() -> Self {
        Self::new(StatusCode::FORBIDDEN, "error-403")
    }
    pub fn csrf() -> Self {
        Self::new(StatusCode::FORBIDDEN, "error-csrf")
    }
    pub fn too_many() -> Self {
        Self::new(StatusCode::TOO_MANY_REQUESTS, "error-429")
    }
    /// A body that stopped arriving (`connection::BodyTimedOut`).
    pub fn request_timeout() -> Self {
        AppError {
            field: Some("body".into()),
            detail: Some("the request body stopped arriving before it was complete".into()),
            ..Self::new(StatusCode::REQUEST_TIMEOUT, "error-408")
        }
    }
    pub fn too_large() -> Self {
        Self::new(StatusCode::PAYLOAD_TOO_LARGE, "error-413")
    }
    pub fn bad_request(field: impl Into<String>, detail: impl Into<String>) -> Self {
        AppError {
            field: Some(field.into()),
            detail: Some(detail.into()),
            ..Self::new(StatusCode::BAD_REQUEST, "error-400")
        }
    }
    pub fn unsupported_media_type() -> Self {
        AppError {
            field: Some("content-type".into()),
            detail: Some("the body must be JSON, sent with Content-Type: application/json".into()),
            ..Self::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "error-415")
        }
    }

    pub fn conflict(field: &str, detail: impl Into<String>) -> Self {
        AppError {
            field: Some(field.into()),
            detail: Some(detail.into()),
            ..Self::new(StatusCode::CONFLICT, "error-409")
        }
    }
    /// The database could not take the request (restarting, unreachable, disk full):
    /// nothing was stored, and the client may try again.
    pub fn unavailable(detail: impl std::fmt::Display) -> Self {
        tracing::warn!(%detail, "database unavailable");
        AppError {
            detail: Some("the database is unavailable; nothing was stored; try again".into()),
            ..Self::new(StatusCode::SERVICE_UNAVAILABLE, "error-503")
        }
    }
    /// A request the framework refused before any handler ran (a path, query or body
    /// that does not parse), in the platform's error format, with the framework's
    /// explanation as the detail.
    pub fn rejected(status: StatusCode, detail: String) -> Self {
        let message = match status.as_u16() {
            404 => "error-404",
            413 => "error-413",
            415 => "error-415",
            _ => "error-400",
        };
        let status = if status == StatusCode::UNPROCESSABLE_ENTITY { StatusCode::BAD_REQUEST } else { status };
        AppError { detail: Some(detail), ..Self::new(status, message) }
    }
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        // The detail goes to the log, never to the client.
        tracing::error!(%detail, "internal error");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "error-500")
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(_) => AppError::not_found(),
            StoreError::Conflict(detail) => AppError::conflict("", detail),
            StoreError::Unusable => AppError::bad_code(),
            // The change would have written a line the record's verifier rejects.
            StoreError::Refused(detail) => AppError::conflict("record", detail),
            other if other.is_unavailable() => AppError::unavailable(other),
            other => AppError::internal(other),
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let mut response = self.status.into_response();
        response.extensions_mut().insert(self);
        response
    }
}
