//! Who may do what, for every route: the routes are read from the router itself (each
//! path of `hiwar_server::routes`, each method it answers), every one is requested as
//! every role, and the answers must match one table, `tests/authz.tsv`, in which each
//! route also carries the access it was decided to have. A new route fails this test
//! until someone decides who may use it.
//!
//! Roles: anonymous, participant, delegate, trustee, observer, co-convener, convener,
//! a convener of another dialogue, and a revoked member (a participant whose role was
//! taken away). Whatever the table says, the test also holds these rules: a role the
//! route's access does not admit never gets a success (2xx or 3xx) — it gets 401 or
//! 403, or 404 where the thing asked for is not shown to it — and nobody ever gets a
//! 5xx.
//!
//! `HIWAR_BLESS=1 cargo test -p hiwar-server --test authz` rewrites the observed
//! statuses (keeping each route's access; a new route gets `?`, which fails until it
//! is decided).

use std::collections::{BTreeMap, HashMap};
use std::sync::mpsc;
use std::time::Duration;

use hiwar_server::dialogues::codes::Code;
use hiwar_server::{AppState, Config};
use hiwar_store::{HashedCode, Store};
use serde_json::{json, Value};

const ROLES: [&str; 9] = [
    "anonymous",
    "participant",
    "delegate",
    "trustee",
    "observer",
    "co-convener",
    "convener",
    "other-convener",
    "revoked",
];

/// Which roles each access admits.
fn admits(access: &str, role: &str) -> bool {
    let members = ["participant", "delegate", "trustee", "observer", "co-convener", "convener"];
    match access {
        // Anyone, or whoever holds the signature or code the request carries.
        "public" | "signed" => true,
        "account" => role != "anonymous",
        // Accounts that may create dialogues: both platform conveners here.
        "platform-convener" => role == "convener" || role == "other-convener",
        "member" => members.contains(&role),
        "takes-part" => members.contains(&role) && role != "observer",
        "trustee" => role == "trustee",
        "convener" => role == "convener" || role == "co-convener",
        other => panic!("unknown access {other}"),
    }
}

struct Server {
    base: String,
    dialogue: String,
    election: String,
    convener_key: String,
    other_key: String,
    invitations: Vec<String>,
    paths: Vec<&'static str>,
    _dir: tempfile::TempDir,
}

fn start() -> Server {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        rt.block_on(async move {
            let store = Store::open_sqlite(&path).await.unwrap();
            let access = hiwar_server::demo::seed(&store).await.unwrap();
            let other = Code::generate();
            store.create_convener(&HashedCode { lookup: other.lookup().into(), hash: other.hash() }).await.unwrap();
            let config = Config { logins_per_minute: 10_000, logins_per_code_per_minute: 10_000, ..Config::default() };
            let state = AppState::new(store, config);
            let paths: Vec<&'static str> = hiwar_server::routes(&state).iter().map(|(p, _)| *p).collect();
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            tx.send((addr, access, other.display(), paths)).unwrap();
            hiwar_server::serve(listener, state).await.unwrap();
        });
    });
    let (addr, access, other_key, paths) = rx.recv_timeout(Duration::from_secs(60)).expect("server starts");
    Server {
        base: format!("http://{addr}"),
        dialogue: access.dialogue,
        election: access.open_election,
        convener_key: access.convener_key,
        other_key,
        invitations: access.invitations,
        paths,
        _dir: dir,
    }
}

/// A request as `token`'s holder (none: anonymous): the API by bearer token and JSON,
/// pages by session cookie and a form with the CSRF token.
fn request(base: &str, method: &str, path: &str, token: Option<&str>) -> u16 {
    let agent = ureq::AgentBuilder::new().redirects(0).timeout(Duration::from_secs(60)).build();
    let mut r = agent.request(method, &format!("{base}{path}"));
    let csrf = "c".repeat(64);
    let api = path.starts_with("/api/");
    if let Some(t) = token {
        r = if api {
            r.set("Authorization", &format!("Bearer {t}"))
        } else {
            r.set("Cookie", &format!("hiwar_session={t}; hiwar_csrf={csrf}"))
        };
    } else if !api {
        r = r.set("Cookie", &format!("hiwar_csrf={csrf}"));
    }
    let result = match (method, api) {
        ("GET", _) => r.call(),
        (_, true) => r.send_json(json!({})),
        (_, false) => r.send_form(&[("csrf", &csrf)]),
    };
    match result {
        Ok(response) => response.status(),
        Err(ureq::Error::Status(code, _)) => code,
        Err(e) => panic!("{method} {path}: {e}"),
    }
}

fn login(base: &str, code: &str, pseudonym: Option<&str>) -> (String, Value) {
    let body = json!({"code": code, "pseudonym": pseudonym});
    let answer: Value = ureq::post(&format!("{base}/api/login")).send_json(body).unwrap().into_json().unwrap();
    (answer["token"].as_str().unwrap().to_string(), answer)
}

fn api(base: &str, path: &str, token: &str, body: Value) -> Value {
    ureq::post(&format!("{base}{path}"))
        .set("Authorization", &format!("Bearer {token}"))
        .send_json(body)
        .unwrap_or_else(|e| panic!("{path}: {e}"))
        .into_json()
        .unwrap()
}

