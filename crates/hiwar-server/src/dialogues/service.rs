//! The operations of the platform, shared by the HTML pages and the JSON API: each
//! validates its input, checks the caller's role, and calls the store.

use std::collections::HashSet;
use std::net::IpAddr;
use std::time::Instant;

use hiwar_record::declaration::ORGANISATION_ROLE;
use hiwar_record::events::{INVITED_ROLES, PHASE_KINDS};
use hiwar_store::{HashedCode, Member, NewDialogue, Phase, Store, StoreError, Text};
use serde::{Deserialize, Serialize};

use crate::dialogues::codes::{dummy_hash, Code};
use crate::web::{random_token, token_hash, AppError, Ctx};
use crate::AppState;

/// How long a login session lasts.
pub const SESSION_SECONDS: i64 = 14 * 24 * 3600;
/// Most invitation codes issued in one batch.
pub const MAX_BATCH: u32 = 1000;

/// What a successful login gives.
#[derive(Debug, Serialize)]
pub struct LoginOutcome {
    /// The session token (cookie value, or bearer token for the API).
    pub token: String,
    /// Set when the login redeemed an invitation.
    pub joined: Option<JoinedInfo>,
}

#[derive(Debug, Serialize)]
pub struct JoinedInfo {
    pub dialogue: String,
    pub member: String,
    pub pseudonym: String,
    /// The member's personal key, shown once.
    pub access_key: String,
}

/// Checks a typed code (invitation or personal key) and returns the credential it
/// opens, if it is usable, with its lookup part. Every answer, right or wrong, takes at
/// least `login_floor` and the same hashing work (an unknown lookup part is checked
/// against a dummy hash); each client address and each lookup part get a limited
/// number of attempts per minute, counted in the database (so across servers).
pub async fn open_code(
    state: &AppState,
    client: IpAddr,
    typed: &str,
) -> Result<(hiwar_store::Credential, String), AppError> {
    let started = Instant::now();
    let minute = time::OffsetDateTime::now_utc().unix_timestamp() / 60;
    let by_client = state.store.count_attempt(&format!("client:{client}"), minute).await?;
    let by_code = match Code::parse(typed) {
        Some(code) => state.store.count_attempt(&format!("lookup:{}", code.lookup()), minute).await?,
        None => 0,
    };
    if by_client > state.config.logins_per_minute as u64 || by_code > state.config.logins_per_code_per_minute as u64 {
        return Err(AppError::too_many());
    }
    let outcome = check_code(state, typed).await;
    tokio::time::sleep_until((started + state.config.login_floor).into()).await;
    outcome
}

async fn check_code(state: &AppState, typed: &str) -> Result<(hiwar_store::Credential, String), AppError> {
    let code = Code::parse(typed);
    let credential = match &code {
        Some(code) => state.store.credential(code.lookup()).await?,
        None => None,
    };
    // Always do the same hashing work, whether or not the lookup part exists.
    let stored_hash = credential.as_ref().map(|c| c.hash.clone()).unwrap_or_else(|| dummy_hash().to_string());
    let candidate = code.unwrap_or_else(Code::generate);
    let lookup = candidate.lookup().to_string();
    let matches =
        tokio::task::spawn_blocking(move || candidate.matches(&stored_hash)).await.map_err(AppError::internal)?;
    match credential {
        Some(c) if matches && c.usable => Ok((c, lookup)),
        _ => Err(AppError::bad_code()),
    }
}

/// Logs in with an invitation code or a personal key.
pub async fn login(
    state: &AppState,
    client: IpAddr,
    typed: &str,
    pseudonym: Option<&str>,
) -> Result<LoginOutcome, AppError> {
    let (credential, lookup) = open_code(state, client, typed).await?;
    let (account, joined) = match credential.kind {
        hiwar_store::CredentialKind::Access { account } => (account, None),
        hiwar_store::CredentialKind::Invitation { dialogue, role } if role == ORGANISATION_ROLE => {
            return Err(AppError::bad_request(
                "code",
                format!("this invitation registers an organisation: open /dialogues/{dialogue}/organisations/register"),
            ));
        }
        hiwar_store::CredentialKind::Invitation { .. } => {
            let pseudonym = valid_pseudonym(pseudonym.unwrap_or(""))?;
            let (access, hashed) = new_code(&state.store).await?;
            let joined = state.store.redeem_invitation(&lookup, &pseudonym, &hashed).await.map_err(|e| match e {
                StoreError::Conflict(detail) => AppError::conflict("pseudonym", detail),
                other => other.into(),
            })?;
            let info = JoinedInfo {
                dialogue: joined.dialogue,
                member: joined.member,
                pseudonym,
                access_key: access.display(),
            };
            (joined.account, Some(info))
        }
    };
    let token = random_token();
    let expires = time::OffsetDateTime::now_utc().unix_timestamp() + SESSION_SECONDS;
    state.store.create_session(&token_hash(&token), &account, expires).await?;
    Ok(LoginOutcome { token, joined })
}

