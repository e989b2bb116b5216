//! Deliberate: statements, votes on the routed next statement, public moderation and
//! redaction, the shared analysis, and the public results, reports and exports.

pub mod api;
pub mod pages;
pub mod service;

use axum::routing::{get, post};

use crate::web::Access::*;
use crate::web::Guard;
use crate::{AppState, Route};

const VOTE: &str = "/dialogues/{id}/statements/{sid}/vote";
const API_VOTE: &str = "/api/dialogues/{id}/statements/{sid}/vote";
const API_NEXT: &str = "/api/dialogues/{id}/deliberation/next";

pub fn routes(state: &AppState) -> Vec<Route> {
    let base = state.base();
    vec![
        ("/dialogues/{id}/deliberation", get(pages::deliberate)),
        ("/dialogues/{id}/deliberation/results", get(pages::results)),
        ("/dialogues/{id}/deliberation/map.svg", get(pages::map)),
        ("/dialogues/{id}/deliberation/report.json", get(pages::report_json)),
        ("/dialogues/{id}/deliberation/report.csv", get(pages::report_csv)),
        ("/dialogues/{id}/deliberation/report.html", get(pages::report_html)),
        ("/dialogues/{id}/deliberation/polis/{file}", get(pages::polis_export).access(&base, Convener)),
        ("/dialogues/{id}/deliberation/moderation", get(pages::moderation).access(&base, Convener)),
        ("/dialogues/{id}/deliberation/tally", post(pages::tally).access(&base, Convener)),
        ("/dialogues/{id}/deliberation/method", post(pages::set_method).access(&base, Convener)),
        ("/dialogues/{id}/statements", post(pages::post_statement).access(&base, TakesPart)),
        // Checked by their own query (`access_in_query`): a vote is decided by the write
        // that records it, a next statement by the read that finds the member's votes.
        // They are the busiest routes of a national dialogue, and each costs one query.
        (VOTE, post(pages::vote).access_in_query(&base, VOTE, TakesPart)),
        ("/dialogues/{id}/statements/{sid}/moderate", post(pages::moderate).access(&base, Convener)),
        ("/dialogues/{id}/statements/{sid}/redact", post(pages::redact).access(&base, Convener)),
        ("/dialogues/{id}/statements.json", get(pages::statement_texts)),
        ("/api/dialogues/{id}/statements", post(api::post_statement).access(&base, TakesPart)),
        (API_VOTE, post(api::vote).access_in_query(&base, API_VOTE, TakesPart)),
        (API_NEXT, get(api::next).access_in_query(&base, API_NEXT, TakesPart)),
    ]
}
