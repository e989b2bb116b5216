//! One storage suite, run against both backends on real servers: SQLite in a
//! temporary directory and PostgreSQL at 127.0.0.1:5432 (`HIWAR_TEST_POSTGRES`).

use hiwar_record::{verify, Options};
use hiwar_store::{
    CredentialKind, HashedCode, NewDialogue, NewSelection, Phase, SelectionStatus, Store, StoreError, Text,
};

/// Each test body runs once per backend.
macro_rules! storage_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let dir = tempfile::tempdir().unwrap();
                let store = hiwar_store::Store::open_sqlite(dir.path()).await.unwrap();
                super::$name(store).await;
            })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let url = hiwar_store::testing::fresh_postgres_database().await;
                let store = hiwar_store::Store::open_url(&url).await.unwrap();
                super::$name(store).await;
            })*
        }
    };
}

storage_tests!(
    dialogue_lifecycle_is_recorded,
    invitations_are_single_use_and_revocable,
    a_failed_join_consumes_nothing,
    roles_change_and_a_convener_remains,
    sessions_expire_and_end,
    concurrent_appends_keep_one_chain,
    unknown_ids_are_not_found,
    a_selection_moves_forward_once_per_step,
    statements_votes_and_moderation,
    concurrent_votes_are_grouped_and_none_is_lost,
    votes_by_session_are_decided_in_the_write,
    the_store_refuses_lines_its_verifier_rejects,
);

fn code(lookup: &str) -> HashedCode {
    HashedCode { lookup: lookup.into(), hash: format!("hash-of-{lookup}") }
}

async fn convener_with_dialogue(store: &Store) -> (String, String, String) {
    let account = store.create_convener(&code(&hiwar_store::random_id("K", 5))).await.unwrap();
    let new = NewDialogue {
        title: Text::new("حوار وطني", "National dialogue"),
        description: Text::new("وصف", "About"),
        listed: true,
    };
    let dialogue = store.create_dialogue(&new, &account, "المنسّق").await.unwrap();
    let member = store.membership(&dialogue, &account).await.unwrap().unwrap().id;
    (account, dialogue, member)
}

/// Opens a deliberation phase in `dialogue`: statements and votes are taken only then.
async fn deliberating(store: &Store, dialogue: &str) {
    let phase = Phase {
        kind: "deliberation".into(),
        name: Text::new("نقاش", "Deliberation"),
        starts: "2026-01-01".into(),
        ends: "2027-12-31".into(),
    };
    let index = store.add_phase(dialogue, &phase).await.unwrap();
    store.set_current_phase(dialogue, Some(index)).await.unwrap();
}

fn assert_record_verifies(record: &str) -> hiwar_record::Summary {
    verify(record, &Options::default()).unwrap_or_else(|f| panic!("{f}\n{record}"))
}

async fn dialogue_lifecycle_is_recorded(store: Store) {
    let (_, id, _) = convener_with_dialogue(&store).await;
    let phase = Phase {
        kind: "deliberation".into(),
        name: Text::new("نقاش", "Deliberation"),
        starts: "2026-12-01".into(),
        ends: "2026-12-15".into(),
    };
    assert_eq!(store.add_phase(&id, &phase).await.unwrap(), 0);
    store.set_current_phase(&id, Some(0)).await.unwrap();
    assert!(matches!(store.set_current_phase(&id, Some(5)).await, Err(StoreError::NotFound("phase"))));
    let d = store.dialogue(&id).await.unwrap();
    assert_eq!(d.title.ar, "حوار وطني");
    assert_eq!(d.phases, vec![phase]);
    assert_eq!(d.current_phase, Some(0));
    assert_eq!(d.members, 1);
    let listed = store.list_dialogues().await.unwrap();
    assert!(listed.iter().any(|s| s.id == id));
    let record = store.record(&id).await.unwrap();
    let summary = assert_record_verifies(&record);
    assert_eq!(summary.lines, 4);
    assert_eq!(summary.public_key, d.public_key);
    assert_eq!(summary.head, d.record_head);
    // Reopening migrates nothing twice and keeps everything.
    store.health().await.unwrap();
}