pub async fn logout(state: &AppState, ctx: &Ctx) -> Result<(), AppError> {
    if let Some(session) = &ctx.session {
        state.store.delete_session(session).await?;
    }
    Ok(())
}

/// A fresh code whose lookup part is free, with its hash.
async fn new_code(store: &Store) -> Result<(Code, HashedCode), AppError> {
    loop {
        let code = Code::generate();
        if store.lookup_is_free(code.lookup()).await? {
            let (code, hash) = tokio::task::spawn_blocking(move || {
                let hash = code.hash();
                (code, hash)
            })
            .await
            .map_err(AppError::internal)?;
            let hashed = HashedCode { lookup: code.lookup().to_string(), hash };
            return Ok((code, hashed));
        }
    }
}

/// Creates a convener account and returns its personal key (for `hiwar convener add`).
pub async fn create_convener(store: &Store) -> Result<String, AppError> {
    let (code, hashed) = new_code(store).await?;
    store.create_convener(&hashed).await?;
    Ok(code.display())
}

fn valid_pseudonym(raw: &str) -> Result<String, AppError> {
    let pseudonym = text_field("pseudonym", raw, 1, 40)?;
    if pseudonym.contains(['\u{200c}', '\u{200d}', '\n', '\r']) {
        return Err(AppError::bad_request("pseudonym", "a pseudonym is one line of visible characters"));
    }
    Ok(pseudonym)
}

/// Whether `c` is a Unicode format character (general category Cf) other than the
/// zero-width joiner and non-joiner, which some scripts and emoji need: invisible
/// characters and bidirectional controls that let one text pose as another
/// ("Omar" + U+200B beside "Omar") or reorder what a reader sees (U+202E).
fn is_format(c: char) -> bool {
    matches!(c,
        '\u{ad}' | '\u{600}'..='\u{605}' | '\u{61c}' | '\u{6dd}' | '\u{70f}' | '\u{890}'..='\u{891}' | '\u{8e2}'
        | '\u{180e}' | '\u{200b}' | '\u{200e}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{2064}'
        | '\u{2066}'..='\u{206f}' | '\u{feff}' | '\u{fff9}'..='\u{fffb}' | '\u{110bd}' | '\u{110cd}'
        | '\u{13430}'..='\u{1343f}' | '\u{1bca0}'..='\u{1bca3}' | '\u{1d173}'..='\u{1d17a}' | '\u{e0001}'
        | '\u{e0020}'..='\u{e007f}')
}

/// User text: trimmed, in Unicode normal form C, of `min` to `max` characters, without
/// control characters (but line breaks) or invisible format characters.
pub fn text_field(field: &str, raw: &str, min: usize, max: usize) -> Result<String, AppError> {
    use unicode_normalization::UnicodeNormalization;
    let value: String = raw.trim().nfc().collect();
    let n = value.chars().count();
    if n < min || n > max {
        return Err(AppError::bad_request(field, format!("{field} must have {min} to {max} characters, not {n}")));
    }
    if value.chars().any(|c| c.is_control() && c != '\n' && c != '\r') {
        return Err(AppError::bad_request(field, format!("{field} contains control characters")));
    }
    if let Some(c) = value.chars().find(|&c| is_format(c)) {
        return Err(AppError::bad_request(
            field,
            format!("{field} contains the invisible or direction-changing character U+{:04X}", c as u32),
        ));
    }
    Ok(value)
}

