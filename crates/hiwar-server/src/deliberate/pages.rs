//! Deliberation pages: vote on the next statement and post one (plain forms, no
//! JavaScript), the public results with the opinion map, the report downloads, and the
//! conveners' moderation queue.

use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use serde::Deserialize;

use hiwar_opinion::Method;

use crate::deliberate::service::{self as deliberation, Results};
use crate::dialogues::service;
use crate::web::layout::{download, page, pick};
use crate::web::{AppError, CsrfForm, Ctx, LoggedIn};
use crate::AppState;

type PageResult = Result<Response, AppError>;

/// `?groups=hiwar|polis`: the results by either grouping method; absent, the dialogue's own.
#[derive(Deserialize, Default)]
pub struct GroupsQuery {
    groups: Option<String>,
}

impl GroupsQuery {
    fn method(&self) -> Result<Option<Method>, AppError> {
        self.groups
            .as_deref()
            .map(|name| {
                Method::from_name(name).ok_or_else(|| AppError::bad_request("groups", "groups must be hiwar or polis"))
            })
            .transpose()
    }
}

pub async fn deliberate(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>) -> PageResult {
    let lang = ctx.lang;
    let d = state.store.dialogue(&id).await?;
    let me = match &ctx.viewer {
        Some(account) => state.store.membership(&id, &account.id).await?,
        None => None,
    };
    let results = deliberation::results(&state, &id, None).await?;
    let number = me.as_ref().map_or(0, |m| deliberation::participant_number(&m.id));
    let voted = match &me {
        Some(m) => state.store.member_votes(&m.id).await?,
        None => Default::default(),
    };
    let next = me.as_ref().and_then(|m| deliberation::next_statement(&results, &m.id, number, &voted));
    let base = format!("/dialogues/{id}");
    let csrf = html! { input type="hidden" name="csrf" value=(ctx.csrf); };
    Ok(page(
        &ctx,
        &lang.t("deliberation-title"),
        html! {
            h1 { (lang.t("deliberation-title")) }
            p { a href=(base) { (pick(lang, &d.title)) } " · " a href={ (base) "/deliberation/results" } { (lang.t("deliberation-results-link")) } }
            p { (lang.t("deliberation-intro")) }
            @if !deliberation::is_open(&d) {
                p.empty { (lang.t("deliberation-closed")) }
            } @else if me.is_none() {
                p { a href="/login" { (lang.t("deliberation-login")) } }
            } @else {
                section.card aria-labelledby="next" {
                    h2 #next { (lang.t("deliberation-next")) }
                    @match next {
                        Some(s) => {
                            blockquote.statement dir="auto" { (s.text) }
                            form.row method="post" action={ (base) "/statements/" (s.id) "/vote" } {
                                (csrf)
                                button type="submit" name="vote" value="agree" { (lang.t("vote-agree")) }
                                button type="submit" name="vote" value="disagree" { (lang.t("vote-disagree")) }
                                button type="submit" name="vote" value="pass" { (lang.t("vote-pass")) }
                            }
                        }
                        None => { p.empty { (lang.t("deliberation-none-left")) } }
                    }
                }
                section aria-labelledby="post" {
                    h2 #post { (lang.t("deliberation-post")) }
                    form.stack method="post" action={ (base) "/statements" } {
                        (csrf)
                        label for="text" { (lang.t("deliberation-post-label")) }
                        textarea #text name="text" required maxlength=(hiwar_record::events::MAX_STATEMENT_CHARS) rows="3" dir="auto" {}
                        button type="submit" { (lang.t("deliberation-post-submit")) }
                    }
                }
            }
        },
    ))
}

#[derive(Deserialize)]
pub struct PostForm {
    text: String,
}

pub async fn post_statement(
    State(state): State<AppState>,
    LoggedIn(ctx): LoggedIn,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<PostForm>,
) -> PageResult {
    deliberation::post(&state, &ctx, &id, &form.text).await?;
    Ok(Redirect::to(&format!("/dialogues/{id}/deliberation")).into_response())
}

