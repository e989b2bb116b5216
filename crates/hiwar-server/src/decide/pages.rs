//! The pages of Decide: the dialogue's elections, one election's public page (its
//! questions, the trustees' ceremony step by step, the credential list, the ballot
//! counts, the result as bars and as a table, how to vote and how to check), the
//! ballot board, and the convener's open and close buttons.

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use hiwar_record::election::ElectionStatus;
use hiwar_store::Election;
use maud::{html, Markup, PreEscaped};
use serde::Deserialize;
use serde_json::Value;

use crate::decide::api::{BoardQuery, BOARD_PAGE};
use crate::decide::service;
use crate::dialogues::service::require_convener;
use crate::web::i18n::Lang;
use crate::web::layout::{allow_scripts, data_block, download, origin, page, pick};
use crate::web::{AppError, CsrfForm, Ctx, LoggedIn};
use crate::AppState;

type PageResult = Result<Response, AppError>;

/// A bilingual text of the record, in the reader's language.
fn said(lang: Lang, v: &Value) -> String {
    let (first, second) = match lang {
        Lang::Ar => ("ar", "en"),
        Lang::En => ("en", "ar"),
    };
    let text = v[first].as_str().filter(|s| !s.is_empty()).or(v[second].as_str()).unwrap_or_default();
    text.to_string()
}

fn stage_name(lang: Lang, stage: &str) -> String {
    lang.t(match stage {
        "setup" => "decide-stage-setup",
        "open" => "decide-stage-open",
        "closed" => "decide-stage-closed",
        _ => "decide-stage-decided",
    })
}

pub async fn list(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>) -> PageResult {
    let lang = ctx.lang;
    let d = state.store.dialogue(&id).await?;
    let elections = state.store.elections(&id).await?;
    let is_convener = require_convener(&state, &ctx, &id).await.is_ok();
    Ok(page(
        &ctx,
        &lang.t("decide-title"),
        html! {
            h1 { (lang.t("decide-title")) }
            p { a href={ "/dialogues/" (id) } { bdi { (pick(lang, &d.title)) } } }
            p { (lang.t("decide-intro")) }
            @if elections.is_empty() {
                p { (lang.t("decide-none")) }
            } @else {
                ul.elections {
                    @for e in &elections {
                        li { a href={ "/dialogues/" (id) "/decide/" (e.id) } { bdi { (pick(lang, &e.title)) } } " · " (stage_name(lang, &e.stage)) }
                    }
                }
            }
            @if is_convener { (create_form(&ctx, &id, &origin(&state.config))) }
        },
    ))
}

