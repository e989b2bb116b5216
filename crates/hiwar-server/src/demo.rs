//! The seeded demo dialogue of `hiwar demo`: bilingual, with phases, members under
//! pseudonyms, roles, and unused invitation codes to try the login with.

use hiwar_sortition::lottery;
use hiwar_sortition::pool::{Pool, Quotas};
use hiwar_store::{HashedCode, NewDialogue, NewSelection, Phase, Store, Text};

use crate::dialogues::codes::Code;
use crate::dialogues::service::create_convener;
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
    // Registration and the delegate lottery are done (see below): the demo is deliberating.
    store.set_current_phase(&dialogue, Some(2)).await?;

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
    seed_demo_deliberation(store, &dialogue, &convener_member.id).await?;
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
    let summary = crate::seat::service::summary(&computed, started.elapsed().as_secs_f64());
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

/// Demo voters never log in: their stored "hash" is not a valid Argon2 string, which
/// every login check refuses.
const DEMO_VOTER_HASH: &str = "demo voter: no login";

/// A deliberation with 60 demo voters in two camps and a bridge: 12 statements (one
/// moderated out, with its reason), votes, and the tally published to the record.
async fn seed_demo_deliberation(store: &Store, dialogue: &str, convener: &str) -> Result<(), AppError> {
    use rand::{Rng, SeedableRng};
    let statements = [
        ("The constitution should be drafted by an elected assembly.", [0.9, 0.2]),
        ("يجب أن يصوغ الدستورَ مجلسٌ منتخب.", [0.85, 0.25]),
        ("Local councils should control their own budgets.", [0.3, 0.9]),
        ("ينبغي أن تدير المجالس المحلية ميزانياتها بنفسها.", [0.25, 0.85]),
        ("Refugees abroad must be able to vote in every decision.", [0.8, 0.3]),
        ("Security forces must answer to civilian courts.", [0.9, 0.85]),
        ("يجب أن تخضع الأجهزة الأمنية للقضاء المدني.", [0.88, 0.9]),
        ("Reconstruction money should go first to the worst-hit towns.", [0.85, 0.8]),
        ("The capital should keep its special status.", [0.2, 0.75]),
        ("Teaching in schools should be in every community's language.", [0.7, 0.35]),
        ("Detainees' families have the right to know their fate.", [0.95, 0.9]),
    ];
    let mut ids = Vec::new();
    for (text, _) in &statements {
        ids.push(store.post_statement(dialogue, convener, text, u64::MAX).await?);
    }
    let off_topic = store.post_statement(dialogue, convener, "Buy cheap phones here!", u64::MAX).await?;
    store
        .moderate_statement(dialogue, &off_topic, true, "advertising, not a statement on the dialogue", convener)
        .await?;

    let voters: Vec<Code> = (0..60).map(|_| Code::generate()).collect();
    let invitations: Vec<HashedCode> =
        voters.iter().map(|c| HashedCode { lookup: c.lookup().to_string(), hash: DEMO_VOTER_HASH.into() }).collect();
    store.issue_codes(dialogue, "participant", &invitations).await?;
    let mut rng = rand::rngs::StdRng::seed_from_u64(8);
    for (i, code) in voters.iter().enumerate() {
        let access = HashedCode { lookup: Code::generate().lookup().to_string(), hash: DEMO_VOTER_HASH.into() };
        let joined = store.redeem_invitation(code.lookup(), &format!("Demo voter {}", i + 1), &access).await?;
        let camp = usize::from(i % 5 >= 3); // 60 % and 40 %
        for (id, (_, agree)) in ids.iter().zip(&statements) {
            if rng.gen::<f64>() < 0.85 {
                let vote = if rng.gen::<f64>() < 0.08 {
                    0
                } else if rng.gen::<f64>() < agree[camp] {
                    1
                } else {
                    -1
                };
                store.vote(dialogue, id, &joined.member, vote).await?;
            }
        }
    }
    store.publish_tally(dialogue).await?;
    Ok(())
}
