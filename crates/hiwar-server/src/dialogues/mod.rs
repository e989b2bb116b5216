//! Dialogues and their members: the home page, creating and managing a dialogue
//! (phases, invitation codes, roles), logging in with a code, the dialogue's page, the
//! public record, and the JSON API for all of it.

pub mod api;
pub mod codes;
pub mod manage;
pub mod pages;
pub mod service;

use axum::routing::{get, post};

use crate::web::Access::*;
use crate::web::Guard;
use crate::{AppState, Route};

pub fn routes(state: &AppState) -> Vec<Route> {
    let base = state.base();
    vec![
        ("/", get(pages::home)),
        ("/healthz", get(api::healthz)),
        ("/static/style.css", get(crate::web::layout::stylesheet)),
        ("/login", get(pages::login_form).post(pages::login)),
        ("/logout", post(pages::logout)),
        ("/dialogues", post(manage::create_dialogue).access(&base, PlatformConvener)),
        ("/dialogues/new", get(manage::new_dialogue).access(&base, PlatformConvener)),
        ("/dialogues/{id}", get(pages::dialogue)),
        ("/dialogues/{id}/manage", get(manage::manage).access(&base, Convener)),
        ("/dialogues/{id}/codes", post(manage::issue_codes).access(&base, Convener)),
        ("/dialogues/{id}/codes/revoke", post(manage::revoke_codes).access(&base, Convener)),
        ("/dialogues/{id}/roles", post(manage::change_role).access(&base, Convener)),
        ("/dialogues/{id}/phases", post(manage::add_phase).access(&base, Convener)),
        ("/dialogues/{id}/phase", post(manage::set_phase).access(&base, Convener)),
        ("/dialogues/{id}/record", get(api::record)),
        ("/dialogues/{id}/record/view", get(pages::record_view)),
        ("/api/openapi.json", get(api::openapi)),
        ("/api/login", post(api::login)),
        ("/api/logout", post(api::logout).access(&base, Account)),
        ("/api/me", get(api::me).access(&base, Account)),
        ("/api/dialogues", get(api::list_dialogues).merge(post(api::create_dialogue).access(&base, PlatformConvener))),
        ("/api/dialogues/{id}", get(api::dialogue)),
        ("/api/dialogues/{id}/members", get(api::members)),
        ("/api/dialogues/{id}/codes", get(api::batches).post(api::issue_codes).access(&base, Convener)),
        ("/api/dialogues/{id}/codes/revoke", post(api::revoke_codes).access(&base, Convener)),
        ("/api/dialogues/{id}/roles", post(api::change_role).access(&base, Convener)),
        ("/api/dialogues/{id}/phases", post(api::add_phase).access(&base, Convener)),
        ("/api/dialogues/{id}/phase", post(api::set_phase).access(&base, Convener)),
    ]
}