#[derive(Deserialize)]
pub struct VoteForm {
    vote: String,
}

pub async fn vote(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((id, sid)): Path<(String, String)>,
    CsrfForm(form): CsrfForm<VoteForm>,
) -> PageResult {
    deliberation::vote(&state, &ctx, &id, &sid, &form.vote).await?;
    Ok(Redirect::to(&format!("/dialogues/{id}/deliberation#next")).into_response())
}

/// An RFC 3339 time as the page shows it: date and time, in the language's digits.
fn computed_at(lang: crate::web::i18n::Lang, time: &str) -> String {
    lang.digits(&time.replacen('T', " ", 1).replacen('Z', "", 1))
}

fn group_name(lang: crate::web::i18n::Lang, g: usize) -> String {
    lang.t1("deliberation-group", "number", g as u64 + 1)
}

pub async fn results(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Query(query): Query<GroupsQuery>,
) -> PageResult {
    let lang = ctx.lang;
    let d = state.store.dialogue_summary(&id).await?;
    let r = deliberation::results(&state, &id, query.method()?).await?;
    let ns = r.matrix.statement_ids().len();
    let base = format!("/dialogues/{id}/deliberation");
    let is_convener = service::require_convener(&state, &ctx, &id).await.is_ok();
    let groups = format!("groups={}", r.analysis.method.name());
    let other = Method::ALL.into_iter().find(|m| *m != r.analysis.method).unwrap_or_default();
    Ok(page(
        &ctx,
        &lang.t("deliberation-results"),
        html! {
            h1 { (lang.t("deliberation-results")) }
            p { a href={ "/dialogues/" (id) } { (pick(lang, &d.title)) } " · " a href=(base) { (lang.t("deliberation-title")) } }
            p { (lang.t1("deliberation-counts", "participants", r.matrix.participant_ids().len() as u64)) " · "
                (lang.t1("deliberation-statements", "count", ns as u64)) " · " (lang.t1("deliberation-votes", "count", r.matrix.votes() as u64)) }
            p { (lang.t1("deliberation-computed", "time", computed_at(lang, &r.computed_at))) }
            figure {
                img src={ (base) "/map.svg?lang=" (lang.code()) "&" (groups) } alt=(lang.t("deliberation-map-alt")) width="640" height="480";
                figcaption { (lang.t("deliberation-map-caption")) }
            }
            (group_table(lang, &r))
            p { a href={ (base) "/results?lang=" (lang.code()) "&groups=" (other.name()) } { (lang.t(&format!("deliberation-see-{}", other.name()))) } }
            (findings(lang, &r, 10))
            p { a href={ (base) "/report.html?lang=" (lang.code()) "&" (groups) } download { (lang.t("deliberation-report-html")) } " · "
                a href={ (base) "/report.json?" (groups) } download { (lang.t("deliberation-report-json")) } " · "
                a href={ (base) "/report.csv?" (groups) } download { (lang.t("deliberation-report-csv")) } }
            @if is_convener {
                p { a href={ (base) "/moderation" } { (lang.t("deliberation-moderation")) } }
                p { (lang.t1("deliberation-polis-export", "min", EXPORT_MIN_VOTES as i64)) ": "
                    @for file in ["comments.csv", "votes.csv", "participants-votes.csv"] { a href={ (base) "/polis/" (file) } download { code { (file) } } " " } }
            }
        },
    ))
}

