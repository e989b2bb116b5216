//! The seeded demo dialogue of `hiwar demo`: bilingual, with phases, members under
//! pseudonyms, roles, and unused invitation codes to try the login with.

use hiwar_crypto::ballot::{Credential, Question};
use hiwar_crypto::elgamal::ElectionKey;
use hiwar_crypto::group::point_from_hex;
use hiwar_crypto::signing::Signer25519;
use hiwar_record::election::election_hash;
use hiwar_record::election::roles::{credential_lists, TrusteeRole, VotingBooth};
use hiwar_sortition::lottery;
use hiwar_sortition::pool::{Pool, Quotas};
use hiwar_store::{HashedCode, NewDialogue, NewSelection, Phase, Store, Text};
use rand::rngs::OsRng;
use serde_json::Value;
use zeroize::Zeroizing;

use crate::decide::service::{
    store_election, ElectionInput, ElectorateInput, QuestionInput, RollEntry, TextInput, TrusteeInput,
};
use crate::dialogues::codes::Code;
use crate::dialogues::service::create_convener;
use crate::web::AppError;

/// What the demo prints for its visitors.
pub struct DemoAccess {
    pub dialogue: String,
    pub convener_key: String,
    /// Unused participant invitations.
    pub invitations: Vec<String>,
    /// The open vote, and voting credentials of voters who have not voted in it yet.
    pub open_election: String,
    pub voting_credentials: Vec<String>,
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
    let voting_credentials = seed_demo_votes(store, &dialogue).await?;
    seed_demo_declaration(store, &dialogue, &convener_member.id).await?;
    seed_demo_witnesses(store, &dialogue, &convener_member.id).await?;
    Ok(DemoAccess {
        dialogue,
        convener_key,
        invitations: codes[3..].iter().map(Code::display).collect(),
        open_election: OPEN_ELECTION.into(),
        voting_credentials,
    })
}

/// Three demonstration witnesses, added by the convener; two co-sign the record as it
/// stands (real observers run `hiwar witness watch` on their own machines instead).
async fn seed_demo_witnesses(store: &Store, dialogue: &str, convener: &str) -> Result<(), AppError> {
    let names = [
        "مكتب المبعوث (تجريبي) — Envoy's office (demo)",
        "Syndicate of Journalists (demo)",
        "شبكة المجتمع المدني (تجريبي)",
    ];
    let mut signers = Vec::new();
    for name in names {
        let (_, signer) = hiwar_crypto::signing::Signer25519::generate(&mut rand::rngs::OsRng);
        store.add_witness(dialogue, convener, name, &hex::encode(signer.public())).await?;
        signers.push(signer);
    }
    for signer in &signers[..2] {
        let checkpoint = store.checkpoint(dialogue).await?;
        let cosignature = hiwar_record::witness::Cosignature::sign(&checkpoint, &hiwar_record::now_rfc3339(), signer);
        store.cosign(dialogue, &cosignature).await?;
    }
    Ok(())
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
    let computed = tokio::task::spawn_blocking(move || lottery::compute(&pool, &quotas, k, m, &software, None, |_| {}))
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

/// `count` invitations nobody can log in with: the demo redeems them itself.
fn unusable_invitations(count: usize) -> (Vec<Code>, Vec<HashedCode>) {
    let codes: Vec<Code> = (0..count).map(|_| Code::generate()).collect();
    let hashed =
        codes.iter().map(|c| HashedCode { lookup: c.lookup().to_string(), hash: DEMO_VOTER_HASH.into() }).collect();
    (codes, hashed)
}

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
    for (i, (text, _)) in statements.iter().enumerate() {
        // Four of them are proposed for the agenda too.
        let agenda = AGENDA_ITEMS.contains(&i);
        ids.push(store.post_statement_for(dialogue, convener, text, u64::MAX, agenda).await?);
    }
    let off_topic = store.post_statement(dialogue, convener, "Buy cheap phones here!", u64::MAX).await?;
    store
        .moderate_statement(dialogue, &off_topic, true, "advertising, not a statement on the dialogue", convener)
        .await?;

    let (voters, invitations) = unusable_invitations(60);
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
    let decisions = [
        (5, true, "Supported in every opinion group."),
        (10, true, "Near-unanimous across groups: the families' right to know comes first."),
        (8, false, "Divides the groups sharply; left to the elected assembly."),
    ];
    for (i, adopted, reason) in decisions {
        let body = hiwar_record::events::body::agenda_decided(&ids[i], adopted, reason, convener);
        store.record_declare_event(dialogue, "agenda.decided", body).await?;
    }
    Ok(())
}

