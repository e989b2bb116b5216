//! Seating delegates by the transparent lottery: the convener uploads a pool and
//! quotas, the optimiser runs in the background (progress in the database, so any
//! server process can show it), the convener reviews the result and publishes the
//! manifest hash to the record naming the beacon to come, then enters the beacon; the
//! draw is computed here and recorded, and the drawn volunteers get delegate
//! invitations. The lottery itself is `hiwar_sortition::lottery`.

use std::time::Duration;

use hiwar_sortition::lottery::{self, gini, minimum, Lottery};
use hiwar_sortition::pool::{Pool, Quotas};
use hiwar_store::{NewSelection, Selection, SelectionStatus};
use serde_json::{json, Value};

use crate::dialogues::service::{require_convener, text_field, with_fresh_codes};
use crate::web::{AppError, Ctx};
use crate::AppState;

/// Most panels a lottery may have.
pub const MAX_PANELS: u64 = 10_000;
/// A running selection not heard from for this long is reported as interrupted.
const STALE_AFTER: Duration = Duration::from_secs(120);
/// How often a running selection says it is alive.
const HEARTBEAT: Duration = Duration::from_secs(20);

/// What a convener submits to start a selection.
pub struct SelectionInput {
    pub pool_csv: String,
    pub quotas_csv: String,
    pub size: String,
    pub panels: String,
}

fn number(field: &str, raw: &str, min: u64, max: u64) -> Result<u64, AppError> {
    raw.trim()
        .parse::<u64>()
        .ok()
        .filter(|n| (min..=max).contains(n))
        .ok_or_else(|| AppError::bad_request(field, format!("{field} must be a whole number from {min} to {max}")))
}

/// Checks the input, stores the selection and starts the optimiser in the background.
pub async fn start(state: &AppState, ctx: &Ctx, dialogue: &str, input: SelectionInput) -> Result<String, AppError> {
    require_convener(state, ctx, dialogue).await?;
    let quotas = Quotas::parse(&input.quotas_csv).map_err(|e| AppError::bad_request("quotas", e.to_string()))?;
    let pool = Pool::parse(&input.pool_csv, &quotas).map_err(|e| AppError::bad_request("pool", e.to_string()))?;
    let size = number("size", &input.size, 1, pool.len() as u64)?;
    let panels = number("panels", &input.panels, 1, MAX_PANELS)?;
    let new = NewSelection {
        size,
        panels,
        volunteers: pool.len() as u64,
        pool_csv: &input.pool_csv,
        quotas_csv: &input.quotas_csv,
    };
    let id = state.store.create_selection(dialogue, &new).await?;
    tokio::spawn(run(state.clone(), id.clone(), pool, quotas, size as u32, panels as usize));
    Ok(id)
}

/// How long the platform lets leximin run before taking the best distribution so far
/// (marked not proven optimal on the page): a convener is not left waiting for ever.
const SELECTION_TIME_LIMIT: std::time::Duration = std::time::Duration::from_secs(600);