/// The map's numbers as text: each group's marker (the same shape as on the map), its
/// size and share; then those in no group.
fn group_table(lang: crate::web::i18n::Lang, r: &Results) -> maud::Markup {
    let a = &r.analysis;
    let total = a.membership.len().max(1);
    let (sizes, ungrouped) = (&r.group_sizes, r.ungrouped);
    let share = |n: usize| lang.percent(n as f64 / total as f64, 0);
    html! {
        div.scroll role="region" tabindex="0" aria-label=(lang.t("table-scroll")) {
            table.groups {
                caption { (lang.t("deliberation-map-table")) }
                thead { tr {
                    th scope="col" { (lang.t("deliberation-map-marker")) }
                    th scope="col" { (lang.t("deliberation-map-group")) }
                    th scope="col" { (lang.t("deliberation-map-participants")) }
                    th scope="col" { (lang.t("deliberation-map-share")) }
                } }
                tbody {
                    @for (g, n) in sizes.iter().enumerate() {
                        tr {
                            // The page's policy allows no inline style: the colour is a class.
                            td class={ "marker g" (g % hiwar_plots::GROUP_SHAPES.len()) } aria-hidden="true" { (hiwar_plots::group_marker(g)) }
                            th scope="row" { (group_name(lang, g)) }
                            td { (lang.num(n)) }
                            td { (share(*n)) }
                        }
                    }
                    @if ungrouped > 0 {
                        tr { td.marker aria-hidden="true" { "·" } th scope="row" { (lang.t("deliberation-map-ungrouped")) }
                             td { (lang.num(ungrouped)) } td { (share(ungrouped)) } }
                    }
                }
            }
        }
    }
}

pub async fn map(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Query(query): Query<GroupsQuery>,
) -> PageResult {
    let r = deliberation::results(&state, &id, query.method()?).await?;
    let svg = map_svg(ctx.lang, &r);
    Ok(([(header::CONTENT_TYPE, "image/svg+xml"), (header::CACHE_CONTROL, "no-cache")], svg).into_response())
}

fn map_svg(lang: crate::web::i18n::Lang, r: &Results) -> String {
    let a = &r.analysis;
    let points = a.map_points();
    let (title, group, participants) =
        (lang.t("deliberation-map-alt"), lang.t("deliberation-map-group"), lang.t("deliberation-map-participants"));
    let labels = hiwar_plots::MapLabels {
        title: &title,
        group: &group,
        participants: &participants,
        rtl: lang.dir() == "rtl",
        digits: lang.plot_digits(),
    };
    hiwar_plots::opinion_map(&points, &labels)
}

fn report_of(r: &Results) -> serde_json::Value {
    hiwar_opinion::report(&r.matrix, &r.texts, &r.analysis, 20, hiwar_opinion::Audience::Public)
}

pub async fn report_json(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<GroupsQuery>,
) -> PageResult {
    let r = deliberation::results(&state, &id, query.method()?).await?;
    let body = serde_json::to_string_pretty(&report_of(&r)).map_err(AppError::internal)?;
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

/// One row per statement: its text, status and each group's agree/disagree/seen counts.
pub async fn report_csv(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<GroupsQuery>,
) -> PageResult {
    let r = deliberation::results(&state, &id, query.method()?).await?;
    let a = &r.analysis;
    let ns = r.matrix.statement_ids().len();
    let mut header =
        vec!["statement".to_string(), "text".into(), "hidden".into(), "consensus".into(), "bridging".into()];
    for g in 0..a.groups() {
        header.extend([
            format!("group {} agree", g + 1),
            format!("group {} disagree", g + 1),
            format!("group {} seen", g + 1),
        ]);
    }
    let mut csv = hiwar_csv::line(&header);
    let texts = &r.texts;
    for (s, id) in r.matrix.statement_ids().iter().enumerate() {
        let mut row = vec![
            id.clone(),
            texts[s].clone(),
            r.matrix.hidden[s].to_string(),
            format!("{:.4}", a.consensus[s]),
            format!("{:.4}", a.bridging[s]),
        ];
        for g in 0..a.groups() {
            let t = a.tallies[g * ns + s];
            row.extend([t.agree.to_string(), t.disagree.to_string(), t.seen.to_string()]);
        }
        csv.push_str(&hiwar_csv::line(&row));
    }
    Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], csv).into_response())
}

