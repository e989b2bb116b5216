//! Convening: a new dialogue, and its management page with the forms that add phases,
//! issue and revoke invitation codes, and grant or revoke roles.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect};
use hiwar_record::events::{INVITED_ROLES, PHASE_KINDS, ROLES};
use maud::{html, Markup};
use serde::Deserialize;

use crate::dialogues::service::{self, DialogueInput, PhaseInput};
use crate::web::i18n::Lang;
use crate::web::layout::{download, page, pick, PageResult};
use crate::web::{AppError, CsrfForm, Ctx, LoggedIn};
use crate::AppState;

use super::pages::{members_nav, members_page, phase_list, role_names, MembersPage};

pub async fn new_dialogue(ctx: Ctx) -> PageResult {
    let lang = ctx.lang;
    let account = ctx.account()?;
    if !account.is_convener {
        return Err(AppError::forbidden());
    }
    Ok(page(
        &ctx,
        &lang.t("new-title"),
        html! {
            h1 { (lang.t("new-title")) }
            form.stack method="post" action="/dialogues" {
                input type="hidden" name="csrf" value=(ctx.csrf);
                label for="title_ar" { (lang.t("field-title-ar")) }
                input #title_ar name="title_ar" required maxlength="200" lang="ar" dir="rtl";
                label for="title_en" { (lang.t("field-title-en")) }
                input #title_en name="title_en" required maxlength="200" lang="en" dir="ltr";
                label for="description_ar" { (lang.t("field-description-ar")) }
                textarea #description_ar name="description_ar" rows="4" maxlength="5000" lang="ar" dir="rtl" {}
                label for="description_en" { (lang.t("field-description-en")) }
                textarea #description_en name="description_en" rows="4" maxlength="5000" lang="en" dir="ltr" {}
                label for="pseudonym" { (lang.t("field-pseudonym-convener")) }
                input #pseudonym name="pseudonym" required maxlength="40";
                label.check { input type="checkbox" name="listed" checked; " " (lang.t("field-listed")) }
                button type="submit" { (lang.t("new-submit")) }
            }
        },
    ))
}

pub async fn create_dialogue(
    State(state): State<AppState>,
    LoggedIn(ctx): LoggedIn,
    CsrfForm(input): CsrfForm<DialogueInput>,
) -> PageResult {
    let id = service::create_dialogue(&state, &ctx, input).await?;
    Ok(Redirect::to(&format!("/dialogues/{id}/manage")).into_response())
}

fn options(lang: Lang, prefix: &str, values: &[&str]) -> Markup {
    html! { @for v in values { option value=(v) { (lang.t(&format!("{prefix}-{v}"))) } } }
}

pub async fn manage(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    axum::extract::Query(query): axum::extract::Query<MembersPage>,
) -> PageResult {
    let lang = ctx.lang;
    service::require_convener(&state, &ctx, &id).await?;
    let d = state.store.dialogue(&id).await?;
    let batches = state.store.batches(&id).await?;
    let all = state.store.members(&id).await?;
    let (members, earlier, later) = members_page(&all, &query);
    let title = pick(lang, &d.title).to_string();
    let base = format!("/dialogues/{id}");
    let csrf = html! { input type="hidden" name="csrf" value=(ctx.csrf); };
    Ok(page(
        &ctx,
        &lang.t1("manage-title", "title", title.clone()),
        html! {
            h1 { (lang.t1("manage-title", "title", title.clone())) }
            p { a href=(base) { (title) } " · " a href={ (base) "/selections" } { (lang.t("manage-selections-link")) } }

            section aria-labelledby="codes" {
                h2 #codes { (lang.t("manage-codes")) }
                p { (lang.t("manage-codes-help")) }
                form.row method="post" action={ (base) "/codes" } {
                    (csrf)
                    label for="role" { (lang.t("field-role")) }
                    select #role name="role" { (options(lang, "role", &INVITED_ROLES[1..])) (options(lang, "role", &INVITED_ROLES[..1])) }
                    label for="count" { (lang.t("field-count")) }
                    input #count name="count" type="number" min="1" max=(service::MAX_BATCH) value="20" required;
                    button type="submit" { (lang.t("manage-codes-submit")) }
                }
                h3 { (lang.t("manage-batches")) }
                div.scroll role="region" tabindex="0" aria-label=(lang.t("table-scroll")) { table {
                    thead { tr {
                        th scope="col" { (lang.t("batch-id")) } th scope="col" { (lang.t("field-role")) }
                        th scope="col" { (lang.t("batch-size")) } th scope="col" { (lang.t("batch-used")) }
                        th scope="col" { (lang.t("batch-revoked")) } th scope="col" { (lang.t("batch-created")) } th {}
                    } }
                    tbody {
                        @for b in &batches { tr {
                            td dir="ltr" { code { (b.id) } } td { (lang.t(&format!("role-{}", b.role))) }
                            td { (b.size) } td { (b.used) } td { (b.revoked) } td { (b.created_at) }
                            td { @if b.used + b.revoked < b.size {
                                form.inline method="post" action={ (base) "/codes/revoke" } {
                                    (csrf) input type="hidden" name="batch" value=(b.id);
                                    button type="submit" { (lang.t("batch-revoke")) }
                                }
                            } }
                        } }
                    }
                } }
                form.row method="post" action={ (base) "/codes/revoke" } {
                    (csrf)
                    label for="revoke-code" { (lang.t("manage-revoke-code")) }
                    input #revoke-code name="code" dir="ltr" required autocomplete="off";
                    button type="submit" { (lang.t("manage-revoke-code-submit")) }
                }
            }

            section aria-labelledby="members" {
                h2 #members { (lang.t("manage-members")) }
                div.scroll role="region" tabindex="0" aria-label=(lang.t("table-scroll")) { table {
                    thead { tr { th scope="col" { (lang.t("member-pseudonym")) } th scope="col" { (lang.t("member-id")) } th scope="col" { (lang.t("member-roles")) } th {} } }
                    tbody {
                        @for m in members { tr {
                            td { bdi { (m.pseudonym) } } td dir="ltr" { code { (m.id) } } td { (role_names(lang, &m.roles)) }
                            td {
                                form.inline method="post" action={ (base) "/roles" } {
                                    (csrf) input type="hidden" name="member" value=(m.id);
                                    label.visually-hidden for={ "role-" (m.id) } { (lang.t("field-role")) }
                                    select id={ "role-" (m.id) } name="role" { (options(lang, "role", &ROLES)) }
                                    button type="submit" name="action" value="grant" { (lang.t("manage-role-grant")) }
                                    button type="submit" name="action" value="revoke" { (lang.t("manage-role-revoke")) }
                                }
                            }
                        } }
                    }
                } }
                (members_nav(lang, earlier, later))
            }

            section aria-labelledby="phases" {
                h2 #phases { (lang.t("manage-phases")) }
                (phase_list(lang, &d))
                form.row method="post" action={ (base) "/phase" } {
                    (csrf)
                    label for="index" { (lang.t("manage-phase-set")) }
                    select #index name="index" {
                        option value="" { (lang.t("phase-none")) }
                        @for (i, p) in d.phases.iter().enumerate() {
                            option value=(i) selected[d.current_phase == Some(i)] { (pick(lang, &p.name)) }
                        }
                    }
                    button type="submit" { (lang.t("manage-phase-set")) }
                }
                h3 { (lang.t("manage-phase-add")) }
                form.stack method="post" action={ (base) "/phases" } {
                    (csrf)
                    label for="kind" { (lang.t("field-phase-kind")) }
                    select #kind name="kind" { (options(lang, "phase", &PHASE_KINDS)) }
                    label for="name_ar" { (lang.t("field-phase-name-ar")) }
                    input #name_ar name="name_ar" required maxlength="100" lang="ar" dir="rtl";
                    label for="name_en" { (lang.t("field-phase-name-en")) }
                    input #name_en name="name_en" required maxlength="100" lang="en" dir="ltr";
                    label for="starts" { (lang.t("field-starts")) }
                    input #starts name="starts" type="date" required;
                    label for="ends" { (lang.t("field-ends")) }
                    input #ends name="ends" type="date" required;
                    button type="submit" { (lang.t("manage-phase-add")) }
                }
            }
        },
    ))
}