/// The statements (by index) the demo proposes for the agenda.
const AGENDA_ITEMS: [usize; 4] = [2, 5, 8, 10];

/// A joint statement co-signed by a dozen organisations, each with its own key (the
/// demo plays them, through the same registration and signatures as their devices):
/// version 1 signed by two, version 2 by eleven of which one withdrew — so one
/// organisation's signature stands on the old version only.
async fn seed_demo_declaration(store: &Store, dialogue: &str, convener: &str) -> Result<(), AppError> {
    use hiwar_record::declaration::{self as decl, body, SignatoryKey};
    use hiwar_record::events::bilingual;
    let organisations = [
        ("مجلس حلب المحلي", "Aleppo Local Council", "local-council", "inside"),
        ("مجلس درعا المحلي", "Daraa Local Council", "local-council", "inside"),
        ("نقابة المحامين الأحرار", "Free Lawyers' Syndicate", "syndicate", "inside"),
        ("نقابة المعلمين", "Teachers' Syndicate", "syndicate", "inside"),
        ("رابطة عائلات المعتقلين", "Detainees' Families Association", "ngo", "inside"),
        ("شبكة النساء السوريات", "Syrian Women's Network", "ngo", "abroad"),
        ("سوريون في برلين", "Syrians in Berlin", "ngo", "abroad"),
        ("اتحاد العمال المستقل", "Independent Workers' Union", "union", "inside"),
        ("تحالف المجتمع المدني", "Civil Society Coalition", "coalition", "abroad"),
        ("حزب العدالة المدنية", "Civic Justice Party", "party", "abroad"),
        ("راديو الحوار", "Radio Hiwar", "media", "inside"),
        ("لجنة إعادة الإعمار", "Reconstruction Committee", "other", "inside"),
    ];
    let (codes, invitations) = unusable_invitations(organisations.len());
    store.issue_codes(dialogue, decl::ORGANISATION_ROLE, &invitations).await?;
    let mut signatories = Vec::new();
    for ((ar, en, kind, place), code) in organisations.iter().zip(&codes) {
        let (_, key) = SignatoryKey::generate(&mut OsRng);
        let registration = key.register(dialogue, &bilingual(ar, en), kind, place);
        let id = registration["signatory"].as_str().unwrap_or_default().to_string();
        store.register_organisation(dialogue, code.lookup(), registration).await?;
        signatories.push((id, key));
    }
    let id = "joint-statement";
    let title = bilingual("البيان المشترك الأول", "First joint statement");
    let versions = [
        bilingual(
            "نحن المنظمات الموقّعة أدناه نطالب بالكشف عن مصير جميع المعتقلين.\nونلتزم بحوار وطني يشارك فيه الجميع.",
            "We, the undersigned organisations, demand that the fate of every detainee be disclosed.\nWe commit to a national dialogue open to everyone.",
        ),
        bilingual(
            "نحن المنظمات الموقّعة أدناه نطالب بالكشف عن مصير جميع المعتقلين والمفقودين.\nونلتزم بحوار وطني يشارك فيه الجميع، في الداخل وفي المهجر.",
            "We, the undersigned organisations, demand that the fate of every detainee and missing person be disclosed.\nWe commit to a national dialogue open to everyone, inside the country and abroad.",
        ),
    ];
    let record =
        |kind: &'static str, body: Value| async move { store.record_declare_event(dialogue, kind, body).await };
    for (n, text) in versions.iter().enumerate() {
        let version = n as u64 + 1;
        let hash = hex::encode(decl::version_hash(dialogue, id, version, &title, text));
        record("declaration.drafted", body::declaration_drafted(id, version, &title, text, &hash, convener)).await?;
        record("declaration.opened", body::declaration_opened(id, version, "2027-01-31T21:00:00Z", convener)).await?;
        let signers: Vec<usize> = if version == 1 { vec![0, 11] } else { (0..11).collect() };
        for i in signers {
            let (signatory, key) = &signatories[i];
            record("declaration.signed", key.sign_version(dialogue, signatory, id, version, &hash)).await?;
        }
        if version == 2 {
            let (signatory, key) = &signatories[10];
            let reason = "Our editorial board decided to stay neutral.";
            record("declaration.withdrawn", key.withdraw(dialogue, signatory, id, version, &hash, reason)).await?;
        }
    }
    Ok(())
}