async fn invitations_are_single_use_and_revocable(store: Store) {
    let (_, id, _) = convener_with_dialogue(&store).await;
    let codes: Vec<_> = ["AAAA1", "AAAA2", "AAAA3"].iter().map(|l| code(l)).collect();
    let batch = store.issue_codes(&id, "participant", &codes).await.unwrap();
    let cred = store.credential("AAAA1").await.unwrap().unwrap();
    assert!(cred.usable);
    assert_eq!(cred.kind, CredentialKind::Invitation { dialogue: id.clone(), role: "participant".into() });
    let joined = store.redeem_invitation("AAAA1", "سلمى", &code("ACC01")).await.unwrap();
    assert_eq!(joined.dialogue, id);
    assert!(!store.credential("AAAA1").await.unwrap().unwrap().usable);
    assert!(matches!(store.redeem_invitation("AAAA1", "Other", &code("ACC02")).await, Err(StoreError::Unusable)));
    let access = store.credential("ACC01").await.unwrap().unwrap();
    assert_eq!(access.kind, CredentialKind::Access { account: joined.account.clone() });
    // Revoke one code, then the rest of the batch.
    assert_eq!(store.revoke_code(&id, "AAAA2").await.unwrap(), 1);
    assert_eq!(store.revoke_codes(&id, &batch, None).await.unwrap(), 1);
    assert_eq!(store.revoke_codes(&id, &batch, None).await.unwrap(), 0);
    assert!(matches!(store.redeem_invitation("AAAA3", "Late", &code("ACC03")).await, Err(StoreError::Unusable)));
    let batches = store.batches(&id).await.unwrap();
    assert_eq!((batches[0].size, batches[0].used, batches[0].revoked), (3, 1, 2));
    // The same lookup part cannot be issued twice.
    assert!(matches!(store.issue_codes(&id, "participant", &[code("AAAA1")]).await, Err(StoreError::Conflict(_))));
    let member = store.membership(&id, &joined.account).await.unwrap().unwrap();
    assert_eq!((member.pseudonym.as_str(), member.roles.as_slice()), ("سلمى", &["participant".to_string()][..]));
    let summary = assert_record_verifies(&store.record(&id).await.unwrap());
    assert_eq!(summary.members, 2);
}

async fn a_failed_join_consumes_nothing(store: Store) {
    let (_, id, _) = convener_with_dialogue(&store).await;
    store.issue_codes(&id, "participant", &[code("BBBB1"), code("BBBB2")]).await.unwrap();
    store.redeem_invitation("BBBB1", "Omar", &code("ACC11")).await.unwrap();
    let before = store.record(&id).await.unwrap();
    // Same pseudonym up to case and spaces: refused, and the code stays usable.
    let err = store.redeem_invitation("BBBB2", "  omar ", &code("ACC12")).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict(ref m) if m.contains("pseudonym")), "{err}");
    assert!(store.credential("BBBB2").await.unwrap().unwrap().usable);
    assert!(store.credential("ACC12").await.unwrap().is_none());
    assert_eq!(store.record(&id).await.unwrap(), before);
    store.redeem_invitation("BBBB2", "Omar 2", &code("ACC12")).await.unwrap();
}

