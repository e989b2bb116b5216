//! hiwar's HTTP server: server-rendered bilingual pages that work without
//! JavaScript, a JSON API described at `/api/openapi.json`, and the public record.
//!
//! One folder per capability — [`dialogues`] (dialogues, phases, members, roles,
//! codes, login), [`seat`], [`deliberate`], [`decide`], [`declare`] — each with its
//! `service` (who may do what, and the calls into the store), `pages` and, where it has
//! one, `api`, and a `routes()` that this file merges. The plumbing in [`web`] (request
//! context, errors, CSRF, security headers, body limits, languages, the page frame)
//! sits below them and imports none of them. Handlers are thin: they parse, call their
//! capability's service, and render.

pub mod decide;
pub mod declare;
pub mod deliberate;
pub mod demo;
pub mod dialogues;
pub mod seat;
pub mod web;
pub mod witness;

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::routing::MethodRouter;
use axum::Router;
use hiwar_store::Store;

pub use web::Config;

/// One route of a capability: its path and its handlers by method.
pub type Route = (&'static str, MethodRouter<AppState>);

/// Shared state of all handlers.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub config: Arc<Config>,
    /// The deliberations' shared analyses.
    pub analyses: Arc<deliberate::service::Analyses>,
    /// The ballot boxes of open elections.
    pub ballot_boxes: Arc<decide::service::BallotBoxes>,
    /// The Declare pages' view of each dialogue's record.
    pub declare_views: Arc<declare::service::DeclareViews>,
    /// The upload routes' templates, as their routes declare them.
    uploads: Arc<web::Templates>,
    /// The route templates checked by their own query, as their routes declare them.
    in_query: Arc<web::Templates>,
}

impl AppState {
    pub fn new(store: Store, config: Config) -> Self {
        AppState {
            store,
            config: Arc::new(config),
            analyses: Default::default(),
            ballot_boxes: Default::default(),
            declare_views: Default::default(),
            uploads: Default::default(),
            in_query: Default::default(),
        }
    }

    /// What the request plumbing needs of it.
    pub fn base(&self) -> web::Base {
        web::Base {
            store: self.store.clone(),
            config: self.config.clone(),
            uploads: self.uploads.clone(),
            in_query: self.in_query.clone(),
        }
    }
}

/// Every capability's routes, in one list (the router and its tests read it).
pub fn routes(state: &AppState) -> Vec<Route> {
    [
        dialogues::routes(state),
        seat::routes(state),
        deliberate::routes(state),
        decide::routes(state),
        declare::routes(state),
        witness::routes(state),
    ]
    .concat()
}

/// All routes of the platform, behind the request plumbing.
pub fn router(state: AppState) -> Router {
    let max_body = state.config.max_body_bytes;
    let mut router = Router::new();
    for (path, handlers) in routes(&state) {
        router = router.route(path, handlers);
    }
    router
        .fallback(|| async { web::AppError::not_found() })
        .layer(axum::middleware::from_fn_with_state(state.base(), web::context))
        .layer(DefaultBodyLimit::max(max_body))
        .with_state(state)
}

/// Serves `router` on `listener` until Ctrl-C or SIGTERM.
pub async fn serve(listener: tokio::net::TcpListener, state: AppState) -> std::io::Result<()> {
    tokio::spawn(decide::service::close_when_due(state.clone()));
    let (timeout, proxy) = (state.config.request_timeout, state.config.trusted_proxy);
    web::connection::serve_connections(listener, router(state), timeout, proxy, shutdown_signal()).await
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::web::i18n::Lang;

    /// The routes, by capability: a new route shows up here (and in the authorisation
    /// matrix to come), and no path is registered twice.
    #[tokio::test]
    async fn every_route_is_listed_once() {
        let dir = tempfile::tempdir().unwrap();
        let state = AppState::new(Store::open_sqlite(dir.path()).await.unwrap(), Config::default());
        let paths: Vec<&str> = routes(&state).iter().map(|(p, _)| *p).collect();
        let mut unique = paths.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), paths.len(), "a path is registered twice: {paths:?}");
        for expected in
            ["/", "/dialogues/{id}/record", "/dialogues/{id}/selections", "/dialogues/{id}/deliberation", "/api/login"]
        {
            assert!(paths.contains(&expected), "{expected} is not routed");
        }
    }

    #[test]
    fn every_message_used_in_the_code_exists() {
        // Catches a typo in a message id: the page would show the id instead of text.
        let sources = [
            include_str!("web/mod.rs"),
            include_str!("web/layout.rs"),
            include_str!("dialogues/pages.rs"),
            include_str!("dialogues/manage.rs"),
            include_str!("dialogues/service.rs"),
            include_str!("seat/service.rs"),
            include_str!("seat/pages.rs"),
            include_str!("deliberate/service.rs"),
            include_str!("deliberate/pages.rs"),
            include_str!("decide/pages.rs"),
            include_str!("decide/service.rs"),
        ];
        let ids = Lang::En.message_ids();
        for source in sources {
            for (i, _) in source.match_indices(".t(\"").chain(source.match_indices(".t1(\"")) {
                let rest = &source[i..];
                let start = rest.find('"').unwrap() + 1;
                let end = start + rest[start..].find('"').unwrap();
                let id = &rest[start..end];
                assert!(ids.iter().any(|m| m == id), "message {id:?} is used but not defined");
            }
        }
    }
}
