//! The dialogues' public pages (home, a dialogue, its record) and logging in. Every
//! reading page works without JavaScript; every form carries the CSRF token; every
//! string comes from the message files.

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use hiwar_store::Dialogue;
use maud::{html, Markup};
use serde::Deserialize;

use crate::dialogues::service::{self, SESSION_SECONDS};
use crate::web::i18n::Lang;
use crate::web::layout::{origin, page, pick, PageResult};
use crate::web::{set_cookie, AppError, CsrfForm, Ctx, SESSION_COOKIE};
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

pub(super) fn phase_list(lang: Lang, d: &Dialogue) -> Markup {
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
                        time datetime=(p.starts) { (lang.date(&p.starts)) } " – " time datetime=(p.ends) { (lang.date(&p.ends)) }
                        @if current { " · " em { (lang.t("dialogue-current")) } }
                    }
                }
            }
        }
    }
}

pub(super) fn role_names(lang: Lang, roles: &[String]) -> String {
    roles.iter().map(|r| lang.t(&format!("role-{r}"))).collect::<Vec<_>>().join("، ")
}

/// Members listed per page of a dialogue.
const MEMBERS_PER_PAGE: usize = 25;

#[derive(Deserialize)]
pub struct MembersPage {
    members_from: Option<usize>,
}

/// One page of `members` from the query's `members_from`: the page, and where the
/// pages before and after it start.
pub(super) fn members_page<'a, T>(members: &'a [T], query: &MembersPage) -> (&'a [T], Option<usize>, Option<usize>) {
    let from = query.members_from.unwrap_or(0).min(members.len());
    let page = &members[from..(from + MEMBERS_PER_PAGE).min(members.len())];
    let later = (from + MEMBERS_PER_PAGE < members.len()).then_some(from + MEMBERS_PER_PAGE);
    let earlier = (from > 0).then(|| from.saturating_sub(MEMBERS_PER_PAGE));
    (page, earlier, later)
}

/// Links to the members' pages before and after this one.
pub(super) fn members_nav(lang: Lang, earlier: Option<usize>, later: Option<usize>) -> Markup {
    html! {
        nav.pages aria-label=(lang.t("dialogue-members-title")) {
            @if let Some(e) = earlier { a href={ "?members_from=" (e) "#members" } rel="prev" { (lang.t("members-earlier")) } " " }
            @if let Some(l) = later { a href={ "?members_from=" (l) "#members" } rel="next" { (lang.t("members-later")) } }
        }
    }
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
    let (members, earlier, later) = members_page(&all, &query);
    let title = pick(lang, &d.title).to_string();
    let witnesses = state.store.witnesses(&id).await?;
    let (witnessed, quorum) = crate::witness::service::witnessed(&witnesses);
    let open_votes: Vec<_> = state.store.elections(&id).await?.into_iter().filter(|e| e.stage == "open").collect();
    let has_selections = !state.store.selections(&id).await?.is_empty();
    let base = format!("/dialogues/{}", d.id);
    let is_member = membership.is_some();
    let is_convener = membership.as_ref().is_some_and(|m| m.has("convener"));
    Ok(page(
        &ctx,
        &title,
        html! {
            h1 { bdi { (title) } }
            p.description { bdi { (pick(lang, &d.description)) } }
            @if let Some(me) = &membership {
                p.you { (lang.t("dialogue-your-roles")) ": " strong { bdi { (me.pseudonym) } } " — " (role_names(lang, &me.roles)) }
            } @else if ctx.viewer.is_some() {
                p.you { (lang.t("dialogue-not-member")) }
            }
            // What a newcomer can do now, before anything else (GOV.UK's "start" pattern).
            section.card.now aria-labelledby="now" {
                h2 #now { (lang.t("dialogue-now")) }
                p { (current_phase(lang, &d)) }
                ul.actions {
                    // Each link's words are one span: the link is a flex box, which would
                    // drop the spaces between several children.
                    @if ctx.viewer.is_none() {
                        li { a.button href="/login" { span { (lang.t("dialogue-action-join")) } } }
                    }
                    @if is_member {
                        li { a.button href={ (base) "/deliberation" } { span { (lang.t("dialogue-action-deliberate")) } } }
                    }
                    @for e in &open_votes {
                        li { a.button href={ (base) "/decide/" (e.id) "/vote" } { span { (lang.t("dialogue-action-vote")) ": " bdi { (pick(lang, &e.title)) } } } }
                    }
                    li { a href={ (base) "/deliberation/results" } { span { (lang.t("dialogue-action-results")) } } }
                    li { a href={ (base) "/decide" } { span { (lang.t("dialogue-action-decisions")) } } }
                    li { a href={ (base) "/declarations" } { span { (lang.t("dialogue-action-declarations")) } } }
                    li { a href={ (base) "/agenda" } { span { (lang.t("dialogue-action-agenda")) } } }
                    @if has_selections {
                        li { a href={ (base) "/selections" } { span { (lang.t("dialogue-action-draw")) } } }
                    }
                    li { a href={ (base) "/record/view" } { span { (lang.t("dialogue-action-record")) } } }
                    @if is_convener {
                        li { a href={ (base) "/manage" } { span { (lang.t("dialogue-manage")) } } }
                    }
                }
            }
            h2 { (lang.t("dialogue-phases")) }
            (phase_list(lang, &d))
            h2 #members { (lang.t("dialogue-members-title")) }
            p { (lang.t1("dialogue-members", "count", d.members)) }
            ul.counts { @for (role, n) in &by_role { li { (role_names(lang, &[role.to_string()])) ": " (lang.num(n)) } } }
            ul.members {
                @for m in members { li { bdi { (m.pseudonym) } " — " (role_names(lang, &m.roles)) } }
            }
            (members_nav(lang, earlier, later))
            h2 { (lang.t("dialogue-record")) }
            p {
                a href={ (base) "/record/view" } { (lang.t("dialogue-record")) }
                " · " (lang.t1("dialogue-record-lines", "count", d.record_len))
            }
            p {
                a href={ (base) "/witnesses" } { (lang.t("dialogue-witnesses-link")) } ": "
                (crate::witness::pages::witnessed_line(lang, witnessed, d.record_len, quorum, witnesses.len()))
            }
            @if !witnesses.is_empty() {
                ul.witnesses {
                    @for w in &witnesses {
                        li {
                            bdi { (w.name) } " — "
                            @match &w.latest {
                                Some(c) => { (lang.t1("witness-cosigned-at", "lines", c.size)) " " time datetime=(c.time) { (lang.date(&c.time)) } }
                                None => { (lang.t("witness-never")) }
                            }
                        }
                    }
                }
            }
            p.key { (lang.t("dialogue-key")) ": " code dir="ltr" { (d.public_key) } }
        },
    ))
}

