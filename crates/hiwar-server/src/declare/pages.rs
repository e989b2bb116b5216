//! Declare's pages: the declarations of a dialogue and its signatories, one
//! declaration (each language's text with its version and hash, the signatories grouped
//! by kind and place, withdrawals, who signed which version), its JSON and
//! self-contained HTML copies, an organisation's registration, and the agenda.
//! Everything shown of declarations comes from the record's checked state.

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use hiwar_record::declaration::{Declaration, Declarations, Signatory, Signing, Version, PLACES, SIGNATORY_KINDS};
use hiwar_store::DeclareView;
use maud::{html, Markup, PreEscaped, DOCTYPE};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::declare::agenda::{self, DecisionInput};
use crate::declare::service::{self, DraftInput, OrganisationInput};
use crate::dialogues::service::require_convener;
use crate::web::i18n::Lang;
use crate::web::layout::{allow_scripts, data_block, download, origin, page, pick, PageResult};
use crate::web::{ApiJson, AppError, CsrfForm, Ctx, LoggedIn};
use crate::AppState;

/// The script of the pages where signatories make keys and sign.
pub const DECLARE_JS: &str = include_str!("../../assets/declare.js");

/// A bilingual value of the record in `lang`.
fn said(lang: Lang, text: &Value) -> &str {
    text[lang.code()].as_str().unwrap_or_default()
}

fn base(id: &str) -> String {
    format!("/dialogues/{id}")
}

/// The messages the signing scripts show.
fn script_messages(lang: Lang) -> Value {
    json!({
        "unavailable": lang.t("vote-unavailable"), "failed": lang.t("vote-failed"),
        "registered": lang.t("declare-registered"), "signed": lang.t("declare-signed"),
        "withdrawn": lang.t("declare-withdrawn"), "key": lang.t("declare-key-wrong"),
        "place": lang.t("declare-place-choose"),
    })
}

// ----- the list of declarations and signatories -----

pub async fn list(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>) -> PageResult {
    let lang = ctx.lang;
    let d = state.store.dialogue(&id).await?;
    let view = service::view(&state, &id).await?;
    let me = service::membership(&state, &ctx, &id).await?;
    let is_convener = me.as_ref().is_some_and(|m| m.has("convener"));
    let may_draft = service::may_draft(&state, &ctx, &id).await.is_ok();
    let members_draft = state.store.members_draft(&id).await?;
    let my_signatory = me.as_ref().and_then(|m| view.declarations.signatory_of_member(&m.id));
    let decl = &view.declarations;
    let data = json!({"dialogue": id, "csrf": ctx.csrf, "pseudonym": me.as_ref().map(|m| m.pseudonym.clone()),
                      "messages": script_messages(lang)});
    let mut response = page(
        &ctx,
        &lang.t("declare-title"),
        html! {
            h1 { (lang.t("declare-title")) }
            p { a href=(base(&id)) { bdi { (pick(lang, &d.title)) } } " · " a href={ (base(&id)) "/agenda" } { (lang.t("agenda-title")) } }
            p { (lang.t("declare-intro")) }
            @if decl.declarations.is_empty() {
                p { (lang.t("declare-none")) }
            } @else {
                ul.cards {
                    @for (did, declaration) in &decl.declarations {
                        @let latest = declaration.versions.last().expect("drafted with a version");
                        li {
                            a href={ (base(&id)) "/declarations/" (did) } { bdi { (said(lang, &latest.title)) } }
                            " — " (lang.t1("declare-versions", "count", declaration.versions.len() as u64))
                            " · " (open_line(lang, declaration))
                            " · " (lang.t1("declare-count", "count", standing(decl, latest).count() as u64))
                        }
                    }
                }
            }
            @if may_draft {
                section.card aria-labelledby="draft" {
                    h2 #draft { (lang.t("declare-draft")) }
                    (draft_form(lang, &ctx.csrf, &format!("{}/declarations", base(&id)), None))
                }
            }
            @if is_convener {
                section.card aria-labelledby="settings" {
                    h2 #settings { (lang.t("declare-settings")) }
                    form.stack method="post" action={ (base(&id)) "/declarations/settings" } {
                        input type="hidden" name="csrf" value=(ctx.csrf);
                        label { input type="checkbox" name="members_draft" checked[members_draft]; " " (lang.t("declare-members-draft")) }
                        button type="submit" { (lang.t("declare-save")) }
                    }
                    p { (lang.t("declare-invite-organisations")) " " a href={ (base(&id)) "/manage#codes" } { (lang.t("declare-invite-link")) } }
                }
            }
            h2 #signatories { (lang.t("declare-signatories")) }
            p { a href={ (base(&id)) "/organisations/register" } { (lang.t("declare-register-organisation")) } }
            (signatory_table(lang, &ctx, &id, decl, is_convener))
            @if let Some(m) = &me {
                section.card aria-labelledby="own" {
                    h2 #own { (lang.t("declare-own-key")) }
                    @match my_signatory {
                        Some(s) => { p { (lang.t("declare-own-key-have")) " " code dir="ltr" { (s.id) } } }
                        None => {
                            p { (lang.t1("declare-own-key-help", "pseudonym", m.pseudonym.clone())) }
                            label for="place" { (lang.t("declare-place")) }
                            select #place required {
                                option value="" selected { (lang.t("declare-place-choose")) }
                                (options(lang, "place", &PLACES))
                            }
                            button #make-own type="button" disabled { (lang.t("declare-make-key")) }
                            (secret_panel(lang))
                            noscript { p.error { (lang.t("declare-noscript")) } }
                        }
                    }
                }
            }
            p #outcome role="status" aria-live="polite" {}
            (data_block("declare-data", &data))
            script src="/static/wasm.js" defer {}
            script src="/static/declare.js" defer {}
        },
    );
    allow_scripts(&mut response);
    Ok(response)
}

