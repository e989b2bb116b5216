//! What every request goes through: the request context (language, CSRF token,
//! viewer), security headers, privacy-preserving request logs, error rendering (HTML
//! or JSON by `Accept`), and body extractors that name the field that is wrong.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Instant;

use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use hiwar_store::{Account, Standing};

use sha2::{Digest, Sha256};

pub mod access;
mod body;
pub mod connection;
mod error;
pub mod i18n;
pub mod layout;

pub use access::{Access, Guard};
pub use body::{ApiJson, CsrfForm, CsrfMultipart};
pub use error::AppError;

use std::sync::Arc;
use std::time::Duration;

use hiwar_store::Store;

use self::i18n::Lang;
use self::layout::error_page;

/// Settings of a running server.
#[derive(Debug, Clone)]
pub struct Config {
    /// Mark cookies `Secure` (set when the public URL is https).
    pub secure_cookies: bool,
    /// Login attempts allowed per client address per minute, across every server
    /// process on the database.
    pub logins_per_minute: u32,
    /// Login attempts allowed per code (its lookup part) per minute, from anywhere.
    pub logins_per_code_per_minute: u32,
    /// The TLS proxy in front of hiwar: only for connections from this address is the
    /// client address read from `X-Forwarded-For` (its last entry, which the proxy added).
    pub trusted_proxy: Option<IpAddr>,
    /// The address users reach hiwar at (say `https://hiwar.example`), for absolute
    /// links such as the verification commands shown on pages. Without it those are
    /// shown relative, never built from the request's Host header.
    pub public_url: Option<String>,
    /// Every login answer, right or wrong, takes at least this long.
    pub login_floor: Duration,
    /// Largest request body accepted.
    pub max_body_bytes: usize,
    /// Largest upload accepted (a selection's pool and quotas).
    pub max_upload_bytes: usize,
    /// Longest wait for a request's head, and for each next piece of its body
    /// (`connection`): a client that sends slower is cut off.
    pub request_timeout: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            secure_cookies: false,
            logins_per_minute: 10,
            logins_per_code_per_minute: 5,
            trusted_proxy: None,
            public_url: None,
            login_floor: Duration::from_millis(300),
            max_body_bytes: 64 * 1024,
            max_upload_bytes: 8 << 20,
            request_timeout: Duration::from_secs(30),
        }
    }
}

/// What the plumbing needs of the server's state: the store (sessions) and the settings.
#[derive(Clone)]
pub struct Base {
    pub store: Store,
    pub config: Arc<Config>,
    /// Route templates (`/dialogues/{id}/selections`) whose POST may carry up to
    /// `max_upload_bytes`, registered by [`Guard::upload`] as the routes are built: the
    /// request context refuses a longer declared length before reading any of it.
    pub uploads: Arc<Templates>,
    /// Route templates whose service checks the caller in its own query, registered
    /// by [`Guard::access_in_query`] as the routes are built: the request context reads
    /// no session for them.
    pub in_query: Arc<Templates>,
}

/// Route templates the request context must know before routing, each registered by
/// the declaration of its route (so that one declaration serves both).
#[derive(Default)]
pub struct Templates(std::sync::RwLock<Vec<&'static str>>);

impl Templates {
    pub fn register(&self, template: &'static str) {
        let mut registered = self.0.write().unwrap_or_else(|p| p.into_inner());
        if !registered.contains(&template) {
            registered.push(template);
        }
    }

    /// Whether `path` is an instance of a registered template.
    pub fn matches(&self, path: &str) -> bool {
        self.0.read().unwrap_or_else(|p| p.into_inner()).iter().any(|t| matches_template(t, path))
    }
}

pub const SESSION_COOKIE: &str = "hiwar_session";
pub const CSRF_COOKIE: &str = "hiwar_csrf";
pub const LANG_COOKIE: &str = "hiwar_lang";

/// The Content-Security-Policy of every response that sets none of its own: nothing
/// from anywhere else, no script at all, no inline style, forms only to this site, no
/// framing.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'self'; img-src 'self'; \
     form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// The policy of the one page that runs code (the voting page): the same, plus this
/// site's script and WebAssembly module and requests to this site.
pub const SCRIPT_PAGE_POLICY: &str = "default-src 'none'; style-src 'self'; img-src 'self'; \
     script-src 'self' 'wasm-unsafe-eval'; connect-src 'self'; form-action 'self'; base-uri 'none'; \
     frame-ancestors 'none'";

/// Per-request facts that handlers and pages read.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub lang: Lang,
    /// This browser's CSRF token, echoed in every form.
    pub csrf: String,
    pub viewer: Option<Account>,
    /// SHA-256 (hex) of the session token, when there is a session.
    pub session: Option<String>,
    /// The request path, for the language switch link.
    pub path: String,
    pub wants_json: bool,
    /// The client's address, for rate limiting only: never logged or stored.
    pub client: IpAddr,
    /// Whether `Origin`, if sent, names this host.
    same_origin: bool,
    /// The viewer's standing in the route's dialogue, once read (by the access layer).
    standing: Option<Standing>,
    /// The session was not read (a route in [`Base::in_query`]): `viewer` and
    /// `standing` are unknown, not absent.
    unread: bool,
}

