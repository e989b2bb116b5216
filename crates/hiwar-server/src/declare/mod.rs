//! Declare: joint statements co-signed by organisations and members with their own
//! keys, so that anyone can check who signed exactly which text, and the agenda the
//! participants shape (record spec §10).

pub mod agenda;
pub mod pages;
pub mod service;

use axum::routing::{get, post};

use crate::{AppState, Route};

pub fn routes(_: &AppState) -> Vec<Route> {
    vec![
        ("/dialogues/{id}/declarations", get(pages::list).post(pages::create)),
        ("/dialogues/{id}/declarations/settings", post(pages::settings)),
        ("/dialogues/{id}/declarations/{did}", get(pages::show)),
        ("/dialogues/{id}/declarations/{did}/versions", post(pages::new_version)),
        ("/dialogues/{id}/declarations/{did}/open", post(pages::open)),
        ("/dialogues/{id}/declarations/{did}/declaration.json", get(pages::json_copy)),
        ("/dialogues/{id}/declarations/{did}/declaration.html", get(pages::html_copy)),
        ("/api/dialogues/{id}/declarations/{did}/signatures", pages::by_own_key("declaration.signed")),
        ("/api/dialogues/{id}/declarations/{did}/withdrawals", pages::by_own_key("declaration.withdrawn")),
        ("/dialogues/{id}/organisations/register", get(pages::register_organisation)),
        ("/api/dialogues/{id}/organisations", post(pages::register_organisation_api)),
        ("/api/dialogues/{id}/signatories/me", post(pages::register_member_api)),
        ("/api/dialogues/{id}/signatories/{sid}/key", pages::by_own_key("signatory.key_rotated")),
        ("/api/dialogues/{id}/signatories/{sid}/revoked", pages::by_own_key("signatory.revoked")),
        ("/dialogues/{id}/signatories/{sid}/revoke", post(pages::convener_revoke)),
        ("/dialogues/{id}/agenda", get(pages::agenda).post(pages::propose)),
        ("/dialogues/{id}/agenda/{sid}/decision", post(pages::decide)),
        ("/dialogues/{id}/agenda/declaration", post(pages::agenda_declaration)),
        ("/static/declare.js", get(|| crate::decide::pages::script(pages::DECLARE_JS))),
    ]
}
