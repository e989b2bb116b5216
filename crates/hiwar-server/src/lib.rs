//! hiwar's HTTP server: server-rendered bilingual pages that work without
//! JavaScript, a JSON API described at `/api/openapi.json`, and the public record.
//!
//! Handlers are thin: they parse (extractors in [`web`]), call [`service`] (which
//! checks roles and calls the store), and render ([`pages`] or JSON in [`api`]).

pub mod api;
pub mod codes;
pub mod deliberation;
pub mod deliberation_pages;
pub mod demo;
pub mod i18n;
pub mod pages;
pub mod selection;
pub mod selection_pages;
pub mod service;
pub mod web;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;
use hiwar_store::Store;

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
        }
    }
}

/// Shared state of all handlers.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub config: Arc<Config>,
    /// The deliberations' shared analyses.
    pub analyses: Arc<deliberation::Analyses>,
}

impl AppState {
    pub fn new(store: Store, config: Config) -> Self {
        AppState { store, config: Arc::new(config), analyses: Default::default() }
    }
}

/// All routes of the platform.
pub fn router(state: AppState) -> Router {
    let max_body = state.config.max_body_bytes;
    Router::new()
        .route("/", get(pages::home))
        .route("/healthz", get(api::healthz))
        .route("/static/style.css", get(pages::stylesheet))
        .route("/login", get(pages::login_form).post(pages::login))
        .route("/logout", post(pages::logout))
        .route("/dialogues", post(pages::create_dialogue))
        .route("/dialogues/new", get(pages::new_dialogue))
        .route("/dialogues/{id}", get(pages::dialogue))
        .route("/dialogues/{id}/manage", get(pages::manage))
        .route("/dialogues/{id}/codes", post(pages::issue_codes))
        .route("/dialogues/{id}/codes/revoke", post(pages::revoke_codes))
        .route("/dialogues/{id}/roles", post(pages::change_role))
        .route("/dialogues/{id}/phases", post(pages::add_phase))
        .route("/dialogues/{id}/phase", post(pages::set_phase))
        .route(
            "/dialogues/{id}/selections",
            get(selection_pages::list)
                .post(selection_pages::start)
                .layer(DefaultBodyLimit::max(state.config.max_upload_bytes)),
        )
        .route("/dialogues/{id}/selections/{sid}", get(selection_pages::show))
        .route("/dialogues/{id}/selections/{sid}/publish", post(selection_pages::publish))
        .route("/dialogues/{id}/selections/{sid}/draw", post(selection_pages::draw))
        .route("/dialogues/{id}/selections/{sid}/seat", post(selection_pages::seat))
        .route("/dialogues/{id}/selections/{sid}/manifest.json", get(selection_pages::manifest))
        .route("/dialogues/{id}/selections/{sid}/histogram.svg", get(selection_pages::histogram))
        .route("/dialogues/{id}/selections/{sid}/panel.csv", get(selection_pages::panel))
        .route("/dialogues/{id}/deliberation", get(deliberation_pages::deliberate))
        .route("/dialogues/{id}/deliberation/results", get(deliberation_pages::results))
        .route("/dialogues/{id}/deliberation/map.svg", get(deliberation_pages::map))
        .route("/dialogues/{id}/deliberation/report.json", get(deliberation_pages::report_json))
        .route("/dialogues/{id}/deliberation/report.csv", get(deliberation_pages::report_csv))
        .route("/dialogues/{id}/deliberation/report.html", get(deliberation_pages::report_html))
        .route("/dialogues/{id}/deliberation/polis/{file}", get(deliberation_pages::polis_export))
        .route("/dialogues/{id}/deliberation/moderation", get(deliberation_pages::moderation))
        .route("/dialogues/{id}/deliberation/tally", post(deliberation_pages::tally))
        .route("/dialogues/{id}/statements", post(deliberation_pages::post_statement))
        .route("/dialogues/{id}/statements/{sid}/vote", post(deliberation_pages::vote))
        .route("/dialogues/{id}/statements/{sid}/moderate", post(deliberation_pages::moderate))
        .route("/dialogues/{id}/statements/{sid}/redact", post(deliberation_pages::redact))
        .route("/dialogues/{id}/statements.json", get(deliberation_pages::statement_texts))
        .route("/dialogues/{id}/record", get(api::record))
        .route("/dialogues/{id}/record/view", get(pages::record_view))
        .route("/api/openapi.json", get(api::openapi))
        .route("/api/login", post(api::login))
        .route("/api/logout", post(api::logout))
        .route("/api/me", get(api::me))
        .route("/api/dialogues", get(api::list_dialogues).post(api::create_dialogue))
        .route("/api/dialogues/{id}", get(api::dialogue))
        .route("/api/dialogues/{id}/members", get(api::members))
        .route("/api/dialogues/{id}/codes", get(api::batches).post(api::issue_codes))
        .route("/api/dialogues/{id}/codes/revoke", post(api::revoke_codes))
        .route("/api/dialogues/{id}/roles", post(api::change_role))
        .route("/api/dialogues/{id}/phases", post(api::add_phase))
        .route("/api/dialogues/{id}/phase", post(api::set_phase))
        .fallback(|| async { web::AppError::not_found() })
        .layer(axum::middleware::from_fn_with_state(state.clone(), web::context))
        .layer(DefaultBodyLimit::max(max_body))
        .with_state(state)
}

/// Serves `router` on `listener` until Ctrl-C or SIGTERM.
pub async fn serve(listener: tokio::net::TcpListener, state: AppState) -> std::io::Result<()> {
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app).with_graceful_shutdown(shutdown_signal()).await
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}
