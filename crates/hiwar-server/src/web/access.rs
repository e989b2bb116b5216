//! Who may use a route: decided where the route is declared (`.access(…)` in each
//! capability's `routes()`) and checked here, before the handler reads anything of the
//! request — so a refused caller learns nothing from how their body would have been
//! judged, and an upload from someone who may not upload is never read. (The few routes
//! declared `.access_in_query(…)` read a small body first and are checked by their own
//! query; whatever they do not accept is checked here afterwards, with the same answer.) The services
//! still check what only they know (a draft allowed to members by a setting, a
//! voter's phase); this layer is the floor. `tests/authz.rs` holds every route and
//! every role to one table.

use std::collections::HashMap;

use axum::extract::{DefaultBodyLimit, Path, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::MethodRouter;

use super::{AppError, Base, Ctx};

/// The callers a route admits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// A logged-in account.
    Account,
    /// An account that may create dialogues (a platform convener).
    PlatformConvener,
    /// A member of the route's dialogue (`{id}`) who holds a role (observers included;
    /// a member whose roles were all taken away is refused).
    Member,
    /// A member who takes part: a role other than observer.
    TakesPart,
    /// A convener of the route's dialogue.
    Convener,
}

/// `.access(base, Access::…)` on a route's handlers.
pub trait Guard {
    fn access(self, base: &Base, access: Access) -> Self;

    /// [`Guard::access`] for a route whose service checks the caller in the very
    /// query that does its work (a vote's write finds the session's member; a next
    /// statement's read finds the member and their votes), so that the busiest routes
    /// read nothing before it. `template` is the route's own, registered in
    /// [`Base::in_query`] so that the request context leaves the session unread for
    /// it: the one declaration serves both. A request with a session goes straight
    /// to the handler; if the answer is not a success, the caller is then checked here
    /// as on any other route, and one refused gets that refusal instead — a caller who
    /// may not use the route learns nothing more from it than from any other.
    fn access_in_query(self, base: &Base, template: &'static str, access: Access) -> Self;

    /// Lets the route's body carry an upload of up to `max_upload_bytes` (instead of
    /// `max_body_bytes`). `template` is the route's own, registered in
    /// [`Base::uploads`] so that the request context refuses a longer declared length
    /// before reading any of it: the one declaration serves both.
    fn upload(self, base: &Base, template: &'static str) -> Self;
}

impl<S: Clone + Send + Sync + 'static> Guard for MethodRouter<S> {
    fn access(self, base: &Base, access: Access) -> Self {
        self.route_layer(axum::middleware::from_fn_with_state((base.clone(), access, false), check))
    }

    fn access_in_query(self, base: &Base, template: &'static str, access: Access) -> Self {
        base.in_query.register(template);
        self.route_layer(axum::middleware::from_fn_with_state((base.clone(), access, true), check))
    }

    fn upload(self, base: &Base, template: &'static str) -> Self {
        base.uploads.register(template);
        self.layer(DefaultBodyLimit::max(base.config.max_upload_bytes))
    }
}

async fn check(
    State((base, access, in_query)): State<(Base, Access, bool)>,
    params: Option<Path<HashMap<String, String>>>,
    mut request: Request,
    next: Next,
) -> Response {
    let Some(ctx) = request.extensions_mut().get_mut::<Ctx>() else {
        return AppError::internal("context middleware missing").into_response();
    };
    let dialogue = params.as_ref().and_then(|p| p.get("id")).map(String::as_str);
    if in_query && ctx.unread {
        let mut ctx = ctx.clone();
        let response = next.run(request).await;
        if response.status().is_success() || response.status().is_redirection() {
            return response;
        }
        let refused = match ctx.read_session(&base.store).await {
            Ok(()) => admitted(&base, access, &mut ctx, dialogue).await,
            Err(e) => Err(e),
        };
        return refused.map_or_else(IntoResponse::into_response, |()| response);
    }
    match admitted(&base, access, ctx, dialogue).await {
        Ok(()) => next.run(request).await,
        Err(e) => e.into_response(),
    }
}

/// 404 for a dialogue that does not exist, 401 without a session, 403 without the
/// role; nothing else is looked at. The caller's standing in the dialogue, once read,
/// stays in the request's context for the service (one query answers both).
async fn admitted(base: &Base, access: Access, ctx: &mut Ctx, dialogue: Option<&str>) -> Result<(), AppError> {
    let standing = match (access, dialogue) {
        (Access::Account, _) => return ctx.account().map(|_| ()),
        (Access::PlatformConvener, _) => {
            return if ctx.account()?.is_convener { Ok(()) } else { Err(AppError::forbidden()) };
        }
        (_, None) => return Err(AppError::internal(format!("{access:?} on a route without a dialogue"))),
        // The dialogue first: an unknown one is 404 for everyone.
        (_, Some(dialogue)) => ctx.standing(&base.store, dialogue).await?,
    };
    let admitted = match access {
        Access::Member => !standing.roles.is_empty(),
        Access::TakesPart => standing.takes_part(),
        Access::Convener => standing.has("convener"),
        Access::Account | Access::PlatformConvener => unreachable!("answered above"),
    };
    ctx.standing = Some(standing);
    ctx.account()?;
    if admitted {
        Ok(())
    } else {
        Err(AppError::forbidden())
    }
}