fn options(lang: Lang, prefix: &str, values: &[&str]) -> Markup {
    html! { @for v in values { option value=(v) { (lang.t(&format!("{prefix}-{v}"))) } } }
}

/// Where a newly made secret is shown and offered for download (by the script).
fn secret_panel(lang: Lang) -> Markup {
    html! {
        div #made hidden {
            h3 { (lang.t("declare-secret")) }
            p { (lang.t("declare-secret-warning")) }
            p { code #secret dir="ltr" {} }
            p { a #download download="signatory-key.json" hidden href="#" { (lang.t("register-download")) } }
        }
    }
}

fn signatory_table(lang: Lang, ctx: &Ctx, id: &str, decl: &Declarations, is_convener: bool) -> Markup {
    html! {
        @if decl.signatories.is_empty() {
            p { (lang.t("declare-no-signatories")) }
        } @else {
            div.scroll role="region" tabindex="0" aria-label=(lang.t("table-scroll")) { table {
                caption { (lang.t("declare-signatories")) }
                thead { tr {
                    th scope="col" { (lang.t("declare-name")) }
                    th scope="col" { (lang.t("declare-kind")) }
                    th scope="col" { (lang.t("declare-place")) }
                    th scope="col" { (lang.t("declare-key")) }
                    th scope="col" { (lang.t("declare-status")) }
                } }
                tbody { @for s in decl.signatories.values() { tr {
                    td { bdi { (said(lang, &s.name)) } }
                    td { (lang.t(&format!("kind-{}", s.kind))) }
                    td { (lang.t(&format!("place-{}", s.place))) }
                    td { code dir="ltr" { (&s.key[..16]) "…" } }
                    td {
                        @match &s.revoked {
                            Some(reason) => { (lang.t("declare-revoked")) ": " bdi { (reason) } }
                            None => {
                                (lang.t("declare-active"))
                                @for c in &s.changes {
                                    br;
                                    (lang.t(if c.by.is_some() { "declare-key-changed-convener" } else { "declare-key-changed-own" }))
                                    " " time datetime=(c.time) { (lang.date(&c.time)) } ": " bdi { (c.reason) }
                                }
                                @if is_convener {
                                    form.inline method="post" action={ (base(id)) "/signatories/" (s.id) "/revoke" } {
                                        input type="hidden" name="csrf" value=(ctx.csrf);
                                        label.visually-hidden for={ "reason-" (s.id) } { (lang.t("declare-reason")) }
                                        input id={ "reason-" (s.id) } name="reason" required maxlength="500" dir="auto" placeholder=(lang.t("declare-reason"));
                                        button type="submit" { (lang.t("declare-revoke")) }
                                    }
                                    details {
                                        summary { (lang.t("declare-new-key")) }
                                        form.stack method="post" action={ (base(id)) "/signatories/" (s.id) "/revoke" } {
                                            input type="hidden" name="csrf" value=(ctx.csrf);
                                            label for={ "key-" (s.id) } { (lang.t("declare-new-key-hex")) }
                                            input id={ "key-" (s.id) } name="key" required pattern="[0-9a-fA-F]{64}" dir="ltr" autocomplete="off";
                                            label for={ "why-" (s.id) } { (lang.t("declare-reason")) }
                                            input id={ "why-" (s.id) } name="reason" required maxlength="500" dir="auto";
                                            button type="submit" { (lang.t("declare-new-key-button")) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                } } }
            } }
        }
    }
}

fn open_line(lang: Lang, d: &Declaration) -> String {
    match &d.open {
        Some((version, closes)) => {
            let mut args = fluent_bundle::FluentArgs::new();
            args.set("version", *version);
            args.set("closes", lang.date(closes));
            lang.t_args("declare-open-until", &args)
        }
        None => lang.t("declare-not-open"),
    }
}

/// The standing signatures of a version that count (not withdrawn, signatory not revoked).
fn standing<'a>(decl: &'a Declarations, v: &'a Version) -> impl Iterator<Item = &'a Signing> {
    v.signatures.iter().filter(|s| decl.counts(s))
}

fn draft_form(lang: Lang, csrf: &str, action: &str, from: Option<&Version>) -> Markup {
    let value = |v: Option<&Version>, field: &str, l: &str| {
        v.and_then(|v| if field == "title" { v.title[l].as_str() } else { v.text[l].as_str() })
            .unwrap_or("")
            .to_string()
    };
    html! {
        form.stack method="post" action=(action) {
            input type="hidden" name="csrf" value=(csrf);
            label for="title_ar" { (lang.t("declare-title-ar")) }
            input #title_ar name="title_ar" required maxlength="200" lang="ar" dir="rtl" value=(value(from, "title", "ar"));
            label for="title_en" { (lang.t("declare-title-en")) }
            input #title_en name="title_en" required maxlength="200" lang="en" dir="ltr" value=(value(from, "title", "en"));
            label for="text_ar" { (lang.t("declare-text-ar")) }
            textarea #text_ar name="text_ar" required rows="8" lang="ar" dir="rtl" { (value(from, "text", "ar")) }
            label for="text_en" { (lang.t("declare-text-en")) }
            textarea #text_en name="text_en" required rows="8" lang="en" dir="ltr" { (value(from, "text", "en")) }
            button type="submit" { (lang.t(if from.is_some() { "declare-new-version" } else { "declare-draft" })) }
        }
    }
}

pub async fn create(
    State(state): State<AppState>,
    LoggedIn(ctx): LoggedIn,
    Path(id): Path<String>,
    CsrfForm(input): CsrfForm<DraftInput>,
) -> PageResult {
    let (did, _) = service::draft(&state, &ctx, &id, None, &input).await?;
    Ok(Redirect::to(&format!("/dialogues/{id}/declarations/{did}")).into_response())
}

#[derive(Deserialize)]
pub struct SettingsForm {
    #[serde(default)]
    members_draft: Option<String>,
}

pub async fn settings(
    State(state): State<AppState>,
    LoggedIn(ctx): LoggedIn,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<SettingsForm>,
) -> PageResult {
    service::set_members_draft(&state, &ctx, &id, form.members_draft.is_some()).await?;
    Ok(Redirect::to(&format!("/dialogues/{id}/declarations")).into_response())
}

// ----- one declaration -----

#[derive(Deserialize)]
pub struct VersionQuery {
    version: Option<u64>,
}

/// The declaration and the version to show: the one asked for, else the one open for
/// signing, else the latest.
fn chosen<'a>(view: &'a DeclareView, did: &str, asked: Option<u64>) -> Result<(&'a Declaration, u64), AppError> {
    let d = view.declarations.declarations.get(did).ok_or_else(AppError::not_found)?;
    let n = match asked {
        Some(n) => d.version(n).map(|_| n).ok_or_else(|| AppError::bad_request("version", "no such version"))?,
        None => d.open.as_ref().map(|(v, _)| *v).unwrap_or(d.versions.len() as u64),
    };
    Ok((d, n))
}

pub async fn show(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((id, did)): Path<(String, String)>,
    Query(q): Query<VersionQuery>,
) -> PageResult {
    let lang = ctx.lang;
    let dialogue = state.store.dialogue(&id).await?;
    let view = service::view(&state, &id).await?;
    let (d, n) = chosen(&view, &did, q.version)?;
    let v = d.version(n).expect("chosen");
    let is_convener = require_convener(&state, &ctx, &id).await.is_ok();
    let may_draft = service::may_draft(&state, &ctx, &id).await.is_ok();
    let open_here = d.open.as_ref().is_some_and(|(open, _)| *open == n);
    let url = format!("{}/dialogues/{id}", origin(&state.config));
    let data = json!({"dialogue": id, "declaration": did, "version": n, "hash": v.hash, "csrf": ctx.csrf,
                      "title": v.title, "text": v.text, "messages": script_messages(lang)});
    let mut response = page(
        &ctx,
        said(lang, &v.title),
        html! {
            p { a href=(base(&id)) { bdi { (pick(lang, &dialogue.title)) } } " · " a href={ (base(&id)) "/declarations" } { (lang.t("declare-title")) } }
            (declaration_body(lang, &view, &id, d, n, &url))
            nav.versions aria-label=(lang.t("declare-versions-nav")) {
                h2 { (lang.t("declare-versions-nav")) }
                ul { @for (i, ver) in d.versions.iter().enumerate() {
                    @let k = i as u64 + 1;
                    li {
                        @if k == n { strong { (lang.t1("declare-version", "version", k)) } }
                        @else { a href={ "?version=" (k) } { (lang.t1("declare-version", "version", k)) } }
                        " — " (lang.t1("declare-count", "count", standing(&view.declarations, ver).count() as u64))
                        @if d.open.as_ref().is_some_and(|(o, _)| *o == k) { " · " (open_line(lang, d)) }
                    }
                } }
            }
            p.no-print {
                a href={ (base(&id)) "/declarations/" (did) "/declaration.json" } { (lang.t("declare-download-json")) } " · "
                a href={ (base(&id)) "/declarations/" (did) "/declaration.html?version=" (n) } { (lang.t("declare-download-html")) }
            }
            @if open_here {
                section.card.no-print aria-labelledby="sign" {
                    h2 #sign { (lang.t("declare-sign")) }
                    p { (lang.t("declare-sign-help")) }
                    label for="key-file" { (lang.t("declare-key-file")) }
                    input #key-file type="file" accept="application/json,.json";
                    label for="key-secret" { (lang.t("declare-key-secret")) }
                    input #key-secret type="password" autocomplete="off" dir="ltr";
                    label for="key-signatory" { (lang.t("declare-key-signatory")) }
                    input #key-signatory autocomplete="off" dir="ltr";
                    button #sign-button type="button" disabled { (lang.t("declare-sign-button")) }
                    label for="withdraw-reason" { (lang.t("declare-withdraw-reason")) }
                    input #withdraw-reason maxlength="500" dir="auto";
                    button #withdraw-button type="button" disabled { (lang.t("declare-withdraw-button")) }
                    p { (lang.t("declare-sign-cli")) }
                    pre dir="ltr" { code { "hiwar declaration sign --server " (origin(&state.config)) " --dialogue " (id) " --declaration " (did) " --key org-key.json" } }
                    noscript { p.error { (lang.t("declare-noscript")) } }
                }
            } @else {
                p { (open_line(lang, d)) }
            }
            p #outcome role="status" aria-live="polite" {}
            @if is_convener {
                section.card.no-print aria-labelledby="open" {
                    h2 #open { (lang.t("declare-open")) }
                    form.stack method="post" action={ (base(&id)) "/declarations/" (did) "/open" } {
                        input type="hidden" name="csrf" value=(ctx.csrf);
                        input type="hidden" name="version" value=(n);
                        label for="closes" { (lang.t("declare-closes")) }
                        input #closes name="closes" type="datetime-local" required;
                        button type="submit" { (lang.t1("declare-open-button", "version", n)) }
                    }
                }
            }
            @if may_draft {
                section.card.no-print aria-labelledby="redraft" {
                    h2 #redraft { (lang.t("declare-new-version")) }
                    p { (lang.t("declare-new-version-help")) }
                    (draft_form(lang, &ctx.csrf, &format!("{}/declarations/{did}/versions", base(&id)), Some(v)))
                }
            }
            (data_block("declare-data", &data))
            script src="/static/wasm.js" defer {}
            script src="/static/declare.js" defer {}
        },
    );
    allow_scripts(&mut response);
    Ok(response)
}

/// What the page and its self-contained copy share: the text in both languages with
/// its version and hash, the signatories by kind and place, withdrawals, who signed
/// other versions only, and how to check it all.
fn declaration_body(lang: Lang, view: &DeclareView, id: &str, d: &Declaration, n: u64, url: &str) -> Markup {
    let decl = &view.declarations;
    let v = d.version(n).expect("chosen");
    let signatory = |s: &Signing| decl.signatories.get(&s.signatory);
    let mut groups: BTreeMap<(usize, usize), Vec<(&Signing, &Signatory)>> = BTreeMap::new();
    for s in standing(decl, v) {
        if let Some(who) = signatory(s) {
            let kind = SIGNATORY_KINDS.iter().position(|k| *k == who.kind).unwrap_or(0);
            let place = PLACES.iter().position(|p| *p == who.place).unwrap_or(0);
            groups.entry((kind, place)).or_default().push((s, who));
        }
    }
    let count: usize = groups.values().map(Vec::len).sum();
    let not_counted: Vec<&Signing> = v.signatures.iter().filter(|s| !decl.counts(s)).collect();
    let here: std::collections::BTreeSet<&str> = v.signatures.iter().map(|s| s.signatory.as_str()).collect();
    let elsewhere: BTreeMap<&str, Vec<u64>> = d
        .versions
        .iter()
        .enumerate()
        .flat_map(|(i, other)| standing(decl, other).map(move |s| (s.signatory.as_str(), i as u64 + 1)))
        .filter(|(s, k)| *k != n && !here.contains(s))
        .fold(BTreeMap::new(), |mut m, (s, k)| {
            m.entry(s).or_insert_with(Vec::new).push(k);
            m
        });
    let drafted_by = view.pseudonyms.get(&v.by).cloned().unwrap_or_else(|| v.by.clone());
    html! {
        h1 { bdi { (said(lang, &v.title)) } }
        p.status {
            (lang.t1("declare-version", "version", n)) " · "
            (lang.t1("declare-drafted-by", "pseudonym", drafted_by)) " · "
            time datetime=(v.time) { (lang.date(&v.time)) }
        }
        p { (lang.t("declare-hash")) " " code dir="ltr" { (v.hash) } }
        @for l in [Lang::Ar, Lang::En] {
            section.declaration-text lang=(l.code()) dir=(l.dir()) aria-label=(lang.t(&format!("declare-text-{}", l.code()))) {
                h2 { bdi { (said(l, &v.title)) } }
                @for paragraph in said(l, &v.text).split('\n').filter(|p| !p.trim().is_empty()) {
                    p { bdi { (paragraph) } }
                }
            }
        }
        h2 #signed { (lang.t1("declare-count", "count", count as u64)) }
        p { (lang.t("declare-checked")) }
        @if count == 0 { p { (lang.t("declare-no-signatures")) } }
        @for ((kind, place), list) in &groups {
            h3 { (lang.t(&format!("kind-{}", SIGNATORY_KINDS[*kind]))) " — " (lang.t(&format!("place-{}", PLACES[*place]))) " (" (lang.num(list.len())) ")" }
            ul.signatures { @for (s, who) in list {
                li {
                    span.check aria-hidden="true" { "✓" }
                    span.visually-hidden { (lang.t("declare-verified")) }
                    " " bdi { (said(lang, &who.name)) }
                    " · " time datetime=(s.time) { (lang.date(&s.time)) }
                    " · " code dir="ltr" title=(s.key) { (&s.key[..16]) "…" }
                    @if s.key_by_convener.is_some() { " · " em { (lang.t("declare-key-by-convener")) } }
                }
            } }
        }
        @if !not_counted.is_empty() {
            h3 { (lang.t("declare-not-counted")) }
            ul { @for s in &not_counted { @if let Some(who) = signatory(s) {
                li {
                    s { bdi { (said(lang, &who.name)) } }
                    " — "
                    @match (&s.withdrawn, &who.revoked) {
                        (Some((reason, _)), _) => { (lang.t("declare-withdrawn-mark")) @if !reason.is_empty() { ": " bdi { (reason) } } }
                        (None, Some(reason)) => { (lang.t("declare-revoked")) ": " bdi { (reason) } }
                        (None, None) => {}
                    }
                }
            } } }
        }
        @if !elsewhere.is_empty() {
            h3 { (lang.t("declare-other-versions")) }
            ul { @for (s, versions) in &elsewhere { @if let Some(who) = decl.signatories.get(*s) {
                li { bdi { (said(lang, &who.name)) } " — " (lang.t1("declare-signed-versions", "versions", versions.iter().map(|k| k.to_string()).collect::<Vec<_>>().join(", "))) }
            } } }
        }
        h2 { (lang.t("declare-verify")) }
        p { (lang.t("declare-verify-how")) }
        pre dir="ltr" { code { "hiwar verify " (url) "/record" } }
        p { (lang.t("declare-address")) " " a href={ (url) "/declarations/" (d.id) "?version=" (n) } dir="ltr" { (url) "/declarations/" (d.id) } }
        p.visually-hidden { (id) }
    }
}

pub async fn new_version(
    State(state): State<AppState>,
    LoggedIn(ctx): LoggedIn,
    Path((id, did)): Path<(String, String)>,
    CsrfForm(input): CsrfForm<DraftInput>,
) -> PageResult {
    let (_, version) = service::draft(&state, &ctx, &id, Some(&did), &input).await?;
    Ok(Redirect::to(&format!("/dialogues/{id}/declarations/{did}?version={version}")).into_response())
}

#[derive(Deserialize)]
pub struct OpenForm {
    version: u64,
    closes: String,
}

pub async fn open(
    State(state): State<AppState>,
    LoggedIn(ctx): LoggedIn,
    Path((id, did)): Path<(String, String)>,
    CsrfForm(form): CsrfForm<OpenForm>,
) -> PageResult {
    service::open(&state, &ctx, &id, &did, form.version, &form.closes).await?;
    Ok(Redirect::to(&format!("/dialogues/{id}/declarations/{did}?version={}", form.version)).into_response())
}

/// The declaration as data: every version's text and hash, every signature with its
/// key, line and time, withdrawals, and the signatories — enough to check each
/// signature without the record (the record is still what proves they were taken in
/// order, while signing was open).
pub fn declaration_json(view: &DeclareView, dialogue: &str, d: &Declaration, record: &str) -> Value {
    let decl = &view.declarations;
    let versions: Vec<Value> = d
        .versions
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let signatures: Vec<Value> = v
                .signatures
                .iter()
                .map(|s| {
                    json!({"signatory": s.signatory, "key": s.key, "sig": s.sig, "line": s.line, "time": s.time,
                           "withdrawn": s.withdrawn.as_ref().map(|(reason, line)| json!({"reason": reason, "line": line})),
                           "counts": decl.counts(s)})
                })
                .collect();
            json!({"version": i + 1, "title": v.title, "text": v.text, "hash": v.hash, "line": v.line, "time": v.time,
                   "drafted_by": view.pseudonyms.get(&v.by), "signatures": signatures})
        })
        .collect();
    let signers: std::collections::BTreeSet<&str> =
        d.versions.iter().flat_map(|v| v.signatures.iter().map(|s| s.signatory.as_str())).collect();
    let signatories: Vec<Value> = signers
        .iter()
        .filter_map(|s| decl.signatories.get(*s))
        .map(|s| json!({"signatory": s.id, "name": s.name, "kind": s.kind, "place": s.place, "key": s.key, "revoked": s.revoked}))
        .collect();
    json!({"dialogue": dialogue, "declaration": d.id, "record": record,
           "open": d.open.as_ref().map(|(v, closes)| json!({"version": v, "closes": closes})),
           "versions": versions, "signatories": signatories})
}

pub async fn json_copy(State(state): State<AppState>, Path((id, did)): Path<(String, String)>) -> PageResult {
    let view = service::view(&state, &id).await?;
    let (d, _) = chosen(&view, &did, None)?;
    let record = format!("{}/dialogues/{id}/record", origin(&state.config));
    let body = serde_json::to_string_pretty(&declaration_json(&view, &id, d, &record)).map_err(AppError::internal)?;
    Ok(download("application/json", &format!("{did}.json"), body, false))
}

/// A self-contained copy of the page (its stylesheet inline, no script, no link
/// needed to read it), ready to print or to keep.
pub async fn html_copy(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((id, did)): Path<(String, String)>,
    Query(q): Query<VersionQuery>,
) -> PageResult {
    let lang = ctx.lang;
    let view = service::view(&state, &id).await?;
    let (d, n) = chosen(&view, &did, q.version)?;
    let v = d.version(n).expect("chosen");
    let url = format!("{}/dialogues/{id}", origin(&state.config));
    let markup = html! {
        (DOCTYPE)
        html lang=(lang.code()) dir=(lang.dir()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (said(lang, &v.title)) }
                style { (PreEscaped(include_str!("../../assets/style.css"))) }
            }
            body { main #main { (declaration_body(lang, &view, &id, d, n, &url)) } }
        }
    };
    Ok(download("text/html; charset=utf-8", &format!("{did}-v{n}.html"), markup.into_string(), false))
}

// ----- signing, registering (JSON, from the scripts and `hiwar`) -----

/// A JSON endpoint where the signatory's own signature is the authority (no session):
/// the body of `kind` — a signature or withdrawal of the declaration named in the path,
/// or a key change or revocation of the signatory named in the path.
pub fn by_own_key(kind: &'static str) -> axum::routing::MethodRouter<AppState> {
    axum::routing::post(
        move |State(state): State<AppState>,
              ctx: Ctx,
              Path((id, named)): Path<(String, String)>,
              ApiJson(body): ApiJson<Value>| async move {
            service::by_own_key(&state, ctx.client, &id, kind, &named, body).await?;
            Ok::<_, AppError>(axum::Json(json!({ "recorded": kind })).into_response())
        },
    )
}

pub async fn register_organisation_api(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<OrganisationInput>,
) -> Result<Response, AppError> {
    let signatory = service::register_organisation(&state, ctx.client, &id, input).await?;
    Ok(axum::Json(json!({ "signatory": signatory })).into_response())
}

pub async fn register_member_api(
    State(state): State<AppState>,
    LoggedIn(ctx): LoggedIn,
    Path(id): Path<String>,
    ApiJson(registration): ApiJson<Value>,
) -> Result<Response, AppError> {
    let signatory = service::register_member(&state, &ctx, &id, registration).await?;
    Ok(axum::Json(json!({ "signatory": signatory })).into_response())
}

#[derive(Deserialize)]
pub struct RevokeForm {
    reason: String,
    #[serde(default)]
    key: Option<String>,
}

/// A convener revokes a signatory, or records a new key for it, with a reason.
pub async fn convener_revoke(
    State(state): State<AppState>,
    LoggedIn(ctx): LoggedIn,
    Path((id, sid)): Path<(String, String)>,
    CsrfForm(form): CsrfForm<RevokeForm>,
) -> PageResult {
    let key = form.key.as_deref().filter(|k| !k.trim().is_empty());
    service::convener_key_change(&state, &ctx, &id, &sid, key, &form.reason).await?;
    Ok(Redirect::to(&format!("/dialogues/{id}/declarations#signatories")).into_response())
}

/// An organisation registers with its invitation code; its key is made in the browser.
pub async fn register_organisation(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>) -> PageResult {
    let lang = ctx.lang;
    let d = state.store.dialogue(&id).await?;
    let url = origin(&state.config);
    let data = json!({"dialogue": id, "messages": script_messages(lang)});
    let kinds = &SIGNATORY_KINDS[..SIGNATORY_KINDS.len() - 1];
    let mut response = page(
        &ctx,
        &lang.t("declare-register-organisation"),
        html! {
            h1 { (lang.t("declare-register-organisation")) }
            p { a href=(base(&id)) { bdi { (pick(lang, &d.title)) } } }
            p { (lang.t("declare-register-help")) }
            form #register-form.stack {
                label for="code" { (lang.t("declare-code")) }
                input #code name="code" required autocomplete="off" dir="ltr";
                label for="name_ar" { (lang.t("declare-name-ar")) }
                input #name_ar name="name_ar" required maxlength="120" lang="ar" dir="rtl";
                label for="name_en" { (lang.t("declare-name-en")) }
                input #name_en name="name_en" required maxlength="120" lang="en" dir="ltr";
                label for="kind" { (lang.t("declare-kind")) }
                select #kind name="kind" { (options(lang, "kind", kinds)) }
                label for="place" { (lang.t("declare-place")) }
                select #place name="place" { (options(lang, "place", &PLACES)) }
                button #register-button type="submit" disabled { (lang.t("declare-register-button")) }
            }
            (secret_panel(lang))
            p #outcome role="status" aria-live="polite" {}
            noscript { p.error { (lang.t("declare-noscript")) } }
            h2 { (lang.t("declare-register-cli")) }
            pre dir="ltr" { code {
                "hiwar org keygen --out org-key.json\n"
                "hiwar org register --server " (url) " --dialogue " (id) " --key org-key.json --code CODE \\\n"
                "    --name-ar '…' --name-en '…' --kind ngo --place inside"
            } }
            (data_block("declare-data", &data))
            script src="/static/wasm.js" defer {}
            script src="/static/declare.js" defer {}
        },
    );
    allow_scripts(&mut response);
    Ok(response)
}

// ----- the agenda -----

pub async fn agenda(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>) -> PageResult {
    let lang = ctx.lang;
    let d = state.store.dialogue(&id).await?;
    let items = agenda::items(&state, &id).await?;
    let is_convener = require_convener(&state, &ctx, &id).await.is_ok();
    let me = service::membership(&state, &ctx, &id).await?;
    let open = crate::deliberate::service::is_open(&d);
    Ok(page(
        &ctx,
        &lang.t("agenda-title"),
        html! {
            h1 { (lang.t("agenda-title")) }
            p { a href=(base(&id)) { bdi { (pick(lang, &d.title)) } } " · " a href={ (base(&id)) "/declarations" } { (lang.t("declare-title")) } }
            p { (lang.t("agenda-intro")) }
            @if items.is_empty() { p { (lang.t("agenda-none")) } }
            ol.agenda { @for item in &items {
                li.card {
                    @if item.text.is_empty() { p { em { (lang.t("agenda-redacted")) } } } @else { p { bdi { (item.text) } } }
                    p.status {
                        (lang.t1("agenda-consensus", "value", lang.percent(item.consensus, 0)))
                        @match &item.decision {
                            Some(dec) => { " · " strong { (lang.t(if dec.adopted { "agenda-adopted" } else { "agenda-rejected" })) } ": " bdi { (dec.reason) } }
                            None => { " · " (lang.t("agenda-undecided")) }
                        }
                    }
                    @if !item.groups.is_empty() {
                        div.scroll role="region" tabindex="0" aria-label=(lang.t("table-scroll")) { table.support {
                            caption.visually-hidden { (lang.t("agenda-support")) }
                            thead { tr { th scope="col" { (lang.t("agenda-group")) } th scope="col" { (lang.t("agenda-agree")) } th scope="col" { (lang.t("agenda-disagree")) } th scope="col" { (lang.t("agenda-votes")) } } }
                            tbody { @for (g, support) in item.groups.iter().enumerate() {
                                @let share = |n: u32| if support.seen == 0 { 0.0 } else { n as f64 / support.seen as f64 };
                                tr {
                                    th scope="row" { (lang.t1("agenda-group-name", "group", g as u64 + 1)) }
                                    td { meter min="0" max="1" value=(share(support.agree)) aria-hidden="true" {} " " (lang.percent(share(support.agree), 0)) }
                                    td { (lang.percent(share(support.disagree), 0)) }
                                    td { (lang.num(support.seen)) }
                                }
                            } }
                        } }
                    }
                    @if is_convener {
                        form.row method="post" action={ (base(&id)) "/agenda/" (item.statement) "/decision" } {
                            input type="hidden" name="csrf" value=(ctx.csrf);
                            label for={ "reason-" (item.statement) } { (lang.t("declare-reason")) }
                            input id={ "reason-" (item.statement) } name="reason" required maxlength="500" dir="auto";
                            button type="submit" name="decision" value="adopt" { (lang.t("agenda-adopt")) }
                            button type="submit" name="decision" value="reject" { (lang.t("agenda-reject")) }
                        }
                    }
                }
            } }
            @if me.is_some() && open {
                section.card aria-labelledby="propose" {
                    h2 #propose { (lang.t("agenda-propose")) }
                    form.stack method="post" action={ (base(&id)) "/agenda" } {
                        input type="hidden" name="csrf" value=(ctx.csrf);
                        label for="text" { (lang.t("agenda-item")) }
                        textarea #text name="text" required maxlength="280" rows="3" dir="auto" {}
                        button type="submit" { (lang.t("agenda-propose")) }
                    }
                }
            } @else if me.is_some() {
                p { (lang.t("agenda-closed")) }
            }
            @if is_convener {
                form method="post" action={ (base(&id)) "/agenda/declaration" } {
                    input type="hidden" name="csrf" value=(ctx.csrf);
                    button type="submit" { (lang.t("agenda-draft-declaration")) }
                }
            }
        },
    ))
}

#[derive(Deserialize)]
pub struct ProposeForm {
    text: String,
}

pub async fn propose(
    State(state): State<AppState>,
    LoggedIn(ctx): LoggedIn,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<ProposeForm>,
) -> PageResult {
    agenda::propose(&state, &ctx, &id, &form.text).await?;
    Ok(Redirect::to(&format!("/dialogues/{id}/agenda")).into_response())
}

pub async fn decide(
    State(state): State<AppState>,
    LoggedIn(ctx): LoggedIn,
    Path((id, sid)): Path<(String, String)>,
    CsrfForm(form): CsrfForm<DecisionInput>,
) -> PageResult {
    agenda::decide(&state, &ctx, &id, &sid, &form).await?;
    Ok(Redirect::to(&format!("/dialogues/{id}/agenda")).into_response())
}

pub async fn agenda_declaration(
    State(state): State<AppState>,
    LoggedIn(ctx): LoggedIn,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<serde::de::IgnoredAny>,
) -> PageResult {
    let did = agenda::draft_declaration(&state, &ctx, &id).await?;
    Ok(Redirect::to(&format!("/dialogues/{id}/declarations/{did}")).into_response())
}
