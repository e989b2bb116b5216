//! HTTP tests of every endpoint and every error class, against a real server on a
//! loopback port with a real SQLite database.

use std::collections::HashMap;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use hiwar_server::{AppState, Config};
use hiwar_store::Store;
use serde_json::{json, Value};

/// A running server and what the demo seeded into it.
struct Server {
    base: String,
    dialogue: String,
    convener_key: String,
    invitations: Vec<String>,
    _dir: tempfile::TempDir,
}

fn start(config: Config) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        rt.block_on(async move {
            let store = Store::open_sqlite(&path).await.unwrap();
            let access = hiwar_server::demo::seed(&store).await.unwrap();
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            tx.send((addr, access)).unwrap();
            hiwar_server::serve(listener, AppState::new(store, config)).await.unwrap();
        });
    });
    let (addr, access) = rx.recv_timeout(Duration::from_secs(60)).expect("server starts");
    Server {
        base: format!("http://{addr}"),
        dialogue: access.dialogue,
        convener_key: access.convener_key,
        invitations: access.invitations,
        _dir: dir,
    }
}

fn fast() -> Config {
    Config { logins_per_minute: 1000, logins_per_code_per_minute: 1000, ..Config::default() }
}

/// The status, headers and body of a response, whatever its status.
struct Reply {
    status: u16,
    headers: HashMap<String, Vec<String>>,
    body: String,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.first()).map(String::as_str)
    }
}

fn reply(result: Result<ureq::Response, ureq::Error>) -> Reply {
    let response = match result {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("transport error: {e}"),
    };
    let mut headers: HashMap<String, Vec<String>> = HashMap::new();
    for name in response.headers_names() {
        headers.insert(name.clone(), response.all(&name).iter().map(|s| s.to_string()).collect());
    }
    Reply { status: response.status(), headers, body: response.into_string().unwrap() }
}

fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new().redirects(0).build()
}

/// A browser: keeps cookies, sends forms with the CSRF token.
struct Browser {
    base: String,
    agent: ureq::Agent,
    cookies: HashMap<String, String>,
}

impl Browser {
    fn new(base: &str) -> Self {
        Browser { base: base.into(), agent: agent(), cookies: HashMap::new() }
    }
    fn cookie_header(&self) -> String {
        self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
    }
    fn keep(&mut self, r: &Reply) {
        for c in r.headers.get("set-cookie").into_iter().flatten() {
            let (kv, _) = c.split_once(';').unwrap_or((c, ""));
            let (k, v) = kv.split_once('=').unwrap();
            self.cookies.insert(k.into(), v.into());
        }
    }
    fn get(&mut self, path: &str) -> Reply {
        let r = reply(self.agent.get(&format!("{}{path}", self.base)).set("Cookie", &self.cookie_header()).call());
        self.keep(&r);
        r
    }
    fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Reply {
        let csrf = self.cookies.get("hiwar_csrf").cloned().unwrap_or_default();
        let mut all: Vec<(&str, &str)> = vec![("csrf", &csrf)];
        all.extend_from_slice(fields);
        let r = reply(
            self.agent.post(&format!("{}{path}", self.base)).set("Cookie", &self.cookie_header()).send_form(&all),
        );
        self.keep(&r);
        r
    }
}

fn api(server: &Server, method: &str, path: &str, token: Option<&str>, body: Option<Value>) -> Reply {
    let mut request = agent().request(method, &format!("{}{path}", server.base));
    if let Some(token) = token {
        request = request.set("Authorization", &format!("Bearer {token}"));
    }
    reply(match body {
        Some(body) => request.send_json(body),
        None => request.call(),
    })
}

fn api_login(server: &Server, code: &str, pseudonym: Option<&str>) -> Reply {
    api(server, "POST", "/api/login", None, Some(json!({"code": code, "pseudonym": pseudonym})))
}

