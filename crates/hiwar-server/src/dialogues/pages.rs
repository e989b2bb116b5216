//! Server-rendered HTML pages. Every reading page works without JavaScript; every
//! form carries the CSRF token; every string comes from the message files.

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use hiwar_record::events::{PHASE_KINDS, ROLES};
use hiwar_store::Dialogue;
use maud::{html, Markup};
use serde::Deserialize;

use crate::dialogues::service::{self, DialogueInput, PhaseInput, SESSION_SECONDS};
use crate::web::i18n::Lang;
use crate::web::layout::{download, origin, page, pick, PageResult};
use crate::web::{set_cookie, AppError, CsrfForm, Ctx, LoggedIn, SESSION_COOKIE};
use crate::AppState;

pub async fn home(State(state): State<AppState>, ctx: Ctx) -> PageResult {
    let lang = ctx.lang;
    let dialogues = state.store.list_dialogues().await?;
    Ok(page(
        &ctx,
        &lang.t("home-title"),
        html! {
            h1 { (lang.t("home-title")) }
            p { (lang.t("home-intro")) }
            @if dialogues.is_empty() {
                p.empty { (lang.t("home-empty")) }
            } @else {
                ul.dialogues {
                    @for d in &dialogues {
                        li { a href={ "/dialogues/" (d.id) } { (pick(lang, &d.title)) } " " time datetime=(d.created_at) { (&d.created_at[..10]) } }
                    }
                }
            }
        },
    ))
}

fn phase_list(lang: Lang, d: &Dialogue) -> Markup {
    html! {
        @if d.phases.is_empty() {
            p.empty { (lang.t("dialogue-no-phases")) }
        } @else {
            ol.phases {
                @for (i, p) in d.phases.iter().enumerate() {
                    @let current = d.current_phase == Some(i);
                    li class=[current.then_some("current")] aria-current=[current.then_some("step")] {
                        strong { (pick(lang, &p.name)) }
                        " (" (lang.t(&format!("phase-{}", p.kind))) ") "
                        time datetime=(p.starts) { (p.starts) } " – " time datetime=(p.ends) { (p.ends) }
                        @if current { " · " em { (lang.t("dialogue-current")) } }
                    }
                }
            }
        }
    }
}

fn role_names(lang: Lang, roles: &[String]) -> String {
    roles.iter().map(|r| lang.t(&format!("role-{r}"))).collect::<Vec<_>>().join("، ")
}

/// Members listed per page of a dialogue.
const MEMBERS_PER_PAGE: usize = 50;

#[derive(Deserialize)]
pub struct MembersPage {
    members_from: Option<usize>,
}

pub async fn dialogue(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    axum::extract::Query(query): axum::extract::Query<MembersPage>,
) -> PageResult {
    let lang = ctx.lang;
    let d = state.store.dialogue(&id).await?;
    let membership = match &ctx.viewer {
        Some(account) => state.store.membership(&id, &account.id).await?,
        None => None,
    };
    let all = state.store.members(&id).await?;
    let by_role: Vec<(&str, usize)> = hiwar_record::events::ROLES
        .iter()
        .map(|r| (*r, all.iter().filter(|m| m.has(r)).count()))
        .filter(|(_, n)| *n > 0)
        .collect();
    let from = query.members_from.unwrap_or(0).min(all.len());
    let members = &all[from..(from + MEMBERS_PER_PAGE).min(all.len())];
    let later = (from + MEMBERS_PER_PAGE < all.len()).then_some(from + MEMBERS_PER_PAGE);
    let earlier = (from > 0).then(|| from.saturating_sub(MEMBERS_PER_PAGE));
    let title = pick(lang, &d.title).to_string();
    Ok(page(
        &ctx,
        &title,
        html! {
            h1 { (title) }
            p.description { (pick(lang, &d.description)) }
            @if let Some(me) = &membership {
                p.you { (lang.t("dialogue-your-roles")) ": " strong { bdi { (me.pseudonym) } } " — " (role_names(lang, &me.roles)) }
                @if me.has("convener") { p { a.button href={ "/dialogues/" (d.id) "/manage" } { (lang.t("dialogue-manage")) } } }
            } @else if ctx.viewer.is_some() {
                p.you { (lang.t("dialogue-not-member")) }
            }
            h2 { (lang.t("dialogue-phases")) }
            (phase_list(lang, &d))
            h2 #members { (lang.t("dialogue-members-title")) }
            p { (lang.t1("dialogue-members", "count", d.members)) }
            ul.counts { @for (role, n) in &by_role { li { (role_names(lang, &[role.to_string()])) ": " (n) } } }
            ul.members {
                @for m in members { li { bdi { (m.pseudonym) } " — " (role_names(lang, &m.roles)) } }
            }
            nav.pages aria-label=(lang.t("dialogue-members-title")) {
                @if let Some(e) = earlier { a href={ "?members_from=" (e) "#members" } rel="prev" { (lang.t("members-earlier")) } " " }
                @if let Some(l) = later { a href={ "?members_from=" (l) "#members" } rel="next" { (lang.t("members-later")) } }
            }
            h2 { (lang.t("deliberation-title")) }
            p { a href={ "/dialogues/" (d.id) "/deliberation" } { (lang.t("dialogue-deliberation-link")) } " · "
                a href={ "/dialogues/" (d.id) "/deliberation/results" } { (lang.t("deliberation-results-link")) } }
            h2 { (lang.t("selections-title")) }
            p { a href={ "/dialogues/" (d.id) "/selections" } { (lang.t("dialogue-selections-link")) } }
            h2 { (lang.t("dialogue-record")) }
            p {
                a href={ "/dialogues/" (d.id) "/record/view" } { (lang.t("dialogue-record")) }
                " · " (lang.t1("dialogue-record-lines", "count", d.record_len))
            }
            p.key { (lang.t("dialogue-key")) ": " code dir="ltr" { (d.public_key) } }
        },
    ))
}

