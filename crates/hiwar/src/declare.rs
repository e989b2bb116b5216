//! The command line of Declare, for signatories whose keys never reach the server:
//! `org keygen` makes a signing key, `org register` registers an organisation with its
//! invitation code, `declaration sign` and `declaration withdraw` sign (or withdraw a
//! signature of) the exact version of a declaration that the fully verified record
//! holds — the text is read from the record and shown before signing, never taken
//! from the server's pages.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::Subcommand;
use hiwar_record::declaration::SignatoryKey;
use hiwar_record::events::bilingual;
use serde_json::{json, Value};
use zeroize::Zeroizing;

use crate::decide::{post_json, write_secret};

/// A dialogue on a server.
#[derive(Clone, clap::Args)]
pub struct DialogueTarget {
    /// The hiwar server, e.g. https://hiwar.example.org
    #[arg(long, value_name = "URL")]
    pub server: String,
    /// The dialogue's id
    #[arg(long)]
    pub dialogue: String,
}

impl DialogueTarget {
    fn url(&self, rest: &str) -> String {
        format!("{}{rest}", self.server.trim_end_matches('/'))
    }
}

#[derive(Subcommand)]
pub enum OrgAction {
    /// Make your organisation's signing key (kept here; only its public half is ever sent)
    Keygen {
        /// Where to keep the key (created, readable only by you)
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Register your organisation as a signatory of a dialogue, with the invitation
    /// code its conveners gave you; the key signs the registration
    Register {
        #[command(flatten)]
        target: DialogueTarget,
        /// Your key file from `hiwar org keygen` (the signatory id is added to it)
        #[arg(long, value_name = "FILE")]
        key: PathBuf,
        /// Your invitation code
        #[arg(long)]
        code: String,
        /// The organisation's name in Arabic
        #[arg(long)]
        name_ar: String,
        /// The organisation's name in English
        #[arg(long)]
        name_en: String,
        /// local-council, syndicate, ngo, party, coalition, union, media or other
        #[arg(long)]
        kind: String,
        /// inside (the country) or abroad
        #[arg(long, default_value = "inside")]
        place: String,
    },
    /// Hand over to a new key (a new device, a key that may have leaked): the current
    /// key signs the hand-over; the old key signs nothing more
    Rotate {
        #[command(flatten)]
        target: DialogueTarget,
        /// Your current key file
        #[arg(long, value_name = "FILE")]
        key: PathBuf,
        /// Where to keep the new key (created, readable only by you)
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// Why (public)
        #[arg(long)]
        reason: String,
    },
    /// Revoke your signatory for good (signed by its key): it signs nothing more, and
    /// its signatures stop counting (they stay in the record)
    Revoke {
        #[command(flatten)]
        target: DialogueTarget,
        #[arg(long, value_name = "FILE")]
        key: PathBuf,
        /// Why (public)
        #[arg(long)]
        reason: String,
    },
}

#[derive(Subcommand)]
pub enum DeclarationAction {
    /// Sign a declaration's version open for signing (or --declaration-version N), after reading
    /// its text from the verified record
    Sign {
        #[command(flatten)]
        target: DialogueTarget,
        /// The declaration's id
        #[arg(long)]
        declaration: String,
        /// Your key file (from `hiwar org keygen` and `hiwar org register`, or the one
        /// the page offered)
        #[arg(long, value_name = "FILE")]
        key: PathBuf,
        /// The version [default: the one open for signing]
        #[arg(long, value_name = "N")]
        declaration_version: Option<u64>,
    },
    /// Withdraw your signature of a version (recorded, never erased)
    Withdraw {
        #[command(flatten)]
        target: DialogueTarget,
        #[arg(long)]
        declaration: String,
        #[arg(long, value_name = "FILE")]
        key: PathBuf,
        /// The version whose signature you withdraw
        #[arg(long, value_name = "N")]
        declaration_version: u64,
        /// Why (public)
        #[arg(long, default_value = "")]
        reason: String,
    },
}

/// A key file: `{"secret", "public"}`, and `"dialogue"`, `"signatory"` once registered.
fn load(path: &Path) -> Result<(SignatoryKey, Value)> {
    let text = Zeroizing::new(std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?);
    let file: Value =
        serde_json::from_str(&text).with_context(|| format!("{} is not a key file (JSON)", path.display()))?;
    let key = SignatoryKey::from_hex(file["secret"].as_str().unwrap_or_default())
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    if file["public"].as_str().is_some_and(|p| p != key.public()) {
        bail!("{}: the public key does not belong to the secret", path.display());
    }
    let public = json!({"dialogue": file["dialogue"], "signatory": file["signatory"]});
    Ok((key, public))
}

pub fn org(action: OrgAction) -> Result<()> {
    match action {
        OrgAction::Keygen { out } => {
            let (secret, key) = SignatoryKey::generate(&mut rand::rngs::OsRng);
            let file = Zeroizing::new(json!({"secret": hex::encode(*secret), "public": key.public()}).to_string());
            write_secret(&out, &file)?;
            println!("your signing key is in {} (keep it safe); public key {}", out.display(), key.public());
            Ok(())
        }
        OrgAction::Register { target, key: path, code, name_ar, name_en, kind, place } => {
            let (key, _) = load(&path)?;
            let name = bilingual(name_ar.trim(), name_en.trim());
            let registration = key.register(&target.dialogue, &name, &kind, &place);
            let url = target.url(&format!("/api/dialogues/{}/organisations", target.dialogue));
            let answer = post_json(&url, &json!({"code": code, "registration": registration}))?;
            let signatory = answer["signatory"].as_str().context("the server did not name the signatory")?;
            // Keep the id beside the key: signing needs both.
            let text = Zeroizing::new(std::fs::read_to_string(&path)?);
            let mut file: Value = serde_json::from_str(&text)?;
            file["dialogue"] = json!(target.dialogue);
            file["signatory"] = json!(signatory);
            let updated = Zeroizing::new(file.to_string());
            // Never a half-written key file: a new file beside it, then renamed over it.
            let fresh = path.with_extension("registering");
            write_secret(&fresh, &updated)?;
            std::fs::rename(&fresh, &path).with_context(|| format!("replacing {}", path.display()))?;
            println!("registered as signatory {signatory} of dialogue {}", target.dialogue);
            Ok(())
        }
        OrgAction::Rotate { target, key, out, reason } => {
            let (key, file) = load(&key)?;
            let signatory = signatory_of(&file, &target)?;
            let (secret, next) = SignatoryKey::generate(&mut rand::rngs::OsRng);
            let body = key.rotate(&target.dialogue, &signatory, &next.public(), reason.trim());
            let contents = Zeroizing::new(
                json!({"dialogue": target.dialogue, "signatory": signatory, "secret": hex::encode(*secret), "public": next.public()})
                    .to_string(),
            );
            // Kept before it is announced: a key recorded but lost would lock the signatory out.
            write_secret(&out, &contents)?;
            post_json(&target.url(&format!("/api/dialogues/{}/signatories/{signatory}/key", target.dialogue)), &body)?;
            println!("{signatory} now signs with the key in {} ({})", out.display(), next.public());
            Ok(())
        }
        OrgAction::Revoke { target, key, reason } => {
            let (key, file) = load(&key)?;
            let signatory = signatory_of(&file, &target)?;
            let body = key.revoke(&target.dialogue, &signatory, reason.trim());
            post_json(
                &target.url(&format!("/api/dialogues/{}/signatories/{signatory}/revoked", target.dialogue)),
                &body,
            )?;
            println!("{signatory} is revoked");
            Ok(())
        }
    }
}

/// The version `version` (or the one open) of `declaration` in the verified record:
/// `(version, hash, title, text)`.
fn version_in_record(
    target: &DialogueTarget,
    declaration: &str,
    version: Option<u64>,
) -> Result<(u64, String, Value, Value)> {
    let record = target.url(&format!("/dialogues/{}/record", target.dialogue));
    let (dialogue, events) = crate::ballots::verified_events(&record)?;
    if dialogue != target.dialogue {
        bail!("the record at {record} is of dialogue {dialogue}, not {}", target.dialogue);
    }
    let of = |kind: &'static str| {
        events.iter().filter(move |(k, b)| k == kind && b["declaration"] == declaration).map(|(_, b)| b)
    };
    let open = of("declaration.opened").next_back().and_then(|b| b["version"].as_u64());
    let version = version.or(open).with_context(|| format!("declaration {declaration} is not open for signing"))?;
    let drafted = of("declaration.drafted")
        .find(|b| b["version"] == version)
        .with_context(|| format!("declaration {declaration} has no version {version} in the record"))?;
    let hash = drafted["hash"].as_str().unwrap_or_default().to_string();
    Ok((version, hash, drafted["title"].clone(), drafted["text"].clone()))
}

