//! Who may do what in Declare, and the calls into the store. Everything a page shows of
//! declarations and signatories comes from the record's own checked state
//! ([`hiwar_store::DeclareView`]); every signature is checked by the record's rules
//! (D1–D3) before it is appended, so a refusal names the failed check.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hiwar_record::declaration::{self as decl, body, ORGANISATION_ROLE, PLACES, SIGNATORY_KINDS};
use hiwar_record::events::bilingual;
use hiwar_store::{CredentialKind, DeclareView, Member, StoreError};
use serde::Deserialize;
use serde_json::Value;

use crate::dialogues::service::{open_code, require_convener, text_field};
use crate::web::{AppError, Ctx};
use crate::AppState;

/// Events a signatory's own key authorises, per client address and minute (counted in
/// the database, so across servers): plenty for an office of signatories behind one
/// address, few enough that nobody floods the record's lock with bad signatures.
const SIGNED_PER_MINUTE: u64 = 120;

/// How long a dialogue's Declare view serves readers before it is read again from the
/// record's checks. Reading takes the dialogue's append lock (so that the checks' state
/// is exactly at the head), which ballots and votes also need: readers must not queue
/// behind them, nor slow them down, one lock per page view. This process's own Declare
/// writes refresh it at once; another server's show within this time.
const VIEW_MAX_AGE: Duration = Duration::from_secs(2);

/// The latest Declare view of each dialogue, shared by all requests.
#[derive(Default)]
pub struct DeclareViews(Mutex<HashMap<String, (Instant, Arc<DeclareView>)>>);

impl DeclareViews {
    fn fresh(&self, dialogue: &str) -> Option<Arc<DeclareView>> {
        let views = self.0.lock().unwrap_or_else(|p| p.into_inner());
        views.get(dialogue).filter(|(at, _)| at.elapsed() < VIEW_MAX_AGE).map(|(_, v)| v.clone())
    }

    fn put(&self, dialogue: &str, view: Arc<DeclareView>) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).insert(dialogue.to_string(), (Instant::now(), view));
    }

    /// A Declare event was recorded through this process.
    pub fn changed(&self, dialogue: &str) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).remove(dialogue);
    }
}

/// The record's signatories, declarations and agenda decisions (at most
/// [`VIEW_MAX_AGE`] old).
pub async fn view(state: &AppState, dialogue: &str) -> Result<Arc<DeclareView>, AppError> {
    // An unknown dialogue is a 404 from `declare_view` itself (no view is cached for it).
    if let Some(view) = state.declare_views.fresh(dialogue) {
        return Ok(view);
    }
    let view = Arc::new(state.store.declare_view(dialogue).await?);
    state.declare_views.put(dialogue, view.clone());
    Ok(view)
}

/// The caller's membership, if logged in and a member.
pub async fn membership(state: &AppState, ctx: &Ctx, dialogue: &str) -> Result<Option<Member>, AppError> {
    match &ctx.viewer {
        Some(account) => Ok(state.store.membership(dialogue, &account.id).await?),
        None => Ok(None),
    }
}

/// Conveners draft; any other member too when the conveners allow it.
pub async fn may_draft(state: &AppState, ctx: &Ctx, dialogue: &str) -> Result<Member, AppError> {
    let member = membership(state, ctx, dialogue).await?.ok_or_else(|| match ctx.viewer {
        Some(_) => AppError::forbidden(),
        None => AppError::unauthorized(),
    })?;
    if member.has("convener")
        || state.store.members_draft(dialogue).await? && !member.roles.iter().all(|r| r == "observer")
    {
        Ok(member)
    } else {
        Err(AppError::forbidden())
    }
}

/// A version's title and text, as typed.
#[derive(Debug, Deserialize)]
pub struct DraftInput {
    pub title_ar: String,
    pub title_en: String,
    pub text_ar: String,
    pub text_en: String,
}

/// Title and text, checked as user text (no invisible or direction-changing
/// characters: the record refuses overrides too), as the record's bilingual values.
fn version_texts(input: &DraftInput) -> Result<(Value, Value), AppError> {
    let title = bilingual(
        &text_field("title_ar", &input.title_ar, 1, decl::MAX_TITLE_CHARS)?,
        &text_field("title_en", &input.title_en, 1, decl::MAX_TITLE_CHARS)?,
    );
    let text = bilingual(
        &text_field("text_ar", &input.text_ar, 1, decl::MAX_TEXT_CHARS)?,
        &text_field("text_en", &input.text_en, 1, decl::MAX_TEXT_CHARS)?,
    );
    Ok((title, text))
}