/// The convener's form for a new vote (one question; the API takes several).
fn create_form(ctx: &Ctx, id: &str, host: &str) -> Markup {
    let lang = ctx.lang;
    html! {
        section.card aria-labelledby="create" {
            h2 #create { (lang.t("decide-create")) }
            p { (lang.t("decide-create-how")) }
            form.stack method="post" action={ "/dialogues/" (id) "/decide" } {
                input type="hidden" name="csrf" value=(ctx.csrf);
                label for="id" { (lang.t("decide-field-id")) }
                input #id name="id" required maxlength="64" pattern="[a-z0-9-]+" dir="ltr";
                label for="title_ar" { (lang.t("field-title-ar")) }
                input #title_ar name="title_ar" required maxlength="200" lang="ar" dir="rtl";
                label for="title_en" { (lang.t("field-title-en")) }
                input #title_en name="title_en" required maxlength="200" lang="en" dir="ltr";
                label for="question_ar" { (lang.t("decide-field-question-ar")) }
                input #question_ar name="question_ar" required maxlength="500" lang="ar" dir="rtl";
                label for="question_en" { (lang.t("decide-field-question-en")) }
                input #question_en name="question_en" required maxlength="500" lang="en" dir="ltr";
                label for="kind" { (lang.t("decide-field-kind")) }
                select #kind name="kind" {
                    option value="yes-no" { (lang.t("decide-kind-yes-no")) }
                    option value="one" { (lang.t("decide-kind-one")) }
                    option value="approve" { (lang.t("decide-kind-approve")) }
                }
                label for="options" { (lang.t("decide-field-options")) }
                textarea #options name="options" rows="4" dir="auto" {}
                label for="min" { (lang.t("decide-field-min")) }
                input #min name="min" type="number" min="0" value="1";
                label for="max" { (lang.t("decide-field-max")) }
                input #max name="max" type="number" min="1" value="1";
                label for="electorate" { (lang.t("decide-field-electorate")) }
                select #electorate name="electorate" {
                    option value="delegate" { (lang.t("decide-electorate-delegates")) }
                    option value="participant" { (lang.t("decide-electorate-participants")) }
                    option value="register" { (lang.t("decide-electorate-register")) }
                }
                label for="register" { (lang.t("decide-field-register")) }
                textarea #register name="register" rows="3" dir="ltr" {}
                label for="trustees" { (lang.t("decide-field-trustees")) }
                textarea #trustees name="trustees" rows="3" required dir="ltr" spellcheck="false" {}
                label for="threshold" { (lang.t("decide-field-threshold")) }
                input #threshold name="threshold" type="number" min="1" required value="2";
                label for="authority" { (lang.t("decide-field-authority")) }
                input #authority name="authority" required dir="ltr" spellcheck="false";
                label for="closes_at" { (lang.t("decide-field-closes")) }
                input #closes_at name="closes_at" type="datetime-local";
                button type="submit" { (lang.t("decide-create-submit")) }
            }
            p { (lang.t("decide-create-api")) " " code dir="ltr" { "POST " (host) "/api/dialogues/" (id) "/elections" } }
        }
    }
}

pub async fn create(
    State(state): State<AppState>,
    LoggedIn(ctx): LoggedIn,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<service::ElectionForm>,
) -> PageResult {
    let election = service::create(&state, &ctx, &id, form.input()?).await?;
    Ok(Redirect::to(&format!("/dialogues/{id}/decide/{election}")).into_response())
}

fn ceremony(lang: Lang, s: &ElectionStatus, base: &str) -> Markup {
    let mark = |done: bool| if done { lang.t("decide-done") } else { lang.t("decide-waiting") };
    html! {
        section.card aria-labelledby="ceremony" {
            h2 #ceremony { (lang.t("decide-ceremony")) }
            p { (lang.t1("decide-threshold", "threshold", s.threshold)) " " (lang.t1("decide-of-trustees", "trustees", s.trustees)) }
            div.scroll role="region" tabindex="0" aria-label=(lang.t("table-scroll")) {
                table {
                    thead { tr { th scope="col" { (lang.t("decide-trustee")) } th scope="col" { (lang.t("decide-committed")) }
                        th scope="col" { (lang.t("decide-revealed")) } th scope="col" { (lang.t("decide-dealt")) } th scope="col" { (lang.t("decide-decrypted")) } } }
                    tbody {
                        @for j in 1..=s.trustees {
                            tr { th scope="row" { (lang.num(j)) } td { (mark(s.committed.contains(&j))) } td { (mark(s.revealed.contains(&j))) }
                                td { (mark(s.dealt.contains(&j))) } td { (mark(s.decrypted.contains(&j))) } }
                        }
                    }
                }
            }
            @if let Some(failure) = &s.failed { p.error role="alert" { (lang.t("decide-ceremony-failed")) " " span lang="en" dir="ltr" { (failure) } } }
            p { a href={ (base) "/trustee" } { (lang.t("trustee-link")) } }
        }
    }
}