pub fn declaration(action: DeclarationAction) -> Result<()> {
    match action {
        DeclarationAction::Sign { target, declaration, key, declaration_version: version } => {
            let (key, file) = load(&key)?;
            let signatory = signatory_of(&file, &target)?;
            let (version, hash, title, text) = version_in_record(&target, &declaration, version)?;
            for lang in ["ar", "en"] {
                println!(
                    "── {} ({lang}) ──\n{}\n",
                    title[lang].as_str().unwrap_or_default(),
                    text[lang].as_str().unwrap_or_default()
                );
            }
            println!("signing version {version} of {declaration}, whose text hashes to {hash}");
            let body = key.sign_version(&target.dialogue, &signatory, &declaration, version, &hash);
            post_json(
                &target.url(&format!("/api/dialogues/{}/declarations/{declaration}/signatures", target.dialogue)),
                &body,
            )?;
            println!("signed and recorded as {signatory}");
            Ok(())
        }
        DeclarationAction::Withdraw { target, declaration, key, declaration_version: version, reason } => {
            let (key, file) = load(&key)?;
            let signatory = signatory_of(&file, &target)?;
            let (version, hash, _, _) = version_in_record(&target, &declaration, Some(version))?;
            let body = key.withdraw(&target.dialogue, &signatory, &declaration, version, &hash, reason.trim());
            post_json(
                &target.url(&format!("/api/dialogues/{}/declarations/{declaration}/withdrawals", target.dialogue)),
                &body,
            )?;
            println!("the signature of {signatory} on version {version} is withdrawn (the record keeps both)");
            Ok(())
        }
    }
}

fn signatory_of(file: &Value, target: &DialogueTarget) -> Result<String> {
    if file["dialogue"].as_str().is_some_and(|d| d != target.dialogue) {
        bail!("this key is registered in dialogue {}, not {}", file["dialogue"], target.dialogue);
    }
    file["signatory"]
        .as_str()
        .map(str::to_string)
        .context("the key file names no signatory: register it first (hiwar org register)")
}
