//! The witnesses page: who witnesses this record, how far and how recently each
//! co-signed, how to become one, and (for conveners) the form to add one.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect};
use maud::html;

use crate::dialogues::service::require_convener;
use crate::web::i18n::Lang;
use crate::web::layout::{origin, page, pick, PageResult};
use crate::web::{CsrfForm, Ctx, LoggedIn};
use crate::witness::service::{self, WitnessInput};
use crate::AppState;

pub async fn list(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>) -> PageResult {
    let lang = ctx.lang;
    let d = state.store.dialogue(&id).await?;
    let witnesses = state.store.witnesses(&id).await?;
    let is_convener = require_convener(&state, &ctx, &id).await.is_ok();
    let (witnessed, quorum) = service::witnessed(&witnesses);
    let url = format!("{}/dialogues/{id}", origin(&state.config));
    Ok(page(
        &ctx,
        &lang.t("witness-title"),
        html! {
            h1 { (lang.t("witness-title")) }
            p { a href={ "/dialogues/" (id) } { bdi { (pick(lang, &d.title)) } } }
            p { (lang.t("witness-intro")) }
            p.status { (witnessed_line(lang, witnessed, d.record_len, quorum, witnesses.len())) }
            @if witnesses.is_empty() {
                p { (lang.t("witness-none")) }
            } @else {
                div.scroll role="region" tabindex="0" aria-label=(lang.t("table-scroll")) {
                    table {
                        caption { (lang.t("witness-table")) }
                        thead { tr {
                            th scope="col" { (lang.t("witness-name")) }
                            th scope="col" { (lang.t("witness-key")) }
                            th scope="col" { (lang.t("witness-lines")) }
                            th scope="col" { (lang.t("witness-when")) }
                        } }
                        tbody {
                            @for w in &witnesses {
                                tr {
                                    td { bdi { (w.name) } }
                                    td { code dir="ltr" { (&w.public_key[..16]) "…" } }
                                    @match &w.latest {
                                        Some(c) => { td { (lang.num(c.size)) } td { time datetime=(c.time) { (lang.date(&c.time)) } } }
                                        None => { td { "—" } td { (lang.t("witness-never")) } }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            p { a href={ "/dialogues/" (id) "/checkpoint" } { (lang.t("witness-checkpoint-link")) } }
            h2 { (lang.t("witness-become")) }
            p { (lang.t("witness-become-how")) }
            pre dir="ltr" { code {
                "hiwar witness init --out witness.key\n"
                "hiwar witness watch --dialogue " (url) " --key witness.key --state witness-state/"
            } }
            p { (lang.t("witness-verify-how")) }
            pre dir="ltr" { code { "hiwar verify " (url) "/record --witnesses witnesses.txt" } }
            @if is_convener {
                section.card aria-labelledby="add" {
                    h2 #add { (lang.t("witness-add")) }
                    form.stack method="post" action={ "/dialogues/" (id) "/witnesses" } {
                        input type="hidden" name="csrf" value=(ctx.csrf);
                        label for="name" { (lang.t("witness-name")) }
                        input #name name="name" required maxlength="80" dir="auto";
                        label for="key" { (lang.t("witness-key")) }
                        input #key name="key" required pattern="[0-9a-fA-F]{64}" dir="ltr" autocomplete="off";
                        button type="submit" { (lang.t("witness-add")) }
                    }
                }
            }
        },
    ))
}

/// "Witnessed: 1,204 of 1,210 lines by 2 of 3 witnesses", or that nothing is yet.
pub fn witnessed_line(lang: Lang, witnessed: u64, lines: u64, quorum: usize, witnesses: usize) -> String {
    if witnessed == 0 {
        return lang.t("witness-status-none");
    }
    let mut args = fluent_bundle::FluentArgs::new();
    args.set("witnessed", witnessed);
    args.set("lines", lines);
    args.set("quorum", quorum);
    args.set("witnesses", witnesses);
    lang.t_args("witness-status", &args)
}

pub async fn add(
    State(state): State<AppState>,
    LoggedIn(ctx): LoggedIn,
    Path(id): Path<String>,
    CsrfForm(input): CsrfForm<WitnessInput>,
) -> PageResult {
    service::add(&state, &ctx, &id, input).await?;
    Ok(Redirect::to(&format!("/dialogues/{id}/witnesses")).into_response())
}
