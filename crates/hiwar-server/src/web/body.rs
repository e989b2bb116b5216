//! Request bodies: forms checked against the CSRF cookie, JSON (only with its content
//! type), and multipart uploads; every rejection names the field that is wrong.

use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, Request};
use axum::http::header;
use axum::http::StatusCode;
use serde::de::DeserializeOwned;
use subtle::ConstantTimeEq;

use super::connection::timed_out;
use super::{AppError, Ctx};

/// The request body, with an oversized body reported as 413 and a stalled one as 408.
async fn body_bytes<S: Send + Sync>(request: Request, state: &S) -> Result<Bytes, AppError> {
    Bytes::from_request(request, state)
        .await
        .map_err(|rejection| unread(&rejection, rejection.status(), rejection.body_text()))
}

/// The error of a body that could not be read: too large, stalled, or malformed.
fn unread(error: &(dyn std::error::Error + 'static), status: StatusCode, text: String) -> AppError {
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        AppError::too_large()
    } else if timed_out(error) {
        AppError::request_timeout()
    } else {
        AppError::bad_request("body", text)
    }
}

/// Names the field in a serde error message such as "missing field `title`".
fn field_in(message: &str, path: &str) -> String {
    if !path.is_empty() && path != "." {
        return path.to_string();
    }
    message.split('`').nth(1).unwrap_or("body").to_string()
}

/// A URL-encoded form whose `csrf` field matches this browser's CSRF cookie.
pub struct CsrfForm<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for CsrfForm<T> {
    type Rejection = AppError;
    async fn from_request(request: Request<Body>, state: &S) -> Result<Self, Self::Rejection> {
        let ctx = request.extensions().get::<Ctx>().cloned().ok_or_else(|| AppError::internal("no context"))?;
        let bytes = body_bytes(request, state).await?;
        let pairs: Vec<(String, String)> =
            serde_urlencoded::from_bytes(&bytes).map_err(|e| AppError::bad_request("body", e.to_string()))?;
        let token = pairs.iter().find(|(k, _)| k == "csrf").map(|(_, v)| v.as_bytes()).unwrap_or(b"");
        if !ctx.same_origin || !bool::from(token.ct_eq(ctx.csrf.as_bytes())) {
            return Err(AppError::csrf());
        }
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(&bytes));
        let value = serde_path_to_error::deserialize(de).map_err(|e| {
            let path = e.path().to_string();
            let message = e.into_inner().to_string();
            AppError::bad_request(field_in(&message, &path), message)
        })?;
        Ok(CsrfForm(value))
    }
}

/// A JSON body, with a 400 naming the field when it does not fit `T`.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = AppError;
    async fn from_request(request: Request<Body>, state: &S) -> Result<Self, Self::Rejection> {
        // Only JSON: a form or text/plain body could be sent by any other web site from a
        // visitor's browser without a preflight.
        let json =
            request.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| {
                v.split(';').next().is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json"))
            });
        if !json {
            return Err(AppError::unsupported_media_type());
        }
        let bytes = body_bytes(request, state).await?;
        let mut de = serde_json::Deserializer::from_slice(&bytes);
        let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let path = e.path().to_string();
            let message = e.into_inner().to_string();
            AppError::bad_request(field_in(&message, &path), message)
        })?;
        de.end().map_err(|e| AppError::bad_request("body", e.to_string()))?;
        Ok(ApiJson(value))
    }
}

/// A `multipart/form-data` form (file uploads) whose `csrf` field matches this
/// browser's CSRF cookie; every field as UTF-8 text, by name.
pub struct CsrfMultipart(pub std::collections::HashMap<String, String>);

impl<S: Send + Sync> FromRequest<S> for CsrfMultipart {
    type Rejection = AppError;
    async fn from_request(request: Request<Body>, state: &S) -> Result<Self, Self::Rejection> {
        let ctx = request.extensions().get::<Ctx>().cloned().ok_or_else(|| AppError::internal("no context"))?;
        let mut multipart = axum::extract::Multipart::from_request(request, state)
            .await
            .map_err(|e| unread(&e, e.status(), e.body_text()))?;
        let mut fields = std::collections::HashMap::new();
        while let Some(field) = multipart.next_field().await.map_err(|e| unread(&e, e.status(), e.body_text()))? {
            let name = field.name().unwrap_or_default().to_string();
            let bytes = field.bytes().await.map_err(|e| unread(&e, e.status(), e.body_text()))?;
            let text = String::from_utf8(bytes.to_vec())
                .map_err(|e| AppError::bad_request(name.clone(), format!("{name} is not UTF-8 text: {e}")))?;
            fields.insert(name, text);
        }
        let token = fields.get("csrf").map(String::as_bytes).unwrap_or(b"");
        if !ctx.same_origin || !bool::from(token.ct_eq(ctx.csrf.as_bytes())) {
            return Err(AppError::csrf());
        }
        Ok(CsrfMultipart(fields))
    }
}
