//! Declare: joint statements co-signed by organisations and members with their own
//! keys, so that anyone can check who signed exactly which text, and the agenda the
//! participants shape (record spec §10).

pub mod agenda;
pub mod pages;
pub mod service;

use axum::routing::{get, post};

use crate::web::Access::*;
use crate::web::Guard;
use crate::{AppState, Route};

pub fn routes(state: &AppState) -> Vec<Route> {
    let base = state.base();
    vec![
        ("/dialogues/{id}/declarations", get(pages::list).merge(post(pages::create).access(&base, Member))),
        ("/dialogues/{id}/declarations/settings", post(pages::settings).access(&base, Convener)),
        ("/dialogues/{id}/declarations/{did}", get(pages::show)),
        ("/dialogues/{id}/declarations/{did}/versions", post(pages::new_version).access(&base, Member)),
        ("/dialogues/{id}/declarations/{did}/open", post(pages::open).access(&base, Convener)),
        ("/dialogues/{id}/declarations/{did}/declaration.json", get(pages::json_copy)),
        ("/dialogues/{id}/declarations/{did}/declaration.html", get(pages::html_copy)),
        ("/api/dialogues/{id}/declarations/{did}/signatures", pages::by_own_key("declaration.signed")),
        ("/api/dialogues/{id}/declarations/{did}/withdrawals", pages::by_own_key("declaration.withdrawn")),
        ("/dialogues/{id}/organisations/register", get(pages::register_organisation)),
        ("/api/dialogues/{id}/organisations", post(pages::register_organisation_api)),
        ("/api/dialogues/{id}/signatories/me", post(pages::register_member_api).access(&base, Member)),
        ("/api/dialogues/{id}/signatories/{sid}/key", pages::by_own_key("signatory.key_rotated")),
        ("/api/dialogues/{id}/signatories/{sid}/revoked", pages::by_own_key("signatory.revoked")),
        ("/dialogues/{id}/signatories/{sid}/revoke", post(pages::convener_revoke).access(&base, Convener)),
        ("/dialogues/{id}/agenda", get(pages::agenda).merge(post(pages::propose).access(&base, TakesPart))),
        ("/dialogues/{id}/agenda/{sid}/decision", post(pages::decide).access(&base, Convener)),
        ("/dialogues/{id}/agenda/declaration", post(pages::agenda_declaration).access(&base, Convener)),
        ("/static/declare.js", get(|| crate::decide::pages::script(pages::DECLARE_JS))),
    ]
}
