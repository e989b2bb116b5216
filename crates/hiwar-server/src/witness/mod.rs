//! Witnesses of the record: the dialogue key's signed checkpoint with each witness's
//! latest co-signature, taking co-signatures from witnesses, and the page where a
//! convener adds a witness and anyone sees who witnessed how much. Record spec §9.

pub mod api;
pub mod pages;
pub mod service;

use axum::routing::{get, post};

use crate::web::Access::*;
use crate::web::Guard;
use crate::{AppState, Route};

pub fn routes(state: &AppState) -> Vec<Route> {
    let base = state.base();
    vec![
        ("/dialogues/{id}/checkpoint", get(api::checkpoint)),
        ("/dialogues/{id}/checkpoint/cosignatures", post(api::cosign)),
        ("/api/dialogues/{id}/witnesses", post(api::add).access(&base, Convener)),
        ("/dialogues/{id}/witnesses", get(pages::list).merge(post(pages::add).access(&base, Convener))),
    ]
}
