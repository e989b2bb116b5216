//! Two `hiwar serve` processes on one PostgreSQL database, side by side: sessions,
//! state and one unbroken record shared between them.

mod common;

use common::{get, hiwar, Running};
use serde_json::{json, Value};

fn post(url: &str, token: Option<&str>, body: Value) -> Value {
    let mut request = ureq::post(url);
    if let Some(t) = token {
        request = request.set("Authorization", &format!("Bearer {t}"));
    }
    request.send_json(body).unwrap_or_else(|e| panic!("POST {url}: {e}")).into_json().unwrap()
}

#[test]
fn two_processes_share_one_postgres_database() {
    let url = tokio::runtime::Runtime::new().unwrap().block_on(hiwar_store::testing::fresh_postgres_database());
    let out = hiwar().args(["convener", "add", "--database-url", &url]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let key = String::from_utf8_lossy(&out.stdout).lines().last().unwrap().to_string();

    // Login limits are shared through the database: this test's 17 logins from one
    // address in a minute need a higher limit than the default 10.
    let limit = ["--logins-per-minute", "100"];
    let a = Running::start(&[&["serve", "--database-url", &url, "--listen", "127.0.0.1:0"][..], &limit].concat());
    let b = Running::start(&[&["serve", "--database-url", &url, "--listen", "127.0.0.1:0"][..], &limit].concat());
    assert!(a.banner.iter().any(|l| l.contains("Postgres")));

    // Log in on A, act on B with the same session.
    let token =
        post(&format!("{}/api/login", a.url), None, json!({"code": key}))["token"].as_str().unwrap().to_string();
    let id = post(
        &format!("{}/api/dialogues", b.url),
        Some(&token),
        json!({
            "title_ar": "حوار مشترك", "title_en": "Shared dialogue", "listed": true, "pseudonym": "Convener"
        }),
    )["id"]
        .as_str()
        .unwrap()
        .to_string();
    let codes: Vec<String> =
        post(&format!("{}/api/dialogues/{id}/codes", a.url), Some(&token), json!({"role": "participant", "count": 16}))
            ["codes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap().to_string())
            .collect();

    // Joins race on both servers at once.
    let handles: Vec<_> = codes
        .iter()
        .enumerate()
        .map(|(i, code)| {
            let server = if i % 2 == 0 { a.url.clone() } else { b.url.clone() };
            let code = code.clone();
            std::thread::spawn(move || {
                post(&format!("{server}/api/login"), None, json!({"code": code, "pseudonym": format!("p{i}")}))
            })
        })
        .collect();
    let tokens: Vec<String> = handles
        .into_iter()
        .map(|h| {
            let joined = h.join().unwrap();
            assert!(joined["joined"]["member"].is_string());
            joined["token"].as_str().unwrap().to_string()
        })
        .collect();

    // Both serve the same record, and it verifies with every join in order.
    let from_a = get(&format!("{}/dialogues/{id}/record", a.url));
    let from_b = get(&format!("{}/dialogues/{id}/record", b.url));
    assert_eq!(from_a, from_b);
    let summary = hiwar_record::verify(&from_a, &Default::default()).unwrap();
    assert_eq!((summary.lines, summary.members), (2 + 1 + 16, 17));
    let out = hiwar().args(["verify", &format!("{}/dialogues/{id}/record", b.url)]).output().unwrap();
    assert!(out.status.success());

    // Under load through both at once — statements (record lines) and votes — the
    // record stays one unbroken chain: no gap, no position taken twice.
    let phase = json!({"kind": "deliberation", "name_ar": "نقاش", "name_en": "Deliberation",
        "starts": "2026-01-01", "ends": "2027-12-31"});
    post(&format!("{}/api/dialogues/{id}/phases", a.url), Some(&token), phase);
    post(&format!("{}/api/dialogues/{id}/phase", b.url), Some(&token), json!({"index": 0}));
    let loaders: Vec<_> = tokens
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let server = if i % 2 == 0 { a.url.clone() } else { b.url.clone() };
            let (t, id) = (t.clone(), id.clone());
            std::thread::spawn(move || {
                let mut posted = Vec::new();
                for k in 0..6 {
                    let text = format!("Statement {k} by participant {i}");
                    let answer =
                        post(&format!("{server}/api/dialogues/{id}/statements"), Some(&t), json!({ "text": text }));
                    let statement = answer["id"].as_str().unwrap().to_string();
                    let (status, _) = common::call(
                        "POST",
                        &format!("{server}/api/dialogues/{id}/statements/{statement}/vote"),
                        Some(&t),
                        Some(json!({"vote": "agree"})),
                    );
                    assert_eq!(status, 204);
                    posted.push(statement);
                }
                posted
            })
        })
        .collect();
    let posted: Vec<String> = loaders.into_iter().flat_map(|h| h.join().unwrap()).collect();
    let record = get(&format!("{}/dialogues/{id}/record", a.url));
    assert_eq!(record, get(&format!("{}/dialogues/{id}/record", b.url)));
    let seqs: Vec<u64> =
        record.lines().map(|l| serde_json::from_str::<Value>(l).unwrap()["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, (0..seqs.len() as u64).collect::<Vec<_>>(), "one chain, every position once");
    hiwar_record::verify(&record, &Default::default()).unwrap();
    for statement in &posted {
        assert!(record.contains(statement.as_str()), "statement {statement} is in the record");
    }
    // Each server's analysis follows the votes taken by the other (it asks the
    // database for the deliberation's version at most once a second).
    std::thread::sleep(std::time::Duration::from_millis(1100));
    for server in [&a, &b] {
        let report: Value =
            serde_json::from_str(&get(&format!("{}/dialogues/{id}/deliberation/report.json", server.url))).unwrap();
        assert_eq!(report["votes"], posted.len(), "{}", server.url);
    }

    // The logs name no client address.
    std::thread::sleep(std::time::Duration::from_millis(200));
    for server in [&a, &b] {
        let logs = server.logs();
        assert!(logs.iter().any(|l| l.contains("request")), "requests are logged: {logs:?}");
        assert!(!logs.iter().any(|l| l.contains("127.0.0.1")), "a log line names an address: {logs:?}");
    }
}

/// Login limits are counted in the database: attempts through either server add up.
#[test]
fn login_limits_hold_across_processes() {
    let url = tokio::runtime::Runtime::new().unwrap().block_on(hiwar_store::testing::fresh_postgres_database());
    let limit = ["--logins-per-minute", "4"];
    let a = Running::start(&[&["serve", "--database-url", &url, "--listen", "127.0.0.1:0"][..], &limit].concat());
    let b = Running::start(&[&["serve", "--database-url", &url, "--listen", "127.0.0.1:0"][..], &limit].concat());
    let attempt = |server: &str| {
        common::call("POST", &format!("{server}/api/login"), None, Some(json!({"code": "ZZZZZ-ZZZZZ-ZZZZZ-ZZZZZ"}))).0
    };
    for server in [&a.url, &b.url, &a.url, &b.url] {
        assert_eq!(attempt(server), 401);
    }
    assert_eq!(attempt(&a.url), 429, "the fifth attempt in a minute, whichever server takes it");
    assert_eq!(attempt(&b.url), 429);
}