impl<S: Send + Sync> FromRequestParts<S> for Ctx {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<Ctx>().cloned().ok_or_else(|| AppError::internal("context middleware missing"))
    }
}

/// A [`Ctx`] with a logged-in viewer; rejects with 401 before the body is read.
pub struct LoggedIn(pub Ctx);

impl<S: Send + Sync> FromRequestParts<S> for LoggedIn {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let ctx = Ctx::from_request_parts(parts, state).await?;
        ctx.account()?;
        Ok(LoggedIn(ctx))
    }
}

impl Ctx {
    pub fn account(&self) -> Result<&Account, AppError> {
        self.viewer.as_ref().ok_or_else(AppError::unauthorized)
    }

    /// The viewer's standing in `dialogue` (no member and no roles when logged out):
    /// as the access layer read it for this request, or read now. `NotFound` when the
    /// dialogue does not exist.
    /// Reads the session and, for a path about a dialogue, the viewer's standing in it
    /// (one query), where the context left them unread.
    async fn read_session(&mut self, store: &Store) -> Result<(), AppError> {
        if self.unread {
            (self.viewer, self.standing) = viewer(store, self.session.as_deref(), &self.path).await?;
            self.unread = false;
        }
        Ok(())
    }

    pub async fn standing(&self, store: &Store, dialogue: &str) -> Result<Standing, AppError> {
        if let Some(standing) = self.standing.as_ref().filter(|s| s.dialogue == dialogue) {
            return Ok(standing.clone());
        }
        let account = self.viewer.as_ref().map_or("", |a| a.id.as_str());
        Ok(store.standing(dialogue, account).await?)
    }
}

pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

pub fn random_token() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

fn query_lang(query: Option<&str>) -> Option<Lang> {
    query?.split('&').filter_map(|kv| kv.split_once('=')).find(|(k, _)| *k == "lang").and_then(|(_, v)| Lang::parse(v))
}

/// Builds a `Set-Cookie` value: HttpOnly, SameSite=Lax, and Secure when configured.
pub fn set_cookie(config: &Config, name: &str, value: &str, max_age: i64) -> HeaderValue {
    let secure = if config.secure_cookies { "; Secure" } else { "" };
    HeaderValue::from_str(&format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}"))
        .expect("cookie values are hex or language codes")
}

/// Whether `path` is an instance of the route template `template`, where a `{name}`
/// segment stands for any one non-empty segment.
pub fn matches_template(template: &str, path: &str) -> bool {
    let (mut t, mut p) = (template.split('/'), path.split('/'));
    loop {
        match (t.next(), p.next()) {
            (None, None) => return true,
            (Some(a), Some(b)) if a.starts_with('{') && a.ends_with('}') && !b.is_empty() => continue,
            (Some(a), Some(b)) if a == b => continue,
            _ => return false,
        }
    }
}

/// The dialogue a path is about (`/dialogues/{id}/…` or `/api/dialogues/{id}/…`), as
/// written in it; a route's own `{id}` is compared with it before it is relied on.
fn dialogue_in_path(path: &str) -> Option<&str> {
    let rest = path.strip_prefix("/api").unwrap_or(path).strip_prefix("/dialogues/")?;
    rest.split('/').next().filter(|id| !id.is_empty())
}