pub async fn login_form(ctx: Ctx) -> Response {
    login_page(&ctx, "", "", None)
}

fn login_page(ctx: &Ctx, code: &str, pseudonym: &str, error: Option<&AppError>) -> Response {
    let lang = ctx.lang;
    let status = error.map(|e| e.status).unwrap_or(StatusCode::OK);
    let mut response = page(
        ctx,
        &lang.t("login-title"),
        html! {
            h1 { (lang.t("login-title")) }
            @if let Some(error) = error {
                p.error role="alert" { (lang.t(error.message)) @if let Some(d) = &error.detail { " " span lang="en" dir="ltr" { (d) } } }
            }
            form.stack method="post" action="/login" {
                input type="hidden" name="csrf" value=(ctx.csrf);
                label for="code" { (lang.t("login-code")) }
                input #code name="code" type="text" required autocomplete="off" autocapitalize="characters" spellcheck="false" dir="ltr" value=(code) aria-describedby="code-help";
                small #code-help { (lang.t("login-code-help")) }
                label for="pseudonym" { (lang.t("login-pseudonym")) }
                input #pseudonym name="pseudonym" type="text" maxlength="40" autocomplete="nickname" value=(pseudonym) aria-describedby="pseudonym-help";
                small #pseudonym-help { (lang.t("login-pseudonym-help")) }
                button type="submit" { (lang.t("login-submit")) }
            }
        },
    );
    *response.status_mut() = status;
    response
}

#[derive(Deserialize)]
pub struct LoginForm {
    code: String,
    #[serde(default)]
    pseudonym: String,
}

pub async fn login(State(state): State<AppState>, ctx: Ctx, CsrfForm(form): CsrfForm<LoginForm>) -> PageResult {
    let lang = ctx.lang;
    let pseudonym = Some(form.pseudonym.as_str()).filter(|p| !p.trim().is_empty());
    let outcome = match service::login(&state, ctx.client, &form.code, pseudonym).await {
        Ok(outcome) => outcome,
        // Wrong codes keep nothing typed; a refused pseudonym keeps the (valid) code.
        Err(e) if e.status == StatusCode::UNAUTHORIZED || e.status == StatusCode::TOO_MANY_REQUESTS => {
            return Ok(login_page(&ctx, "", &form.pseudonym, Some(&e)))
        }
        Err(e) if e.field.as_deref() == Some("pseudonym") => {
            return Ok(login_page(&ctx, &form.code, &form.pseudonym, Some(&e)))
        }
        Err(e) => return Err(e),
    };
    let cookie = set_cookie(&state.config, SESSION_COOKIE, &outcome.token, SESSION_SECONDS);
    let mut response = match outcome.joined {
        Some(joined) => page(
            &ctx,
            &lang.t("joined-title"),
            html! {
                h1 { (lang.t("joined-title")) }
                p { (lang.t1("joined-intro", "pseudonym", joined.pseudonym.clone())) }
                h2 { (lang.t("joined-key")) }
                p.access-key dir="ltr" { code { (joined.access_key) } }
                p.warning { (lang.t("joined-key-help")) }
                p { a.button href={ "/dialogues/" (joined.dialogue) } { (lang.t("joined-continue")) } }
            },
        ),
        None => Redirect::to("/").into_response(),
    };
    response.headers_mut().append(header::SET_COOKIE, cookie);
    Ok(response)
}