/// Sends only the head of a request declaring a body of `length` bytes and returns the
/// status: an oversized request must be answered without the body being sent. (Sending
/// the whole body races the server's close against the client's read.)
fn raw_status(server: &Server, method: &str, path: &str, length: usize) -> u16 {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(server.base.trim_start_matches("http://")).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let head = format!("{method} {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {length}\r\n\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    let mut status = [0u8; 12];
    stream.read_exact(&mut status).expect("an answer before the body");
    std::str::from_utf8(&status[9..12]).unwrap().parse().unwrap()
}

fn record(server: &Server) -> String {
    reply(agent().get(&format!("{}/dialogues/{}/record", server.base, server.dialogue)).call()).body
}

#[test]
fn health_openapi_and_security_headers() {
    let s = start(fast());
    let r = api(&s, "GET", "/healthz", None, None);
    assert_eq!((r.status, r.json()["status"].as_str()), (200, Some("ok")));
    let doc = api(&s, "GET", "/api/openapi.json", None, None).json();
    assert_eq!(doc["openapi"], "3.0.3");
    for path in [
        "/healthz",
        "/api/openapi.json",
        "/dialogues/{id}/record",
        "/api/login",
        "/api/logout",
        "/api/me",
        "/api/dialogues",
        "/api/dialogues/{id}",
        "/api/dialogues/{id}/members",
        "/api/dialogues/{id}/codes",
        "/api/dialogues/{id}/codes/revoke",
        "/api/dialogues/{id}/roles",
        "/api/dialogues/{id}/phases",
        "/api/dialogues/{id}/phase",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} is not documented");
    }
    let mut b = Browser::new(&s.base);
    for path in ["/", "/login", &format!("/dialogues/{}", s.dialogue), "/nope"] {
        let r = b.get(path);
        let csp = r.header("content-security-policy").unwrap();
        assert!(csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"));
        assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
        // Nothing loaded from anywhere else.
        for attr in ["src=\"http", "href=\"http", "src=\"//", "href=\"//"] {
            assert!(!r.body.contains(attr), "{path} refers outside: {attr}");
        }
    }
    assert!(b.get("/static/style.css").body.contains("margin-inline"));
}

#[test]
fn pages_render_in_both_languages_and_remember_the_choice() {
    let s = start(fast());
    let mut b = Browser::new(&s.base);
    let ar = b.get("/?lang=ar");
    assert!(ar.body.contains(r#"<html lang="ar" dir="rtl">"#));
    assert!(ar.body.contains("الحوار الوطني التجريبي"));
    assert!(ar.body.contains(&format!("/dialogues/{}", s.dialogue)));
    // Remembered by cookie.
    let page = b.get(&format!("/dialogues/{}", s.dialogue));
    assert!(page.body.contains(r#"dir="rtl""#) && page.body.contains("المراحل"));
    let en = b.get(&format!("/dialogues/{}?lang=en", s.dialogue));
    assert!(en.body.contains(r#"<html lang="en" dir="ltr">"#));
    assert!(en.body.contains("Demo national dialogue") && en.body.contains("Phases"));
    assert!(b.get("/login").body.contains("Log in with a code"));
    let view = b.get(&format!("/dialogues/{}/record/view?from=0", s.dialogue));
    assert!(view.body.contains("member.joined") && view.body.contains("hiwar verify"));
    // Without a cookie, Accept-Language decides; Arabic otherwise.
    let r = reply(agent().get(&format!("{}/", s.base)).set("Accept-Language", "en-GB,en;q=0.8").call());
    assert!(r.body.contains(r#"lang="en""#));
    let r = reply(agent().get(&format!("{}/", s.base)).call());
    assert!(r.body.contains(r#"lang="ar""#));
}

#[test]
fn the_public_record_is_served_and_verifies() {
    let s = start(fast());
    let r = reply(agent().get(&format!("{}/dialogues/{}/record", s.base, s.dialogue)).call());
    assert_eq!(r.status, 200);
    assert!(r.header("content-type").unwrap().starts_with("application/x-ndjson"));
    let summary = hiwar_record::verify(&r.body, &Default::default()).unwrap();
    assert_eq!(summary.dialogue, s.dialogue);
    let d = api(&s, "GET", &format!("/api/dialogues/{}", s.dialogue), None, None).json();
    assert_eq!(d["public_key"].as_str().unwrap(), summary.public_key);
    assert_eq!(d["record_head"].as_str().unwrap(), summary.head);
}

#[test]
fn unknown_ids_are_404_in_html_or_json() {
    let s = start(fast());
    for path in ["/dialogues/nope", "/dialogues/nope/record", "/dialogues/nope/record/view", "/no/such/page"] {
        let html = reply(agent().get(&format!("{}{path}", s.base)).call());
        assert_eq!(html.status, 404, "{path}");
        assert!(html.body.contains("<html"), "{path}");
        let json = reply(agent().get(&format!("{}{path}", s.base)).set("Accept", "application/json").call());
        assert_eq!(json.status, 404);
        assert_eq!(json.json()["status"], 404);
    }
    assert_eq!(api(&s, "GET", "/api/dialogues/nope", None, None).status, 404);
    assert_eq!(api(&s, "GET", "/api/dialogues/nope/members", None, None).status, 404);
    let key = api_login(&s, &s.convener_key, None).json()["token"].as_str().unwrap().to_string();
    assert_eq!(
        api(&s, "POST", "/api/dialogues/nope/codes", Some(&key), Some(json!({"role": "participant", "count": 1})))
            .status,
        404
    );
}

#[test]
fn invitation_login_by_form_joins_once_and_gives_a_personal_key() {
    let s = start(fast());
    let mut b = Browser::new(&s.base);
    b.get("/login?lang=en");
    // Without the CSRF token: refused, and the code stays unused.
    let r = reply(
        agent().post(&format!("{}/login", s.base)).send_form(&[("code", &s.invitations[0]), ("pseudonym", "Hana")]),
    );
    assert_eq!(r.status, 403);
    let joined = b.post("/login", &[("code", &s.invitations[0].to_lowercase()), ("pseudonym", "Hana")]);
    assert_eq!(joined.status, 200, "{}", joined.body);
    assert!(joined.body.contains("Your personal key"));
    let key = joined.body.split("<code>").nth(1).unwrap().split("</code>").next().unwrap().to_string();
    let page = b.get(&format!("/dialogues/{}", s.dialogue));
    assert!(page.body.contains("Hana") && page.body.contains("Participant"));
    // The invitation is used up; the personal key logs in again, in a new browser.
    let mut other = Browser::new(&s.base);
    other.get("/login");
    assert_eq!(other.post("/login", &[("code", &s.invitations[0]), ("pseudonym", "Hana2")]).status, 401);
    let again = other.post("/login", &[("code", &key)]);
    assert_eq!((again.status, again.header("location")), (303, Some("/")));
    assert!(other.get(&format!("/dialogues/{}", s.dialogue)).body.contains("Hana"));
    // Logging out ends the session.
    assert_eq!(other.post("/logout", &[]).status, 303);
    assert!(!other.get(&format!("/dialogues/{}?lang=en", s.dialogue)).body.contains("Your roles here"));
    // The join is in the record.
    assert!(record(&s).contains("\"pseudonym\":\"Hana\""));
}

#[test]
fn wrong_and_used_codes_get_401_after_the_same_floor() {
    let s = start(fast());
    let floor = Config::default().login_floor;
    let used = {
        let r = api_login(&s, &s.invitations[1], Some("First"));
        assert_eq!(r.status, 200);
        s.invitations[1].clone()
    };
    let before = record(&s);
    for code in ["ZZZZZ-ZZZZZ-ZZZZZ-ZZZZZ", "garbage", used.as_str(), &format!("{}ZZZZZ", &s.invitations[2][..18])] {
        let started = Instant::now();
        let r = api_login(&s, code, Some("Second"));
        let took = started.elapsed();
        assert_eq!(r.status, 401, "{code}");
        assert!(took >= floor, "{code} answered in {took:?}");
    }
    assert_eq!(record(&s), before, "failed logins change nothing");
    // A taken pseudonym is refused without using the code up.
    let r = api_login(&s, &s.invitations[2], Some("first"));
    assert_eq!((r.status, r.json()["field"].as_str()), (409, Some("pseudonym")));
    let r = api_login(&s, &s.invitations[2], None);
    assert_eq!((r.status, r.json()["field"].as_str()), (400, Some("pseudonym")));
    assert_eq!(api_login(&s, &s.invitations[2], Some("Third")).status, 200);
}

#[test]
fn logins_are_rate_limited() {
    let s = start(Config { logins_per_minute: 3, ..Config::default() });
    for _ in 0..3 {
        assert_eq!(api_login(&s, "ZZZZZ-ZZZZZ-ZZZZZ-ZZZZZ", None).status, 401);
    }
    let r = api_login(&s, &s.convener_key, None);
    assert_eq!(r.status, 429);
    assert_eq!(r.header("retry-after"), Some("60"));
    // Per code, from any address: guesses at one code stop after 5 a minute.
    let s = start(Config { logins_per_minute: 1000, ..Config::default() });
    for _ in 0..5 {
        assert_eq!(api_login(&s, "YYYYY-YYYYY-YYYYY-YYYYY", None).status, 401);
    }
    assert_eq!(api_login(&s, "YYYYY-YYYYY-YYYYY-YYYYY", None).status, 429);
    assert_eq!(api_login(&s, &s.convener_key, None).status, 200, "other codes are unaffected");
}

#[test]
fn api_convener_workflow_and_role_checks() {
    let s = start(fast());
    let token = api_login(&s, &s.convener_key, None).json()["token"].as_str().unwrap().to_string();
    let t = Some(token.as_str());
    assert_eq!(api(&s, "GET", "/api/me", t, None).json()["is_convener"], true);
    let created = api(
        &s,
        "POST",
        "/api/dialogues",
        t,
        Some(json!({
            "title_ar": "حوار المدينة", "title_en": "City dialogue", "description_en": "About the city",
            "listed": true, "pseudonym": "Council"
        })),
    );
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.json()["id"].as_str().unwrap().to_string();
    let listed = api(&s, "GET", "/api/dialogues", None, None).json();
    assert!(listed.as_array().unwrap().iter().any(|d| d["id"] == id.as_str()));

    let issued =
        api(&s, "POST", &format!("/api/dialogues/{id}/codes"), t, Some(json!({"role": "participant", "count": 3})));
    assert_eq!(issued.status, 201);
    let codes: Vec<String> =
        issued.json()["codes"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().into()).collect();
    assert_eq!(codes.len(), 3);
    let batch = issued.json()["batch"].as_str().unwrap().to_string();

    let joined = api_login(&s, &codes[0], Some("Rania")).json();
    let member = joined["joined"]["member"].as_str().unwrap().to_string();
    let participant = joined["token"].as_str().unwrap().to_string();
    // A participant cannot act as a convener.
    let p = Some(participant.as_str());
    assert_eq!(
        api(&s, "POST", &format!("/api/dialogues/{id}/codes"), p, Some(json!({"role": "participant", "count": 1})))
            .status,
        403
    );
    assert_eq!(api(&s, "GET", &format!("/api/dialogues/{id}/codes"), p, None).status, 403);
    assert_eq!(
        api(&s, "POST", "/api/dialogues", p, Some(json!({"title_ar": "x", "title_en": "y", "pseudonym": "z"}))).status,
        403
    );
    assert_eq!(
        api(
            &s,
            "POST",
            &format!("/api/dialogues/{id}/roles"),
            p,
            Some(json!({"member": member, "role": "delegate", "grant": true}))
        )
        .status,
        403
    );
    // Nor can anyone without a session; and a session cookie is not accepted by the API.
    assert_eq!(api(&s, "POST", &format!("/api/dialogues/{id}/phases"), None, Some(json!({}))).status, 401);

    let r = api(
        &s,
        "POST",
        &format!("/api/dialogues/{id}/roles"),
        t,
        Some(json!({"member": member, "role": "delegate", "grant": true})),
    );
    assert_eq!(r.status, 200);
    assert!(r
        .json()
        .as_array()
        .unwrap()
        .iter()
        .any(|m| m["id"] == member.as_str() && m["roles"].as_array().unwrap().contains(&json!("delegate"))));
    assert_eq!(
        api(
            &s,
            "POST",
            &format!("/api/dialogues/{id}/roles"),
            t,
            Some(json!({"member": member, "role": "delegate", "grant": true}))
        )
        .status,
        409
    );
    assert_eq!(
        api(
            &s,
            "POST",
            &format!("/api/dialogues/{id}/roles"),
            t,
            Some(json!({"member": "m-none", "role": "delegate", "grant": true}))
        )
        .status,
        400
    );

    let phase = json!({"kind": "deliberation", "name_ar": "نقاش", "name_en": "Talk", "starts": "2027-01-01", "ends": "2027-01-31"});
    assert_eq!(api(&s, "POST", &format!("/api/dialogues/{id}/phases"), t, Some(phase)).status, 201);
    assert_eq!(api(&s, "POST", &format!("/api/dialogues/{id}/phase"), t, Some(json!({"index": 0}))).status, 200);
    assert_eq!(api(&s, "POST", &format!("/api/dialogues/{id}/phase"), t, Some(json!({"index": 7}))).status, 400);
    let bad_dates =
        json!({"kind": "closed", "name_ar": "أ", "name_en": "b", "starts": "2027-02-01", "ends": "2027-01-01"});
    let r = api(&s, "POST", &format!("/api/dialogues/{id}/phases"), t, Some(bad_dates));
    assert_eq!((r.status, r.json()["field"].as_str()), (400, Some("ends")));

    let r = api(&s, "POST", &format!("/api/dialogues/{id}/codes/revoke"), t, Some(json!({"code": codes[1]})));
    assert_eq!(r.json()["revoked"], 1);
    let r = api(&s, "POST", &format!("/api/dialogues/{id}/codes/revoke"), t, Some(json!({"batch": batch})));
    assert_eq!(r.json()["revoked"], 1);
    assert_eq!(api_login(&s, &codes[2], Some("Late")).status, 401);
    let batches = api(&s, "GET", &format!("/api/dialogues/{id}/codes"), t, None).json();
    assert_eq!((batches[0]["used"].as_u64(), batches[0]["revoked"].as_u64()), (Some(1), Some(2)));
    let members = api(&s, "GET", &format!("/api/dialogues/{id}/members"), None, None).json();
    assert_eq!(members.as_array().unwrap().len(), 2);

    let d = api(&s, "GET", &format!("/api/dialogues/{id}"), None, None).json();
    assert_eq!((d["current_phase"].as_u64(), d["members"].as_u64()), (Some(0), Some(2)));
    let rec = reply(agent().get(&format!("{}/dialogues/{id}/record", s.base)).call()).body;
    assert!(hiwar_record::verify(&rec, &Default::default()).is_ok());

    assert_eq!(api(&s, "POST", "/api/logout", t, None).status, 204);
    assert_eq!(api(&s, "GET", "/api/me", t, None).status, 401);
}

#[test]
fn malformed_and_oversized_bodies_are_rejected_without_changes() {
    let s = start(fast());
    let token = api_login(&s, &s.convener_key, None).json()["token"].as_str().unwrap().to_string();
    let before = record(&s);
    let url = format!("{}/api/dialogues/{}/codes", s.base, s.dialogue);
    let send = |body: &str| {
        reply(
            agent()
                .post(&url)
                .set("Authorization", &format!("Bearer {token}"))
                .set("Content-Type", "application/json")
                .send_string(body),
        )
    };
    let r = send("{not json");
    assert_eq!(r.status, 400);
    let r = send(r#"{"role": "participant"}"#);
    assert_eq!((r.status, r.json()["field"].as_str()), (400, Some("count")));
    let r = send(r#"{"role": "participant", "count": "many"}"#);
    assert_eq!((r.status, r.json()["field"].as_str()), (400, Some("count")));
    let r = send(r#"{"role": "king", "count": 2}"#);
    assert_eq!((r.status, r.json()["field"].as_str()), (400, Some("role")));
    let r = send(r#"{"role": "participant", "count": 5000}"#);
    assert_eq!((r.status, r.json()["field"].as_str()), (400, Some("count")));
    // Oversized bodies are refused from the declared length, before the body is read.
    assert_eq!(raw_status(&s, "POST", &format!("/api/dialogues/{}/codes", s.dialogue), 200_000), 413);
    let r = api(
        &s,
        "POST",
        "/api/dialogues",
        Some(&token),
        Some(json!({"title_ar": "", "title_en": "x", "pseudonym": "p"})),
    );
    assert_eq!((r.status, r.json()["field"].as_str()), (400, Some("title_ar")));
    let r = api(
        &s,
        "POST",
        "/api/dialogues",
        Some(&token),
        Some(json!({"title_ar": "a", "title_en": "x", "pseudonym": "p\u{7}"})),
    );
    assert_eq!((r.status, r.json()["field"].as_str()), (400, Some("pseudonym")));
    // Forms too.
    let mut b = Browser::new(&s.base);
    b.get("/login");
    b.post("/login", &[("code", &s.convener_key)]);
    let r = b.post(&format!("/dialogues/{}/codes", s.dialogue), &[("role", "participant"), ("count", "lots")]);
    assert_eq!(r.status, 400);
    assert!(r.body.contains("count"));
    let r = b.post(&format!("/dialogues/{}/phases", s.dialogue), &[("kind", "closed")]);
    assert_eq!(r.status, 400);
    assert!(r.body.contains("name_ar"), "{}", r.body);
    assert_eq!(raw_status(&s, "POST", "/dialogues", 100_000), 413);
    assert_eq!(record(&s), before, "rejected requests change nothing");
}

#[test]
fn convener_pages_work_as_forms_and_refuse_others() {
    let s = start(fast());
    let mut convener = Browser::new(&s.base);
    convener.get("/login?lang=en");
    assert_eq!(convener.post("/login", &[("code", &s.convener_key)]).status, 303);
    let manage = convener.get(&format!("/dialogues/{}/manage", s.dialogue));
    assert_eq!(manage.status, 200);
    assert!(manage.body.contains("Invitation codes"));
    // Members are listed 25 a page; Omar is on one of them.
    let pages: Vec<String> = (0..4)
        .map(|p| convener.get(&format!("/dialogues/{}/manage?members_from={}", s.dialogue, 25 * p)).body)
        .collect();
    assert!(pages.iter().any(|p| p.contains("Omar")), "Omar is listed");
    assert!(manage.body.contains("members_from=25"), "a link to the next page of members");
    let csv = convener.post(&format!("/dialogues/{}/codes", s.dialogue), &[("role", "trustee"), ("count", "4")]);
    assert_eq!(csv.status, 200);
    assert!(csv.header("content-type").unwrap().starts_with("text/csv"));
    assert!(csv.header("content-disposition").unwrap().starts_with("attachment"));
    let lines: Vec<&str> = csv.body.lines().collect();
    assert_eq!(lines[0], "code,role,batch,dialogue");
    assert_eq!(lines.len(), 5);
    let trustee_code = lines[1].split(',').next().unwrap().to_string();
    let batch = lines[1].split(',').nth(2).unwrap().to_string();

    assert_eq!(
        convener.post(&format!("/dialogues/{}/codes/revoke", s.dialogue), &[("code", &trustee_code)]).status,
        303
    );
    assert_eq!(convener.post(&format!("/dialogues/{}/codes/revoke", s.dialogue), &[("batch", &batch)]).status, 303);
    let phase = [
        ("kind", "declaration"),
        ("name_ar", "الإعلان"),
        ("name_en", "Declaration"),
        ("starts", "2027-02-01"),
        ("ends", "2027-02-02"),
    ];
    assert_eq!(convener.post(&format!("/dialogues/{}/phases", s.dialogue), &phase).status, 303);
    assert_eq!(convener.post(&format!("/dialogues/{}/phase", s.dialogue), &[("index", "4")]).status, 303);
    let members = api(&s, "GET", &format!("/api/dialogues/{}/members", s.dialogue), None, None).json();
    let salma = members.as_array().unwrap().iter().find(|m| m["pseudonym"] == "سلمى").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        convener
            .post(
                &format!("/dialogues/{}/roles", s.dialogue),
                &[("member", &salma), ("role", "trustee"), ("action", "grant")]
            )
            .status,
        303
    );
    assert_eq!(
        convener
            .post(
                &format!("/dialogues/{}/roles", s.dialogue),
                &[("member", &salma), ("role", "trustee"), ("action", "crown")]
            )
            .status,
        400
    );
    let page = convener.get(&format!("/dialogues/{}", s.dialogue));
    assert!(page.body.contains("Trustee") && page.body.contains("Declaration"));
    // Creating a dialogue by form.
    assert_eq!(convener.get("/dialogues/new").status, 200);
    let created = convener
        .post("/dialogues", &[("title_ar", "حوار"), ("title_en", "Dialogue"), ("pseudonym", "Me"), ("listed", "on")]);
    assert_eq!(created.status, 303);
    assert!(created.header("location").unwrap().ends_with("/manage"));
    // A form without the token is refused.
    let r = reply(
        agent()
            .post(&format!("{}/dialogues/{}/phase", s.base, s.dialogue))
            .set("Cookie", &convener.cookie_header())
            .send_form(&[("index", "0")]),
    );
    assert_eq!(r.status, 403);
    // A cross-site Origin is refused even with the token.
    let csrf = convener.cookies["hiwar_csrf"].clone();
    let r = reply(
        agent()
            .post(&format!("{}/dialogues/{}/phase", s.base, s.dialogue))
            .set("Cookie", &convener.cookie_header())
            .set("Origin", "https://evil.example")
            .send_form(&[("csrf", &csrf), ("index", "0")]),
    );
    assert_eq!(r.status, 403);

    // A participant sees 403; a visitor without login sees 401.
    let mut participant = Browser::new(&s.base);
    participant.get("/login");
    assert_eq!(participant.post("/login", &[("code", &s.invitations[3]), ("pseudonym", "Yusuf")]).status, 200);
    assert_eq!(participant.get(&format!("/dialogues/{}/manage", s.dialogue)).status, 403);
    assert_eq!(
        participant
            .post(&format!("/dialogues/{}/codes", s.dialogue), &[("role", "participant"), ("count", "2")])
            .status,
        403
    );
    assert_eq!(participant.get("/dialogues/new").status, 403);
    let mut visitor = Browser::new(&s.base);
    assert_eq!(visitor.get(&format!("/dialogues/{}/manage", s.dialogue)).status, 401);
    let rec = record(&s);
    let summary = hiwar_record::verify(&rec, &Default::default()).unwrap();
    assert_eq!(summary.members, 5 + 60, "with the demo's 60 demo voters");
}

impl Browser {
    /// Posts `multipart/form-data` (file uploads) with the CSRF token, as a browser does.
    fn post_multipart(&mut self, path: &str, fields: &[(&str, &str)]) -> Reply {
        let csrf = self.cookies.get("hiwar_csrf").cloned().unwrap_or_default();
        self.post_multipart_with_token(path, &csrf, fields)
    }
    fn post_multipart_with_token(&mut self, path: &str, csrf: &str, fields: &[(&str, &str)]) -> Reply {
        let boundary = "----hiwar-test-boundary-7MA4YWxkTrZu0gW";
        let mut body = String::new();
        for (name, value) in std::iter::once(&("csrf", csrf)).chain(fields) {
            body.push_str(&format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\""));
            if matches!(*name, "pool" | "quotas") {
                body.push_str(&format!("; filename=\"{name}.csv\"\r\nContent-Type: text/csv"));
            }
            body.push_str(&format!("\r\n\r\n{value}\r\n"));
        }
        body.push_str(&format!("--{boundary}--\r\n"));
        let r = reply(
            self.agent
                .post(&format!("{}{path}", self.base))
                .set("Cookie", &self.cookie_header())
                .set("Content-Type", &format!("multipart/form-data; boundary={boundary}"))
                .send_string(&body),
        );
        self.keep(&r);
        r
    }
}

/// A pool of 60 in which women and the south are under-represented, so quotas bind.
fn small_pool() -> (String, String) {
    let mut pool = String::from("id,gender,region\n");
    for i in 0..60 {
        let gender = if i % 3 == 0 { "f" } else { "m" };
        let region = if i % 4 == 0 { "south" } else { "north" };
        pool.push_str(&format!("p{i:02},{gender},{region}\n"));
    }
    let quotas = "category,feature,min,max\ngender,f,3,3\ngender,m,3,3\nregion,south,2,3\nregion,north,3,4\n";
    (pool, quotas.to_string())
}

#[test]
fn a_selection_runs_publishes_draws_and_seats_delegates() {
    let s = start(fast());
    let d = &s.dialogue;
    let mut convener = Browser::new(&s.base);
    convener.get("/login?lang=en");
    assert_eq!(convener.post("/login", &[("code", &s.convener_key)]).status, 303);
    let list = convener.get(&format!("/dialogues/{d}/selections"));
    assert_eq!(list.status, 200);
    assert!(list.body.contains("Start a selection") && list.body.contains("delegates seated"), "the demo's panel");

    let (pool, quotas) = small_pool();
    let upload = |b: &mut Browser, pool: &str, quotas: &str, size: &str| {
        b.post_multipart(
            &format!("/dialogues/{d}/selections"),
            &[("pool", pool), ("quotas", quotas), ("size", size), ("panels", "200")],
        )
    };
    // Bad input: each named, nothing stored.
    let before = convener.get(&format!("/dialogues/{d}/selections")).body.matches("<tr>").count();
    let bad = upload(&mut convener, "id,gender,region\np1,f,south\np2,\"m,north\n", &quotas, "6");
    assert_eq!(bad.status, 400);
    assert!(bad.body.contains("line 3") && bad.body.contains("pool"), "{}", bad.body);
    let bad = upload(&mut convener, &pool, "category,feature,min,max\ngender,f,4,3\n", "6");
    assert_eq!(bad.status, 400);
    assert!(bad.body.contains("quotas"), "{}", bad.body);
    let bad = upload(&mut convener, &pool, "category,feature,min,max\ngender,x,1,3\n", "6");
    assert_eq!(bad.status, 400, "a quota no volunteer can meet: {}", bad.body);
    let bad = upload(&mut convener, &pool, &quotas, "61");
    assert_eq!(bad.status, 400);
    assert!(bad.body.contains("size"));
    let dup = pool.replace("p01,", "p00,");
    assert_eq!(upload(&mut convener, &dup, &quotas, "6").status, 400);
    assert_eq!(convener.get(&format!("/dialogues/{d}/selections")).body.matches("<tr>").count(), before);
    // Without the token, or as a participant: refused.
    let fields = [("pool", pool.as_str()), ("quotas", quotas.as_str()), ("size", "6"), ("panels", "200")];
    let forged = convener.post_multipart_with_token(&format!("/dialogues/{d}/selections"), &"0".repeat(64), &fields);
    assert_eq!(forged.status, 403);
    let mut participant = Browser::new(&s.base);
    participant.get("/login");
    assert_eq!(participant.post("/login", &[("code", &s.invitations[3]), ("pseudonym", "Yusuf")]).status, 200);
    assert_eq!(upload(&mut participant, &pool, &quotas, "6").status, 403);
    // Over the upload limit: refused before the body is read.
    assert_eq!(raw_status(&s, "POST", &format!("/dialogues/{d}/selections"), 9 << 20), 413);

    // Infeasible quotas: the run fails and says why.
    // (Only 5 women live in the south.)
    let infeasible = "category,feature,min,max\ngender,f,6,6\ngender,m,0,0\nregion,south,6,6\nregion,north,0,0\n";
    let started = upload(&mut convener, &pool, infeasible, "6");
    assert_eq!(started.status, 303, "{}", started.body);
    let failed_page = started.header("location").unwrap().to_string();
    let page = wait_until(&mut convener, &failed_page, |body| !body.contains("computing"));
    assert!(page.contains("failed") && page.contains("infeasible"), "{page}");

    let started = upload(&mut convener, &pool, &quotas, "6");
    assert_eq!(started.status, 303);
    let page_path = started.header("location").unwrap().to_string();
    let sid = page_path.rsplit('/').next().unwrap().to_string();
    let page = wait_until(&mut convener, &page_path, |body| !body.contains("computing"));
    assert!(page.contains("computed, not yet published"), "{page}");
    assert!(page.contains("Lowest selection probability") && page.contains("histogram.svg"));
    // Nothing is public before publication.
    let mut visitor = Browser::new(&s.base);
    assert_eq!(visitor.get(&page_path).status, 404);
    assert_eq!(visitor.get(&format!("{page_path}/manifest.json")).status, 404);
    assert!(!record(&s).contains(&sid));
    // The draw cannot come before the publication.
    assert_eq!(convener.post(&format!("{page_path}/draw"), &[("beacon", "1 2 3")]).status, 409);

    assert_eq!(convener.post(&format!("{page_path}/publish"), &[("beacon_source", "")]).status, 400);
    let source = "The main numbers of the national lottery of 2026-12-01";
    assert_eq!(convener.post(&format!("{page_path}/publish"), &[("beacon_source", source)]).status, 303);
    assert_eq!(convener.post(&format!("{page_path}/publish"), &[("beacon_source", source)]).status, 409);
    let public = visitor.get(&format!("{page_path}?lang=ar"));
    assert_eq!(public.status, 200);
    assert!(public.body.contains("dir=\"rtl\"") && public.body.contains(source));
    let manifest: Value = serde_json::from_str(&visitor.get(&format!("{page_path}/manifest.json")).body).unwrap();
    assert!(hiwar_sortition::lottery::verify(&manifest, None).is_ok());
    let published = record(&s);
    assert!(published.contains(manifest["manifest_hash"].as_str().unwrap()));

    let beacon = "04 11 19 27 33 42";
    assert_eq!(participant.post(&format!("{page_path}/draw"), &[("beacon", beacon)]).status, 403);
    assert_eq!(convener.post(&format!("{page_path}/draw"), &[("beacon", beacon)]).status, 303);
    assert_eq!(convener.post(&format!("{page_path}/draw"), &[("beacon", "another")]).status, 409);
    let panel_csv = visitor.get(&format!("{page_path}/panel.csv")).body;
    let panel: Vec<String> = panel_csv.lines().skip(1).map(str::to_string).collect();
    assert_eq!(panel.len(), 6);
    let checked = hiwar_sortition::lottery::verify(&manifest, Some((beacon, &panel))).unwrap();
    // (Without Fluent's bidi isolation marks around the number.)
    let drawn_page = visitor.get(&format!("{page_path}?lang=en")).body.replace(['\u{2068}', '\u{2069}'], "");
    assert!(drawn_page.contains(&format!("panel number {}", checked.drawn.unwrap())), "{drawn_page}");
    assert!(drawn_page.contains("hiwar select verify --manifest manifest.json --beacon"));
    let svg = visitor.get(&format!("{page_path}/histogram.svg?lang=ar"));
    assert_eq!(svg.header("content-type"), Some("image/svg+xml"));
    assert!(svg.body.contains("احتمال الاختيار"));

    let seated = convener.post(&format!("{page_path}/seat"), &[]);
    assert_eq!(seated.status, 200);
    assert!(seated.header("cache-control").unwrap().contains("no-store"));
    let rows: Vec<&str> = seated.body.lines().collect();
    assert_eq!(rows[0], "volunteer,code,role,dialogue");
    assert_eq!(rows.len(), 7);
    let mut seated_ids: Vec<&str> = rows[1..].iter().map(|r| r.split(',').next().unwrap()).collect();
    seated_ids.sort();
    let mut panel_sorted: Vec<&str> = panel.iter().map(String::as_str).collect();
    panel_sorted.sort();
    assert_eq!(seated_ids, panel_sorted);
    assert_eq!(convener.post(&format!("{page_path}/seat"), &[]).status, 409);
    let delegate_code = rows[1].split(',').nth(1).unwrap();
    let mut delegate = Browser::new(&s.base);
    delegate.get("/login");
    assert_eq!(delegate.post("/login", &[("code", delegate_code), ("pseudonym", "Delegate One")]).status, 200);
    let members = api(&s, "GET", &format!("/api/dialogues/{d}/members"), None, None).json();
    let joined = members.as_array().unwrap().iter().find(|m| m["pseudonym"] == "Delegate One").unwrap();
    assert_eq!(joined["roles"], json!(["delegate"]));

    let summary = hiwar_record::verify(&record(&s), &Default::default()).unwrap();
    assert_eq!(summary.selections.len(), 2, "the demo's and this one");
    let ours = summary.selections.iter().find(|x| x.id == sid).unwrap();
    assert_eq!(ours.drawn.as_ref().unwrap().2, panel);
}

/// Reloads `path` until `done(body)` or 60 s pass.
fn wait_until(b: &mut Browser, path: &str, done: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let r = b.get(path);
        assert_eq!(r.status, 200, "{}", r.body);
        if done(&r.body) || Instant::now() > deadline {
            return r.body;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn participants_post_vote_and_see_the_opinion_map() {
    let s = start(fast());
    let d = &s.dialogue;
    let mut visitor = Browser::new(&s.base);
    let page = visitor.get(&format!("/dialogues/{d}/deliberation?lang=en"));
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Log in with your code"));
    assert_eq!(visitor.post(&format!("/dialogues/{d}/statements"), &[("text", "hello")]).status, 401);

    let mut p = Browser::new(&s.base);
    p.get("/login?lang=en");
    assert_eq!(p.post("/login", &[("code", &s.invitations[3]), ("pseudonym", "Yusuf")]).status, 200);
    let page = p.get(&format!("/dialogues/{d}/deliberation"));
    let action = page.body.split("action=\"").find(|a| a.contains("/vote\"")).expect("a statement to vote on");
    let vote_path = action.split('"').next().unwrap().to_string();
    assert_eq!(p.post(&vote_path, &[("vote", "agree")]).status, 303);
    assert_eq!(p.post(&vote_path, &[("vote", "disagree")]).status, 303, "a changed vote: the last counts");
    assert_eq!(p.post(&vote_path, &[("vote", "maybe")]).status, 400);
    let next = p.get(&format!("/dialogues/{d}/deliberation")).body;
    assert!(!next.contains(&vote_path), "a voted statement is not served again");
    assert_eq!(p.post(&format!("/dialogues/{d}/statements/st-nope/vote"), &[("vote", "agree")]).status, 400);

    let text = "Every region should have a seat on the drafting committee.";
    assert_eq!(p.post(&format!("/dialogues/{d}/statements"), &[("text", text)]).status, 303);
    assert_eq!(p.post(&format!("/dialogues/{d}/statements"), &[("text", &text.to_uppercase())]).status, 409);
    assert_eq!(p.post(&format!("/dialogues/{d}/statements"), &[("text", "   ")]).status, 400);
    assert_eq!(p.post(&format!("/dialogues/{d}/statements"), &[("text", &"x".repeat(281))]).status, 400);
    assert_eq!(p.get(&format!("/dialogues/{d}/deliberation/moderation")).status, 403);

    let results = visitor.get(&format!("/dialogues/{d}/deliberation/results?lang=ar"));
    assert_eq!(results.status, 200);
    assert!(results.body.contains("dir=\"rtl\"") && results.body.contains("map.svg"));
    assert!(results.body.contains("المجموعة"), "groups are shown");
    let map = visitor.get(&format!("/dialogues/{d}/deliberation/map.svg"));
    assert_eq!(map.header("content-type"), Some("image/svg+xml"));
    assert!(map.body.matches("<use href=").count() >= 60, "a marker per participant");
    let report: Value =
        serde_json::from_str(&visitor.get(&format!("/dialogues/{d}/deliberation/report.json")).body).unwrap();
    assert!((2..=5).contains(&report["groups"].as_array().unwrap().len()), "the demo's camps make groups");
    assert!(report["consensus"][0]["text"].as_str().unwrap().len() > 10);
    let csv = visitor.get(&format!("/dialogues/{d}/deliberation/report.csv")).body;
    assert!(csv.starts_with("statement,text,hidden,consensus,bridging,group 1 agree"));
    assert_eq!(csv.lines().count(), 1 + 13, "12 demo statements and ours");
    // How the groups are formed and how sure they are, in both languages; either
    // method's groups for everyone; the dialogue's default set by its conveners only.
    assert_eq!(report["method"], "hiwar");
    assert!(report["confidence"]["hidden_votes"].as_u64().unwrap() > 0);
    let en = visitor.get(&format!("/dialogues/{d}/deliberation/results?lang=en")).body;
    assert!(en.contains("How the groups are formed") && en.contains("best predicts votes the analysis hid"), "{en}");
    assert!(en.contains("groups=polis") && en.contains("See the groups by Polis"));
    assert!(results.body.contains("كيف تتكوّن المجموعات"));
    let polis = visitor.get(&format!("/dialogues/{d}/deliberation/results?lang=en&groups=polis")).body;
    assert!(polis.contains("Polis's published method") && polis.contains("map.svg?lang=en&amp;groups=polis"));
    let polis_report: Value =
        serde_json::from_str(&visitor.get(&format!("/dialogues/{d}/deliberation/report.json?groups=polis")).body)
            .unwrap();
    assert_eq!(polis_report["method"], "polis");
    assert_eq!(polis_report["confidence"]["groups_tried"], json!([]));
    assert_eq!(visitor.get(&format!("/dialogues/{d}/deliberation/results?groups=other")).status, 400);
    assert_eq!(visitor.get(&format!("/dialogues/{d}/deliberation/map.svg?groups=polis")).status, 200);
    assert_eq!(p.post(&format!("/dialogues/{d}/deliberation/method"), &[("method", "polis")]).status, 403);

    let mut convener = Browser::new(&s.base);
    convener.get("/login?lang=en");
    assert_eq!(convener.post("/login", &[("code", &s.convener_key)]).status, 303);
    // Outside a deliberation phase, statements and votes are refused; results stay readable.
    assert_eq!(convener.post(&format!("/dialogues/{d}/phase"), &[("index", "3")]).status, 303);
    assert_eq!(p.post(&format!("/dialogues/{d}/statements"), &[("text", "Too late")]).status, 409);
    assert!(p.get(&format!("/dialogues/{d}/deliberation?lang=en")).body.contains("not in its deliberation phase"));
    assert_eq!(convener.post(&format!("/dialogues/{d}/phase"), &[("index", "2")]).status, 303);
    let html = visitor.get(&format!("/dialogues/{d}/deliberation/report.html?lang=en"));
    assert!(html.header("content-disposition").unwrap().starts_with("attachment"));
    assert!(html.body.contains("<svg") && html.body.contains("Support across groups"));
    assert_eq!(visitor.get(&format!("/dialogues/{d}/deliberation/polis/votes.csv")).status, 401);
    let files: Vec<String> = ["comments.csv", "votes.csv", "participants-votes.csv"]
        .iter()
        .map(|f| convener.get(&format!("/dialogues/{d}/deliberation/polis/{f}")).body)
        .collect();
    let exported = hiwar_opinion::polis::read(&files[0], &files[1], Some(&files[2])).unwrap();
    assert_eq!(exported.texts.len(), 13);
    assert_eq!(convener.get(&format!("/dialogues/{d}/deliberation/polis/other.csv")).status, 404);
    assert_eq!(convener.post(&format!("/dialogues/{d}/deliberation/method"), &[("method", "kmeans")]).status, 400);
    assert_eq!(convener.post(&format!("/dialogues/{d}/deliberation/method"), &[("method", "polis")]).status, 303);
    let default: Value =
        serde_json::from_str(&visitor.get(&format!("/dialogues/{d}/deliberation/report.json")).body).unwrap();
    assert_eq!(default["method"], "polis", "the dialogue's setting is the default");
    assert!(visitor
        .get(&format!("/dialogues/{d}/deliberation/results?lang=en"))
        .body
        .contains("See the groups by hiwar"));
    assert_eq!(convener.post(&format!("/dialogues/{d}/deliberation/method"), &[("method", "hiwar")]).status, 303);
    let queue = convener.get(&format!("/dialogues/{d}/deliberation/moderation"));
    assert_eq!(queue.status, 200);
    assert!(queue.body.contains("value=\"hiwar\" checked"));
    let ours = queue.body.split("<tr>").find(|row| row.contains(text)).unwrap();
    let moderate = ours.split("action=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
    assert_eq!(convener.post(&moderate, &[("hidden", "true"), ("reason", "")]).status, 400);
    assert_eq!(
        convener.post(&moderate, &[("hidden", "true"), ("reason", "a duplicate of an earlier statement")]).status,
        303
    );
    assert_eq!(convener.post(&moderate, &[("hidden", "true"), ("reason", "again")]).status, 409);
    let sid = moderate.split('/').nth(4).unwrap().to_string();
    assert_eq!(p.post(&format!("/dialogues/{d}/statements/{sid}/vote"), &[("vote", "agree")]).status, 409);
    assert_eq!(convener.post(&format!("/dialogues/{d}/deliberation/tally"), &[]).status, 303);
    let rec = record(&s);
    assert!(rec.contains("a duplicate of an earlier statement"));
    assert!(!rec.contains(text), "the record holds a statement's digest, its text is served beside it");
    assert!(!rec.contains("Yusuf\",\"statement"), "who voted what is never published");
    let summary = hiwar_record::verify(&rec, &Default::default()).unwrap();
    let texts: Value = serde_json::from_str(&visitor.get(&format!("/dialogues/{d}/statements.json")).body).unwrap();
    assert_eq!(hiwar_record::events::check_statement_texts(&summary.statements, &texts), Ok(13), "check T1");

    // A text someone should never have posted is removed for good, with a public reason.
    let phone = "Call Omar at +963 11 555 0199";
    assert_eq!(p.post(&format!("/dialogues/{d}/statements"), &[("text", phone)]).status, 303);
    let queue = convener.get(&format!("/dialogues/{d}/deliberation/moderation")).body;
    let row = queue.split("<tr>").find(|row| row.contains(phone)).unwrap();
    let redact =
        row.split("action=\"").find(|a| a.contains("/redact\"")).unwrap().split('"').next().unwrap().to_string();
    assert_eq!(p.post(&redact, &[("reason", "x")]).status, 403, "only conveners redact");
    assert_eq!(convener.post(&redact, &[("reason", "")]).status, 400);
    assert_eq!(convener.post(&redact, &[("reason", "a private phone number")]).status, 303);
    assert_eq!(convener.post(&redact, &[("reason", "again")]).status, 409);
    let rsid = redact.split('/').nth(4).unwrap().to_string();
    let restore = format!("/dialogues/{d}/statements/{rsid}/moderate");
    assert_eq!(convener.post(&restore, &[("hidden", "false"), ("reason", "undo")]).status, 409, "it stays hidden");
    for page in ["statements.json", "deliberation/report.csv", "deliberation/report.json", "deliberation/moderation"] {
        assert!(!convener.get(&format!("/dialogues/{d}/{page}")).body.contains("555 0199"), "{page} still shows it");
    }
    let rec = record(&s);
    assert!(!rec.contains("555 0199") && rec.contains("a private phone number"));
    let summary = hiwar_record::verify(&rec, &Default::default()).unwrap();
    let texts: Value = serde_json::from_str(&visitor.get(&format!("/dialogues/{d}/statements.json")).body).unwrap();
    assert_eq!(hiwar_record::events::check_statement_texts(&summary.statements, &texts), Ok(13));
    // A server that changes a served text is caught by T1.
    let mut forged = texts.clone();
    forged["statements"][0]["text"] = json!("something else");
    assert!(hiwar_record::events::check_statement_texts(&summary.statements, &forged).is_err());
}

/// Sends a raw HTTP/1.1 request and returns the whole answer (status line, headers, body).
/// The deliberation's JSON API: the next statement with its analysis's time, votes
/// answered once committed (a small dialogue's analysis shows them at once), statements
/// posted, and each refusal naming what is wrong.
#[test]
fn the_deliberation_api_routes_votes_and_refuses_what_it_must() {
    let s = start(fast());
    let d = &s.dialogue;
    let next_path = format!("/api/dialogues/{d}/deliberation/next");
    assert_eq!(api(&s, "GET", &next_path, None, None).status, 401);
    let token = api_login(&s, &s.invitations[4], Some("Sami")).json()["token"].as_str().unwrap().to_string();
    let m = Some(token.as_str());
    let next = api(&s, "GET", &next_path, m, None);
    assert_eq!(next.status, 200, "{}", next.body);
    assert!(next.json()["computed_at"].as_str().unwrap().ends_with('Z'));
    let first = next.json()["statement"]["id"].as_str().expect("a statement to vote on").to_string();
    let vote =
        |sid: &str, body: Value| api(&s, "POST", &format!("/api/dialogues/{d}/statements/{sid}/vote"), m, Some(body));
    let before = reply(agent().get(&format!("{}/dialogues/{d}/deliberation/report.json", s.base)).call()).body;
    assert_eq!(vote(&first, json!({"vote": "agree"})).status, 204);
    assert_ne!(api(&s, "GET", &next_path, m, None).json()["statement"]["id"], first.as_str(), "not routed again");
    let after = reply(agent().get(&format!("{}/dialogues/{d}/deliberation/report.json", s.base)).call()).body;
    assert_ne!(before, after, "a small dialogue's analysis includes the vote at once");
    // A vote cast again as it was changes nothing, and the analysis is not redone (it
    // would say a later time: a second has passed).
    let computed = || api(&s, "GET", &next_path, m, None).json()["computed_at"].as_str().unwrap().to_string();
    let held = computed();
    std::thread::sleep(Duration::from_millis(1100));
    assert_eq!(vote(&first, json!({"vote": "agree"})).status, 204);
    assert_eq!(computed(), held, "the same vote again leaves the analysis as it was");
    assert_eq!(vote(&first, json!({"vote": "disagree"})).status, 204);
    assert_ne!(computed(), held, "a changed vote is analysed");

    let wrong = vote(&first, json!({"vote": "maybe"}));
    assert_eq!((wrong.status, wrong.json()["field"].as_str()), (400, Some("vote")));
    let unknown = vote("st-nope", json!({"vote": "agree"}));
    assert_eq!((unknown.status, unknown.json()["field"].as_str()), (400, Some("statement")));
    assert_eq!(vote(&first, json!({"vote": 1})).status, 400);
    // An id that cannot be a statement's (a NUL byte would make PostgreSQL refuse the
    // whole group of votes it joined) is refused before it is queued.
    let nul = vote("st-%00", json!({"vote": "agree"}));
    assert_eq!((nul.status, nul.json()["field"].as_str()), (400, Some("path")));
    assert_eq!(vote("st-abc'--", json!({"vote": "agree"})).json()["field"], "statement");
    assert_eq!(
        api(&s, "POST", &format!("/api/dialogues/{d}/statements/{first}/vote"), None, Some(json!({"vote": "agree"})))
            .status,
        401
    );
    assert_eq!(
        api(&s, "POST", &format!("/api/dialogues/d-nope/statements/{first}/vote"), m, Some(json!({"vote": "agree"})))
            .status,
        404
    );

    let post =
        |text: &str| api(&s, "POST", &format!("/api/dialogues/{d}/statements"), m, Some(json!({ "text": text })));
    let posted = post("Water before walls, in every district.");
    assert_eq!(posted.status, 201, "{}", posted.body);
    let id = posted.json()["id"].as_str().unwrap().to_string();
    assert_eq!(post("WATER before walls, in every district.").status, 409);
    assert_eq!(post(&"x".repeat(281)).status, 400);
    let texts = reply(agent().get(&format!("{}/dialogues/{d}/statements.json", s.base)).call()).body;
    assert!(texts.contains(&id) && texts.contains("Water before walls"));
    assert_eq!(vote(&id, json!({"vote": "pass"})).status, 204);

    // Votes and next statements read nothing before their own query; whoever that query
    // refuses is answered as the access layer answers on every other route.
    let votes = || {
        let report = reply(agent().get(&format!("{}/dialogues/{d}/deliberation/report.json", s.base)).call());
        report.json()["votes"].as_u64().unwrap()
    };
    let counted = votes();
    let convener = api_login(&s, &s.convener_key, None).json()["token"].as_str().unwrap().to_string();
    let issued = api(
        &s,
        "POST",
        &format!("/api/dialogues/{d}/codes"),
        Some(&convener),
        Some(json!({"role": "observer", "count": 1})),
    );
    let observer = api_login(&s, issued.json()["codes"][0].as_str().unwrap(), Some("Watcher")).json()["token"]
        .as_str()
        .unwrap()
        .to_string();
    let as_observer = api(
        &s,
        "POST",
        &format!("/api/dialogues/{d}/statements/{id}/vote"),
        Some(&observer),
        Some(json!({"vote": "agree"})),
    );
    assert_eq!(as_observer.status, 403, "{}", as_observer.body);
    assert_eq!(api(&s, "GET", &next_path, Some(&observer), None).status, 403);
    assert_eq!(api(&s, "POST", "/api/logout", m, None).status, 204);
    assert_eq!(vote(&id, json!({"vote": "agree"})).status, 401, "a session ended votes no more");
    assert_eq!(api(&s, "GET", &next_path, m, None).status, 401);
    assert_eq!(votes(), counted, "no refused vote counted");
}

fn raw_request(server: &Server, request: &str) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(server.base.trim_start_matches("http://")).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    String::from_utf8_lossy(&answer).into_owned()
}

/// Sends `head` and the start of a body, then stalls; the server's whole answer.
fn stalled_request(server: &Server, head: &str) -> (String, Duration) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(server.base.trim_start_matches("http://")).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let started = Instant::now();
    stream.write_all(head.as_bytes()).unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    (String::from_utf8_lossy(&answer).into_owned(), started.elapsed())
}

/// Clients that send slowly on purpose (slowloris) are cut off after the request
/// timeout: a late head closes the connection, a stalled body gets 408 and changes
/// nothing, and an idle keep-alive connection is closed.
#[test]
fn slow_clients_are_cut_off() {
    let s = start(Config { request_timeout: Duration::from_secs(1), ..fast() });
    let before = record(&s);
    let json = "POST /api/login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"code\": ";
    let (answer, waited) = stalled_request(&s, json);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains(r#""field":"body""#), "{answer}");
    assert!(waited >= Duration::from_millis(900), "cut off after {waited:?}");

    // An upload, read part by part, is cut off the same way.
    let token = api_login(&s, &s.convener_key, None).json()["token"].as_str().unwrap().to_string();
    let upload = format!(
        "POST /dialogues/{}/selections HTTP/1.1\r\nHost: localhost\r\nCookie: hiwar_session={token}\r\n\
         Content-Type: multipart/form-data; boundary=XX\r\nContent-Length: 1000\r\n\r\n\
         --XX\r\nContent-Disposition: form-data; name=\"pool\"\r\n\r\nid,age\r\n1,",
        s.dialogue
    );
    let (answer, _) = stalled_request(&s, &upload);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");

    // A head that never ends gets no answer: the connection is closed.
    let (answer, waited) = stalled_request(&s, "GET /healthz HTTP/1.1\r\nHost: loc");
    assert_eq!(answer, "");
    assert!(waited >= Duration::from_millis(900) && waited < Duration::from_secs(15), "closed after {waited:?}");

    // So is a keep-alive connection left idle after its answer.
    let (answer, waited) = stalled_request(&s, "GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(waited < Duration::from_secs(15), "closed after {waited:?}");
    assert_eq!(record(&s), before, "nothing of a stalled request is kept");

    // The trusted proxy's idle connections are kept longer: it closes them, not hiwar.
    let proxied = start(Config {
        request_timeout: Duration::from_secs(1),
        trusted_proxy: Some("127.0.0.1".parse().unwrap()),
        ..fast()
    });
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(proxied.base.trim_start_matches("http://")).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut answer = [0u8; 12];
    for pause in [Duration::ZERO, Duration::from_millis(2500)] {
        std::thread::sleep(pause);
        stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n").unwrap();
        stream.read_exact(&mut answer).expect("an answer on the same connection");
        assert_eq!(&answer, b"HTTP/1.1 200");
        // The rest of the (small) answer.
        std::thread::sleep(Duration::from_millis(200));
        stream.set_nonblocking(true).unwrap();
        let _ = stream.read(&mut [0u8; 65536]);
        stream.set_nonblocking(false).unwrap();
    }
}

/// Nothing public links a member to their votes or opinion group (issue: secrecy).
#[test]
fn public_results_name_no_member() {
    let s = start(fast());
    let d = &s.dialogue;
    let members: Vec<String> = api(&s, "GET", &format!("/api/dialogues/{d}/members"), None, None)
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap().to_string())
        .collect();
    assert!(members.len() > 60);
    let mut visitor = Browser::new(&s.base);
    let report = visitor.get(&format!("/dialogues/{d}/deliberation/report.json")).body;
    let parsed: Value = serde_json::from_str(&report).unwrap();
    assert!(parsed["groups"].as_array().unwrap().iter().all(|g| g.get("members").is_none() && g["size"].is_u64()));
    assert!(parsed["ungrouped"].is_u64(), "only a count of the ungrouped");
    for groups in ["hiwar", "polis"] {
        for page in ["report.json", "report.csv", "map.svg", "report.html", "results"] {
            let body = visitor.get(&format!("/dialogues/{d}/deliberation/{page}?groups={groups}")).body;
            assert!(!members.iter().any(|m| body.contains(m.as_str())), "{page} by {groups}'s method names a member");
        }
    }
    // The conveners' Polis export lists only voters with at least 5 votes, with no times.
    let mut convener = Browser::new(&s.base);
    convener.get("/login?lang=en");
    assert_eq!(convener.post("/login", &[("code", &s.convener_key)]).status, 303);
    let rows = convener.get(&format!("/dialogues/{d}/deliberation/polis/participants-votes.csv")).body;
    let exported = hiwar_csv::parse(&rows).unwrap();
    let n_votes = exported[0].1.iter().position(|h| h == "n-votes").unwrap();
    assert!(exported.len() > 1);
    assert!(exported[1..].iter().all(|(_, row)| row[n_votes].parse::<usize>().unwrap() >= 5));
    let votes = convener.get(&format!("/dialogues/{d}/deliberation/polis/votes.csv")).body;
    assert!(votes.lines().skip(1).all(|l| l.starts_with("0,,")), "no time stamps");
}

#[test]
fn hostile_input_is_refused_and_nothing_is_reflected() {
    let s = start(fast());
    let d = &s.dialogue;
    // The API takes JSON only: a text/plain login (which any web site can make a
    // visitor's browser send) is refused before it counts against anyone.
    let r = reply(
        agent()
            .post(&format!("{}/api/login", s.base))
            .set("Content-Type", "text/plain")
            .send_string(r#"{"code":"ZZZZZ-ZZZZZ-ZZZZZ-ZZZZZ"}"#),
    );
    assert_eq!((r.status, r.json()["field"].as_str()), (415, Some("content-type")));

    // Invisible and direction-changing characters, and look-alikes of a taken pseudonym.
    for (pseudonym, status) in
        [("Omar\u{200b}", 400), ("Alice\u{202e}gnp.exe", 400), ("\u{200b}", 400), ("0mar", 409), ("OMAR", 409)]
    {
        assert_eq!(api_login(&s, &s.invitations[4], Some(pseudonym)).status, status, "{pseudonym:?}");
    }
    let joined = api_login(&s, &s.invitations[4], Some("Layla"));
    assert_eq!(joined.status, 200);
    let mut p = Browser::new(&s.base);
    p.get("/login?lang=en");
    assert_eq!(p.post("/login", &[("code", &s.invitations[3]), ("pseudonym", "Hadi")]).status, 200);
    assert_eq!(p.post(&format!("/dialogues/{d}/statements"), &[("text", "\u{200b}")]).status, 400);
    assert_eq!(p.post(&format!("/dialogues/{d}/statements"), &[("text", "stmt\u{200b} 1")]).status, 400);
    // A formula in a statement is neutralised in every CSV handed out.
    assert_eq!(p.post(&format!("/dialogues/{d}/statements"), &[("text", "=HYPERLINK(\"http://x\")")]).status, 303);
    let csv = p.get(&format!("/dialogues/{d}/deliberation/report.csv")).body;
    assert!(csv.contains("\"'=HYPERLINK(") && !csv.contains(",=HYPERLINK"), "{csv}");

    // The request path and the Host header are never reflected into links or commands.
    let answer = raw_request(&s, "GET //evil.example HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    assert!(!answer.contains("href=\"//evil.example"), "{answer}");
    let answer = raw_request(
        &s,
        &format!("GET /dialogues/{d}/record/view HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n"),
    );
    assert!(answer.starts_with("HTTP/1.1 200") && !answer.contains("evil.example"), "{}", &answer[..200]);

    // The record in ranges: ?from=N&limit=M gives exactly those lines.
    let whole = record(&s);
    let lines: Vec<&str> = whole.lines().collect();
    let part = reply(agent().get(&format!("{}/dialogues/{d}/record?from=2&limit=3", s.base)).call()).body;
    assert_eq!(part, format!("{}\n", lines[2..5].join("\n")));
    let tail = reply(agent().get(&format!("{}/dialogues/{d}/record?from={}", s.base, lines.len() - 1)).call()).body;
    assert_eq!(tail, format!("{}\n", lines[lines.len() - 1]));
    let view = Browser::new(&s.base).get(&format!("/dialogues/{d}/record/view?from=1&lang=en"));
    assert!(view.body.contains("rel=\"prev\"") && !view.body.contains("<td>0</td>"), "the view is paginated");
}

#[test]
fn roles_observers_watch_and_the_creator_stays_a_convener() {
    let s = start(fast());
    let d = &s.dialogue;
    let token = api_login(&s, &s.convener_key, None).json()["token"].as_str().unwrap().to_string();
    let t = Some(token.as_str());
    let issue = |role: &str| {
        let r = api(&s, "POST", &format!("/api/dialogues/{d}/codes"), t, Some(json!({"role": role, "count": 1})));
        r.json()["codes"][0].as_str().unwrap().to_string()
    };
    // An observer reads, but neither posts nor votes.
    let mut observer = Browser::new(&s.base);
    observer.get("/login?lang=en");
    assert_eq!(observer.post("/login", &[("code", &issue("observer")), ("pseudonym", "Watcher")]).status, 200);
    assert_eq!(observer.post(&format!("/dialogues/{d}/statements"), &[("text", "I only watch")]).status, 403);
    let statement = api(&s, "GET", &format!("/dialogues/{d}/deliberation/report.json"), None, None).json()["consensus"]
        [0]["statement"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(observer.post(&format!("/dialogues/{d}/statements/{statement}/vote"), &[("vote", "agree")]).status, 403);
    // A co-convener cannot remove the creator's convener role.
    let co = api_login(&s, &issue("convener"), Some("Co-convener")).json()["token"].as_str().unwrap().to_string();
    let members = api(&s, "GET", &format!("/api/dialogues/{d}/members"), None, None).json();
    let creator_member = members
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["roles"].as_array().unwrap().contains(&json!("convener")) && m["pseudonym"] != "Co-convener")
        .unwrap()["id"]
        .clone();
    let r = api(
        &s,
        "POST",
        &format!("/api/dialogues/{d}/roles"),
        Some(co.as_str()),
        Some(json!({"member": creator_member, "role": "convener", "grant": false})),
    );
    assert_eq!(r.status, 409, "{}", r.body);
}

#[test]
fn login_limits_count_the_client_behind_the_trusted_proxy() {
    let s =
        start(Config { logins_per_minute: 2, trusted_proxy: Some("127.0.0.1".parse().unwrap()), ..Config::default() });
    let login_from = |client: &str| {
        reply(
            agent()
                .post(&format!("{}/api/login", s.base))
                .set("X-Forwarded-For", &format!("198.51.100.9, {client}"))
                .send_json(json!({"code": "ZZZZZ-ZZZZZ-ZZZZZ-ZZZZZ"})),
        )
        .status
    };
    assert_eq!(login_from("203.0.113.5"), 401);
    assert_eq!(login_from("203.0.113.5"), 401);
    assert_eq!(login_from("203.0.113.5"), 429, "this client is out of attempts");
    assert_eq!(login_from("203.0.113.6"), 401, "but another client behind the same proxy is not");
}

/// Declare over HTTP: organisations register their own keys with invitation codes and
/// sign the exact text; every bad input and attack named by the issue gets a clear
/// error and changes nothing (the record's length is unchanged).
#[test]
fn declarations_refuse_every_forgery_and_bad_input_without_changing_anything() {
    use hiwar_record::declaration::SignatoryKey;
    use hiwar_record::events::bilingual;
    let s = start(fast());
    let d = s.dialogue.clone();
    let token = api_login(&s, &s.convener_key, None).json()["token"].as_str().unwrap().to_string();
    let issued = api(
        &s,
        "POST",
        &format!("/api/dialogues/{d}/codes"),
        Some(&token),
        Some(json!({"role": "organisation", "count": 3})),
    );
    assert_eq!(issued.status, 201, "{}", issued.body);
    let codes: Vec<String> =
        issued.json()["codes"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().into()).collect();
    let lines = |s: &Server| record(s).lines().count();
    let unchanged = |s: &Server, before: usize, what: &str| assert_eq!(lines(s), before, "{what} changed the record");

    // An organisation's code does not log anyone in as a member.
    let login = api_login(&s, &codes[0], Some("Someone"));
    assert_eq!(login.status, 400, "{}", login.body);
    assert!(login.body.contains("registers an organisation"), "{}", login.body);

    let register = |key: &SignatoryKey, code: &str, en: &str| {
        let registration = key.register(&d, &bilingual(&format!("منظمة {en}"), en), "ngo", "inside");
        api(
            &s,
            "POST",
            &format!("/api/dialogues/{d}/organisations"),
            None,
            Some(json!({"code": code, "registration": registration})),
        )
    };
    let mut rng = rand::rngs::OsRng;
    let (a, b, c) =
        (SignatoryKey::generate(&mut rng).1, SignatoryKey::generate(&mut rng).1, SignatoryKey::generate(&mut rng).1);
    let before = lines(&s);
    // A wrong code; a name with a direction override; a registration another key signed.
    assert_eq!(register(&a, "AAAAA-BBBBB-CCCCC-DDDDD", "Org A").status, 401);
    let bidi = register(&a, &codes[0], "Org \u{202E}A");
    assert_eq!(bidi.status, 400, "{}", bidi.body);
    assert!(bidi.body.contains("\"field\":\"name_"), "{}", bidi.body);
    let mut stolen = a.register(&d, &bilingual("منظمة Org A", "Org A"), "ngo", "inside");
    stolen["key"] = json!(b.public());
    let stolen = api(
        &s,
        "POST",
        &format!("/api/dialogues/{d}/organisations"),
        None,
        Some(json!({"code": codes[0], "registration": stolen})),
    );
    assert_eq!(stolen.status, 409, "{}", stolen.body);
    assert!(stolen.body.contains("D1"), "{}", stolen.body);
    unchanged(&s, before, "refused registrations");
    // None of that spent the code.
    let ok = register(&a, &codes[0], "Org A");
    assert_eq!(ok.status, 200, "{}", ok.body);
    let a_id = ok.json()["signatory"].as_str().unwrap().to_string();
    // The same organisation (key) twice, and a spent code.
    let before = lines(&s);
    let twice = register(&a, &codes[1], "Org A again");
    assert_eq!(twice.status, 409, "{}", twice.body);
    assert_eq!(register(&b, &codes[0], "Org B").status, 401, "a spent code");
    let twin = register(&b, &codes[1], "ORG A");
    assert_eq!(twin.status, 409, "another organisation under the same name: {}", twin.body);
    assert!(twin.body.contains("already goes by that name"), "{}", twin.body);
    unchanged(&s, before, "a second registration");
    let b_id = register(&b, &codes[1], "Org B").json()["signatory"].as_str().unwrap().to_string();
    let c_id = register(&c, &codes[2], "Org C").json()["signatory"].as_str().unwrap().to_string();

    // The convener drafts: empty, oversized and overriding texts are refused.
    let mut convener = Browser::new(&s.base);
    convener.get("/login?lang=en");
    assert_eq!(convener.post("/login", &[("code", &s.convener_key)]).status, 303);
    let draft = |b: &mut Browser, path: &str, en: &str| {
        b.post(path, &[("title_ar", "بيان"), ("title_en", "Statement"), ("text_ar", "نص البيان"), ("text_en", en)])
    };
    let mut participant = Browser::new(&s.base);
    participant.get("/login?lang=en");
    assert_eq!(
        participant.post("/login", &[("code", &s.invitations[0]), ("pseudonym", "Reader")]).status,
        200,
        "joined: the welcome page"
    );
    let before = lines(&s);
    let path = format!("/dialogues/{d}/declarations");
    assert_eq!(draft(&mut convener, &path, "").status, 400);
    assert_eq!(draft(&mut convener, &path, &"x".repeat(20_001)).status, 400);
    assert_eq!(draft(&mut convener, &path, "text \u{202D}reversed").status, 400);
    // Nobody else drafts (participants need the conveners' permission; anonymous is 401).
    assert_eq!(draft(&mut participant, &path, "Mine").status, 403);
    assert_eq!(draft(&mut Browser::new(&s.base), &path, "Mine").status, 401, "anonymous");
    unchanged(&s, before, "refused drafts");
    let created = draft(&mut convener, &path, "We ask for water.");
    assert_eq!(created.status, 303);
    let page = created.header("location").unwrap().to_string();
    let did = page.rsplit('/').next().unwrap().to_string();
    let open = |b: &mut Browser, version: &str, closes: &str| {
        b.post(&format!("{page}/open"), &[("version", version), ("closes", closes)])
    };
    assert_eq!(open(&mut participant, "1", "2099-01-01T00:00").status, 403);
    assert_eq!(open(&mut convener, "1", "2020-01-01T00:00").status, 400, "closes in the past");
    assert_eq!(open(&mut convener, "1", "tomorrow").status, 400);
    assert_eq!(open(&mut convener, "1", "2099-01-01T00:00").status, 303);

    let view = convener.get(&format!("{page}/declaration.json")).json();
    let hash1 = view["versions"][0]["hash"].as_str().unwrap().to_string();
    let sign = |key: &SignatoryKey, id: &str, version: u64, hash: &str| {
        api(
            &s,
            "POST",
            &format!("/api/dialogues/{d}/declarations/{did}/signatures"),
            None,
            Some(key.sign_version(&d, id, &did, version, hash)),
        )
    };
    assert_eq!(sign(&a, &a_id, 1, &hash1).status, 200);
    let before = lines(&s);
    let refused = |r: Reply, words: &str| {
        assert_eq!(r.status, 409, "{}", r.body);
        assert!(r.body.contains(words), "{words:?} not in {}", r.body);
    };
    // A duplicate; over another text; by an unregistered key; by another's key; in
    // another declaration's name; garbage.
    refused(sign(&a, &a_id, 1, &hash1), "already signed");
    refused(sign(&b, &b_id, 1, &"ab".repeat(32)), "does not verify");
    refused(sign(&SignatoryKey::generate(&mut rng).1, "org-nobody", 1, &hash1), "never registered");
    refused(sign(&c, &b_id, 1, &hash1), "current key");
    let elsewhere = api(
        &s,
        "POST",
        &format!("/api/dialogues/{d}/declarations/other/signatures"),
        None,
        Some(b.sign_version(&d, &b_id, &did, 1, &hash1)),
    );
    assert_eq!(elsewhere.status, 400, "{}", elsewhere.body);
    let garbage = api(
        &s,
        "POST",
        &format!("/api/dialogues/{d}/declarations/{did}/signatures"),
        None,
        Some(json!({"declaration": did, "sig": 5})),
    );
    assert_eq!(garbage.status, 409, "{}", garbage.body);
    unchanged(&s, before, "refused signatures");

    // A new version: old signatures stay on version 1; version 1 is closed to signing.
    assert_eq!(draft(&mut convener, &format!("{page}/versions"), "We ask for water and bread.").status, 303);
    assert_eq!(open(&mut convener, "2", "2099-01-01T00:00").status, 303);
    refused(sign(&b, &b_id, 1, &hash1), "not open");
    let hash2 =
        convener.get(&format!("{page}/declaration.json")).json()["versions"][1]["hash"].as_str().unwrap().to_string();
    refused(sign(&b, &b_id, 2, &hash1), "does not verify");
    assert_eq!(sign(&b, &b_id, 2, &hash2).status, 200);
    assert_eq!(sign(&c, &c_id, 2, &hash2).status, 200);
    // A revoked signatory signs nothing more, and its signature stops counting.
    let revoked = convener
        .post(&format!("/dialogues/{d}/signatories/{c_id}/revoke"), &[("reason", "the organisation does not exist")]);
    assert_eq!(revoked.status, 303);
    refused(sign(&c, &c_id, 2, &hash2), "revoked");
    // A withdrawal by the signatory itself; one forged by another key is refused.
    let withdraw = |key: &SignatoryKey, id: &str| {
        api(
            &s,
            "POST",
            &format!("/api/dialogues/{d}/declarations/{did}/withdrawals"),
            None,
            Some(key.withdraw(&d, id, &did, 2, &hash2, "changed our mind")),
        )
    };
    refused(withdraw(&a, &b_id), "does not verify");
    assert_eq!(withdraw(&b, &b_id).status, 200);
    let shown = convener.get(&format!("{page}?version=2&lang=en")).body;
    assert!(shown.contains("No valid signatures"), "b withdrew and c was revoked");
    assert!(shown.contains("changed our mind") && shown.contains("the organisation does not exist"));
    assert!(shown.contains("Signed another version only"), "a signed version 1 only");
    let first = convener.get(&format!("{page}?version=1&lang=en")).body;
    assert!(first.contains("1 valid signature"));
    // Names are shown isolated.
    assert!(first.contains("<bdi>Org A</bdi>"), "names in <bdi>");
    let summary = hiwar_record::verify(&record(&s), &hiwar_record::Options::default()).expect("the record verifies");
    assert!(summary.lines > 0);
}