/// The result: per question, bars and the same numbers as a table.
fn result(lang: Lang, e: &Election) -> Markup {
    let Some(result) = &e.result else { return html! {} };
    let questions = e.created["questions"].as_array().cloned().unwrap_or_default();
    html! {
        section.card aria-labelledby="result" {
            h2 #result { (lang.t("decide-result")) }
            p { (lang.t1("decide-result-trustees", "trustees", result["trustees"].as_array().map_or(0, Vec::len) as u64)) }
            @for (q, question) in questions.iter().enumerate() {
                @let options = question["options"].as_array().cloned().unwrap_or_default();
                @let counts: Vec<u64> = result["counts"][q].as_array().into_iter().flatten().filter_map(Value::as_u64).collect();
                @let total: u64 = counts.iter().sum();
                @let labels: Vec<String> = options.iter().map(|o| said(lang, o)).collect();
                @let rows: Vec<(&str, u64)> = labels.iter().map(String::as_str).zip(counts.iter().copied()).collect();
                h3 { bdi { (said(lang, &question["title"])) } }
                figure { (PreEscaped(hiwar_plots::bars(&said(lang, &question["title"]), &rows, total, lang == Lang::Ar, lang.plot_digits()))) figcaption { (lang.t("decide-bars-caption")) } }
                div.scroll role="region" tabindex="0" aria-label=(lang.t("table-scroll")) {
                    table {
                        thead { tr { th scope="col" { (lang.t("decide-option")) } th scope="col" { (lang.t("decide-votes")) } } }
                        tbody { @for (label, count) in &rows { tr { td { bdi { (label) } } td { (lang.num(count)) } } } }
                    }
                }
            }
        }
    }
}

pub async fn show(State(state): State<AppState>, ctx: Ctx, Path((id, eid)): Path<(String, String)>) -> PageResult {
    let lang = ctx.lang;
    let d = state.store.dialogue(&id).await?;
    let e = state.store.election(&id, &eid).await?;
    let s = state.store.election_status(&id, &eid).await?;
    let is_convener = require_convener(&state, &ctx, &id).await.is_ok();
    let host = origin(&state.config);
    let base = format!("/dialogues/{id}/decide/{eid}");
    let csrf = html! { input type="hidden" name="csrf" value=(ctx.csrf); };
    let questions = e.created["questions"].as_array().cloned().unwrap_or_default();
    Ok(page(
        &ctx,
        pick(lang, &e.title),
        html! {
            h1 { bdi { (pick(lang, &e.title)) } }
            p { a href={ "/dialogues/" (id) } { bdi { (pick(lang, &d.title)) } } " · " a href={ "/dialogues/" (id) "/decide" } { (lang.t("decide-title")) } }
            p.status { (lang.t("decide-stage")) ": " strong { (stage_name(lang, &e.stage)) }
                @if let Some(closes) = &e.closes_at { " · " (lang.t("decide-closes")) " " time datetime=(closes) { (lang.date(closes)) } } }
            (result(lang, &e))
            section.card aria-labelledby="questions" {
                h2 #questions { (lang.t("decide-questions")) }
                ol {
                    @for q in &questions {
                        li { bdi { (said(lang, &q["title"])) } " "
                            small { (lang.t1("decide-choose-min", "min", q["min"].as_u64().unwrap_or(0))) " " (lang.t1("decide-choose-max", "max", q["max"].as_u64().unwrap_or(0))) }
                            ul { @for o in q["options"].as_array().into_iter().flatten() { li { bdi { (said(lang, o)) } } } } }
                    }
                }
            }
            section.card aria-labelledby="ballots" {
                h2 #ballots { (lang.t("decide-ballots")) }
                p { (lang.t1("decide-credentials", "listed", s.credentials)) " / " (lang.num(s.voters)) }
                p { (lang.t1("decide-cast", "count", s.cast)) " · " (lang.t1("decide-superseded", "count", s.superseded)) " · "
                    (lang.t1("decide-counted", "count", s.cast - s.superseded)) " · " (lang.t1("decide-spoiled", "count", s.spoiled)) }
                @if s.voters > 0 && s.stage != "setup" {
                    p { (lang.t1("decide-turnout", "percent", lang.percent((s.cast - s.superseded) as f64 / s.voters as f64, 1))) }
                }
                p { a href={ (base) "/board" } { (lang.t("decide-board")) } " · " a href={ "/dialogues/" (id) "/record" } download { (lang.t("decide-record")) } }
            }
            @if e.stage == "setup" {
                p { a href={ (base) "/register" } { (lang.t("register-link")) } }
            }
            (ceremony(lang, &s, &base))
            @if e.stage == "open" {
                section.card aria-labelledby="how-to-vote" {
                    h2 #how-to-vote { (lang.t("decide-how-to-vote")) }
                    p { a href={ (base) "/vote" } { strong { (lang.t("vote-in-browser")) } } }
                    p { (lang.t("decide-revote")) }
                    p { (lang.t("vote-or-command")) }
                    pre dir="ltr" { "hiwar vote --server " (host) " --dialogue " (id) " --election " (eid) " --credential my-credential.json --choices 0" }
                    p { (lang.t("decide-challenge")) }
                }
            }
            section.card aria-labelledby="how-to-check" {
                h2 #how-to-check { (lang.t("decide-how-to-check")) }
                pre dir="ltr" { "hiwar vote check --record " (host) "/dialogues/" (id) "/record --election " (eid) " --tracking CODE\n"
                    "hiwar verify " (host) "/dialogues/" (id) "/record" }
            }
            @if is_convener {
                section.card aria-labelledby="convener" {
                    h2 #convener { (lang.t("decide-convener")) }
                    p { a href={ (base) "/roll.csv" } download { (lang.t("decide-roll")) } }
                    p { a href={ (base) "/registrations.csv" } download { (lang.t("decide-registrations")) } }
                    @if e.stage == "setup" {
                        form method="post" action={ (base) "/open" } { (csrf) button type="submit" { (lang.t("decide-open")) } }
                    }
                    @if e.stage == "open" {
                        form method="post" action={ (base) "/close" } { (csrf) button type="submit" { (lang.t("decide-close")) } }
                    }
                }
            }
        },
    ))
}

