//! Decide: secret, end-to-end verifiable votes in a dialogue — creating an election,
//! relaying the credential authority's list and the trustees' key ceremony, casting
//! and challenging ballots, the public ballot board, closing, threshold decryption and
//! the result.

pub mod api;
pub mod pages;
pub mod service;

use axum::routing::{get, post};

use crate::web::Access::*;
use crate::web::Guard;
use crate::{AppState, Route};

/// Creating an election (a register of 10,000 voters is about 400 KB).
const CREATE: &str = "/api/dialogues/{id}/elections";
/// Relaying signed steps (a credential list of 10,000 voters is about 700 KB).
const RELAY: &str = "/api/dialogues/{id}/elections/{eid}/events";

pub fn routes(state: &AppState) -> Vec<Route> {
    let base = state.base();
    vec![
        (CREATE, get(api::list).merge(post(api::create).upload(&base, CREATE).access(&base, Convener))),
        ("/api/dialogues/{id}/elections/{eid}", get(api::show)),
        (RELAY, post(api::relay).upload(&base, RELAY)),
        ("/api/dialogues/{id}/elections/{eid}/open", post(api::open).access(&base, Convener)),
        ("/api/dialogues/{id}/elections/{eid}/close", post(api::close).access(&base, Convener)),
        ("/api/dialogues/{id}/elections/{eid}/ballots", post(api::cast)),
        ("/api/dialogues/{id}/elections/{eid}/spoiled", post(api::spoil)),
        ("/api/dialogues/{id}/elections/{eid}/board", get(api::board)),
        ("/dialogues/{id}/decide", get(pages::list).merge(post(pages::create).access(&base, Convener))),
        ("/dialogues/{id}/decide/{eid}", get(pages::show)),
        ("/dialogues/{id}/decide/{eid}/open", post(pages::open).access(&base, Convener)),
        ("/dialogues/{id}/decide/{eid}/close", post(pages::close).access(&base, Convener)),
        ("/dialogues/{id}/decide/{eid}/board", get(pages::board)),
        ("/dialogues/{id}/decide/{eid}/roll.csv", get(pages::roll).access(&base, Convener)),
        ("/api/dialogues/{id}/elections/{eid}/roll", get(pages::roll).access(&base, Convener)),
        ("/dialogues/{id}/decide/{eid}/registrations.csv", get(pages::registrations).access(&base, Convener)),
        ("/api/dialogues/{id}/elections/{eid}/registrations", get(pages::registrations).access(&base, Convener)),
        (
            "/dialogues/{id}/decide/{eid}/register",
            get(pages::register_form).post(pages::register).access(&base, Member),
        ),
        ("/static/register.js", get(|| pages::script(service::REGISTER_JS))),
        ("/dialogues/{id}/decide/{eid}/vote", get(pages::vote)),
        ("/dialogues/{id}/decide/{eid}/trustee", get(pages::trustee)),
        ("/trustee-keys", get(pages::trustee_keys)),
        ("/static/wasm.js", get(|| pages::script(service::WASM_JS))),
        ("/static/vote.js", get(|| pages::script(service::VOTE_JS))),
        ("/static/trustee.js", get(|| pages::script(service::TRUSTEE_JS))),
        ("/static/hiwar_voter.wasm", get(pages::voter_wasm)),
    ]
}