const OPEN_ELECTION: &str = "priorities";

/// A demo election run in-process: the demo plays the three trustees (2 of 3 decrypt)
/// and the credential authority, through the same signed steps and store calls as the
/// real roles on their own machines.
struct DemoElection {
    id: &'static str,
    hash: [u8; 32],
    key: ElectionKey,
    questions: Vec<Question>,
    credentials: Vec<(Zeroizing<[u8; 32]>, Credential)>,
}

fn both(ar: &str, en: &str) -> TextInput {
    TextInput { ar: ar.into(), en: en.into() }
}

/// The demo's election officials: three trustees (any two decrypt) and the authority
/// that issues the voters' credentials.
struct Officials {
    trustees: Vec<TrusteeRole>,
    authority: Signer25519,
}

async fn demo_election(
    store: &Store,
    dialogue: &str,
    id: &'static str,
    title: TextInput,
    question: QuestionInput,
    voters: usize,
    officials: &Officials,
) -> Result<DemoElection, AppError> {
    let (trustees, authority) = (&officials.trustees[..], &officials.authority);
    let questions = vec![Question { options: question.options.len() as u32, min: question.min, max: question.max }];
    let input = ElectionInput {
        id: id.into(),
        title,
        questions: vec![question],
        electorate: ElectorateInput::List(
            (1..=voters).map(|i| RollEntry { voter: format!("{id}-voter-{i}"), weight: 1 }).collect(),
        ),
        trustees: trustees
            .iter()
            .map(|t| {
                let p = t.public();
                TrusteeInput {
                    signing_key: p["signing_key"].as_str().unwrap_or_default().into(),
                    share_key: p["share_key"].as_str().unwrap_or_default().into(),
                }
            })
            .collect(),
        threshold: 2,
        authority: hex::encode(authority.public()),
        closes_at: None,
    };
    store_election(store, dialogue, &input).await?;
    let created = store.election(dialogue, id).await?.created;
    let hash = election_hash(dialogue, &created);
    let share_keys: Vec<_> = trustees.iter().map(|t| t.share_key.public()).collect();
    for (i, t) in (1..).zip(trustees) {
        store.election_event(dialogue, id, "election.trustee_committed", t.committed(id, &hash, i, 2)).await?;
    }
    for (i, t) in (1..).zip(trustees) {
        store.election_event(dialogue, id, "election.trustee_revealed", t.revealed(id, &hash, i, 2)).await?;
    }
    for (i, t) in (1..).zip(trustees) {
        let body = t.shares(id, &hash, i, 2, &share_keys, &mut OsRng);
        store.election_event(dialogue, id, "election.trustee_shares", body).await?;
    }
    let credentials: Vec<(Zeroizing<[u8; 32]>, Credential)> =
        (0..voters).map(|_| Credential::generate(&mut OsRng)).collect();
    let list: Vec<([u8; 32], u64)> = credentials.iter().map(|(_, c)| (c.public(), 1)).collect();
    for body in credential_lists(id, &hash, authority, &list, false, "authority") {
        store.election_event(dialogue, id, "election.credentials", body).await?;
    }
    let key = store.open_election(dialogue, id).await?;
    let key = point_from_hex("public_key", &key)
        .and_then(ElectionKey::new)
        .map_err(|e| AppError::internal(format!("demo election key: {e}")))?;
    Ok(DemoElection { id, hash, key, questions, credentials })
}