#[derive(Deserialize)]
pub struct Empty {}

pub async fn open(
    State(state): State<AppState>,
    LoggedIn(ctx): LoggedIn,
    Path((id, eid)): Path<(String, String)>,
    CsrfForm(_): CsrfForm<Empty>,
) -> PageResult {
    service::open(&state, &ctx, &id, &eid).await?;
    Ok(Redirect::to(&format!("/dialogues/{id}/decide/{eid}")).into_response())
}

pub async fn close(
    State(state): State<AppState>,
    LoggedIn(ctx): LoggedIn,
    Path((id, eid)): Path<(String, String)>,
    CsrfForm(_): CsrfForm<Empty>,
) -> PageResult {
    service::close(&state, &ctx, &id, &eid).await?;
    Ok(Redirect::to(&format!("/dialogues/{id}/decide/{eid}")).into_response())
}

pub async fn roll(State(state): State<AppState>, ctx: Ctx, Path((id, eid)): Path<(String, String)>) -> PageResult {
    let csv = service::roll_csv(&state, &ctx, &id, &eid).await?;
    Ok(download("text/csv; charset=utf-8", &format!("{eid}-roll.csv"), csv, true))
}

pub async fn registrations(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((id, eid)): Path<(String, String)>,
) -> PageResult {
    let csv = service::registrations_csv(&state, &ctx, &id, &eid).await?;
    Ok(download("text/csv; charset=utf-8", &format!("{eid}-registrations.csv"), csv, true))
}