fn one_of(field: &str, value: &str, allowed: &[&str]) -> Result<String, AppError> {
    if allowed.contains(&value) {
        Ok(value.to_string())
    } else {
        Err(AppError::bad_request(field, format!("{field} must be one of {}", allowed.join(", "))))
    }
}

fn date_field(field: &str, value: &str) -> Result<String, AppError> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(value.trim(), format)
        .map(|_| value.trim().to_string())
        .map_err(|_| AppError::bad_request(field, format!("{field} must be a date YYYY-MM-DD")))
}

/// The caller's membership in `dialogue`, which must exist (404) and where the
/// caller must be a convener (401 without login, 403 otherwise).
pub async fn require_convener(state: &AppState, ctx: &Ctx, dialogue: &str) -> Result<Member, AppError> {
    state.store.dialogue_exists(dialogue).await?;
    let account = ctx.account()?;
    match state.store.membership(dialogue, &account.id).await? {
        Some(member) if member.has("convener") => Ok(member),
        _ => Err(AppError::forbidden()),
    }
}

/// A new dialogue's fields, from a form or JSON.
#[derive(Debug, Deserialize)]
pub struct DialogueInput {
    pub title_ar: String,
    pub title_en: String,
    #[serde(default)]
    pub description_ar: String,
    #[serde(default)]
    pub description_en: String,
    /// Form checkboxes send "on"; JSON sends true/false.
    #[serde(default, deserialize_with = "checkbox")]
    pub listed: bool,
    pub pseudonym: String,
}

fn checkbox<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Flag {
        Bool(bool),
        Text(String),
    }
    Ok(match Flag::deserialize(d)? {
        Flag::Bool(b) => b,
        Flag::Text(s) => matches!(s.as_str(), "on" | "true" | "1" | "yes"),
    })
}

pub async fn create_dialogue(state: &AppState, ctx: &Ctx, input: DialogueInput) -> Result<String, AppError> {
    let account = ctx.account()?;
    if !account.is_convener {
        return Err(AppError::forbidden());
    }
    let new = NewDialogue {
        title: Text::new(
            text_field("title_ar", &input.title_ar, 1, 200)?,
            text_field("title_en", &input.title_en, 1, 200)?,
        ),
        description: Text::new(
            text_field("description_ar", &input.description_ar, 0, 5000)?,
            text_field("description_en", &input.description_en, 0, 5000)?,
        ),
        listed: input.listed,
    };
    let pseudonym = valid_pseudonym(&input.pseudonym)?;
    Ok(state.store.create_dialogue(&new, &account.id, &pseudonym).await?)
}

/// Issues `count` invitation codes for `role`; returns the batch id and the codes in
/// clear, which exist nowhere else afterwards.
pub async fn issue_codes(
    state: &AppState,
    ctx: &Ctx,
    dialogue: &str,
    role: &str,
    count: u32,
) -> Result<(String, Vec<String>), AppError> {
    require_convener(state, ctx, dialogue).await?;
    let role = one_of("role", role, &INVITED_ROLES)?;
    if count == 0 || count > MAX_BATCH {
        return Err(AppError::bad_request("count", format!("count must be between 1 and {MAX_BATCH}")));
    }
    let role = role.as_str();
    with_fresh_codes(
        state,
        count as usize,
        |hashed| async move { state.store.issue_codes(dialogue, role, &hashed).await },
    )
    .await
}

