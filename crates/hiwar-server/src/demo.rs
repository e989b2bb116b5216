//! The seeded demo dialogue of `hiwar demo`: bilingual, with phases, members under
//! pseudonyms, roles, and unused invitation codes to try the login with.

use hiwar_sortition::lottery;
use hiwar_sortition::pool::{Pool, Quotas};
use hiwar_store::{HashedCode, NewDialogue, NewSelection, Phase, Store, Text};

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
    seat_demo_panel(store, &dialogue).await?;
    Ok(DemoAccess { dialogue, convener_key, invitations: codes[3..].iter().map(Code::display).collect() })
}

/// A generated pool of 240 pseudonymous volunteers, skewed as self-selected pools
/// are, and quotas for a panel of 24 that asks for balance.
fn demo_pool() -> (String, String) {
    use rand::{Rng, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(2026);
    let regions = [("north", 5), ("south", 3), ("east", 2), ("west", 4), ("diaspora", 6)];
    let genders = [("f", 2), ("m", 3)];
    let ages = [("18-34", 4), ("35-54", 3), ("55+", 1)];
    fn pick<'a>(rng: &mut impl Rng, options: &[(&'a str, u32)]) -> &'a str {
        let total: u32 = options.iter().map(|o| o.1).sum();
        let mut r = rng.gen_range(0..total);
        for (name, weight) in options {
            if r < *weight {
                return name;
            }
            r -= weight;
        }
        unreachable!("r < total")
    }
    let mut pool = String::from("id,region,gender,age\n");
    for i in 0..240 {
        let row = [pick(&mut rng, &regions), pick(&mut rng, &genders), pick(&mut rng, &ages)];
        pool.push_str(&format!("v{i:03},{}\n", row.join(",")));
    }
    let quotas = "category,feature,min,max\n\
        region,north,4,6\nregion,south,4,6\nregion,east,3,6\nregion,west,4,6\nregion,diaspora,4,6\n\
        gender,f,11,13\ngender,m,11,13\n\
        age,18-34,7,10\nage,35-54,7,10\nage,55+,5,8\n"
        .to_string();
    (pool, quotas)
}

/// Runs a whole selection on the demo pool: computed, published, drawn and seated.
async fn seat_demo_panel(store: &Store, dialogue: &str) -> Result<(), AppError> {
    let (pool_csv, quotas_csv) = demo_pool();
    let quotas = Quotas::parse(&quotas_csv).map_err(AppError::internal)?;
    let pool = Pool::parse(&pool_csv, &quotas).map_err(AppError::internal)?;
    let (k, m) = (24, 1000);
    let started = std::time::Instant::now();
    let software = format!("hiwar {}", env!("CARGO_PKG_VERSION"));
    let computed = tokio::task::spawn_blocking(move || lottery::compute(&pool, &quotas, k, m, &software, |_, _| {}))
        .await
        .map_err(AppError::internal)?
        .map_err(AppError::internal)?;
    let new = NewSelection {
        size: k as u64,
        panels: m as u64,
        volunteers: computed.lottery.len() as u64,
        pool_csv: &pool_csv,
        quotas_csv: &quotas_csv,
    };
    let id = store.create_selection(dialogue, &new).await?;
    let summary = crate::selection::summary(&computed, started.elapsed().as_secs_f64());
    let manifest = computed.manifest.to_string();
    store.finish_selection(&id, Ok((&manifest, computed.manifest_hash(), &summary))).await?;
    store
        .publish_selection(dialogue, &id, "The demo beacon: six numbers announced on 2026-11-30 for 2026-12-01")
        .await?;
    let beacon = "2026-12-01: 04 11 19 27 33 42";
    let draw = lottery::draw(&computed.manifest, beacon).map_err(AppError::internal)?;
    store.draw_selection(dialogue, &id, beacon, &draw.seed, draw.index as u64, &draw.panel).await?;
    let invitations: Vec<HashedCode> = draw.panel.iter().map(|_| hashed(&Code::generate())).collect();
    store.seat_selection(dialogue, &id, &invitations).await?;
    Ok(())
}
