//! Declare: joint statements with verifiable signatories (to be built). No routes yet.

use crate::{AppState, Route};

pub fn routes(_: &AppState) -> Vec<Route> {
    Vec::new()
}