pub async fn logout(
    State(state): State<AppState>,
    ctx: Ctx,
    CsrfForm(_): CsrfForm<serde::de::IgnoredAny>,
) -> PageResult {
    service::logout(&state, &ctx).await?;
    let mut response = Redirect::to("/").into_response();
    response.headers_mut().append(header::SET_COOKIE, set_cookie(&state.config, SESSION_COOKIE, "", 0));
    Ok(response)
}

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

pub async fn manage(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>) -> PageResult {
    let lang = ctx.lang;
    service::require_convener(&state, &ctx, &id).await?;
    let d = state.store.dialogue(&id).await?;
    let batches = state.store.batches(&id).await?;
    let members = state.store.members(&id).await?;
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
                    select #role name="role" { (options(lang, "role", &ROLES[1..])) (options(lang, "role", &ROLES[..1])) }
                    label for="count" { (lang.t("field-count")) }
                    input #count name="count" type="number" min="1" max=(service::MAX_BATCH) value="20" required;
                    button type="submit" { (lang.t("manage-codes-submit")) }
                }
                h3 { (lang.t("manage-batches")) }
                table {
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
                }
                form.row method="post" action={ (base) "/codes/revoke" } {
                    (csrf)
                    label for="revoke-code" { (lang.t("manage-revoke-code")) }
                    input #revoke-code name="code" dir="ltr" required autocomplete="off";
                    button type="submit" { (lang.t("manage-revoke-code-submit")) }
                }
            }

            section aria-labelledby="members" {
                h2 #members { (lang.t("manage-members")) }
                table {
                    thead { tr { th scope="col" { (lang.t("member-pseudonym")) } th scope="col" { (lang.t("member-id")) } th scope="col" { (lang.t("member-roles")) } th {} } }
                    tbody {
                        @for m in &members { tr {
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
                }
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

/// Lines per page of the record view.
const RECORD_VIEW_LINES: u64 = 100;

#[derive(Deserialize)]
pub struct RecordViewQuery {
    from: Option<u64>,
}

/// The record as a table, newest page last, `RECORD_VIEW_LINES` lines a page.
pub async fn record_view(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    axum::extract::Query(query): axum::extract::Query<RecordViewQuery>,
) -> PageResult {
    let lang = ctx.lang;
    let d = state.store.dialogue(&id).await?;
    let total = d.record_len;
    let from = query.from.unwrap_or(total.saturating_sub(RECORD_VIEW_LINES)).min(total.saturating_sub(1));
    let record = state.store.record_lines(&id, from, RECORD_VIEW_LINES).await?;
    let earlier = (from > 0).then(|| from.saturating_sub(RECORD_VIEW_LINES));
    let later = (from + RECORD_VIEW_LINES < total).then_some(from + RECORD_VIEW_LINES);
    let url = format!("{}/dialogues/{id}/record", origin(&state.config));
    let title = pick(lang, &d.title).to_string();
    let rows: Vec<serde_json::Value> = record.lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
    Ok(page(
        &ctx,
        &lang.t1("record-title", "title", title.clone()),
        html! {
            h1 { (lang.t1("record-title", "title", title.clone())) }
            p { (lang.t("record-intro")) }
            p { a href={ "/dialogues/" (id) "/record" } download={ "hiwar-" (id) ".jsonl" } { (lang.t("record-download")) } }
            p { (lang.t1("record-verify-help", "url", url.clone())) }
            p { (lang.t("dialogue-key")) ": " code dir="ltr" { (d.public_key) } }
            p { (lang.t("record-head")) ": " code dir="ltr" { (d.record_head) } }
            table.record {
                thead { tr {
                    th scope="col" { (lang.t("record-seq")) } th scope="col" { (lang.t("record-time")) }
                    th scope="col" { (lang.t("record-kind")) } th scope="col" { (lang.t("record-body")) }
                } }
                tbody {
                    @for row in &rows { tr {
                        td { (row["seq"]) } td dir="ltr" { (row["time"].as_str().unwrap_or("")) }
                        td dir="ltr" { code { (row["kind"].as_str().unwrap_or("")) } }
                        td dir="auto" { code { (row["body"].to_string()) } }
                    } }
                }
            }
            nav.pages aria-label=(lang.t("record-pages")) {
                @if let Some(e) = earlier { a href={ "?from=" (e) } rel="prev" { (lang.t("record-earlier")) } " " }
                @if let Some(l) = later { a href={ "?from=" (l) } rel="next" { (lang.t("record-later")) } }
            }
        },
    ))
}