/// The middleware every request passes: context in, headers and errors out.
pub async fn context(State(state): State<Base>, mut request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let headers = request.headers();
    // A declared length over the limit is refused before any of the body is read.
    let declared =
        headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    let upload = request.method() == axum::http::Method::POST && state.uploads.matches(&path);
    let limit = if upload { state.config.max_upload_bytes } else { state.config.max_body_bytes };
    let too_large = declared.is_some_and(|n| n > limit as u64);
    // No id or name anywhere holds a NUL byte, and PostgreSQL refuses text that does:
    // refused here, it cannot reach (and break) a shared write such as a group of votes.
    let nul_in_path = path.to_ascii_lowercase().contains("%00");

    let chosen_lang = query_lang(request.uri().query());
    let lang = chosen_lang
        .or_else(|| cookie(headers, LANG_COOKIE).and_then(Lang::parse))
        .or_else(|| {
            headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).and_then(Lang::from_accept_language)
        })
        .unwrap_or(Lang::Ar);
    let existing_csrf =
        cookie(headers, CSRF_COOKIE).filter(|v| v.len() == 64 && v.bytes().all(|c| c.is_ascii_hexdigit()));
    let csrf = existing_csrf.map(str::to_string).unwrap_or_else(random_token);
    let new_csrf = existing_csrf.is_none();
    let is_api = path.starts_with("/api/");
    let token = if is_api {
        headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::to_string)
    } else {
        cookie(headers, SESSION_COOKIE).map(str::to_string)
    };
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or("");
    let wants_json = is_api || (accept.contains("application/json") && !accept.contains("text/html"));
    let same_origin = match (headers.get(header::ORIGIN), headers.get(header::HOST)) {
        (Some(origin), Some(host)) => origin
            .to_str()
            .ok()
            .and_then(|o| o.split_once("://").map(|(_, h)| h.to_string()))
            .zip(host.to_str().ok())
            .is_some_and(|(o, h)| o == h),
        _ => true,
    };

    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    let client = client_address(peer, state.config.trusted_proxy, headers);
    let session = token.as_deref().map(token_hash);
    // A route whose service checks the caller in its own query reads nothing here.
    // Only a token of a session's shape goes unread: anything else is refused as usual.
    let unread = token.as_deref().is_some_and(|t| t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit()))
        && state.in_query.matches(&path);
    let (viewer, standing) = match unread {
        true => (None, None),
        false => match self::viewer(&state.store, session.as_deref(), &path).await {
            Ok(found) => found,
            Err(e) => return finish(lang, wants_json, client, e, started, &method, &path),
        },
    };
    let ctx = Ctx {
        lang,
        csrf: csrf.clone(),
        viewer,
        session,
        path: path.clone(),
        wants_json,
        client,
        same_origin,
        standing,
        unread,
    };
    request.extensions_mut().insert(ctx.clone());

    let mut response = if too_large {
        AppError::too_large().into_response()
    } else if nul_in_path {
        AppError::bad_request("path", "the address holds a NUL byte").into_response()
    } else {
        next.run(request).await
    };
    if response.extensions().get::<AppError>().is_none()
        && response.status().is_client_error()
        && is_plain_text(&response)
    {
        // The framework's own refusals (a query or path that does not parse) come as
        // plain text: answer them like every other error, in the caller's format.
        let body = std::mem::take(response.body_mut());
        let detail = axum::body::to_bytes(body, 4096).await.map(|b| String::from_utf8_lossy(&b).into_owned());
        response = AppError::rejected(response.status(), detail.unwrap_or_default()).into_response();
    }
    if let Some(error) = response.extensions_mut().remove::<AppError>() {
        let cookies: Vec<HeaderValue> = response.headers().get_all(header::SET_COOKIE).iter().cloned().collect();
        response = render_error(&ctx, &error);
        for c in cookies {
            response.headers_mut().append(header::SET_COOKIE, c);
        }
    }
    if let Some(lang) = chosen_lang {
        response
            .headers_mut()
            .append(header::SET_COOKIE, set_cookie(&state.config, LANG_COOKIE, lang.code(), 31_536_000));
    }
    if new_csrf && !is_api {
        response.headers_mut().append(header::SET_COOKIE, set_cookie(&state.config, CSRF_COOKIE, &csrf, 31_536_000));
    }
    secure_headers(response.headers_mut());
    log_request(&method, &path, response.status(), started);
    response
}