#[derive(Deserialize)]
pub struct IssueForm {
    role: String,
    count: String,
}

/// Issues a batch and answers with its CSV: the only copy of the codes in clear.
pub async fn issue_codes(
    State(state): State<AppState>,
    LoggedIn(ctx): LoggedIn,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<IssueForm>,
) -> PageResult {
    let count: u32 =
        form.count.trim().parse().map_err(|_| AppError::bad_request("count", "count must be a whole number"))?;
    let (batch, codes) = service::issue_codes(&state, &ctx, &id, &form.role, count).await?;
    let mut csv = String::from("code,role,batch,dialogue\n");
    for code in &codes {
        csv.push_str(&format!("{code},{},{batch},/dialogues/{id}\n", form.role));
    }
    Ok(download("text/csv; charset=utf-8", &format!("hiwar-{id}-{batch}.csv"), csv, true))
}

#[derive(Deserialize)]
pub struct RevokeForm {
    batch: Option<String>,
    code: Option<String>,
}

pub async fn revoke_codes(
    State(state): State<AppState>,
    LoggedIn(ctx): LoggedIn,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<RevokeForm>,
) -> PageResult {
    service::revoke_codes(&state, &ctx, &id, form.batch.as_deref(), form.code.as_deref()).await?;
    Ok(Redirect::to(&format!("/dialogues/{id}/manage#codes")).into_response())
}

#[derive(Deserialize)]
pub struct RoleForm {
    member: String,
    role: String,
    action: String,
}

pub async fn change_role(
    State(state): State<AppState>,
    LoggedIn(ctx): LoggedIn,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<RoleForm>,
) -> PageResult {
    let grant = match form.action.as_str() {
        "grant" => true,
        "revoke" => false,
        _ => return Err(AppError::bad_request("action", "action must be grant or revoke")),
    };
    service::change_role(&state, &ctx, &id, &form.member, &form.role, grant).await?;
    Ok(Redirect::to(&format!("/dialogues/{id}/manage#members")).into_response())
}

pub async fn add_phase(
    State(state): State<AppState>,
    LoggedIn(ctx): LoggedIn,
    Path(id): Path<String>,
    CsrfForm(input): CsrfForm<PhaseInput>,
) -> PageResult {
    service::add_phase(&state, &ctx, &id, input).await?;
    Ok(Redirect::to(&format!("/dialogues/{id}/manage#phases")).into_response())
}

#[derive(Deserialize)]
pub struct SetPhaseForm {
    index: String,
}

pub async fn set_phase(
    State(state): State<AppState>,
    LoggedIn(ctx): LoggedIn,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<SetPhaseForm>,
) -> PageResult {
    let index = match form.index.trim() {
        "" => None,
        n => Some(n.parse().map_err(|_| AppError::bad_request("index", "index must be a phase number"))?),
    };
    service::set_phase(&state, &ctx, &id, index).await?;
    Ok(Redirect::to(&format!("/dialogues/{id}/manage#phases")).into_response())
}