/// Drafts a version: of a new declaration (`declaration` `None`), or the next version of
/// one. Returns the declaration and version.
pub async fn draft(
    state: &AppState,
    ctx: &Ctx,
    dialogue: &str,
    declaration: Option<&str>,
    input: &DraftInput,
) -> Result<(String, u64), AppError> {
    let me = may_draft(state, ctx, dialogue).await?;
    let (title, text) = version_texts(input)?;
    let (id, version) = match declaration {
        Some(id) => {
            let view = view(state, dialogue).await?;
            let d = view.declarations.declarations.get(id).ok_or_else(AppError::not_found)?;
            (id.to_string(), d.versions.len() as u64 + 1)
        }
        None => (hiwar_store::random_id("dec-", 10), 1),
    };
    let hash = hex::encode(decl::version_hash(dialogue, &id, version, &title, &text));
    let body = body::declaration_drafted(&id, version, &title, &text, &hash, &me.id);
    record(state, dialogue, "declaration.drafted", body).await?;
    Ok((id, version))
}

/// Opens signing on `version` until `closes` (`YYYY-MM-DDTHH:MM`, UTC, as a
/// `datetime-local` field sends it, or with seconds and `Z`).
pub async fn open(
    state: &AppState,
    ctx: &Ctx,
    dialogue: &str,
    declaration: &str,
    version: u64,
    closes: &str,
) -> Result<(), AppError> {
    let me = require_convener(state, ctx, dialogue).await?;
    let closes = closes.trim();
    let closes = if closes.len() == 16 { format!("{closes}:00Z") } else { closes.to_string() };
    let at = hiwar_record::line::parse_time(&closes)
        .ok_or_else(|| AppError::bad_request("closes", "closes must be a date and time, YYYY-MM-DDTHH:MM (UTC)"))?;
    if at <= time::OffsetDateTime::now_utc() {
        return Err(AppError::bad_request("closes", "signing must close in the future"));
    }
    let body = body::declaration_opened(declaration, version, &closes, &me.id);
    record(state, dialogue, "declaration.opened", body).await
}

/// An organisation's registration: its invitation code and the registration its own
/// key signed (`SignatoryKey::register`).
#[derive(Debug, Deserialize)]
pub struct OrganisationInput {
    pub code: String,
    pub registration: Value,
}

/// Registers an organisation through an unused invitation of this dialogue granting
/// `organisation`; the code is spent only if the record accepts the registration.
pub async fn register_organisation(
    state: &AppState,
    client: IpAddr,
    dialogue: &str,
    input: OrganisationInput,
) -> Result<String, AppError> {
    state.store.dialogue(dialogue).await?;
    let registration = checked_registration(input.registration)?;
    if registration["kind"] == "member" {
        return Err(AppError::bad_request("kind", "an organisation's kind is not member"));
    }
    let (credential, lookup) = open_code(state, client, &input.code).await?;
    match credential.kind {
        CredentialKind::Invitation { dialogue: d, role } if d == dialogue && role == ORGANISATION_ROLE => {}
        _ => return Err(AppError::bad_request("code", "this code does not register an organisation in this dialogue")),
    }
    let id = registration["signatory"].as_str().unwrap_or_default().to_string();
    state.store.register_organisation(dialogue, &lookup, registration).await.map_err(refused)?;
    state.declare_views.changed(dialogue);
    Ok(id)
}

/// A member registers the key they sign with in their own name (their pseudonym).
pub async fn register_member(
    state: &AppState,
    ctx: &Ctx,
    dialogue: &str,
    registration: Value,
) -> Result<String, AppError> {
    let me = membership(state, ctx, dialogue).await?.ok_or_else(AppError::forbidden)?;
    let mut registration = checked_registration(registration)?;
    if registration["kind"] != "member" || registration["name"] != bilingual(&me.pseudonym, &me.pseudonym) {
        return Err(AppError::bad_request(
            "registration",
            "a member signs as kind member, under their pseudonym in both languages",
        ));
    }
    registration["member"] = Value::String(me.id.clone());
    let id = registration["signatory"].as_str().unwrap_or_default().to_string();
    record(state, dialogue, "signatory.registered", registration).await?;
    Ok(id)
}