async fn roles_change_and_a_convener_remains(store: Store) {
    let (_, id, convener) = convener_with_dialogue(&store).await;
    store.issue_codes(&id, "participant", &[code("CCCC1")]).await.unwrap();
    let joined = store.redeem_invitation("CCCC1", "Lina", &code("ACC21")).await.unwrap();
    store.change_role(&id, &joined.member, "delegate", true, &convener).await.unwrap();
    assert!(matches!(
        store.change_role(&id, &joined.member, "delegate", true, &convener).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        store.change_role(&id, &joined.member, "king", true, &convener).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        store.change_role(&id, "m-nobody", "delegate", true, &convener).await,
        Err(StoreError::NotFound("member"))
    ));
    let err = store.change_role(&id, &convener, "convener", false, &convener).await.unwrap_err();
    assert!(err.to_string().contains("at least one convener"));
    store.change_role(&id, &joined.member, "participant", false, &convener).await.unwrap();
    let member = store.membership(&id, &joined.account).await.unwrap().unwrap();
    assert_eq!(member.roles, vec!["delegate".to_string()]);
    assert_eq!(store.members(&id).await.unwrap().len(), 2);
    assert_record_verifies(&store.record(&id).await.unwrap());
}

async fn sessions_expire_and_end(store: Store) {
    let account = store.create_convener(&code("SESS1")).await.unwrap();
    store.create_session("t1", &account, 2_000).await.unwrap();
    assert_eq!(store.session_account("t1", 1_000).await.unwrap().unwrap().id, account);
    assert!(store.session_account("t1", 2_000).await.unwrap().is_none());
    assert!(store.session_account("t1", 1_000).await.unwrap().unwrap().is_convener);
    // With where the account stands in a dialogue, in the same query.
    let (owner, dialogue, member) = convener_with_dialogue(&store).await;
    store.create_session("t2", &owner, 2_000).await.unwrap();
    let (found, standing) = store.session_standing("t2", 1_000, &dialogue).await.unwrap().unwrap();
    assert_eq!(found.id, owner);
    let standing = standing.unwrap();
    assert_eq!(standing, store.standing(&dialogue, &owner).await.unwrap());
    assert_eq!(
        (standing.member.as_deref(), standing.roles.as_slice()),
        (Some(member.as_str()), &["convener".to_string()][..])
    );
    let (_, elsewhere) = store.session_standing("t1", 1_000, &dialogue).await.unwrap().unwrap();
    assert_eq!(elsewhere.map(|s| (s.member, s.roles)), Some((None, vec![])), "not a member of another's dialogue");
    let (_, none) = store.session_standing("t1", 1_000, "d-nonesuch").await.unwrap().unwrap();
    assert_eq!(none, None, "no such dialogue");
    assert!(store.session_standing("t2", 2_000, &dialogue).await.unwrap().is_none(), "expired");
    store.delete_session("t1").await.unwrap();
    assert!(store.session_account("t1", 1_000).await.unwrap().is_none());
}

