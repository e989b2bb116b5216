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
    for h in handles {
        assert!(h.join().unwrap()["joined"]["member"].is_string());
    }

    // Both serve the same record, and it verifies with every join in order.
    let from_a = get(&format!("{}/dialogues/{id}/record", a.url));
    let from_b = get(&format!("{}/dialogues/{id}/record", b.url));
    assert_eq!(from_a, from_b);
    let summary = hiwar_record::verify(&from_a, &Default::default()).unwrap();
    assert_eq!((summary.lines, summary.members), (2 + 1 + 16, 17));
    let out = hiwar().args(["verify", &format!("{}/dialogues/{id}/record", b.url)]).output().unwrap();
    assert!(out.status.success());

    // The logs name no client address.
    std::thread::sleep(std::time::Duration::from_millis(200));
    for server in [&a, &b] {
        let logs = server.logs();
        assert!(logs.iter().any(|l| l.contains("request")), "requests are logged: {logs:?}");
        assert!(!logs.iter().any(|l| l.contains("127.0.0.1")), "a log line names an address: {logs:?}");
    }
}