impl DemoElection {
    fn booth(&self) -> VotingBooth<'_> {
        VotingBooth { election: self.id, hash: &self.hash, key: &self.key, questions: &self.questions }
    }

    /// Casts `(voter, chosen options, counter)` through the same checks as the server's
    /// ballot box, in one transaction.
    async fn cast(&self, store: &Store, dialogue: &str, votes: &[(usize, Vec<usize>, u64)]) -> Result<(), AppError> {
        let checker =
            store.cast_checker(dialogue, self.id).await?.ok_or_else(|| AppError::internal("demo election not open"))?;
        let mut ballots = Vec::new();
        for (voter, chosen, counter) in votes {
            let choices = self.choices(chosen);
            let body = self
                .booth()
                .cast(&self.credentials[*voter].1, &choices, *counter, &mut OsRng)
                .map_err(AppError::internal)?;
            let checked = checker.check(&body).map_err(|(c, d)| AppError::internal(format!("{c}: {d}")))?;
            ballots.push((body, checked));
        }
        store.cast_ballots(dialogue, self.id, &ballots).await?;
        Ok(())
    }

    fn choices(&self, chosen: &[usize]) -> Vec<Vec<bool>> {
        vec![(0..self.questions[0].options as usize).map(|o| chosen.contains(&o)).collect()]
    }

    async fn challenge(&self, store: &Store, dialogue: &str, voter: usize, chosen: &[usize]) -> Result<(), AppError> {
        let body = self
            .booth()
            .challenge(&self.credentials[voter].1, &self.choices(chosen), &mut OsRng)
            .map_err(AppError::internal)?;
        store.spoil_ballot(dialogue, self.id, body).await?;
        Ok(())
    }

    /// Closes, and trustees 1 and 2 decrypt what the record holds (as `hiwar trustee
    /// decrypt` does): the second partial publishes the result.
    async fn close_and_decide(&self, store: &Store, dialogue: &str, trustees: &[TrusteeRole]) -> Result<(), AppError> {
        store.close_election(dialogue, self.id).await?;
        let events: Vec<(String, Value)> = store
            .record(dialogue)
            .await?
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|l| l["body"]["election"] == self.id)
            .map(|mut l| (l["kind"].as_str().unwrap_or_default().to_string(), l["body"].take()))
            .collect();
        for role in &trustees[..2] {
            let partial = role.decrypt(dialogue, &events, &mut OsRng).map_err(AppError::internal)?;
            store.election_event(dialogue, self.id, "election.partial_decryption", partial).await?;
        }
        Ok(())
    }
}

/// Two votes: a referendum already decided (40 voters: a challenge, a re-vote, two
/// abstentions), and an open priorities vote whose unused credentials the demo prints.
async fn seed_demo_votes(store: &Store, dialogue: &str) -> Result<Vec<String>, AppError> {
    let officials = Officials {
        trustees: (0..3).map(|_| TrusteeRole::generate(&mut OsRng)).collect(),
        authority: Signer25519::generate(&mut OsRng).1,
    };
    let charter = demo_election(
        store,
        dialogue,
        "charter",
        both("استفتاء على مسودة الميثاق الانتقالي", "Referendum on the draft transitional charter"),
        QuestionInput {
            title: both("هل توافق على مسودة الميثاق الانتقالي؟", "Do you approve the draft transitional charter?"),
            options: vec![both("نعم", "Yes"), both("لا", "No"), both("ممتنع", "Abstain")],
            min: 1,
            max: 1,
        },
        40,
        &officials,
    )
    .await?;
    charter.challenge(store, dialogue, 0, &[1]).await?;
    // 38 of 40 vote: 23 yes, 12 no, 3 abstain; voter 5 first votes no, then yes.
    let votes: Vec<(usize, Vec<usize>, u64)> = (0..38)
        .map(|v| {
            (
                v,
                vec![if v < 23 {
                    0
                } else if v < 35 {
                    1
                } else {
                    2
                }],
                1,
            )
        })
        .collect();
    charter.cast(store, dialogue, &votes[..5]).await?;
    charter.cast(store, dialogue, &[(5, vec![1], 1)]).await?;
    charter.cast(store, dialogue, &[(5, vec![0], 2)]).await?;
    charter.cast(store, dialogue, &votes[6..]).await?;
    charter.close_and_decide(store, dialogue, &officials.trustees).await?;

    let priorities = demo_election(
        store,
        dialogue,
        OPEN_ELECTION,
        both("أولويات المرحلة الأولى", "Priorities of the first phase"),
        QuestionInput {
            title: both("اختر أولويتين على الأكثر", "Choose at most two priorities"),
            options: vec![
                both("الماء والكهرباء", "Water and electricity"),
                both("عودة النازحين", "Return of the displaced"),
                both("المعتقلون والمفقودون", "Detainees and the missing"),
                both("الاقتصاد والعمل", "Economy and jobs"),
            ],
            min: 1,
            max: 2,
        },
        12,
        &officials,
    )
    .await?;
    priorities
        .cast(store, dialogue, &[(0, vec![0, 2], 1), (1, vec![1], 1), (2, vec![2, 3], 1), (3, vec![0], 1)])
        .await?;
    Ok(priorities.credentials[4..8].iter().map(|(secret, _)| hex::encode(**secret)).collect())
}