/// Runs the optimiser on a blocking thread, reporting progress and a heartbeat to the
/// store, and stores the manifest or the error.
async fn run(state: AppState, id: String, pool: Pool, quotas: Quotas, k: u32, m: usize) {
    let (progress_tx, mut progress_rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    let started = std::time::Instant::now();
    let software = format!("hiwar {}", env!("CARGO_PKG_VERSION"));
    let job = tokio::task::spawn_blocking(move || {
        let result = lottery::compute(&pool, &quotas, k, m, &software, Some(SELECTION_TIME_LIMIT), |progress| {
            let _ = progress_tx.send(progress.encode());
        });
        result.map(|computed| {
            let summary = summary(&computed, started.elapsed().as_secs_f64());
            (computed.manifest, summary)
        })
    });
    tokio::pin!(job);
    let mut heartbeat = tokio::time::interval(HEARTBEAT);
    let mut last = String::new();
    let outcome = loop {
        tokio::select! {
            done = &mut job => break done,
            Some(message) = progress_rx.recv() => {
                last = message;
                let _ = state.store.selection_progress(&id, &last).await;
            }
            _ = heartbeat.tick() => {
                let _ = state.store.selection_progress(&id, &last).await;
            }
        }
    };
    let stored = match outcome {
        Ok(Ok((manifest, summary))) => {
            let hash = manifest["manifest_hash"].as_str().unwrap_or_default().to_string();
            state.store.finish_selection(&id, Ok((&manifest.to_string(), &hash, &summary))).await
        }
        Ok(Err(e)) => state.store.finish_selection(&id, Err(&e.to_string())).await,
        Err(panicked) => {
            tracing::error!(%panicked, "selection optimiser stopped");
            state.store.finish_selection(&id, Err("the optimiser stopped unexpectedly")).await
        }
    };
    if let Err(e) = stored {
        tracing::error!(error = %e, "could not store a selection's outcome");
    }
}

/// The figures shown beside a computed lottery.
pub fn summary(computed: &Lottery, seconds: f64) -> Value {
    json!({
        "profiles": computed.profiles,
        "support": computed.support,
        "distinct_panels": computed.distinct_panels,
        "gap": computed.gap,
        "proven": computed.proven,
        "largest_change": computed.largest_change,
        "min_leximin": minimum(&computed.leximin),
        "min_lottery": minimum(&computed.lottery),
        "gini_leximin": gini(&computed.leximin),
        "gini_lottery": gini(&computed.lottery),
        "equal": computed.manifest["size"].as_f64().unwrap_or(0.0) / computed.lottery.len().max(1) as f64,
        "seconds": seconds,
    })
}

/// The optimiser's progress as `(level, minimum so far)`.
pub fn parse_progress(progress: &str) -> Option<hiwar_sortition::leximin::Progress> {
    hiwar_sortition::leximin::Progress::decode(progress)
}

/// Whether a running selection has stopped reporting (its server stopped).
pub fn is_interrupted(selection: &Selection) -> bool {
    if selection.status != SelectionStatus::Running {
        return false;
    }
    let format = time::format_description::well_known::Rfc3339;
    time::OffsetDateTime::parse(&selection.updated_at, &format)
        .map(|at| time::OffsetDateTime::now_utc() - at > STALE_AFTER)
        .unwrap_or(false)
}

/// A selection as the viewer may see it: conveners see every state, others only
/// published ones.
pub async fn visible(state: &AppState, ctx: &Ctx, dialogue: &str, id: &str) -> Result<Selection, AppError> {
    let selection = state.store.selection(dialogue, id).await?;
    if selection.status.is_public() || require_convener(state, ctx, dialogue).await.is_ok() {
        Ok(selection)
    } else {
        Err(AppError::not_found())
    }
}

/// The selections listed on the dialogue page (public ones) or to conveners (all).
pub async fn list(state: &AppState, ctx: &Ctx, dialogue: &str) -> Result<Vec<Selection>, AppError> {
    let all = state.store.selections(dialogue).await?;
    if require_convener(state, ctx, dialogue).await.is_ok() {
        Ok(all)
    } else {
        Ok(all.into_iter().filter(|s| s.status.is_public()).collect())
    }
}

/// The manifest, parsed; visible under the same rule as the selection.
pub async fn manifest(state: &AppState, ctx: &Ctx, dialogue: &str, id: &str) -> Result<(Selection, Value), AppError> {
    let selection = visible(state, ctx, dialogue, id).await?;
    let text = state.store.selection_manifest(dialogue, id).await?;
    let value = serde_json::from_str(&text).map_err(AppError::internal)?;
    Ok((selection, value))
}

/// Publishes the manifest hash to the record with the announced beacon source.
pub async fn publish(
    state: &AppState,
    ctx: &Ctx,
    dialogue: &str,
    id: &str,
    beacon_source: &str,
) -> Result<(), AppError> {
    require_convener(state, ctx, dialogue).await?;
    let source = text_field("beacon_source", beacon_source, 1, hiwar_record::selection::MAX_BEACON_CHARS)?;
    Ok(state.store.publish_selection(dialogue, id, &source).await?)
}

/// Draws the panel from the beacon (exactly as typed, trimmed) and records the draw.
pub async fn draw(state: &AppState, ctx: &Ctx, dialogue: &str, id: &str, beacon: &str) -> Result<usize, AppError> {
    require_convener(state, ctx, dialogue).await?;
    let beacon = text_field("beacon", beacon, 1, hiwar_record::selection::MAX_BEACON_CHARS)?;
    let (selection, manifest) = manifest(state, ctx, dialogue, id).await?;
    if selection.status != SelectionStatus::Published {
        return Err(AppError::conflict("beacon", format!("the selection is {:?}, not published", selection.status)));
    }
    let draw = lottery::draw(&manifest, &beacon).map_err(AppError::internal)?;
    state.store.draw_selection(dialogue, id, &beacon, &draw.seed, draw.index as u64, &draw.panel).await?;
    Ok(draw.index)
}

/// Issues one delegate invitation per drawn volunteer; returns `(volunteer id, code)`
/// pairs, which exist nowhere else afterwards.
pub async fn seat(state: &AppState, ctx: &Ctx, dialogue: &str, id: &str) -> Result<Vec<(String, String)>, AppError> {
    require_convener(state, ctx, dialogue).await?;
    let selection = state.store.selection(dialogue, id).await?;
    if selection.status != SelectionStatus::Drawn {
        return Err(AppError::conflict("selection", format!("the selection is {:?}, not drawn", selection.status)));
    }
    let panel = drawn_panel(state, dialogue, &selection).await?;
    let (_batch, codes) = with_fresh_codes(state, panel.len(), |hashed| async move {
        state.store.seat_selection(dialogue, id, &hashed).await
    })
    .await?;
    Ok(panel.into_iter().zip(codes).collect())
}

/// The drawn panel's volunteer ids, from the manifest and the drawn index.
pub async fn drawn_panel(state: &AppState, dialogue: &str, selection: &Selection) -> Result<Vec<String>, AppError> {
    let index = selection.drawn_index.ok_or_else(AppError::not_found)?;
    let text = state.store.selection_manifest(dialogue, &selection.id).await?;
    let manifest: Value = serde_json::from_str(&text).map_err(AppError::internal)?;
    serde_json::from_value(manifest["panels"][index as usize].clone()).map_err(AppError::internal)
}