/// A member makes their own credential on their device and registers its public key.
pub async fn register_form(
    State(state): State<AppState>,
    LoggedIn(ctx): LoggedIn,
    Path((id, eid)): Path<(String, String)>,
) -> PageResult {
    let lang = ctx.lang;
    let e = state.store.election(&id, &eid).await?;
    let account = ctx.account()?;
    let member = state.store.membership(&id, &account.id).await?.ok_or_else(AppError::forbidden)?;
    let registered =
        state.store.registrations(&id, &eid).await?.into_iter().find(|(m, _)| *m == member.id).map(|(_, c)| c);
    let data = serde_json::json!({"dialogue": id, "election": eid, "voter": member.id, "csrf": ctx.csrf,
    "server": origin(&state.config), "messages": {
        "unavailable": lang.t("vote-unavailable"), "registered": lang.t("register-done"), "failed": lang.t("vote-failed"),
    }});
    let mut response = page(
        &ctx,
        &lang.t("register-title"),
        html! {
            h1 { (lang.t("register-title")) ": " bdi { (pick(lang, &e.title)) } }
            p { a href={ "/dialogues/" (id) "/decide/" (eid) } { (lang.t("vote-back")) } }
            @match &registered {
                Some(credential) => {
                    p { (lang.t("register-already")) }
                    p { code dir="ltr" { (credential) } }
                }
                None => {
                    p { (lang.t("register-intro")) }
                    noscript { p.error { (lang.t("register-noscript")) } }
                    button #make type="button" disabled { (lang.t("register-make")) }
                    div #made hidden {
                        h2 { (lang.t("register-secret")) }
                        p { (lang.t("register-secret-warning")) }
                        p { code #secret dir="ltr" {} }
                        p { a #download download={ (eid) "-credential.json" } hidden href="#" { (lang.t("register-download")) } }
                    }
                }
            }
            p #outcome role="status" aria-live="polite" {}
            (data_block("register-data", &data))
            script src="/static/wasm.js" defer {}
            script src="/static/register.js" defer {}
        },
    );
    allow_scripts(&mut response);
    Ok(response)
}

#[derive(Deserialize)]
pub struct RegisterForm {
    credential: String,
}

pub async fn register(
    State(state): State<AppState>,
    LoggedIn(ctx): LoggedIn,
    Path((id, eid)): Path<(String, String)>,
    CsrfForm(form): CsrfForm<RegisterForm>,
) -> PageResult {
    service::register(&state, &ctx, &id, &eid, &form.credential).await?;
    Ok(Redirect::to(&format!("/dialogues/{id}/decide/{eid}/register")).into_response())
}

/// The public ballot board: every cast and challenged ballot by tracking code.
pub async fn board(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((id, eid)): Path<(String, String)>,
    Query(query): Query<BoardQuery>,
) -> PageResult {
    let lang = ctx.lang;
    let e = state.store.election(&id, &eid).await?;
    let (entries, total) = state.store.ballot_board(&id, &eid, &query.q, query.from, BOARD_PAGE).await?;
    let base = format!("/dialogues/{id}/decide/{eid}/board");
    let next = query.from + BOARD_PAGE;
    Ok(page(
        &ctx,
        &lang.t("decide-board"),
        html! {
            h1 { (lang.t("decide-board")) }
            p { a href={ "/dialogues/" (id) "/decide/" (eid) } { bdi { (pick(lang, &e.title)) } } }
            p { (lang.t("decide-board-intro")) }
            form method="get" action=(base) role="search" {
                label for="q" { (lang.t("decide-board-search")) }
                input #q name="q" type="search" value=(query.q) dir="ltr" autocomplete="off" spellcheck="false";
                button type="submit" { (lang.t("decide-board-find")) }
            }
            p { (lang.t1("decide-board-count", "count", total)) " · " a href={ "/api/dialogues/" (id) "/elections/" (eid) "/board" } { "JSON" } }
            div.scroll role="region" tabindex="0" aria-label=(lang.t("table-scroll")) {
                table {
                    thead { tr { th scope="col" { (lang.t("decide-tracking")) } th scope="col" { (lang.t("decide-kind")) } th scope="col" { (lang.t("decide-line")) } } }
                    tbody {
                        @for entry in &entries {
                            tr { td { code dir="ltr" { (entry.tracking) } }
                                td { (lang.t(if entry.spoiled { "decide-kind-spoiled" } else { "decide-kind-cast" })) }
                                td { (entry.seq) } }
                        }
                    }
                }
            }
            @if next < total {
                p { a href={ (base) "?q=" (query.q) "&from=" (next) } { (lang.t("decide-board-more")) } }
            }
        },
    ))
}

/// The voting page: the voter's device makes the ballot (vote.js and the WebAssembly
/// module), shows its tracking code, then casts or challenges it. The only page with a
/// script, and the only one whose policy allows one.
pub async fn vote(State(state): State<AppState>, ctx: Ctx, Path((id, eid)): Path<(String, String)>) -> PageResult {
    let lang = ctx.lang;
    let e = state.store.election(&id, &eid).await?;
    if e.stage != "open" {
        return Err(AppError::conflict("election", format!("the vote is {}, not open", e.stage)));
    }
    let messages = serde_json::json!({
        "unavailable": lang.t("vote-unavailable"), "credential": lang.t("vote-credential-wrong"),
        "prepared": lang.t("vote-prepared"), "cast": lang.t("vote-cast"), "line": lang.t("decide-line"),
        "failed": lang.t("vote-failed"), "challenged": lang.t("vote-challenged"), "again": lang.t("vote-again"),
    });
    let data = serde_json::json!({"dialogue": id, "created": e.created, "public_key": e.public_key, "lang": lang.code(),
        "board": format!("/dialogues/{id}/decide/{eid}/board"), "messages": messages});
    let questions = e.created["questions"].as_array().cloned().unwrap_or_default();
    let mut response = page(
        &ctx,
        &lang.t("vote-title"),
        html! {
            h1 { (lang.t("vote-title")) ": " bdi { (pick(lang, &e.title)) } }
            p { a href={ "/dialogues/" (id) "/decide/" (eid) } { (lang.t("vote-back")) } }
            p { (lang.t("decide-revote")) }
            noscript { p.error { (lang.t("vote-noscript")) } }
            form #ballot {
                @for (q, question) in questions.iter().enumerate() {
                    @let single = question["max"].as_u64() == Some(1);
                    fieldset {
                        legend { bdi { (said(lang, &question["title"])) } " "
                            small { (lang.t1("decide-choose-min", "min", question["min"].as_u64().unwrap_or(0))) " " (lang.t1("decide-choose-max", "max", question["max"].as_u64().unwrap_or(0))) } }
                        @for (o, option) in question["options"].as_array().into_iter().flatten().enumerate() {
                            div.choice {
                                input type=(if single { "radio" } else { "checkbox" }) name={ "q" (q) } id={ "q" (q) "o" (o) } value=(o);
                                label for={ "q" (q) "o" (o) } { bdi { (said(lang, option)) } }
                            }
                        }
                    }
                }
                label for="credential" { (lang.t("vote-credential")) }
                textarea #credential rows="3" dir="ltr" autocomplete="off" spellcheck="false" {}
                label for="credential-file" { (lang.t("vote-credential-file")) }
                input #credential-file type="file" accept=".json,.txt";
                button #prepare type="submit" disabled { (lang.t("vote-prepare")) }
            }
            section #prepared hidden aria-labelledby="prepared-title" {
                h2 #prepared-title { (lang.t("vote-tracking")) }
                p { code #tracking dir="ltr" {} }
                p { (lang.t("decide-challenge")) }
                button #cast type="button" { (lang.t("vote-cast-button")) } " "
                button #challenge type="button" { (lang.t("vote-challenge-button")) }
            }
            p #outcome role="status" aria-live="polite" {}
            p { a #board hidden href="#" { (lang.t("decide-board")) } }
            p { a #receipt hidden href="#" download="hiwar-receipt.json" { (lang.t("decide-receipt-download")) } }
            p { small { (lang.t("vote-client")) " " code dir="ltr" { (e.created["client"].as_str().unwrap_or_default()) } } }
            (data_block("election", &data))
            script src="/static/wasm.js" defer {}
            script src="/static/vote.js" defer {}
        },
    );
    allow_scripts(&mut response);
    Ok(response)
}

/// The pages that run hiwar's module get the policy that allows this site's scripts.
fn trustee_messages(lang: Lang) -> Value {
    serde_json::json!({
        "unavailable": lang.t("vote-unavailable"), "key": lang.t("trustee-key-wrong"), "sent": lang.t("trustee-sent"),
        "failed": lang.t("vote-failed"), "done": lang.t("trustee-done"),
    })
}

/// A trustee makes long-term keys in the browser: the secret is shown and downloaded,
/// never sent; the public line goes to the convener.
pub async fn trustee_keys(ctx: Ctx) -> PageResult {
    let lang = ctx.lang;
    let data = serde_json::json!({"messages": trustee_messages(lang)});
    let mut response = page(
        &ctx,
        &lang.t("trustee-keys-title"),
        html! {
            h1 { (lang.t("trustee-keys-title")) }
            p { (lang.t("trustee-keys-intro")) }
            noscript { p.error { (lang.t("trustee-noscript")) } }
            button #keygen type="button" disabled { (lang.t("trustee-keygen")) }
            div #made hidden {
                h2 { (lang.t("trustee-secret")) }
                p { (lang.t("trustee-secret-warning")) }
                textarea #secret readonly rows="4" dir="ltr" aria-label=(lang.t("trustee-secret")) {}
                p { a #download download="hiwar-trustee-key.json" hidden href="#" { (lang.t("trustee-download")) } }
                h2 { (lang.t("trustee-public")) }
                p { code #public dir="ltr" {} }
            }
            p #outcome role="status" aria-live="polite" {}
            (data_block("trustee-data", &data))
            script src="/static/wasm.js" defer {}
            script src="/static/trustee.js" defer {}
        },
    );
    allow_scripts(&mut response);
    Ok(response)
}

/// A trustee takes part in an election's ceremony, and later decrypts, in the browser.
pub async fn trustee(State(state): State<AppState>, ctx: Ctx, Path((id, eid)): Path<(String, String)>) -> PageResult {
    let lang = ctx.lang;
    let e = state.store.election(&id, &eid).await?;
    let data = serde_json::json!({"dialogue": id, "election": eid, "messages": trustee_messages(lang)});
    let mut response = page(
        &ctx,
        &lang.t("trustee-title"),
        html! {
            h1 { (lang.t("trustee-title")) ": " bdi { (pick(lang, &e.title)) } }
            p { a href={ "/dialogues/" (id) "/decide/" (eid) } { (lang.t("vote-back")) } }
            p { (lang.t("trustee-intro")) }
            noscript { p.error { (lang.t("trustee-noscript")) } }
            label for="key" { (lang.t("trustee-key")) }
            textarea #key rows="3" dir="ltr" autocomplete="off" spellcheck="false" {}
            label for="key-file" { (lang.t("trustee-key-file")) }
            input #key-file type="file" accept=".json";
            p { button #ceremony type="button" disabled { (lang.t("trustee-ceremony")) } " "
                button #decrypt type="button" disabled { (lang.t("trustee-decrypt")) } }
            p #outcome role="status" aria-live="polite" {}
            p { (lang.t("trustee-or-command")) }
            pre dir="ltr" { "hiwar trustee ceremony --server " (origin(&state.config)) " --dialogue " (id) " --election " (eid) " --key trustee.json" }
            (data_block("trustee-data", &data))
            script src="/static/wasm.js" defer {}
            script src="/static/trustee.js" defer {}
        },
    );
    allow_scripts(&mut response);
    Ok(response)
}

pub async fn script(source: &'static str) -> Response {
    (
        [
            (axum::http::header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (axum::http::header::CACHE_CONTROL, "no-cache"),
        ],
        source,
    )
        .into_response()
}

pub async fn voter_wasm() -> Response {
    (
        [(axum::http::header::CONTENT_TYPE, "application/wasm"), (axum::http::header::CACHE_CONTROL, "no-cache")],
        service::VOTER_WASM,
    )
        .into_response()
}