/// The registration's fields as the record wants them, with names that are already
/// user text in normal form (the key signed them as they are, so they cannot be
/// cleaned here: a name that is not clean is refused with the reason).
fn checked_registration(mut registration: Value) -> Result<Value, AppError> {
    let object = registration.as_object().ok_or_else(|| AppError::bad_request("registration", "not an object"))?;
    for (field, allowed) in [("kind", &SIGNATORY_KINDS[..]), ("place", &PLACES[..])] {
        let value = object.get(field).and_then(Value::as_str).unwrap_or_default();
        if !allowed.contains(&value) {
            return Err(AppError::bad_request(field, format!("{field} must be one of {}", allowed.join(", "))));
        }
    }
    for lang in ["ar", "en"] {
        let name = registration["name"][lang].as_str().unwrap_or_default();
        let field = format!("name_{lang}");
        if text_field(&field, name, 1, decl::MAX_NAME_CHARS)? != name {
            return Err(AppError::bad_request(
                field,
                "a name has no spaces at its ends and is in Unicode normal form C",
            ));
        }
    }
    registration["batch"] = Value::Null;
    registration["member"] = Value::Null;
    Ok(registration)
}

/// Records an event the signatory's own key signed — a signature or withdrawal
/// (`declaration.*`) of the declaration `named`, or a key change or revocation
/// (`signatory.*`) of the signatory `named`. No session is needed: the signature is the
/// authority, and the record's checks D1/D3 decide.
pub async fn by_own_key(
    state: &AppState,
    client: IpAddr,
    dialogue: &str,
    kind: &str,
    named: &str,
    body: Value,
) -> Result<(), AppError> {
    let minute = time::OffsetDateTime::now_utc().unix_timestamp() / 60;
    if state.store.count_attempt(&format!("signed:{client}"), minute).await? > SIGNED_PER_MINUTE {
        return Err(AppError::too_many());
    }
    state.store.dialogue(dialogue).await?;
    if let Some(reason) = body.get("reason").and_then(Value::as_str) {
        if text_field("reason", reason, 0, decl::MAX_REASON_CHARS)? != reason {
            return Err(AppError::bad_request(
                "reason",
                "a reason has no spaces at its ends and is in Unicode normal form C",
            ));
        }
    }
    let field = if kind.starts_with("declaration.") { "declaration" } else { "signatory" };
    if body.get(field).and_then(Value::as_str) != Some(named) {
        return Err(AppError::bad_request(field, format!("the body names another {field} than the address")));
    }
    if field == "signatory" && !body["by"].is_null() {
        return Err(AppError::bad_request("by", "a change made by a convener is not sent here"));
    }
    record(state, dialogue, kind, body).await
}

/// A convener revokes a signatory (a lost or stolen key, an organisation that does not
/// exist), or records a new key for it, with a public reason.
pub async fn convener_key_change(
    state: &AppState,
    ctx: &Ctx,
    dialogue: &str,
    signatory: &str,
    new_key: Option<&str>,
    reason: &str,
) -> Result<(), AppError> {
    let me = require_convener(state, ctx, dialogue).await?;
    let reason = text_field("reason", reason, 1, decl::MAX_REASON_CHARS)?;
    match new_key {
        Some(key) => {
            let key = key.trim().to_ascii_lowercase();
            let body = body::signatory_key_rotated(signatory, &key, &reason, Some(&me.id), None);
            record(state, dialogue, "signatory.key_rotated", body).await
        }
        None => {
            let body = body::signatory_revoked(signatory, &reason, Some(&me.id), None);
            record(state, dialogue, "signatory.revoked", body).await
        }
    }
}

/// Whether members other than conveners may draft (a convener setting).
pub async fn set_members_draft(state: &AppState, ctx: &Ctx, dialogue: &str, allowed: bool) -> Result<(), AppError> {
    require_convener(state, ctx, dialogue).await?;
    Ok(state.store.set_members_draft(dialogue, allowed).await?)
}

/// Records a Declare event (the record's checks decide) and refreshes this process's view.
pub(crate) async fn record(state: &AppState, dialogue: &str, kind: &str, body: Value) -> Result<(), AppError> {
    state.store.record_declare_event(dialogue, kind, body).await.map_err(refused)?;
    state.declare_views.changed(dialogue);
    Ok(())
}

/// A refusal by the record's checks is the caller's mistake (a signature over another
/// text, a revoked key, a late signature…): 409 with the check's words.
fn refused(e: StoreError) -> AppError {
    match e {
        StoreError::Refused(detail) => AppError::conflict("signature", detail),
        other => other.into(),
    }
}
