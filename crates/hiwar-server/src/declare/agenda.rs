//! The agenda the participants shape: members propose items (statements of the
//! deliberation, voted on like any other), the Agenda page ranks them by cross-group
//! support — group-informed consensus, then bridging, from the deliberation's shared
//! analysis — and shows each group's votes; conveners adopt or reject each item with a
//! public reason (`agenda.decided`), and can draft the adopted items as a declaration.

use hiwar_record::events::{body, AgendaDecision};
use serde::Deserialize;

use crate::declare::service::{self, DraftInput};
use crate::deliberate::service as deliberate;
use crate::dialogues::service::{require_convener, text_field};
use crate::web::i18n::Lang;
use crate::web::{AppError, Ctx};
use crate::AppState;

/// One group's votes on an item.
#[derive(Debug, Clone, Copy)]
pub struct GroupSupport {
    pub agree: u32,
    pub disagree: u32,
    pub seen: u32,
}

/// An agenda item as the page shows it.
#[derive(Debug, Clone)]
pub struct Item {
    pub statement: String,
    /// Empty if the text was redacted.
    pub text: String,
    pub hidden: bool,
    /// Group-informed consensus: the product over groups of each group's (smoothed)
    /// share agreeing; high only when every group agrees.
    pub consensus: f64,
    pub bridging: f64,
    pub groups: Vec<GroupSupport>,
    pub decision: Option<AgendaDecision>,
}

/// The proposed items, best-supported across groups first (hidden ones last).
pub async fn items(state: &AppState, dialogue: &str) -> Result<Vec<Item>, AppError> {
    let view = service::view(state, dialogue).await?;
    if view.agenda.is_empty() {
        return Ok(Vec::new());
    }
    let results = deliberate::results(state, dialogue, None).await?;
    let a = &results.analysis;
    let ns = results.matrix.statement_ids().len();
    let mut items: Vec<Item> = view
        .agenda
        .iter()
        .filter_map(|(statement, decision)| {
            let st = results.statements.iter().find(|s| &s.id == statement)?;
            let s = results.matrix.statement_index(statement)? as usize;
            Some(Item {
                statement: statement.clone(),
                text: st.text.clone(),
                hidden: st.hidden,
                consensus: a.consensus.get(s).copied().unwrap_or(0.0),
                bridging: a.bridging.get(s).copied().unwrap_or(0.0),
                groups: (0..a.groups())
                    .map(|g| {
                        let t = a.tallies[g * ns + s];
                        GroupSupport { agree: t.agree, disagree: t.disagree, seen: t.seen }
                    })
                    .collect(),
                decision: decision.clone(),
            })
        })
        .collect();
    items.sort_by(|x, y| {
        x.hidden.cmp(&y.hidden).then(y.consensus.total_cmp(&x.consensus)).then(y.bridging.total_cmp(&x.bridging))
    });
    Ok(items)
}

/// A member proposes an item: a statement of the deliberation, marked for the agenda.
pub async fn propose(state: &AppState, ctx: &Ctx, dialogue: &str, text: &str) -> Result<String, AppError> {
    let id = deliberate::post_for(state, ctx, dialogue, text, true).await?;
    state.declare_views.changed(dialogue);
    Ok(id)
}

#[derive(Debug, Deserialize)]
pub struct DecisionInput {
    /// `adopt` or `reject`.
    pub decision: String,
    pub reason: String,
}

/// A convener adopts or rejects an item, with a public reason.
pub async fn decide(
    state: &AppState,
    ctx: &Ctx,
    dialogue: &str,
    statement: &str,
    input: &DecisionInput,
) -> Result<(), AppError> {
    let me = require_convener(state, ctx, dialogue).await?;
    let adopted = match input.decision.as_str() {
        "adopt" => true,
        "reject" => false,
        _ => return Err(AppError::bad_request("decision", "decision must be adopt or reject")),
    };
    let reason = text_field("reason", &input.reason, 1, 500)?;
    service::record(state, dialogue, "agenda.decided", body::agenda_decided(statement, adopted, &reason, &me.id)).await
}

/// A convener drafts the adopted items, in ranked order, as a declaration that can be
/// co-signed like any other. Returns its id.
pub async fn draft_declaration(state: &AppState, ctx: &Ctx, dialogue: &str) -> Result<String, AppError> {
    require_convener(state, ctx, dialogue).await?;
    let adopted: Vec<Item> = items(state, dialogue)
        .await?
        .into_iter()
        .filter(|i| i.decision.as_ref().is_some_and(|d| d.adopted) && !i.text.is_empty())
        .collect();
    if adopted.is_empty() {
        return Err(AppError::conflict("agenda", "no item has been adopted yet"));
    }
    let list: String = adopted.iter().enumerate().map(|(n, i)| format!("{}. {}\n", n + 1, i.text)).collect();
    let (ar, en) = (Lang::Ar, Lang::En);
    let input = DraftInput {
        title_ar: ar.t("agenda-declaration-title"),
        title_en: en.t("agenda-declaration-title"),
        text_ar: format!("{}\n\n{list}", ar.t("agenda-declaration-intro")),
        text_en: format!("{}\n\n{list}", en.t("agenda-declaration-intro")),
    };
    Ok(service::draft(state, ctx, dialogue, None, &input).await?.0)
}