/// The account holding `session` (unexpired), and for a path about a dialogue where it
/// stands there, in the same query: the access layer and the services find both in the
/// context.
async fn viewer(
    store: &Store,
    session: Option<&str>,
    path: &str,
) -> Result<(Option<Account>, Option<Standing>), AppError> {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let found = match (session, dialogue_in_path(path)) {
        (Some(hash), Some(dialogue)) => store.session_standing(hash, now, dialogue).await?,
        (Some(hash), None) => store.session_account(hash, now).await?.map(|a| (a, None)),
        (None, _) => None,
    };
    Ok(found.map_or((None, None), |(account, standing)| (Some(account), standing)))
}

fn is_plain_text(response: &Response) -> bool {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/plain"))
}

fn finish(
    lang: Lang,
    wants_json: bool,
    client: IpAddr,
    error: AppError,
    started: Instant,
    method: &axum::http::Method,
    path: &str,
) -> Response {
    let ctx = Ctx {
        lang,
        csrf: String::new(),
        viewer: None,
        session: None,
        path: path.into(),
        wants_json,
        client,
        same_origin: true,
        standing: None,
        unread: false,
    };
    let mut response = render_error(&ctx, &error);
    secure_headers(response.headers_mut());
    log_request(method, path, response.status(), started);
    response
}

/// The client's address: the TCP peer, unless the peer is the trusted proxy, whose
/// `X-Forwarded-For` then names the client in its last entry (earlier entries come from
/// the client itself and can be forged).
fn client_address(peer: IpAddr, trusted_proxy: Option<IpAddr>, headers: &HeaderMap) -> IpAddr {
    if trusted_proxy != Some(peer) {
        return peer;
    }
    headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .last()
        .and_then(|last| last.trim().parse().ok())
        .unwrap_or(peer)
}

/// One log line per request: method, path, status and duration. Never the client's
/// address, user agent or query string.
fn log_request(method: &axum::http::Method, path: &str, status: StatusCode, started: Instant) {
    tracing::info!(%method, path, status = status.as_u16(), ms = started.elapsed().as_millis() as u64, "request");
}

fn secure_headers(headers: &mut HeaderMap) {
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    }
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert("cross-origin-opener-policy", HeaderValue::from_static("same-origin"));
    headers.insert("permissions-policy", HeaderValue::from_static("camera=(), microphone=(), geolocation=()"));
}

fn render_error(ctx: &Ctx, error: &AppError) -> Response {
    let mut response = if ctx.wants_json {
        let body = serde_json::json!({
            "error": ctx.lang.t(error.message),
            "status": error.status.as_u16(),
            "field": error.field,
            "detail": error.detail,
        });
        (error.status, axum::Json(body)).into_response()
    } else {
        (error.status, axum::response::Html(error_page(ctx, error).into_string())).into_response()
    };
    if error.status == StatusCode::TOO_MANY_REQUESTS {
        response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("60"));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::{dialogue_in_path, matches_template};

    #[test]
    fn the_dialogue_a_path_is_about() {
        assert_eq!(dialogue_in_path("/dialogues/d-1/deliberation"), Some("d-1"));
        assert_eq!(dialogue_in_path("/api/dialogues/d-1/statements/s/vote"), Some("d-1"));
        assert_eq!(dialogue_in_path("/dialogues/d-1"), Some("d-1"));
        assert_eq!(dialogue_in_path("/dialogues/"), None);
        assert_eq!(dialogue_in_path("/dialogues"), None);
        assert_eq!(dialogue_in_path("/api/login"), None);
        assert_eq!(dialogue_in_path("/x/dialogues/d-1"), None);
    }

    #[test]
    fn route_templates_match_one_segment_per_name() {
        assert!(matches_template("/dialogues/{id}/selections", "/dialogues/abc/selections"));
        assert!(!matches_template("/dialogues/{id}/selections", "/dialogues//selections"));
        assert!(!matches_template("/dialogues/{id}/selections", "/dialogues/a/b/selections"));
        assert!(!matches_template("/dialogues/{id}/selections", "/dialogues/abc/selections/x"));
        assert!(matches_template("/api/dialogues/{id}/elections/{eid}/events", "/api/dialogues/d/elections/e/events"));
    }
}