/// Draws `count` new codes whose lookup parts are free, hashes them, and hands the
/// hashes to `store_them`; returns its result and the codes in clear. If another
/// request took one of the lookup parts meanwhile (a conflict), draws again.
pub async fn with_fresh_codes<T, F, Fut>(
    state: &AppState,
    count: usize,
    store_them: F,
) -> Result<(T, Vec<String>), AppError>
where
    F: Fn(Vec<HashedCode>) -> Fut,
    Fut: std::future::Future<Output = Result<T, StoreError>>,
{
    for _attempt in 0..3 {
        let mut codes = Vec::with_capacity(count);
        let mut lookups = HashSet::new();
        while codes.len() < count {
            let code = Code::generate();
            if lookups.insert(code.lookup().to_string()) && state.store.lookup_is_free(code.lookup()).await? {
                codes.push(code);
            }
        }
        let (codes, hashed) = hash_all(codes).await?;
        match store_them(hashed).await {
            Ok(value) => return Ok((value, codes.iter().map(Code::display).collect())),
            Err(StoreError::Conflict(detail)) if detail.contains("lookup part") => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(AppError::internal("could not draw free code lookups"))
}

/// Hashes codes on all cores.
async fn hash_all(codes: Vec<Code>) -> Result<(Vec<Code>, Vec<HashedCode>), AppError> {
    let workers = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
    let chunk = codes.len().div_ceil(workers).max(1);
    let mut codes = codes;
    let mut tasks = Vec::new();
    while !codes.is_empty() {
        let rest = codes.split_off(chunk.min(codes.len()));
        let part = std::mem::replace(&mut codes, rest);
        tasks.push(tokio::task::spawn_blocking(move || {
            let hashed: Vec<HashedCode> =
                part.iter().map(|c| HashedCode { lookup: c.lookup().to_string(), hash: c.hash() }).collect();
            (part, hashed)
        }));
    }
    let (mut all_codes, mut all_hashed) = (Vec::new(), Vec::new());
    for task in tasks {
        let (c, h) = task.await.map_err(AppError::internal)?;
        all_codes.extend(c);
        all_hashed.extend(h);
    }
    Ok((all_codes, all_hashed))
}

/// Revokes the unused codes of `batch`, or the one `code` (its lookup part or the whole code).
pub async fn revoke_codes(
    state: &AppState,
    ctx: &Ctx,
    dialogue: &str,
    batch: Option<&str>,
    code: Option<&str>,
) -> Result<u64, AppError> {
    require_convener(state, ctx, dialogue).await?;
    let batch = batch.map(str::trim).filter(|b| !b.is_empty());
    let code = code.map(str::trim).filter(|c| !c.is_empty());
    match (batch, code) {
        (Some(batch), None) => Ok(state.store.revoke_codes(dialogue, batch, None).await?),
        (None, Some(code)) => {
            let lookup: String = code
                .chars()
                .filter(|c| c.is_ascii_alphanumeric())
                .take(crate::dialogues::codes::LOOKUP_LEN)
                .collect::<String>()
                .to_ascii_uppercase();
            Ok(state.store.revoke_code(dialogue, &lookup).await?)
        }
        _ => Err(AppError::bad_request("batch", "give either batch or code")),
    }
}

pub async fn change_role(
    state: &AppState,
    ctx: &Ctx,
    dialogue: &str,
    member: &str,
    role: &str,
    grant: bool,
) -> Result<(), AppError> {
    let me = require_convener(state, ctx, dialogue).await?;
    let role = one_of("role", role, &hiwar_record::events::ROLES)?;
    state.store.change_role(dialogue, member.trim(), &role, grant, &me.id).await.map_err(|e| match e {
        StoreError::NotFound(_) => AppError::bad_request("member", "no such member in this dialogue"),
        other => other.into(),
    })
}

/// A phase's fields, from a form or JSON.
#[derive(Debug, Deserialize)]
pub struct PhaseInput {
    pub kind: String,
    pub name_ar: String,
    pub name_en: String,
    pub starts: String,
    pub ends: String,
}

pub async fn add_phase(state: &AppState, ctx: &Ctx, dialogue: &str, input: PhaseInput) -> Result<usize, AppError> {
    require_convener(state, ctx, dialogue).await?;
    let phase = Phase {
        kind: one_of("kind", &input.kind, &PHASE_KINDS)?,
        name: Text::new(text_field("name_ar", &input.name_ar, 1, 100)?, text_field("name_en", &input.name_en, 1, 100)?),
        starts: date_field("starts", &input.starts)?,
        ends: date_field("ends", &input.ends)?,
    };
    if phase.ends < phase.starts {
        return Err(AppError::bad_request("ends", "a phase cannot end before it starts"));
    }
    Ok(state.store.add_phase(dialogue, &phase).await?)
}

pub async fn set_phase(state: &AppState, ctx: &Ctx, dialogue: &str, index: Option<usize>) -> Result<(), AppError> {
    require_convener(state, ctx, dialogue).await?;
    state.store.set_current_phase(dialogue, index).await.map_err(|e| match e {
        StoreError::NotFound("phase") => AppError::bad_request("index", "no such phase"),
        other => other.into(),
    })
}