pub async fn moderation(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>) -> PageResult {
    let lang = ctx.lang;
    service::require_convener(&state, &ctx, &id).await?;
    let statements = state.store.statements(&id).await?;
    let method = deliberation::method(&state, &id).await?;
    let base = format!("/dialogues/{id}");
    let csrf = html! { input type="hidden" name="csrf" value=(ctx.csrf); };
    Ok(page(
        &ctx,
        &lang.t("deliberation-moderation"),
        html! {
            h1 { (lang.t("deliberation-moderation")) }
            p { (lang.t("deliberation-moderation-help")) }
            form method="post" action={ (base) "/deliberation/tally" } { (csrf) button type="submit" { (lang.t("deliberation-publish-tally")) } }
            form method="post" action={ (base) "/deliberation/method" } {
                (csrf)
                fieldset {
                    legend { (lang.t("deliberation-method-setting")) }
                    @for m in Method::ALL {
                        label { input type="radio" name="method" value=(m.name()) checked[m == method]; " " (lang.t(&format!("deliberation-method-name-{}", m.name()))) }
                        br;
                    }
                    p { (lang.t("deliberation-method-setting-help")) }
                    button type="submit" { (lang.t("deliberation-method-save")) }
                }
            }
            div.scroll role="region" tabindex="0" aria-label=(lang.t("table-scroll")) { table {
                thead { tr { th scope="col" { (lang.t("deliberation-statement")) } th scope="col" { (lang.t("deliberation-status")) } th {} } }
                tbody { @for s in &statements { tr {
                    @if let Some(why) = &s.redacted {
                        td { em { (lang.t("deliberation-redacted")) } " — " bdi { (why) } }
                        td { (lang.t("deliberation-hidden")) }
                        td {}
                    } @else {
                        td dir="auto" { (s.text) }
                        td { (lang.t(if s.hidden { "deliberation-hidden" } else { "deliberation-shown" }))
                             @if let Some(reason) = &s.reason { " — " bdi { (reason) } } }
                        td {
                            form.inline method="post" action={ (base) "/statements/" (s.id) "/moderate" } {
                                (csrf)
                                input type="hidden" name="hidden" value=(if s.hidden { "false" } else { "true" });
                                label.visually-hidden for={ "reason-" (s.id) } { (lang.t("deliberation-reason")) }
                                input id={ "reason-" (s.id) } name="reason" required maxlength="500" placeholder=(lang.t("deliberation-reason"));
                                button type="submit" { (lang.t(if s.hidden { "deliberation-restore" } else { "deliberation-hide" })) }
                            }
                            form.inline method="post" action={ (base) "/statements/" (s.id) "/redact" } {
                                (csrf)
                                label.visually-hidden for={ "redact-" (s.id) } { (lang.t("deliberation-redact-reason")) }
                                input id={ "redact-" (s.id) } name="reason" required maxlength="500" placeholder=(lang.t("deliberation-redact-reason"));
                                button type="submit" { (lang.t("deliberation-redact")) }
                            }
                        }
                    }
                } } }
            } }
        },
    ))
}

#[derive(Deserialize)]
pub struct ModerateForm {
    hidden: String,
    reason: String,
}

pub async fn moderate(
    State(state): State<AppState>,
    LoggedIn(ctx): LoggedIn,
    Path((id, sid)): Path<(String, String)>,
    CsrfForm(form): CsrfForm<ModerateForm>,
) -> PageResult {
    let hidden = match form.hidden.as_str() {
        "true" => true,
        "false" => false,
        _ => return Err(AppError::bad_request("hidden", "hidden must be true or false")),
    };
    deliberation::moderate(&state, &ctx, &id, &sid, hidden, &form.reason).await?;
    Ok(Redirect::to(&format!("/dialogues/{id}/deliberation/moderation")).into_response())
}

#[derive(Deserialize)]
pub struct MethodForm {
    method: String,
}

