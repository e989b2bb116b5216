//! Seat: delegates selected by a fair, checkable lottery — upload of the pool and
//! quotas, the optimiser in the background, publication of the manifest before the
//! beacon, the draw, the seating, and the public selection page.

pub mod pages;
pub mod service;

use axum::routing::{get, post};

use crate::web::Access::*;
use crate::web::Guard;
use crate::{AppState, Route};

/// Where pools and quotas are uploaded.
const UPLOAD: &str = "/dialogues/{id}/selections";

pub fn routes(state: &AppState) -> Vec<Route> {
    let base = state.base();
    vec![
        (UPLOAD, get(pages::list).merge(post(pages::start).upload(&base, UPLOAD).access(&base, Convener))),
        ("/dialogues/{id}/selections/{sid}", get(pages::show)),
        ("/dialogues/{id}/selections/{sid}/publish", post(pages::publish).access(&base, Convener)),
        ("/dialogues/{id}/selections/{sid}/draw", post(pages::draw).access(&base, Convener)),
        ("/dialogues/{id}/selections/{sid}/seat", post(pages::seat).access(&base, Convener)),
        ("/dialogues/{id}/selections/{sid}/manifest.json", get(pages::manifest)),
        ("/dialogues/{id}/selections/{sid}/histogram.svg", get(pages::histogram)),
        ("/dialogues/{id}/selections/{sid}/panel.csv", get(pages::panel)),
    ]
}
