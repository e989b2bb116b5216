//! The selection pages: the list and upload form, one selection's public page (figures,
//! histogram, quotas, the draw and how to re-check it) with the convener's next step,
//! and the manifest, histogram and panel downloads.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Redirect, Response};
use hiwar_sortition::pool::Quota;
use hiwar_store::{Selection, SelectionStatus};
use maud::{html, Markup};
use serde::Deserialize;
use serde_json::Value;

use crate::dialogues::service;
use crate::seat::service::{self as selection, SelectionInput};
use crate::web::i18n::Lang;
use crate::web::layout::{download, origin, page, pick};
use crate::web::{AppError, CsrfForm, CsrfMultipart, Ctx, LoggedIn};
use crate::AppState;

type PageResult = Result<Response, AppError>;

fn status_name(lang: Lang, s: &Selection) -> String {
    if selection::is_interrupted(s) {
        return lang.t("selection-status-interrupted");
    }
    lang.t(match s.status {
        SelectionStatus::Running => "selection-status-running",
        SelectionStatus::Failed => "selection-status-failed",
        SelectionStatus::Computed => "selection-status-computed",
        SelectionStatus::Published => "selection-status-published",
        SelectionStatus::Drawn => "selection-status-drawn",
        SelectionStatus::Seated => "selection-status-seated",
    })
}

fn percent(lang: Lang, v: Option<f64>) -> String {
    v.map(|v| lang.percent(v, 4)).unwrap_or_default()
}

/// The level a running selection has reached and its seconds, for its progress line.
fn progress_args(p: &hiwar_sortition::leximin::Progress) -> fluent_bundle::FluentArgs<'static> {
    let mut args = fluent_bundle::FluentArgs::new();
    args.set("level", p.level);
    args.set("seconds", p.seconds.round());
    args
}

pub async fn list(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>) -> PageResult {
    let lang = ctx.lang;
    let d = state.store.dialogue(&id).await?;
    let selections = selection::list(&state, &ctx, &id).await?;
    let is_convener = service::require_convener(&state, &ctx, &id).await.is_ok();
    let base = format!("/dialogues/{id}/selections");
    let title = pick(lang, &d.title).to_string();
    Ok(page(
        &ctx,
        &lang.t("selections-title"),
        html! {
            h1 { (lang.t("selections-title")) }
            p { a href={ "/dialogues/" (id) } { (title) } }
            p { (lang.t("selections-intro")) }
            @if selections.is_empty() {
                p.empty { (lang.t("selections-empty")) }
            } @else {
                div.scroll role="region" tabindex="0" aria-label=(lang.t("table-scroll")) { table {
                    thead { tr {
                        th scope="col" { (lang.t("selection-id")) } th scope="col" { (lang.t("selection-status")) }
                        th scope="col" { (lang.t("selection-size")) } th scope="col" { (lang.t("selection-volunteers")) }
                        th scope="col" { (lang.t("selection-created")) }
                    } }
                    tbody { @for s in &selections { tr {
                        td dir="ltr" { a href={ (base) "/" (s.id) } { code { (s.id) } } }
                        td { (status_name(lang, s)) } td { (lang.num(s.size)) } td { (lang.num(s.volunteers)) } td { (lang.date(&s.created_at)) }
                    } } }
                } }
            }
            @if is_convener {
                section aria-labelledby="new-selection" {
                    h2 #new-selection { (lang.t("selection-new")) }
                    p { (lang.t("selection-new-help")) }
                    form.stack method="post" action=(base) enctype="multipart/form-data" {
                        input type="hidden" name="csrf" value=(ctx.csrf);
                        label for="pool" { (lang.t("selection-pool-file")) }
                        input #pool name="pool" type="file" accept=".csv,text/csv" required;
                        label for="quotas" { (lang.t("selection-quotas-file")) }
                        input #quotas name="quotas" type="file" accept=".csv,text/csv" required;
                        label for="size" { (lang.t("selection-size")) }
                        input #size name="size" type="number" min="1" required;
                        label for="panels" { (lang.t("selection-panels")) }
                        input #panels name="panels" type="number" min="1" max=(selection::MAX_PANELS) value="1000" required;
                        button type="submit" { (lang.t("selection-start")) }
                    }
                }
            }
        },
    ))
}

