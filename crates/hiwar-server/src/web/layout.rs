//! The frame of every page (layout, error page, stylesheet), downloads, and the small
//! helpers every capability's pages share.

use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use hiwar_store::Text;
use maud::{html, Markup, PreEscaped, DOCTYPE};

use super::i18n::Lang;
use super::{AppError, Config, Ctx};

/// What page handlers return.
pub type PageResult = Result<Response, AppError>;

/// This server as its visitors reach it, for commands they can copy: the configured
/// public address, never the request's Host header (which any client can set).
pub fn origin(config: &Config) -> String {
    config.public_url.clone().unwrap_or_else(|| "http://localhost:8080".into())
}

pub fn pick(lang: Lang, text: &Text) -> &str {
    match lang {
        Lang::Ar => &text.ar,
        Lang::En => &text.en,
    }
}

/// The frame of every page.
fn layout(ctx: &Ctx, title: &str, body: Markup) -> Markup {
    let lang = ctx.lang;
    html! {
        (DOCTYPE)
        html lang=(lang.code()) dir=(lang.dir()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="referrer" content="same-origin";
                title { (title) " · " (lang.t("site-name")) }
                link rel="stylesheet" href="/static/style.css";
            }
            body {
                a.skip href="#main" { (lang.t("skip-to-content")) }
                header.site {
                    a.brand href="/" { (lang.t("site-name")) }
                    span.tagline { (lang.t("site-tagline")) }
                    nav aria-label=(lang.t("nav-home")) {
                        a href="/" { (lang.t("nav-home")) }
                        @match &ctx.viewer {
                            Some(account) => {
                                @if account.is_convener { a href="/dialogues/new" { (lang.t("nav-new-dialogue")) } }
                                form.inline method="post" action="/logout" {
                                    input type="hidden" name="csrf" value=(ctx.csrf);
                                    button type="submit" { (lang.t("nav-logout")) }
                                }
                            }
                            None => { a href="/login" { (lang.t("nav-login")) } }
                        }
                        a lang=(lang.other().code()) hreflang=(lang.other().code()) href={ "?lang=" (lang.other().code()) } {
                            (lang.t("lang-other"))
                        }
                    }
                }
                main #main { (body) }
                footer.site { p { (lang.t("footer-privacy")) } }
            }
        }
    }
}

pub fn page(ctx: &Ctx, title: &str, body: Markup) -> Response {
    let mut response = axum::response::Html(layout(ctx, title, body).into_string()).into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The page shown for any error.
pub fn error_page(ctx: &Ctx, error: &AppError) -> Markup {
    let lang = ctx.lang;
    layout(
        ctx,
        &lang.t("error-title"),
        html! {
            h1 { (lang.t(error.message)) }
            @if let Some(field) = error.field.as_deref().filter(|f| !f.is_empty()) {
                p.field { (lang.t1("error-field", "field", field.to_string())) }
            }
            @if let Some(detail) = &error.detail { p.detail lang="en" dir="ltr" { (detail) } }
            p { a href="/" { (lang.t("error-back")) } }
        },
    )
}

pub async fn stylesheet() -> Response {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=3600")],
        include_str!("../../assets/style.css"),
    )
        .into_response()
}

/// A file to save: its type, name, and whether it must not be cached (codes in clear).
pub fn download(content_type: &'static str, filename: &str, body: String, private: bool) -> Response {
    let mut headers = HeaderMap::new();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(if private { "no-store" } else { "no-cache" }));
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    (headers, body).into_response()
}

/// Lets a page run this site's scripts and WebAssembly module (the pages where secrets
/// are made and used on the device).
pub fn allow_scripts(response: &mut Response) {
    response.headers_mut().insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(super::SCRIPT_PAGE_POLICY));
}

/// Data for a page's script: JSON in a block that is not run, with `<` escaped so no
/// text in it can end the element.
pub fn data_block(id: &str, data: &serde_json::Value) -> Markup {
    html! { script id=(id) type="application/json" { (PreEscaped(data.to_string().replace('<', "\\u003c"))) } }
}
