//! The seeded demo dialogue of `hiwar demo`: bilingual, with phases, members under
//! pseudonyms, roles, and unused invitation codes to try the login with.

use hiwar_store::{HashedCode, NewDialogue, Phase, Store, Text};

use crate::codes::Code;
use crate::service::create_convener;
use crate::web::AppError;

/// What the demo prints for its visitors.
pub struct DemoAccess {
    pub dialogue: String,
    pub convener_key: String,
    /// Unused participant invitations.
    pub invitations: Vec<String>,
}

fn hashed(code: &Code) -> HashedCode {
    HashedCode { lookup: code.lookup().to_string(), hash: code.hash() }
}

/// Seeds the demo into `store`.
pub async fn seed(store: &Store) -> Result<DemoAccess, AppError> {
    let convener_key = create_convener(store).await?;
    let convener = store
        .credential(Code::parse(&convener_key).expect("fresh code parses").lookup())
        .await?
        .and_then(|c| match c.kind {
            hiwar_store::CredentialKind::Access { account } => Some(account),
            _ => None,
        })
        .ok_or_else(|| AppError::internal("demo convener missing"))?;
    let dialogue = store
        .create_dialogue(
            &NewDialogue {
                title: Text::new("الحوار الوطني التجريبي", "Demo national dialogue"),
                description: Text::new(
                    "حوار تجريبي: مندوبون يُختارون بقرعة عادلة، وآراء الجميع مسموعة، وقرارات بتصويت سرّي قابل للتحقق.",
                    "A demonstration dialogue: delegates seated by a fair lottery, everyone's opinions heard, decisions by verifiable secret ballot.",
                ),
                listed: true,
            },
            &convener,
            "أمانة الحوار",
        )
        .await?;
    let phases = [
        ("registration", "التسجيل", "Registration", "2026-11-01", "2026-11-30"),
        ("selection", "قرعة المندوبين", "Delegate lottery", "2026-12-01", "2026-12-07"),
        ("deliberation", "النقاش العام", "Public deliberation", "2026-12-08", "2026-12-31"),
        ("decision", "الاستفتاء", "Referendum", "2027-01-05", "2027-01-10"),
    ];
    for (kind, ar, en, starts, ends) in phases {
        let phase = Phase { kind: kind.into(), name: Text::new(ar, en), starts: starts.into(), ends: ends.into() };
        store.add_phase(&dialogue, &phase).await?;
    }
    store.set_current_phase(&dialogue, Some(0)).await?;

    let codes: Vec<Code> = (0..8).map(|_| Code::generate()).collect();
    let hashes: Vec<HashedCode> = codes.iter().map(hashed).collect();
    store.issue_codes(&dialogue, "participant", &hashes).await?;
    let convener_member = store
        .membership(&dialogue, &convener)
        .await?
        .ok_or_else(|| AppError::internal("demo convener is not a member"))?;
    for (code, pseudonym) in codes.iter().zip(["سلمى", "Omar", "نور الهدى"]) {
        let joined = store.redeem_invitation(code.lookup(), pseudonym, &hashed(&Code::generate())).await?;
        if pseudonym == "Omar" {
            store.change_role(&dialogue, &joined.member, "delegate", true, &convener_member.id).await?;
        }
    }
    let observers: Vec<Code> = (0..2).map(|_| Code::generate()).collect();
    store.issue_codes(&dialogue, "observer", &observers.iter().map(hashed).collect::<Vec<_>>()).await?;
    Ok(DemoAccess { dialogue, convener_key, invitations: codes[3..].iter().map(Code::display).collect() })
}