/// Each role's session token.
fn roles(s: &Server) -> HashMap<&'static str, Option<String>> {
    let d = &s.dialogue;
    let (convener, _) = login(&s.base, &s.convener_key, None);
    let code = |role: &str| -> String {
        let issued = api(&s.base, &format!("/api/dialogues/{d}/codes"), &convener, json!({"role": role, "count": 1}));
        issued["codes"][0].as_str().unwrap().to_string()
    };
    let member = |role: &str| login(&s.base, &code(role), Some(&format!("The {role}"))).0;
    let (revoked, joined) = login(&s.base, &s.invitations[0], Some("Revoked"));
    let revoked_member = joined["joined"]["member"].as_str().unwrap();
    api(
        &s.base,
        &format!("/api/dialogues/{d}/roles"),
        &convener,
        json!({"member": revoked_member, "role": "participant", "grant": false}),
    );
    let (other, _) = login(&s.base, &s.other_key, None);
    api(&s.base, "/api/dialogues", &other, json!({"title_ar": "آخر", "title_en": "Another", "pseudonym": "Other"}));
    HashMap::from([
        ("anonymous", None),
        ("participant", Some(login(&s.base, &s.invitations[1], Some("A participant")).0)),
        ("delegate", Some(member("delegate"))),
        ("trustee", Some(member("trustee"))),
        ("observer", Some(member("observer"))),
        ("co-convener", Some(member("convener"))),
        ("convener", Some(convener)),
        ("other-convener", Some(other)),
        ("revoked", Some(revoked)),
    ])
}

/// `template` with its parameters filled: the demo dialogue, its open election, a
/// statement; anything else a name that exists nowhere.
fn fill(s: &Server, template: &str, statement: &str) -> String {
    template
        .split('/')
        .map(|part| match part {
            "{id}" => s.dialogue.clone(),
            "{eid}" => s.election.clone(),
            "{sid}" => statement.to_string(),
            "{file}" => "votes.csv".into(),
            p if p.starts_with('{') => "no-such-thing".into(),
            p => p.into(),
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[test]
fn every_route_answers_every_role_as_decided() {
    let s = start();
    let texts: Value =
        ureq::get(&format!("{}/dialogues/{}/statements.json", s.base, s.dialogue)).call().unwrap().into_json().unwrap();
    let statement = texts["statements"][0]["statement"].as_str().unwrap().to_string();
    let tokens = roles(&s);
    // A session of its own for finding the methods: probing `/api/logout` ends it.
    let (probe, _) = login(&s.base, &s.convener_key, None);
    let convener = Some(probe);

    // The routes and methods the router answers (405 for a method it does not).
    let mut routes: Vec<(String, &'static str)> = Vec::new();
    for template in &s.paths {
        for method in ["GET", "POST"] {
            if request(&s.base, method, &fill(&s, template, &statement), convener.as_deref()) != 405 {
                routes.push((method.to_string(), template));
            }
        }
    }
    // Ending a session last: it would log the role out for the rows after it.
    routes.sort_by_key(|(m, t)| (t.ends_with("logout"), t.to_string(), m.clone()));

    let table_path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/authz.tsv");
    let table_text = std::fs::read_to_string(table_path).unwrap_or_default();
    let mut table: BTreeMap<(String, String), (String, Vec<u16>)> = BTreeMap::new();
    for line in table_text.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()) {
        let fields: Vec<&str> = line.split('\t').collect();
        let statuses = fields[3..].iter().map(|x| x.parse().unwrap()).collect();
        table.insert((fields[0].to_string(), fields[1].to_string()), (fields[2].to_string(), statuses));
    }

    let mut observed: BTreeMap<(String, String), (String, Vec<u16>)> = BTreeMap::new();
    let mut problems = Vec::new();
    for (method, template) in &routes {
        let path = fill(&s, template, &statement);
        let statuses: Vec<u16> = ROLES.iter().map(|r| request(&s.base, method, &path, tokens[r].as_deref())).collect();
        let key = (method.clone(), template.to_string());
        let access = table.get(&key).map_or("?".to_string(), |(a, _)| a.clone());
        for (role, status) in ROLES.iter().zip(&statuses) {
            if *status >= 500 {
                problems.push(format!("{method} {template} as {role}: {status}"));
            }
            if access != "?" && !admits(&access, role) && !matches!(status, 401 | 403 | 404) {
                problems.push(format!("{method} {template} ({access}) as {role}: {status}, not a refusal"));
            }
            if access != "?" && admits(&access, role) && matches!(status, 401 | 403) {
                problems.push(format!("{method} {template} ({access}) as {role}: refused with {status}"));
            }
        }
        if access == "?" {
            problems.push(format!("{method} {template}: nobody decided who may use it (tests/authz.tsv)"));
        }
        match table.get(&key) {
            Some((_, expected)) if *expected != statuses => {
                problems.push(format!("{method} {template}: expected {expected:?}, got {statuses:?}"))
            }
            None => problems.push(format!("{method} {template}: not in tests/authz.tsv")),
            _ => {}
        }
        observed.insert(key, (access, statuses));
    }
    for key in table.keys().filter(|k| !observed.contains_key(*k)) {
        problems.push(format!("{} {}: in tests/authz.tsv but not routed", key.0, key.1));
    }

    if std::env::var("HIWAR_BLESS").is_ok() {
        let mut out = format!("# method\troute\taccess\t{}\n", ROLES.join("\t"));
        for ((method, template), (access, statuses)) in &observed {
            let statuses: Vec<String> = statuses.iter().map(u16::to_string).collect();
            out.push_str(&format!("{method}\t{template}\t{access}\t{}\n", statuses.join("\t")));
        }
        std::fs::write(table_path, out).unwrap();
    }
    assert!(problems.is_empty(), "{} problems:\n{}", problems.len(), problems.join("\n"));
}