async fn concurrent_appends_keep_one_chain(store: Store) {
    let (_, id, _) = convener_with_dialogue(&store).await;
    let mut tasks = Vec::new();
    for i in 0..24 {
        let store = store.clone();
        let id = id.clone();
        tasks.push(tokio::spawn(async move {
            let lookup = format!("CONC{i:02}");
            store.issue_codes(&id, "observer", &[code(&lookup)]).await.unwrap();
            store.redeem_invitation(&lookup, &format!("observer {i}"), &code(&format!("ACCC{i:02}"))).await.unwrap();
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let summary = assert_record_verifies(&store.record(&id).await.unwrap());
    assert_eq!(summary.lines, 2 + 48);
    assert_eq!(summary.members, 25);
}

async fn unknown_ids_are_not_found(store: Store) {
    assert!(matches!(store.dialogue("nope").await, Err(StoreError::NotFound("dialogue"))));
    assert!(matches!(store.record("nope").await, Err(StoreError::NotFound("dialogue"))));
    assert!(matches!(
        store
            .add_phase(
                "nope",
                &Phase {
                    kind: "closed".into(),
                    name: Text::new("a", "b"),
                    starts: "2026-01-01".into(),
                    ends: "2026-01-02".into()
                }
            )
            .await,
        Err(StoreError::NotFound("dialogue"))
    ));
    assert!(store.credential("ZZZZZ").await.unwrap().is_none());
    let (_, id, _) = convener_with_dialogue(&store).await;
    assert!(matches!(store.revoke_codes(&id, "b-nope", None).await, Err(StoreError::NotFound("batch"))));
    assert!(matches!(store.revoke_code(&id, "ZZZZZ").await, Err(StoreError::NotFound("code"))));
}

async fn a_selection_moves_forward_once_per_step(store: Store) {
    use hiwar_record::selection::{draw_index, draw_seed};
    let (_, id, _) = convener_with_dialogue(&store).await;
    let new = NewSelection {
        size: 2,
        panels: 3,
        volunteers: 4,
        pool_csv: "id,g\n",
        quotas_csv: "category,feature,min,max\n",
    };
    let sid = store.create_selection(&id, &new).await.unwrap();
    store.selection_progress(&sid, "0:0.25").await.unwrap();
    let running = store.selection(&id, &sid).await.unwrap();
    assert_eq!((running.status, running.progress.as_str()), (SelectionStatus::Running, "0:0.25"));
    assert!(!running.status.is_public());
    assert!(matches!(store.publish_selection(&id, &sid, "lottery").await, Err(StoreError::Conflict(_))));

    let hash = "ab".repeat(32);
    let manifest = serde_json::json!({"pool_hash": "cd".repeat(32), "panels": [["a", "b"], ["b", "c"], ["c", "d"]]});
    let summary = serde_json::json!({"min_lottery": 0.5});
    store.finish_selection(&sid, Ok((&manifest.to_string(), &hash, &summary))).await.unwrap();
    // A late error report does not undo a finished run.
    store.finish_selection(&sid, Err("late")).await.unwrap();
    let computed = store.selection(&id, &sid).await.unwrap();
    assert_eq!(computed.status, SelectionStatus::Computed);
    assert_eq!(computed.summary, Some(summary));
    assert!(store.record(&id).await.unwrap().lines().all(|l| !l.contains("selection.")), "nothing public yet");

    store.publish_selection(&id, &sid, "national lottery, 1 Dec").await.unwrap();
    assert!(matches!(store.publish_selection(&id, &sid, "again").await, Err(StoreError::Conflict(_))));

    let beacon = "07 12 19";
    let seed = draw_seed(&[0xab; 32], beacon);
    let index = draw_index(&seed, 3);
    let panel: Vec<String> = serde_json::from_value(manifest["panels"][index as usize].clone()).unwrap();
    // Two simultaneous draws: exactly one is recorded.
    let seed = hex::encode(seed);
    let (a, b) = tokio::join!(
        store.draw_selection(&id, &sid, beacon, &seed, index, &panel),
        store.draw_selection(&id, &sid, beacon, &seed, index, &panel)
    );
    assert!(a.is_ok() != b.is_ok(), "{a:?} {b:?}");
    let seated = store.seat_selection(&id, &sid, &[code("SEAT1"), code("SEAT2")]).await.unwrap();
    assert!(matches!(
        store.seat_selection(&id, &sid, &[code("SEAT3"), code("SEAT4")]).await,
        Err(StoreError::Conflict(_))
    ));
    let done = store.selection(&id, &sid).await.unwrap();
    assert_eq!((done.status, done.drawn_index, done.batch), (SelectionStatus::Seated, Some(index), Some(seated)));
    let summary = assert_record_verifies(&store.record(&id).await.unwrap());
    assert_eq!(summary.selections.len(), 1);
    assert_eq!(summary.selections[0].drawn.as_ref().unwrap().2, panel);
    assert!(matches!(store.selection(&id, "s-nope").await, Err(StoreError::NotFound("selection"))));
}

async fn statements_votes_and_moderation(store: Store) {
    let (_, id, convener) = convener_with_dialogue(&store).await;
    deliberating(&store, &id).await;
    let a = store.post_statement(&id, &convener, "Roads before walls", 2).await.unwrap();
    assert!(matches!(
        store.post_statement(&id, &convener, "  roads BEFORE   walls ", 2).await,
        Err(StoreError::Conflict(_))
    ));
    let b = store.post_statement(&id, &convener, "طرق قبل الأسوار", 2).await.unwrap();
    assert!(
        matches!(store.post_statement(&id, &convener, "a third", 2).await, Err(StoreError::Conflict(_))),
        "over the per-member cap"
    );
    store.vote(&id, &a, &convener, 1).await.unwrap();
    store.vote(&id, &a, &convener, -1).await.unwrap();
    store.vote(&id, &b, &convener, 0).await.unwrap();
    let (_, mut votes) = store.votes(&id).await.unwrap();
    votes.sort_by_key(|v| v.2);
    assert_eq!(votes, vec![(convener.clone(), a.clone(), -1), (convener.clone(), b.clone(), 0)]);
    assert!(matches!(store.vote(&id, "st-nope", &convener, 1).await, Err(StoreError::NotFound("statement"))));
    store.moderate_statement(&id, &b, true, "off topic", &convener).await.unwrap();
    assert!(matches!(store.moderate_statement(&id, &b, true, "again", &convener).await, Err(StoreError::Conflict(_))));
    assert!(matches!(store.vote(&id, &b, &convener, 1).await, Err(StoreError::Conflict(_))));
    assert_eq!(store.publish_tally(&id).await.unwrap(), 2);
    let record = store.record(&id).await.unwrap();
    assert_record_verifies(&record);
    assert!(record.contains("off topic") && record.contains("\"disagree\":1"));
    assert!(!record.contains(&format!("\"member\":\"{convener}\",\"statement\"")), "no vote is published");
    let statements = store.statements(&id).await.unwrap();
    assert_eq!(statements.len(), 2);
    assert!(statements.iter().find(|x| x.id == b).unwrap().hidden);

    // Who may post and vote, and when, is checked in the write itself (a request whose
    // caller lost their role, or whose phase closed, while its body was on its way).
    let refused = |result: Result<_, StoreError>, why: &str| match result {
        Err(StoreError::Conflict(detail)) => assert!(detail.contains(why), "{detail}"),
        other => panic!("expected a conflict about {why}, got {other:?}"),
    };
    store.issue_codes(&id, "observer", &[code("OBSV1")]).await.unwrap();
    let observer = store.redeem_invitation("OBSV1", "Watcher", &code("ACC31")).await.unwrap().member;
    refused(store.vote(&id, &a, &observer, 1).await, "take part");
    refused(store.post_statement(&id, &observer, "watching", 5).await.map(|_| ()), "take part");
    store.set_current_phase(&id, None).await.unwrap();
    refused(store.vote(&id, &a, &convener, 1).await, "deliberation phase");
    refused(store.post_statement(&id, &convener, "too late", 5).await.map(|_| ()), "deliberation phase");
    assert!(store.votes(&id).await.unwrap().1.contains(&(convener.clone(), a.clone(), -1)), "nothing changed");
    assert_record_verifies(&store.record(&id).await.unwrap());
}

/// Votes arriving together are written in groups: each acknowledged vote is stored,
/// the deliberation version rises once per group (not per vote), and the votes changed
/// since a version are exactly those acknowledged after it.
async fn concurrent_votes_are_grouped_and_none_is_lost(store: Store) {
    let (_, id, convener) = convener_with_dialogue(&store).await;
    deliberating(&store, &id).await;
    let mut statements = Vec::new();
    for i in 0..60 {
        statements.push(store.post_statement(&id, &convener, &format!("statement {i}"), 100).await.unwrap());
    }
    let posted = store.deliberation_version(&id).await.unwrap();
    assert_eq!(posted, 60, "each statement posted raises the version");
    let round = |value: i8| {
        let tasks: Vec<_> = statements
            .iter()
            .map(|s| {
                let (store, id, s, m) = (store.clone(), id.clone(), s.clone(), convener.clone());
                tokio::spawn(async move { store.vote(&id, &s, &m, value).await })
            })
            .collect();
        async move {
            for t in tasks {
                t.await.unwrap().unwrap();
            }
        }
    };
    round(1).await;
    let first = store.deliberation_version(&id).await.unwrap();
    assert!(first > posted && first <= posted + 60, "one raise per group: {posted} → {first}");
    let (version, votes) = store.votes(&id).await.unwrap();
    assert_eq!(version, first);
    assert_eq!(votes.len(), 60);
    assert!(votes.iter().all(|v| v.2 == 1));
    round(-1).await;
    let second = store.deliberation_version(&id).await.unwrap();
    let changed = store.votes_changed(&id, first, second).await.unwrap();
    assert_eq!(changed.len(), 60, "every vote changed since the first round, once");
    assert!(changed.iter().all(|v| v.2 == -1));
    assert!(store.votes_changed(&id, second, second).await.unwrap().is_empty());
    // A refused vote in a group refuses that vote alone.
    let (bad, good) =
        tokio::join!(store.vote(&id, "st-nope", &convener, 1), store.vote(&id, &statements[0], &convener, 0));
    assert!(matches!(bad, Err(StoreError::NotFound("statement"))));
    good.unwrap();
    assert!(store.votes(&id).await.unwrap().1.contains(&(convener.clone(), statements[0].clone(), 0)));
    // Two votes on one cell in one group: both answered, the one queued last kept.
    let (a, b) =
        tokio::join!(store.vote(&id, &statements[1], &convener, 1), store.vote(&id, &statements[1], &convener, 0));
    a.unwrap();
    b.unwrap();
    let cell: Vec<_> = store.votes(&id).await.unwrap().1.into_iter().filter(|v| v.1 == statements[1]).collect();
    assert_eq!(cell.len(), 1);
}

/// A vote by session is decided in its group's own transaction, with nothing read
/// before: the session's member votes, and a session that has ended, one whose account
/// is no member of the dialogue, an observer's, and one naming a dialogue that does not
/// exist are each refused alone — in the same group as the vote that lands. The next statement's
/// one query finds the same member and their votes, and nobody else.
async fn votes_by_session_are_decided_in_the_write(store: Store) {
    let (account, id, convener) = convener_with_dialogue(&store).await;
    deliberating(&store, &id).await;
    let a = store.post_statement(&id, &convener, "Schools first", 5).await.unwrap();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let (stranger, _, _) = convener_with_dialogue(&store).await;
    store.issue_codes(&id, "observer", &[code("OBSV9")]).await.unwrap();
    let watcher = store.redeem_invitation("OBSV9", "Watcher", &code("ACC99")).await.unwrap().account;
    for (session, account, expires) in [
        ("live", &account, now + 3600),
        ("ended", &account, now - 1),
        ("stranger", &stranger, now + 3600),
        ("watcher", &watcher, now + 3600),
    ] {
        store.create_session(session, account, expires).await.unwrap();
    }
    let (live, ended, stranger, watcher, nowhere) = tokio::join!(
        store.vote_in_session(&id, &a, "live", 1),
        store.vote_in_session(&id, &a, "ended", -1),
        store.vote_in_session(&id, &a, "stranger", -1),
        store.vote_in_session(&id, &a, "watcher", -1),
        store.vote_in_session("d-nowhere", &a, "live", -1),
    );
    live.unwrap();
    for refused in [ended, stranger, watcher, nowhere] {
        assert!(matches!(refused, Err(StoreError::Conflict(_))), "{refused:?}");
    }
    assert_eq!(store.votes(&id).await.unwrap().1, vec![(convener.clone(), a.clone(), 1)]);
    // Votes that can write nothing raise no version (no analysis starts again for them)
    // and lock nothing; nor do a member's votes while no deliberation is open.
    let version = store.deliberation_version(&id).await.unwrap();
    let (ended, watcher) =
        tokio::join!(store.vote_in_session(&id, &a, "ended", 1), store.vote_in_session(&id, &a, "watcher", 1));
    assert!(ended.is_err() && watcher.is_err());
    store.set_current_phase(&id, None).await.unwrap();
    let closed = store.vote_in_session(&id, &a, "live", -1).await;
    assert!(matches!(&closed, Err(StoreError::Conflict(c)) if c == hiwar_store::NOT_DELIBERATING), "{closed:?}");
    assert_eq!(store.deliberation_version(&id).await.unwrap(), version);
    let voted = std::collections::HashSet::from([a.clone()]);
    assert_eq!(store.session_votes("live", now, &id).await.unwrap(), Some((convener.clone(), voted)));
    for nobody in ["ended", "stranger", "watcher", "unknown"] {
        assert_eq!(store.session_votes(nobody, now, &id).await.unwrap(), None, "{nobody}");
    }
    assert_record_verifies(&store.record(&id).await.unwrap());
}

/// A database migrated by a newer hiwar is refused, not written with rows this version
/// does not know how to fill.
#[tokio::test]
async fn a_newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_sqlite(dir.path()).await.unwrap();
    hiwar_store::testing::pretend_newer_schema(&store).await;
    drop(store);
    match Store::open_sqlite(dir.path()).await {
        Err(StoreError::Conflict(detail)) => assert!(detail.contains("9999"), "{detail}"),
        other => panic!("opened: {:?}", other.map(|_| ())),
    }
}

/// The store runs the verifier's own checks before appending: a change whose line would
/// fail `hiwar verify` is refused, nothing is stored, and the record still verifies.
async fn the_store_refuses_lines_its_verifier_rejects(store: Store) {
    use hiwar_record::selection::{draw_index, draw_seed};
    let (_, id, _) = convener_with_dialogue(&store).await;
    let new = NewSelection {
        size: 1,
        panels: 2,
        volunteers: 2,
        pool_csv: "id,g\n",
        quotas_csv: "category,feature,min,max\n",
    };
    let sid = store.create_selection(&id, &new).await.unwrap();
    let long = "v".repeat(65);
    let manifest = serde_json::json!({"pool_hash": "cd".repeat(32), "panels": [[long.clone()], ["b"]]});
    store.finish_selection(&sid, Ok((&manifest.to_string(), &"ab".repeat(32), &serde_json::json!({})))).await.unwrap();
    store.publish_selection(&id, &sid, "lottery").await.unwrap();
    let before = store.record(&id).await.unwrap();
    let seed = draw_seed(&[0xab; 32], "beacon");
    let index = draw_index(&seed, 2);
    // A volunteer id longer than check S1 allows.
    let refused = store.draw_selection(&id, &sid, "beacon", &hex::encode(seed), index, &[long]).await;
    assert!(matches!(&refused, Err(StoreError::Refused(d)) if d.contains("S1")), "{refused:?}");
    // An index the beacon does not draw.
    let refused = store.draw_selection(&id, &sid, "beacon", &hex::encode(seed), 1 - index, &["b".to_string()]).await;
    assert!(matches!(&refused, Err(StoreError::Refused(d)) if d.contains("S2")), "{refused:?}");
    assert_eq!(store.record(&id).await.unwrap(), before, "nothing was appended");
    assert_eq!(store.selection(&id, &sid).await.unwrap().status, SelectionStatus::Published);
    // A valid change still goes through, and the record verifies.
    store
        .add_phase(
            &id,
            &Phase {
                kind: "deliberation".into(),
                name: Text::new("ن", "n"),
                starts: "2026-01-01".into(),
                ends: "2026-01-02".into(),
            },
        )
        .await
        .unwrap();
    assert_record_verifies(&store.record(&id).await.unwrap());
}

/// The data directory and the database (which holds the signing keys) are private to
/// their owner.
#[tokio::test]
async fn the_sqlite_data_directory_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join("data");
    let _store = Store::open_sqlite(&dir).await.unwrap();
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(mode(&dir.join("hiwar.sqlite3")), 0o600);
}