/// A convener sets the grouping method the dialogue shows first.
pub async fn set_method(
    State(state): State<AppState>,
    LoggedIn(ctx): LoggedIn,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<MethodForm>,
) -> PageResult {
    deliberation::set_method(&state, &ctx, &id, &form.method).await?;
    Ok(Redirect::to(&format!("/dialogues/{id}/deliberation/moderation")).into_response())
}

#[derive(Deserialize)]
pub struct RedactForm {
    reason: String,
}

/// A convener removes a statement's text for good (say, someone's phone number).
pub async fn redact(
    State(state): State<AppState>,
    LoggedIn(ctx): LoggedIn,
    Path((id, sid)): Path<(String, String)>,
    CsrfForm(form): CsrfForm<RedactForm>,
) -> PageResult {
    deliberation::redact(&state, &ctx, &id, &sid, &form.reason).await?;
    Ok(Redirect::to(&format!("/dialogues/{id}/deliberation/moderation")).into_response())
}

/// Every statement's text and salt, or its redaction: what check T1 compares with the
/// digests in the record.
pub async fn statement_texts(State(state): State<AppState>, Path(id): Path<String>) -> PageResult {
    let texts = state.store.statement_texts(&id).await?;
    let body = serde_json::to_string(&serde_json::json!({"statements": texts})).map_err(AppError::internal)?;
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

#[derive(Deserialize)]
pub struct TallyForm {}

pub async fn tally(
    State(state): State<AppState>,
    LoggedIn(ctx): LoggedIn,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<TallyForm>,
) -> PageResult {
    deliberation::publish_tally(&state, &ctx, &id).await?;
    Ok(Redirect::to(&format!("/dialogues/{id}/record/view")).into_response())
}

/// The conversation in Polis's format, for conveners: one file of the export. Voters
/// are numbered in a fresh random order on every download, so the numbers cannot be
/// linked to members (or to another download), and only voters with at least
/// [`EXPORT_MIN_VOTES`] votes are listed: a newcomer's one or two votes, alone in a row,
/// could be matched to them by whoever knows when they joined. No time stamps.
/// Voters with fewer votes than this are left out of the conveners' Polis export.
pub const EXPORT_MIN_VOTES: usize = 5;

pub async fn polis_export(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((id, file)): Path<(String, String)>,
) -> PageResult {
    use rand::seq::SliceRandom;
    service::require_convener(&state, &ctx, &id).await?;
    let r = deliberation::results(&state, &id, None).await?;
    let mut order: Vec<usize> = (0..r.matrix.participant_ids().len())
        .filter(|&p| r.votes.participant_votes(p).len() >= EXPORT_MIN_VOTES)
        .collect();
    order.shuffle(&mut rand::thread_rng());
    let (comments, votes, participants) =
        hiwar_opinion::polis::export(&r.matrix, &r.texts, &order, &r.analysis.membership);
    let body = match file.as_str() {
        "comments.csv" => comments,
        "votes.csv" => votes,
        "participants-votes.csv" => participants,
        _ => return Err(AppError::not_found()),
    };
    Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8"), (header::CACHE_CONTROL, "no-store")], body).into_response())
}

/// The results as one self-contained HTML file to keep or share: the map inlined.
pub async fn report_html(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Query(query): Query<GroupsQuery>,
) -> PageResult {
    let lang = ctx.lang;
    let d = state.store.dialogue(&id).await?;
    let r = deliberation::results(&state, &id, query.method()?).await?;
    let ns = r.matrix.statement_ids().len();
    let svg = map_svg(lang, &r);
    let doc = html! {
        (maud::DOCTYPE)
        html lang=(lang.code()) dir=(lang.dir()) {
            head { meta charset="utf-8"; title { (lang.t("deliberation-results")) " · " (pick(lang, &d.title)) } }
            body {
                h1 { (lang.t("deliberation-results")) ": " (pick(lang, &d.title)) }
                p { (lang.t1("deliberation-counts", "participants", r.matrix.participant_ids().len() as u64)) " · "
                    (lang.t1("deliberation-statements", "count", ns as u64)) " · " (lang.t1("deliberation-votes", "count", r.matrix.votes() as u64)) }
                figure { (maud::PreEscaped(svg)) figcaption { (lang.t("deliberation-map-caption")) } }
                (findings(lang, &r, 20))
            }
        }
    };
    Ok(download("text/html; charset=utf-8", "deliberation-report.html", doc.into_string(), false))
}

/// One short paragraph for participants: how the groups were formed, and how sure the
/// analysis is of them — from the check it ran on votes it hid from itself
/// ([`hiwar_opinion::evaluate::Confidence`]).
fn how_groups_are_formed(lang: crate::web::i18n::Lang, a: &hiwar_opinion::Analysis) -> maud::Markup {
    let c = &a.confidence;
    let percent = |x: f64| lang.percent(x, 0);
    let mut args = fluent_bundle::FluentArgs::new();
    args.set("groups", lang.num(a.groups()));
    args.set("hidden", lang.num(c.hidden));
    args.set("group_accuracy", percent(c.groups));
    args.set("baseline", percent(c.baseline));
    args.set("stable", percent(c.stability));
    let method = lang.t_args(&format!("deliberation-method-{}", a.method.name()), &args);
    let sureness = if c.hidden < MIN_HIDDEN_TO_JUDGE {
        lang.t("deliberation-sureness-too-few")
    } else if c.groups <= c.baseline + c.standard_error(c.baseline) {
        lang.t_args("deliberation-sureness-weak", &args)
    } else {
        lang.t_args("deliberation-sureness", &args)
    };
    html! {
        section aria-labelledby="how-groups" {
            h2 #how-groups { (lang.t("deliberation-how-groups")) }
            p { (method) " " (sureness) }
        }
    }
}

/// Below this many hidden votes the page does not claim to know how sure the groups are.
const MIN_HIDDEN_TO_JUDGE: usize = 100;

/// What each group thinks, support across groups (the first `consensus_listed`), and
/// coverage: the body of both the results page and the downloadable report.
fn findings(lang: crate::web::i18n::Lang, r: &Results, consensus_listed: usize) -> maud::Markup {
    let a = &r.analysis;
    let texts = &r.texts;
    let ns = r.matrix.statement_ids().len();
    let sizes = &r.grouping_sizes;
    html! {
        (how_groups_are_formed(lang, a))
        section aria-labelledby="groups" {
            h2 #groups { (lang.t("deliberation-groups")) }
            @for g in 0..a.groups() {
                h3 { span class={ "g" (g % hiwar_plots::GROUP_SHAPES.len()) } aria-hidden="true" { (hiwar_plots::group_marker(g)) } " "
                    (group_name(lang, g)) " · " (lang.t1("deliberation-group-size", "count", sizes[g] as u64)) }
                ul.representative { @for rep in &a.representative[g] {
                    li { span.direction { (lang.t(if rep.agree { "deliberation-agreed" } else { "deliberation-disagreed" })) }
                         " " (lang.percent(rep.probability, 0)) ": " q dir="auto" { (texts[rep.statement]) } }
                } }
            }
        }
        section aria-labelledby="consensus" {
            h2 #consensus { (lang.t("deliberation-consensus")) }
            p { (lang.t("deliberation-consensus-help")) }
            ol.consensus { @for &s in a.consensus_order.iter().take(consensus_listed) {
                @let votes: u32 = (0..a.groups()).map(|g| a.tallies[g * ns + s].seen).sum();
                li { q dir="auto" { (texts[s]) } " — " (lang.num(format!("{:.2}", a.consensus[s]))) " (" (lang.t1("deliberation-votes", "count", votes as u64)) ")" }
            } }
        }
        section aria-labelledby="coverage" {
            h2 #coverage { (lang.t("deliberation-coverage")) }
            p { (lang.t1("deliberation-coverage-share", "percent", lang.percent(a.coverage.share(), 0))) }
        }
    }
}