/// "Now: Public deliberation (deliberation), 8 December 2026 – 31 December 2026", or
/// that no phase is under way.
fn current_phase(lang: Lang, d: &Dialogue) -> Markup {
    match d.current_phase.and_then(|i| d.phases.get(i)) {
        Some(p) => {
            let mut args = fluent_bundle::FluentArgs::new();
            args.set("phase", pick(lang, &p.name).to_string());
            args.set("kind", lang.t(&format!("phase-{}", p.kind)));
            args.set("starts", lang.date(&p.starts));
            args.set("ends", lang.date(&p.ends));
            html! { (lang.t_args("dialogue-now-phase", &args)) }
        }
        None => html! { (lang.t("dialogue-now-none")) },
    }
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

/// Lines per page of the record view.
const RECORD_VIEW_LINES: u64 = 50;
/// Longest body shown in the record's table (a ballot's proofs run to kilobytes); the
/// whole line is in the download.
const RECORD_VIEW_BODY_CHARS: usize = 300;

#[derive(Deserialize)]
pub struct RecordViewQuery {
    from: Option<u64>,
}

/// The record as a table, newest page last, `RECORD_VIEW_LINES` lines a page.
/// `text` cut to [`RECORD_VIEW_BODY_CHARS`] characters, with "…" if it was longer.
fn shortened(text: &str) -> String {
    match text.char_indices().nth(RECORD_VIEW_BODY_CHARS) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}

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
            div.scroll role="region" tabindex="0" aria-label=(lang.t("table-scroll")) { table.record {
                thead { tr {
                    th scope="col" { (lang.t("record-seq")) } th scope="col" { (lang.t("record-time")) }
                    th scope="col" { (lang.t("record-kind")) } th scope="col" { (lang.t("record-body")) }
                } }
                tbody {
                    @for row in &rows { tr {
                        td { (row["seq"]) } td dir="ltr" { (row["time"].as_str().unwrap_or("")) }
                        td dir="ltr" { code { (row["kind"].as_str().unwrap_or("")) } }
                        td dir="auto" { code { (shortened(&row["body"].to_string())) } }
                    } }
                }
            } }
            nav.pages aria-label=(lang.t("record-pages")) {
                @if let Some(e) = earlier { a href={ "?from=" (e) } rel="prev" { (lang.t("record-earlier")) } " " }
                @if let Some(l) = later { a href={ "?from=" (l) } rel="next" { (lang.t("record-later")) } }
            }
        },
    ))
}
