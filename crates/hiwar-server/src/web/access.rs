//! Who may use a route: decided where the route is declared (`.access(…)` in each
//! capability's `routes()`) and checked here, before the handler reads anything of the
//! request — so a refused caller learns nothing from how their body would have been
//! judged, and an upload from someone who may not upload is never read. The services
//! still check what only they know (a draft allowed to members by a setting, a
//! voter's phase); this layer is the floor. `tests/authz.rs` holds every route and
//! every role to one table.

use std::collections::HashMap;

use axum::extract::{Path, Request, State};
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
}

impl<S: Clone + Send + Sync + 'static> Guard for MethodRouter<S> {
    fn access(self, base: &Base, access: Access) -> Self {
        self.route_layer(axum::middleware::from_fn_with_state((base.clone(), access), check))
    }
}

async fn check(
    State((base, access)): State<(Base, Access)>,
    params: Option<Path<HashMap<String, String>>>,
    request: Request,
    next: Next,
) -> Response {
    let Some(ctx) = request.extensions().get::<Ctx>().cloned() else {
        return AppError::internal("context middleware missing").into_response();
    };
    let dialogue = params.as_ref().and_then(|p| p.get("id")).map(String::as_str);
    match admitted(&base, access, &ctx, dialogue).await {
        Ok(()) => next.run(request).await,
        Err(e) => e.into_response(),
    }
}

/// 404 for a dialogue that does not exist, 401 without a session, 403 without the
/// role; nothing else is looked at.
async fn admitted(base: &Base, access: Access, ctx: &Ctx, dialogue: Option<&str>) -> Result<(), AppError> {
    let roles = match (access, dialogue) {
        (Access::Account, _) => return ctx.account().map(|_| ()),
        (Access::PlatformConvener, _) => {
            return if ctx.account()?.is_convener { Ok(()) } else { Err(AppError::forbidden()) };
        }
        (_, None) => return Err(AppError::internal(format!("{access:?} on a route without a dialogue"))),
        (_, Some(dialogue)) => {
            // The dialogue first: an unknown one is 404 for everyone.
            let account = ctx.viewer.as_ref();
            let roles = base.store.roles_in(dialogue, account.map_or("", |a| a.id.as_str())).await?;
            ctx.account()?;
            roles
        }
    };
    let admitted = match access {
        Access::Member => !roles.is_empty(),
        Access::TakesPart => roles.iter().any(|r| r != "observer"),
        Access::Convener => roles.iter().any(|r| r == "convener"),
        Access::Account | Access::PlatformConvener => unreachable!("answered above"),
    };
    if admitted {
        Ok(())
    } else {
        Err(AppError::forbidden())
    }
}
