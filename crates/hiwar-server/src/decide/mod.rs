//! Decide: verifiable secret ballots in the platform (the Decide issue builds it on
//! election protocol v2). No routes yet.

use crate::{AppState, Route};

pub fn routes(_: &AppState) -> Vec<Route> {
    Vec::new()
}
