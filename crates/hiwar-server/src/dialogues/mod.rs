//! Dialogues and their members: the home page, creating and managing a dialogue
//! (phases, invitation codes, roles), logging in with a code, the dialogue's page, the
//! public record, and the JSON API for all of it.

pub mod api;
pub mod codes;
pub mod manage;
pub mod pages;
pub mod service;

use axum::routing::{get, post};

use crate::{AppState, Route};

pub fn routes(_: &AppState) -> Vec<Route> {
    vec![
        ("/", get(pages::home)),
        ("/healthz", get(api::healthz)),
        ("/static/style.css", get(crate::web::layout::stylesheet)),
        ("/login", get(pages::login_form).post(pages::login)),
        ("/logout", post(pages::logout)),
        ("/dialogues", post(manage::create_dialogue)),
        ("/dialogues/new", get(manage::new_dialogue)),
        ("/dialogues/{id}", get(pages::dialogue)),
        ("/dialogues/{id}/manage", get(manage::manage)),
        ("/dialogues/{id}/codes", post(manage::issue_codes)),
        ("/dialogues/{id}/codes/revoke", post(manage::revoke_codes)),
        ("/dialogues/{id}/roles", post(manage::change_role)),
        ("/dialogues/{id}/phases", post(manage::add_phase)),
        ("/dialogues/{id}/phase", post(manage::set_phase)),
        ("/dialogues/{id}/record", get(api::record)),
        ("/dialogues/{id}/record/view", get(pages::record_view)),
        ("/api/openapi.json", get(api::openapi)),
        ("/api/login", post(api::login)),
        ("/api/logout", post(api::logout)),
        ("/api/me", get(api::me)),
        ("/api/dialogues", get(api::list_dialogues).post(api::create_dialogue)),
        ("/api/dialogues/{id}", get(api::dialogue)),
        ("/api/dialogues/{id}/members", get(api::members)),
        ("/api/dialogues/{id}/codes", get(api::batches).post(api::issue_codes)),
        ("/api/dialogues/{id}/codes/revoke", post(api::revoke_codes)),
        ("/api/dialogues/{id}/roles", post(api::change_role)),
        ("/api/dialogues/{id}/phases", post(api::add_phase)),
        ("/api/dialogues/{id}/phase", post(api::set_phase)),
    ]
}