pub async fn start(
    State(state): State<AppState>,
    LoggedIn(ctx): LoggedIn,
    Path(id): Path<String>,
    CsrfMultipart(mut fields): CsrfMultipart,
) -> PageResult {
    let mut take = |name: &str| fields.remove(name).unwrap_or_default();
    let input = SelectionInput {
        pool_csv: take("pool"),
        quotas_csv: take("quotas"),
        size: take("size"),
        panels: take("panels"),
    };
    let selection = selection::start(&state, &ctx, &id, input).await?;
    Ok(Redirect::to(&format!("/dialogues/{id}/selections/{selection}")).into_response())
}

/// Per quota: volunteers in the pool with that feature, and seats in `panel`.
fn quota_counts(manifest: &Value, panel: Option<&[String]>) -> Vec<(Quota, usize, Option<usize>)> {
    let quotas: Vec<Quota> = serde_json::from_value(manifest["quotas"].clone()).unwrap_or_default();
    let categories: Vec<String> = serde_json::from_value(manifest["pool"]["categories"].clone()).unwrap_or_default();
    let mut features: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for v in manifest["pool"]["volunteers"].as_array().into_iter().flatten() {
        let f = v["features"].as_array().map(|f| f.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
        features.insert(v["id"].as_str().unwrap_or_default(), f);
    }
    quotas
        .into_iter()
        .map(|q| {
            let c = categories.iter().position(|c| *c == q.category);
            let has = |id: &str| c.and_then(|c| features.get(id).and_then(|f| f.get(c))) == Some(&q.feature.as_str());
            let in_pool = features.keys().filter(|id| has(id)).count();
            let seated = panel.map(|p| p.iter().filter(|id| has(id)).count());
            (q, in_pool, seated)
        })
        .collect()
}

pub async fn show(State(state): State<AppState>, ctx: Ctx, Path((id, sid)): Path<(String, String)>) -> PageResult {
    let lang = ctx.lang;
    let d = state.store.dialogue(&id).await?;
    let s = selection::visible(&state, &ctx, &id, &sid).await?;
    let is_convener = service::require_convener(&state, &ctx, &id).await.is_ok();
    let manifest = match s.manifest_hash {
        Some(_) => Some(selection::manifest(&state, &ctx, &id, &sid).await?.1),
        None => None,
    };
    let panel: Option<Vec<String>> = s
        .drawn_index
        .and_then(|i| manifest.as_ref().and_then(|m| serde_json::from_value(m["panels"][i as usize].clone()).ok()));
    let base = format!("/dialogues/{id}/selections/{sid}");
    let host = origin(&state.config);
    let csrf = html! { input type="hidden" name="csrf" value=(ctx.csrf); };
    let figure = |key: &str| s.summary.as_ref().and_then(|v| v[key].as_f64());
    let running = s.status == SelectionStatus::Running && !selection::is_interrupted(&s);
    let mut response = page(
        &ctx,
        &lang.t1("selection-title", "id", sid.clone()),
        html! {
            h1 { (lang.t1("selection-title", "id", sid.clone())) }
            p { a href={ "/dialogues/" (id) } { (pick(lang, &d.title)) } " · " a href={ "/dialogues/" (id) "/selections" } { (lang.t("selections-title")) } }
            p.status { (lang.t("selection-status")) ": " strong { (status_name(lang, &s)) } }
            p { (lang.t("selection-volunteers")) ": " (lang.num(s.volunteers)) " · " (lang.t("selection-size")) ": " (lang.num(s.size)) " · " (lang.t("selection-panels")) ": " (lang.num(s.panels)) }
            @if running {
                p.progress role="status" {
                    @match selection::parse_progress(&s.progress) {
                        Some(p) => {
                            @let args = progress_args(&p);
                            @if p.done {
                                (lang.t_args("selection-progress", &args)) " " bdi dir="ltr" { (percent(lang, Some(p.value))) }
                            } @else {
                                (lang.t_args("selection-progress-solving", &args)) " "
                                bdi dir="ltr" { (percent(lang, Some(p.value))) " – " (percent(lang, Some(p.bound))) }
                            }
                        }
                        None => { (lang.t("selection-progress-start")) }
                    }
                }
                p { (lang.t("selection-progress-refresh")) }
            }
            @if let Some(error) = &s.error { p.error { (lang.t("selection-failed")) } p.detail lang="en" dir="ltr" { (error) } }

            @if let Some(manifest) = &manifest {
                section aria-labelledby="figures" {
                    h2 #figures { (lang.t("selection-figures")) }
                    @if s.summary.as_ref().and_then(|v| v["proven"].as_bool()) == Some(false) {
                        p.error { (lang.t("selection-not-proven")) }
                    }
                    div.scroll role="region" tabindex="0" aria-label=(lang.t("table-scroll")) { table.figures { tbody {
                        tr { th scope="row" { (lang.t("selection-min-leximin")) } td { (percent(lang, figure("min_leximin"))) } }
                        tr { th scope="row" { (lang.t("selection-min-lottery")) } td { (percent(lang, figure("min_lottery"))) } }
                        tr { th scope="row" { (lang.t("selection-equal")) } td { (percent(lang, figure("equal"))) } }
                        tr { th scope="row" { (lang.t("selection-gini")) } td { (lang.num(format!("{:.4}", figure("gini_lottery").unwrap_or(0.0)))) } }
                        tr { th scope="row" { (lang.t("selection-gap")) } td dir="ltr" { (format!("{:.1e}", figure("gap").unwrap_or(0.0))) } }
                        tr { th scope="row" { (lang.t("selection-change")) } td { (percent(lang, figure("largest_change"))) } }
                        tr { th scope="row" { (lang.t("selection-profiles")) } td { (lang.num(figure("profiles").unwrap_or(0.0))) } }
                        tr { th scope="row" { (lang.t("selection-seconds")) } td { (lang.t1("selection-seconds-value", "seconds", lang.num(format!("{:.2}", figure("seconds").unwrap_or(0.0))))) } }
                    } } }
                    figure {
                        img src={ (base) "/histogram.svg?lang=" (lang.code()) } alt=(lang.t("selection-histogram-alt")) width="720" height="400";
                        figcaption { (lang.t("selection-histogram-caption")) }
                    }
                    (histogram_table(lang, &s, manifest))
                }
                section aria-labelledby="quotas" {
                    h2 #quotas { (lang.t("selection-quotas")) }
                    div.scroll role="region" tabindex="0" aria-label=(lang.t("table-scroll")) { table {
                        thead { tr {
                            th scope="col" { (lang.t("quota-category")) } th scope="col" { (lang.t("quota-feature")) }
                            th scope="col" { (lang.t("quota-min")) } th scope="col" { (lang.t("quota-max")) }
                            th scope="col" { (lang.t("quota-pool")) }
                            @if panel.is_some() { th scope="col" { (lang.t("quota-seated")) } }
                        } }
                        tbody { @for (q, in_pool, seated) in quota_counts(manifest, panel.as_deref()) { tr {
                            td { bdi { (q.category) } } td { bdi { (q.feature) } } td { (q.min) } td { (q.max) } td { (in_pool) }
                            @if let Some(n) = seated { td { (n) } }
                        } } }
                    } }
                }
                section aria-labelledby="lottery" {
                    h2 #lottery { (lang.t("selection-lottery")) }
                    p { (lang.t("selection-manifest-hash")) ": " code dir="ltr" { (s.manifest_hash.clone().unwrap_or_default()) } }
                    p { a href={ (base) "/manifest.json" } download { (lang.t("selection-manifest-download")) } }
                    @if let Some(source) = &s.beacon_source { p { (lang.t("selection-beacon-source")) ": " bdi { (source) } } }
                    @if let Some(beacon) = &s.beacon { p { (lang.t("selection-beacon")) ": " code dir="ltr" { (beacon) } } }
                    @if let (Some(index), Some(panel)) = (s.drawn_index, &panel) {
                        p { (lang.t1("selection-drawn-index", "index", index)) }
                        p { a href={ (base) "/panel.csv" } download { (lang.t("selection-panel-download")) } }
                        h3 { (lang.t("selection-delegates")) }
                        ul.panel dir="ltr" { @for v in panel { li { code { (v) } } } }
                    }
                }
                @if s.status.is_public() {
                    section aria-labelledby="recheck" {
                        h2 #recheck { (lang.t("selection-recheck")) }
                        ol.recheck {
                            li { (lang.t("selection-recheck-download")) }
                            li { (lang.t("selection-recheck-manifest")) pre dir="ltr" { "hiwar select verify --manifest manifest.json" } }
                            @if let Some(beacon) = &s.beacon {
                                li { (lang.t("selection-recheck-draw")) pre dir="ltr" { "hiwar select verify --manifest manifest.json --beacon '" (beacon.replace('\'', "'\\''")) "' --panel panel.csv" } }
                            }
                            li { (lang.t("selection-recheck-record")) pre dir="ltr" { "hiwar verify " (host) "/dialogues/" (id) "/record" } }
                        }
                    }
                }
            }

            @if is_convener {
                section aria-labelledby="next-step" {
                    h2 #next-step { (lang.t("selection-next")) }
                    @match s.status {
                        SelectionStatus::Computed => {
                            p { (lang.t("selection-publish-help")) }
                            form.stack method="post" action={ (base) "/publish" } {
                                (csrf)
                                label for="beacon_source" { (lang.t("selection-beacon-source")) }
                                input #beacon_source name="beacon_source" required maxlength="500";
                                button type="submit" { (lang.t("selection-publish")) }
                            }
                        }
                        SelectionStatus::Published => {
                            p { (lang.t("selection-draw-help")) }
                            form.stack method="post" action={ (base) "/draw" } {
                                (csrf)
                                label for="beacon" { (lang.t("selection-beacon")) }
                                input #beacon name="beacon" required maxlength="500" dir="ltr" autocomplete="off";
                                button type="submit" { (lang.t("selection-draw")) }
                            }
                        }
                        SelectionStatus::Drawn => {
                            p { (lang.t("selection-seat-help")) }
                            form method="post" action={ (base) "/seat" } {
                                (csrf)
                                button type="submit" { (lang.t("selection-seat")) }
                            }
                        }
                        SelectionStatus::Seated => { p { (lang.t1("selection-seated", "batch", s.batch.clone().unwrap_or_default())) } }
                        _ => { p { (lang.t("selection-nothing-to-do")) } }
                    }
                }
            }
        },
    );
    if running {
        response.headers_mut().insert(header::REFRESH, HeaderValue::from_static("3"));
    }
    Ok(response)
}

#[derive(Deserialize)]
pub struct PublishForm {
    beacon_source: String,
}

pub async fn publish(
    State(state): State<AppState>,
    LoggedIn(ctx): LoggedIn,
    Path((id, sid)): Path<(String, String)>,
    CsrfForm(form): CsrfForm<PublishForm>,
) -> PageResult {
    selection::publish(&state, &ctx, &id, &sid, &form.beacon_source).await?;
    Ok(Redirect::to(&format!("/dialogues/{id}/selections/{sid}")).into_response())
}

#[derive(Deserialize)]
pub struct DrawForm {
    beacon: String,
}

pub async fn draw(
    State(state): State<AppState>,
    LoggedIn(ctx): LoggedIn,
    Path((id, sid)): Path<(String, String)>,
    CsrfForm(form): CsrfForm<DrawForm>,
) -> PageResult {
    selection::draw(&state, &ctx, &id, &sid, &form.beacon).await?;
    Ok(Redirect::to(&format!("/dialogues/{id}/selections/{sid}#lottery")).into_response())
}

#[derive(Deserialize)]
pub struct SeatForm {}

/// Seats the drawn panel and answers with the delegates' invitations as CSV: the only
/// copy of the codes in clear.
pub async fn seat(
    State(state): State<AppState>,
    LoggedIn(ctx): LoggedIn,
    Path((id, sid)): Path<(String, String)>,
    CsrfForm(_): CsrfForm<SeatForm>,
) -> PageResult {
    let seated = selection::seat(&state, &ctx, &id, &sid).await?;
    let mut csv = String::from("volunteer,code,role,dialogue\n");
    for (volunteer, code) in &seated {
        csv.push_str(&hiwar_csv::line(&[volunteer.as_str(), code, "delegate", &format!("/dialogues/{id}")]));
    }
    Ok(download("text/csv; charset=utf-8", &format!("hiwar-{id}-{sid}-delegates.csv"), csv, true))
}

pub async fn manifest(State(state): State<AppState>, ctx: Ctx, Path((id, sid)): Path<(String, String)>) -> PageResult {
    selection::visible(&state, &ctx, &id, &sid).await?;
    let text = state.store.selection_manifest(&id, &sid).await?;
    Ok(download("application/json", &format!("{sid}-manifest.json"), text, false))
}

pub async fn panel(State(state): State<AppState>, ctx: Ctx, Path((id, sid)): Path<(String, String)>) -> PageResult {
    let s = selection::visible(&state, &ctx, &id, &sid).await?;
    let panel = selection::drawn_panel(&state, &id, &s).await?;
    let mut csv = String::from("id\n");
    for v in &panel {
        csv.push_str(&hiwar_csv::line(&[v]));
    }
    Ok(download("text/csv; charset=utf-8", &format!("{sid}-panel.csv"), csv, false))
}

/// The histogram's series: each volunteer's probability under the optimum and under
/// the lottery actually drawn from, named in `lang`; and the equal chance k/n.
fn histogram_series(lang: Lang, s: &Selection, manifest: &Value) -> (Vec<(String, Vec<f64>)>, f64) {
    let series = |key: &str| -> Vec<f64> {
        manifest[key].as_object().map(|o| o.values().filter_map(Value::as_f64).collect()).unwrap_or_default()
    };
    let equal = s.size as f64 / s.volunteers.max(1) as f64;
    (
        vec![
            (lang.t("selection-series-leximin"), series("leximin_probabilities")),
            (lang.t("selection-series-lottery"), series("probabilities")),
        ],
        equal,
    )
}

/// The histogram's numbers as a table: each probability range holding volunteers, and
/// how many under each series.
fn histogram_table(lang: Lang, s: &Selection, manifest: &Value) -> Markup {
    let (series, equal) = histogram_series(lang, s, manifest);
    let borrowed: Vec<(&str, Vec<f64>)> = series.iter().map(|(n, v)| (n.as_str(), v.clone())).collect();
    let (width, counts) = hiwar_plots::histogram_bins(&borrowed, equal);
    html! {
        div.scroll role="region" tabindex="0" aria-label=(lang.t("table-scroll")) {
            table {
                caption { (lang.t("selection-histogram-table")) }
                thead { tr {
                    th scope="col" { (lang.t("selection-histogram-x")) }
                    @for (name, _) in &series { th scope="col" { (name) } }
                } }
                tbody {
                    @for b in (0..counts.first().map_or(0, Vec::len)).filter(|b| counts.iter().any(|c| c[*b] > 0)) {
                        tr {
                            th scope="row" { bdi { (percent(lang, Some(b as f64 * width))) " – " (percent(lang, Some((b + 1) as f64 * width))) } }
                            @for c in &counts { td { (lang.num(c[b])) } }
                        }
                    }
                }
            }
        }
    }
}

pub async fn histogram(State(state): State<AppState>, ctx: Ctx, Path((id, sid)): Path<(String, String)>) -> PageResult {
    let lang = ctx.lang;
    let (s, manifest) = selection::manifest(&state, &ctx, &id, &sid).await?;
    let labels = hiwar_plots::HistogramLabels {
        title: &lang.t("selection-histogram-alt"),
        x_axis: &lang.t("selection-histogram-x"),
        y_axis: &lang.t("selection-histogram-y"),
        equal: "k/n",
        rtl: lang.dir() == "rtl",
        digits: lang.plot_digits(),
    };
    let (series, equal) = histogram_series(lang, &s, &manifest);
    let borrowed: Vec<(&str, Vec<f64>)> = series.iter().map(|(n, v)| (n.as_str(), v.clone())).collect();
    let svg = hiwar_plots::histogram(&borrowed, equal, &labels);
    Ok(([(header::CONTENT_TYPE, "image/svg+xml"), (header::CACHE_CONTROL, "no-cache")], svg).into_response())
}
