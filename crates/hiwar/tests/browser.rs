//! A real browser (Debian's headless Chromium through chromedriver) logs in to the
//! demo with an invitation code and sees the dialogue page in Arabic, right to left,
//! and in English. Needs /usr/bin/chromium and /usr/bin/chromedriver (`.ci/run`
//! installs them); fails, never skips, when they are missing.

mod common;

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{get, hiwar, Running};
use serde_json::{json, Value};

struct Driver {
    child: Child,
    base: String,
    session: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = ureq::delete(&format!("{}/session/{}", self.base, self.session)).call();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl Driver {
    fn start() -> Driver {
        let chromedriver = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into());
        let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
        assert!(
            std::path::Path::new(&chromedriver).exists() && std::path::Path::new(&chromium).exists(),
            "browser tests need {chromium} and {chromedriver}: apt-get install chromium chromium-driver"
        );
        let port = free_port();
        let child = Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let base = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        while ureq::get(&format!("{base}/status")).call().is_err() {
            assert!(started.elapsed() < Duration::from_secs(30), "chromedriver did not answer");
            std::thread::sleep(Duration::from_millis(100));
        }
        let profile = tempfile::tempdir().unwrap().keep();
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
                         format!("--user-data-dir={}", profile.display()), "--lang=en-US"]
            }
        }}});
        let reply: Value =
            ureq::post(&format!("{base}/session")).send_json(capabilities).expect("new session").into_json().unwrap();
        let session = reply["value"]["sessionId"].as_str().expect("session id").to_string();
        Driver { child, base, session }
    }

    fn cmd(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}/session/{}{path}", self.base, self.session);
        let request = ureq::request(method, &url);
        let reply = match body {
            Some(b) => request.send_json(b),
            None => request.call(),
        };
        match reply {
            Ok(r) => r.into_json::<Value>().unwrap()["value"].clone(),
            Err(ureq::Error::Status(code, r)) => {
                panic!("webdriver {method} {path}: {code} {}", r.into_string().unwrap())
            }
            Err(e) => panic!("webdriver {method} {path}: {e}"),
        }
    }

    fn go(&self, url: &str) {
        self.cmd("POST", "/url", Some(json!({ "url": url })));
    }

    fn find(&self, css: &str) -> String {
        let found = self.cmd("POST", "/element", Some(json!({"using": "css selector", "value": css})));
        found.as_object().unwrap().values().next().unwrap().as_str().unwrap().to_string()
    }

    fn type_into(&self, css: &str, text: &str) {
        let element = self.find(css);
        self.cmd("POST", &format!("/element/{element}/value"), Some(json!({ "text": text })));
    }

    fn click(&self, css: &str) {
        let element = self.find(css);
        self.cmd("POST", &format!("/element/{element}/click"), Some(json!({})));
    }

    fn script(&self, js: &str) -> Value {
        self.cmd("POST", "/execute/sync", Some(json!({"script": js, "args": []})))
    }

    /// Waits until `condition` (a JavaScript expression) is true: a click's navigation
    /// may still be under way when the click command returns. A condition that throws
    /// (an element not there yet) counts as false.
    fn wait_for(&self, condition: &str) {
        let started = Instant::now();
        let script = format!(
            "try {{ return document.readyState === 'complete' && !!({condition}); }} catch (e) {{ return false; }}"
        );
        while self.script(&script) != json!(true) {
            if started.elapsed() > Duration::from_secs(30) {
                let page = self.script("return document.body ? document.body.innerText.slice(0, 1500) : ''");
                panic!("timed out waiting for {condition}; the page says:\n{}", page.as_str().unwrap_or_default());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

#[test]
fn a_browser_logs_in_with_a_demo_code_and_reads_both_languages() {
    let demo = Running::start(&["demo", "--listen", "127.0.0.1:0"]);
    let invitation = demo.values("invitation:").remove(0);
    let dialogue_url = demo.value("demo dialogue:");
    let browser = Driver::start();

    browser.go(&format!("{}/login?lang=ar", demo.url));
    assert_eq!(browser.script("return document.documentElement.dir"), json!("rtl"));
    browser.type_into("#code", &invitation);
    browser.type_into("#pseudonym", "ليلى");
    browser.click("form.stack button[type=submit]");
    // The welcome page shows the personal key; continue to the dialogue.
    browser.wait_for("document.querySelector('.access-key code')");
    browser.click("a.button");
    browser.wait_for("document.querySelector('ul.members')");

    let page = browser.script("return [document.documentElement.dir, document.documentElement.lang, document.querySelector('h1').textContent, document.body.innerText]");
    assert_eq!(page[0], json!("rtl"));
    assert_eq!(page[1], json!("ar"));
    assert_eq!(page[2], json!("الحوار الوطني التجريبي"));
    let text = page[3].as_str().unwrap();
    assert!(text.contains("ليلى") && text.contains("مشارك"), "{text}");
    // Right to left is applied by the browser, not just declared.
    assert_eq!(browser.script("return getComputedStyle(document.querySelector('main')).direction"), json!("rtl"));

    browser.go(&format!("{dialogue_url}?lang=en"));
    let page = browser.script(
        "return [document.documentElement.dir, document.querySelector('h1').textContent, document.body.innerText]",
    );
    assert_eq!(page[0], json!("ltr"));
    assert_eq!(page[1], json!("Demo national dialogue"));
    assert!(page[2].as_str().unwrap().contains("Participant"));
    assert_eq!(browser.script("return getComputedStyle(document.querySelector('main')).direction"), json!("ltr"));
}

#[test]
fn the_demo_selection_page_shows_its_histogram_quotas_and_draw() {
    let demo = Running::start(&["demo", "--listen", "127.0.0.1:0"]);
    let dialogue_url = demo.value("demo dialogue:");
    let browser = Driver::start();
    browser.go(&format!("{dialogue_url}/selections?lang=ar"));
    browser.click("table a");
    browser.wait_for("document.querySelector('ul.panel')");
    // The histogram is an image from this site that the browser could draw under the CSP.
    browser.wait_for("document.querySelector('figure img').complete");
    let page = browser.script(
        "return [document.documentElement.dir, document.querySelector('figure img').naturalWidth, \
         document.querySelectorAll('ul.panel li').length, document.body.innerText, \
         getComputedStyle(document.querySelector('main')).direction]",
    );
    assert_eq!(page[0], json!("rtl"));
    assert_eq!(page[1], json!(720), "the SVG histogram loaded");
    assert_eq!(page[2], json!(24), "the demo seats 24 delegates");
    let text = page[3].as_str().unwrap();
    assert!(text.contains("جرى تعيين المندوبين") && text.contains("hiwar select verify"), "{text}");
    assert_eq!(page[4], json!("rtl"));
}

#[test]
fn a_participant_posts_votes_and_sees_the_opinion_map() {
    let demo = Running::start(&["demo", "--listen", "127.0.0.1:0"]);
    let invitation = demo.values("invitation:").remove(0);
    let dialogue_url = demo.value("demo dialogue:");
    let browser = Driver::start();
    browser.go(&format!("{}/login?lang=en", demo.url));
    browser.type_into("#code", &invitation);
    browser.type_into("#pseudonym", "Rania");
    browser.click("form.stack button[type=submit]");
    browser.wait_for("document.querySelector('.access-key code')");

    browser.go(&format!("{dialogue_url}/deliberation?lang=en"));
    let first = browser.script("return document.querySelector('blockquote.statement').textContent");
    browser.click("button[value=agree]");
    // Wait for the next page, not the old one still on screen.
    browser.wait_for(&format!(
        "document.querySelector('blockquote.statement') && document.querySelector('blockquote.statement').textContent !== {first}"
    ));
    let second = browser.script("return document.querySelector('blockquote.statement').textContent");
    assert_ne!(first, second, "the next statement follows the vote");
    browser.type_into("#text", "Water and electricity first, everywhere.");
    browser.click("form.stack button[type=submit]");
    // The page before the post has #next too: wait for the new page's empty text box.
    browser.wait_for("document.querySelector('#text').value === ''");

    browser.go(&format!("{dialogue_url}/deliberation/results?lang=ar"));
    browser.wait_for("document.querySelector('figure img').complete");
    let page = browser.script(
        "return [document.documentElement.dir, document.querySelector('figure img').naturalWidth, \
         document.querySelectorAll('ol.consensus li').length, document.body.innerText]",
    );
    assert_eq!(page[0], json!("rtl"));
    assert_eq!(page[1], json!(640), "the opinion map loaded");
    assert_eq!(page[2], json!(10));
    assert!(page[3].as_str().unwrap().contains("ما تراه كل مجموعة"));
}

/// What is wrong with `pages` at the window's width (360 px), in Arabic and English:
/// sideways scrolling of the page, and serious or critical axe-core violations.
/// Largest page, in bytes, before images (ARCHITECTURE.md): the document, its
/// stylesheet and scripts, and anything else they fetch while loading.
const PAGE_BUDGET: u64 = 60 * 1024;

/// Where the suite writes a screenshot of every page it checks, for review (CI keeps
/// this folder): `artifacts/screenshots/{width}-{lang}-{page}.png`.
fn screenshot_dir() -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../artifacts/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// What is wrong with each page at the window's current width, in both languages: a page
/// wider than the window, serious or critical axe-core violations, a control smaller
/// than 44 px, a page heavier than [`PAGE_BUDGET`]. Saves a screenshot of each.
fn phone_problems(browser: &Driver, pages: &[String], who: &str) -> Vec<String> {
    let mut problems = Vec::new();
    for lang in ["ar", "en"] {
        for page in pages {
            let join = if page.contains('?') { '&' } else { '?' };
            browser.go(&format!("{page}{join}lang={lang}"));
            browser.wait_for("document.querySelector('main') && document.readyState === 'complete'");
            let width = browser.script("return document.documentElement.scrollWidth");
            let inner = browser.script("return window.innerWidth");
            if width.as_u64() > inner.as_u64() {
                problems.push(format!("{page} ({lang}): {width} px wide in a {inner} px window"));
            }
            for violation in browser.axe() {
                problems.push(format!("{page} ({lang}): {violation}"));
            }
            let small = browser.script(
                "return Array.from(document.querySelectorAll('button, a.button, select, input:not([type=checkbox]):not([type=radio]):not([type=hidden])'))
                   .filter((e) => e.offsetParent !== null && e.getBoundingClientRect().height < 43.5)
                   .map((e) => e.outerHTML.slice(0, 80));",
            );
            for control in small.as_array().into_iter().flatten() {
                problems.push(format!("{page} ({lang}): a control under 44 px: {control}"));
            }
            let weight = browser.script(
                "const nav = performance.getEntriesByType('navigation')[0];
                 return nav.decodedBodySize + performance.getEntriesByType('resource')
                   .filter((r) => r.initiatorType !== 'img')
                   .reduce((sum, r) => sum + r.decodedBodySize, 0);",
            );
            if weight.as_u64().unwrap_or(u64::MAX) > PAGE_BUDGET {
                problems.push(format!("{page} ({lang}): {weight} bytes before images, over {PAGE_BUDGET}"));
            }
            // Named by what the page is, not by the demo's random ids.
            let path = page.split("://").nth(1).and_then(|p| p.split_once('/')).map_or("", |(_, p)| p);
            let mut parts: Vec<&str> = path.split(['/', '?']).filter(|p| !p.is_empty()).collect();
            if parts.len() > 1 && parts[0] == "dialogues" && parts[1] != "new" {
                parts.remove(1);
            }
            let slug = if parts.is_empty() { "home".to_string() } else { parts.join("-") };
            // The whole page: the window grows to the page's height for the picture.
            let height = browser.script("return document.documentElement.scrollHeight").as_u64().unwrap_or(800);
            let rect = json!({"width": inner, "height": height.clamp(800, 6000)});
            browser.cmd("POST", "/window/rect", Some(rect));
            let png = browser.cmd("GET", "/screenshot", None);
            browser.cmd("POST", "/window/rect", Some(json!({"width": inner, "height": 800})));
            let bytes = base64_decode(png.as_str().unwrap_or_default());
            let slug: String = slug.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect();
            let name = format!("{inner}-{lang}-{who}-{slug}.png");
            std::fs::write(screenshot_dir().join(name), bytes).unwrap();
        }
    }
    problems
}

/// [`phone_problems`] at a phone's width (360 px) and a desktop's (1280 px).
fn at_both_widths(browser: &Driver, pages: &[String], who: &str) -> Vec<String> {
    let mut problems = Vec::new();
    for width in [360, 1280] {
        browser.cmd("POST", "/window/rect", Some(json!({"width": width, "height": 800})));
        problems.extend(phone_problems(browser, pages, who));
    }
    problems
}

/// Standard base64 (the WebDriver screenshot's encoding).
fn base64_decode(text: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        _ => 63,
    };
    let clean: Vec<u8> = text.bytes().filter(|c| *c != b'=' && !c.is_ascii_whitespace()).collect();
    let mut out = Vec::with_capacity(clean.len() * 3 / 4);
    for chunk in clean.chunks(4) {
        let n = chunk.iter().enumerate().fold(0u32, |acc, (i, c)| acc | (value(*c) as u32) << (18 - 6 * i));
        out.extend_from_slice(&n.to_be_bytes()[1..chunk.len()]);
    }
    out
}

/// At 360 px and at 1280 px, in Arabic and English, every page — anonymous, and as the
/// convener — fits without sideways scrolling (wide tables scroll inside their own
/// labelled, focusable region; long keys wrap), has no serious or critical axe-core
/// violation, no control under 44 px, and weighs under the budget before images; a
/// screenshot of each is kept.
#[test]
fn every_page_fits_a_phone_and_passes_axe_in_both_languages() {
    let demo = Running::start(&["demo", "--listen", "127.0.0.1:0"]);
    let dialogue = demo.value("demo dialogue:");
    let origin = demo.url.clone();
    let browser = Driver::start();
    browser.cmd("POST", "/window/rect", Some(json!({"width": 360, "height": 800})));
    let selections = format!("{dialogue}/selections");
    browser.go(&format!("{selections}?lang=en"));
    let selection =
        browser.script("return document.querySelector('table a').getAttribute('href')").as_str().unwrap().to_string();
    let decide = format!("{dialogue}/decide");
    let public = [
        format!("{origin}/"),
        format!("{origin}/login"),
        dialogue.clone(),
        format!("{dialogue}/record/view"),
        selections.clone(),
        format!("{origin}{selection}"),
        format!("{dialogue}/deliberation"),
        format!("{dialogue}/deliberation/results"),
        format!("{dialogue}/deliberation/results?groups=polis"),
        decide.clone(),
        format!("{decide}/charter"),
        format!("{decide}/priorities"),
        format!("{decide}/charter/board"),
        format!("{decide}/priorities/vote"),
        format!("{decide}/priorities/trustee"),
        format!("{origin}/trustee-keys"),
        format!("{dialogue}/witnesses"),
        format!("{dialogue}/declarations"),
        format!("{dialogue}/declarations/joint-statement"),
        format!("{dialogue}/declarations/joint-statement?version=1"),
        format!("{dialogue}/organisations/register"),
        format!("{dialogue}/agenda"),
    ];
    let mut problems = at_both_widths(&browser, &public, "anonymous");

    browser.go(&format!("{origin}/login?lang=en"));
    browser.type_into("#code", &demo.value("convener key:"));
    browser.click("form.stack button[type=submit]");
    browser.wait_for("!location.pathname.startsWith('/login')");
    let convener = [
        format!("{origin}/dialogues/new"),
        dialogue.clone(),
        format!("{dialogue}/manage"),
        selections.clone(),
        format!("{dialogue}/deliberation/moderation"),
        decide.clone(),
        format!("{decide}/priorities"),
        format!("{decide}/priorities/register"),
        format!("{dialogue}/witnesses"),
        format!("{dialogue}/declarations"),
        format!("{dialogue}/declarations/joint-statement"),
        format!("{dialogue}/agenda"),
    ];
    problems.extend(at_both_widths(&browser, &convener, "convener"));

    // A participant, in a browser of their own: the pages a member sees differently.
    let participant = Driver::start();
    participant.go(&format!("{origin}/login?lang=en"));
    participant.type_into("#code", &demo.values("invitation:").remove(0));
    participant.type_into("#pseudonym", "Participant on a phone");
    participant.click("form.stack button[type=submit]");
    participant.wait_for("document.querySelector('.access-key code')");
    let member = [
        dialogue.clone(),
        format!("{dialogue}/deliberation"),
        format!("{decide}/priorities/vote"),
        format!("{decide}/priorities/register"),
        format!("{dialogue}/declarations"),
        format!("{dialogue}/agenda"),
    ];
    problems.extend(at_both_widths(&participant, &member, "participant"));
    assert!(problems.is_empty(), "{problems:#?}");
}

/// A voter votes in the browser (Arabic): the page makes the ballot on the device with
/// the WebAssembly module under the page's own strict policy; the voter challenges the
/// first ballot (it opens to their choices and is published as challenged), then casts
/// a second one; both are on the board, and the record verifies.
#[test]
fn a_voter_challenges_then_casts_in_the_browser() {
    let demo = Running::start(&["demo", "--listen", "127.0.0.1:0"]);
    let credential = demo.values("credential:").remove(0);
    let dialogue_url = demo.value("demo dialogue:");
    let browser = Driver::start();
    browser.go(&format!("{dialogue_url}/decide/priorities/vote?lang=ar"));
    browser.wait_for("!document.getElementById('prepare').disabled");
    assert_eq!(browser.script("return document.documentElement.dir"), json!("rtl"));
    browser.click("#q0o1");
    browser.click("#q0o3");
    browser.type_into("#credential", &credential);
    browser.click("#prepare");
    browser.wait_for("document.getElementById('tracking').textContent.length === 64");
    let first = browser.script("return document.getElementById('tracking').textContent").as_str().unwrap().to_string();
    browser.click("#challenge");
    browser.wait_for(&format!("document.getElementById('outcome').textContent.includes('{first}')"));
    let outcome = browser.script("return document.getElementById('outcome').textContent").as_str().unwrap().to_string();
    assert!(
        outcome.contains("عودة النازحين") && outcome.contains("الاقتصاد والعمل"),
        "opened to the choices: {outcome}"
    );
    browser.click("#prepare");
    browser.wait_for(&format!(
        "document.getElementById('tracking').textContent.length === 64 && document.getElementById('tracking').textContent !== '{first}'"
    ));
    let second = browser.script("return document.getElementById('tracking').textContent").as_str().unwrap().to_string();
    browser.click("#cast");
    browser.wait_for(&format!("document.getElementById('outcome').textContent.includes('{second}')"));

    let dialogue = dialogue_url.rsplit('/').next().unwrap();
    let board: Value = serde_json::from_str(&get(&format!(
        "{}/api/dialogues/{dialogue}/elections/priorities/board?limit=1000",
        demo.url
    )))
    .unwrap();
    let entries = board["entries"].as_array().unwrap();
    assert!(entries.iter().any(|e| e["tracking"] == first.as_str() && e["spoiled"] == true), "{board}");
    assert!(entries.iter().any(|e| e["tracking"] == second.as_str() && e["spoiled"] == false), "{board}");
    let out = hiwar().args(["verify", &format!("{dialogue_url}/record")]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
}

impl Driver {
    /// Sets a text field's value directly (long keys and files' contents).
    fn set_value(&self, css: &str, value: &str) {
        let css = serde_json::to_string(css).unwrap();
        let value = serde_json::to_string(value).unwrap();
        self.script(&format!("document.querySelector({css}).value = {value}"));
    }

    fn text(&self, css: &str) -> String {
        let css = serde_json::to_string(css).unwrap();
        self.script(&format!("return document.querySelector({css}).textContent"))
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// Opens a new tab and switches to it; returns the handle of the tab it left.
    fn new_tab(&self) -> String {
        let previous = self.cmd("GET", "/window", None).as_str().unwrap().to_string();
        let tab = self.cmd("POST", "/window/new", Some(json!({"type": "tab"})));
        self.cmd("POST", "/window", Some(json!({"handle": tab["handle"]})));
        previous
    }

    fn switch_to(&self, handle: &str) {
        self.cmd("POST", "/window", Some(json!({ "handle": handle })));
    }
}

fn api(method: &str, url: &str, token: Option<&str>, body: Option<Value>) -> Value {
    let mut request = ureq::AgentBuilder::new().build().request(method, url);
    if let Some(t) = token {
        request = request.set("Authorization", &format!("Bearer {t}"));
    }
    let response = match body {
        Some(b) => request.send_json(b),
        None => request.call(),
    };
    let text = response.unwrap_or_else(|e| panic!("{method} {url}: {e}")).into_string().unwrap();
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

fn run_ok(args: &[&str]) -> String {
    let out = hiwar().args(args).output().unwrap();
    assert!(out.status.success(), "hiwar {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A `hiwar serve` on SQLite with a convener (logged in: its bearer token) and a
/// dialogue: (data directory, server, its address, token, dialogue id).
fn server_with_dialogue() -> (tempfile::TempDir, Running, String, String, String) {
    let (data, server, _, token, dialogue) = server_with_convener();
    let url = server.url.clone();
    (data, server, url, token, dialogue)
}

/// [`server_with_dialogue`], with the convener's personal key instead of the address:
/// (data directory, server, convener key, token, dialogue id).
fn server_with_convener() -> (tempfile::TempDir, Running, String, String, String) {
    let data = tempfile::tempdir().unwrap();
    let store = ["--data", data.path().to_str().unwrap()];
    let key = run_ok(&[&["convener", "add"][..], &store].concat()).lines().last().unwrap().to_string();
    let server = Running::start(&[&["serve", "--listen", "127.0.0.1:0"][..], &store].concat());
    let url = server.url.clone();
    let token = api("POST", &format!("{url}/api/login"), None, Some(json!({"code": key})))["token"]
        .as_str()
        .unwrap()
        .to_string();
    let dialogue = api(
        "POST",
        &format!("{url}/api/dialogues"),
        Some(&token),
        Some(json!({"title_ar": "حوار", "title_en": "Dialogue", "listed": true, "pseudonym": "Convener"})),
    )["id"]
        .as_str()
        .unwrap()
        .to_string();
    (data, server, key, token, dialogue)
}

/// The whole vote with real browsers: two trustees make their keys and run the ceremony
/// in the browser and one with `hiwar trustee`; voters vote in the browser (one
/// challenges first, one votes twice) and with `hiwar vote`; it closes; one browser
/// trustee and the command-line trustee decrypt (2 of 3); the results page shows the
/// counts in Arabic and English; both verifiers accept the record.
#[test]
fn a_whole_vote_with_trustees_and_voters_in_the_browser() {
    let (_data, _server, url, token, dialogue) = server_with_dialogue();
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).to_str().unwrap().to_string();

    // Trustees A and B make their keys in the browser; C with the command.
    let browser = Driver::start();
    let mut browser_trustees = Vec::new();
    for _ in 0..2 {
        browser.go(&format!("{url}/trustee-keys?lang=en"));
        browser.wait_for("!document.getElementById('keygen').disabled");
        browser.click("#keygen");
        browser.wait_for("document.getElementById('public').textContent.length > 0");
        let secret = browser.script("return document.getElementById('secret').value").as_str().unwrap().to_string();
        let public: Value = serde_json::from_str(&browser.text("#public")).unwrap();
        browser_trustees.push((secret, public));
    }
    let public_c: Value =
        serde_json::from_str(run_ok(&["trustee", "keygen", "--out", &path("c.json")]).trim()).unwrap();
    let authority: Value =
        serde_json::from_str(run_ok(&["election", "authority", "--out", &path("authority.json")]).trim()).unwrap();
    let election = json!({
        "id": "vote", "title": {"ar": "استفتاء", "en": "Referendum"},
        "questions": [{"title": {"ar": "هل توافق؟", "en": "Do you agree?"},
            "options": [{"ar": "نعم", "en": "Yes"}, {"ar": "لا", "en": "No"}], "min": 1, "max": 1}],
        "electorate": {"list": [{"voter": "v1"}, {"voter": "v2"}, {"voter": "v3"}]},
        "trustees": [browser_trustees[0].1, browser_trustees[1].1, public_c],
        "threshold": 2, "authority": authority["authority"],
    });
    api("POST", &format!("{url}/api/dialogues/{dialogue}/elections"), Some(&token), Some(election));
    let target = ["--server", url.as_str(), "--dialogue", dialogue.as_str(), "--election", "vote"];

    // The ceremony: A and B in two tabs, C on the command line, all at once.
    let trustee_page = format!("{url}/dialogues/{dialogue}/decide/vote/trustee?lang=en");
    browser.go(&trustee_page);
    browser.wait_for("!document.getElementById('ceremony').disabled");
    browser.set_value("#key", &browser_trustees[0].0);
    browser.click("#ceremony");
    let tab_a = browser.new_tab();
    browser.go(&trustee_page);
    browser.wait_for("!document.getElementById('ceremony').disabled");
    browser.set_value("#key", &browser_trustees[1].0);
    browser.click("#ceremony");
    let tab_b = browser.cmd("GET", "/window", None).as_str().unwrap().to_string();
    run_ok(&[&["trustee", "ceremony"][..], &target, &["--key", &path("c.json"), "--wait", "60"]].concat());
    for tab in [&tab_b, &tab_a] {
        browser.switch_to(tab);
        browser.wait_for("document.getElementById('outcome').textContent.includes('complete')");
    }

    // Credentials, then the vote opens.
    std::fs::write(path("roll.csv"), "voter,weight\nv1,1\nv2,1\nv3,1\n").unwrap();
    run_ok(
        &[
            &["election", "credentials"][..],
            &target,
            &[
                "--authority",
                &path("authority.json"),
                "--voters",
                &path("roll.csv"),
                "--out",
                &path("letters"),
                "--upload",
            ],
        ]
        .concat(),
    );
    api("POST", &format!("{url}/api/dialogues/{dialogue}/elections/vote/open"), Some(&token), None);
    let credential =
        |voter: &str| std::fs::read_to_string(dir.path().join("letters/voters").join(format!("{voter}.json"))).unwrap();

    // v1 challenges a ballot, then casts Yes; v2 votes No, then Yes; v3 votes No with the command.
    let vote_page = format!("{url}/dialogues/{dialogue}/decide/vote/vote?lang=ar");
    let vote = |voter: &str, option: usize, challenge_first: bool| {
        browser.go(&vote_page);
        browser.wait_for("!document.getElementById('prepare').disabled");
        browser.set_value("#credential", &credential(voter));
        browser.click(&format!("#q0o{option}"));
        if challenge_first {
            browser.click("#prepare");
            browser.wait_for("document.getElementById('tracking').textContent.length === 64");
            let opened = browser.text("#tracking");
            browser.click("#challenge");
            browser.wait_for(&format!("document.getElementById('outcome').textContent.includes('{opened}')"));
        }
        browser.click("#prepare");
        browser.wait_for("!document.getElementById('prepared').hidden");
        let tracking = browser.text("#tracking");
        browser.click("#cast");
        browser.wait_for(&format!("document.getElementById('outcome').textContent.includes('{tracking}')"));
    };
    vote("v1", 0, true);
    vote("v2", 1, false);
    std::thread::sleep(Duration::from_millis(5));
    vote("v2", 0, false);
    run_ok(&[&["vote"][..], &target, &["--credential", &path("letters/voters/v3.json"), "--choices", "1"]].concat());

    // It closes; trustee A (browser) and C (command line) decrypt.
    api("POST", &format!("{url}/api/dialogues/{dialogue}/elections/vote/close"), Some(&token), None);
    browser.go(&trustee_page);
    browser.wait_for("!document.getElementById('decrypt').disabled");
    browser.set_value("#key", &browser_trustees[0].0);
    browser.click("#decrypt");
    browser.wait_for("document.getElementById('outcome').textContent.includes('partial_decryption')");
    run_ok(&[&["trustee", "decrypt"][..], &target, &["--key", &path("c.json")]].concat());

    // Numbers as each language writes them (Arabic-Indic digits in Arabic).
    for (lang, heading, yes, no) in
        [("ar", "النتيجة", "٢ (٦٦٫٧٪\u{61C})", "١ (٣٣٫٣٪\u{61C})"), ("en", "Result", "2 (66.7%)", "1 (33.3%)")]
    {
        browser.go(&format!("{url}/dialogues/{dialogue}/decide/vote?lang={lang}"));
        browser.wait_for("document.querySelector('main')");
        let page = browser.text("main");
        assert!(page.contains(heading) && page.contains(yes) && page.contains(no), "{lang}: {page}");
    }
    let status = api("GET", &format!("{url}/api/dialogues/{dialogue}/elections/vote"), None, None);
    assert_eq!(status["result"]["counts"], json!([[2, 1]]), "{status}");
    assert_eq!(status["ballots"], json!({"cast": 4, "superseded": 1, "spoiled": 1}));
    let record = get(&format!("{url}/dialogues/{dialogue}/record"));
    let out = hiwar().args(["verify", &format!("{url}/dialogues/{dialogue}/record")]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    assert_eq!(common::python_verify(&record).0, 0);
}

impl Driver {
    /// The serious and critical accessibility violations axe-core (from npm, injected
    /// by the test: the page's own policy stays strict) finds on the current page.
    fn axe(&self) -> Vec<String> {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tools/axe/node_modules/axe-core/axe.min.js");
        let source = std::fs::read_to_string(path)
            .unwrap_or_else(|_| panic!("the accessibility checks need axe-core: run ./test, or npm ci in tools/axe"));
        self.script(&format!("{source}\nreturn true;"));
        let found = self.cmd(
            "POST",
            "/execute/async",
            Some(json!({"script": "const done = arguments[arguments.length - 1];
                axe.run(document, {resultTypes: ['violations']}).then((r) => done(r.violations
                  .filter((v) => v.impact === 'serious' || v.impact === 'critical')
                  .map((v) => v.id + ': ' + v.nodes.map((n) => n.target.join(' ')).join(', '))));", "args": []})),
        );
        found.as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect()
    }
}

/// Self-registration: a member logged in makes their credential in the browser and
/// registers only its public key; a second registration for them is refused (409); the
/// credential authority lists it as made by the members and makes a letter for the
/// member who did not register; both vote, the result counts both, and the record
/// verifies, saying which way each credential was made.
#[test]
fn a_member_makes_their_own_credential_and_votes_with_it() {
    let (_data, _server, url, token, dialogue) = server_with_dialogue();
    let codes = api(
        "POST",
        &format!("{url}/api/dialogues/{dialogue}/codes"),
        Some(&token),
        Some(json!({"role": "participant", "count": 2})),
    )["codes"]
        .clone();
    api("POST", &format!("{url}/api/login"), None, Some(json!({"code": codes[1], "pseudonym": "Karim"})));
    let browser = Driver::start();
    browser.go(&format!("{url}/login?lang=en"));
    browser.type_into("#code", codes[0].as_str().unwrap());
    browser.type_into("#pseudonym", "Huda");
    browser.click("form.stack button[type=submit]");
    browser.wait_for("document.querySelector('.access-key code')");

    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    let trustees: Vec<Value> = (1..=3)
        .map(|j| {
            serde_json::from_str(run_ok(&["trustee", "keygen", "--out", &path(&format!("t{j}.json"))]).trim()).unwrap()
        })
        .collect();
    let authority: Value =
        serde_json::from_str(run_ok(&["election", "authority", "--out", &path("authority.json")]).trim()).unwrap();
    api(
        "POST",
        &format!("{url}/api/dialogues/{dialogue}/elections"),
        Some(&token),
        Some(json!({
            "id": "vote", "title": {"ar": "استفتاء", "en": "Referendum"},
            "questions": [{"title": {"ar": "هل توافق؟", "en": "Do you agree?"},
                "options": [{"ar": "نعم", "en": "Yes"}, {"ar": "لا", "en": "No"}], "min": 1, "max": 1}],
            "electorate": {"role": "participant"}, "trustees": trustees, "threshold": 2, "authority": authority["authority"],
        })),
    );
    let target = ["--server", url.as_str(), "--dialogue", dialogue.as_str(), "--election", "vote"];
    let ceremony: Vec<_> = (1..=3)
        .map(|j| {
            hiwar()
                .args(["trustee", "ceremony"])
                .args(target)
                .args(["--key", &path(&format!("t{j}.json")), "--wait", "60"])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();

    // Huda makes her credential in the browser; only its public key is sent.
    browser.go(&format!("{url}/dialogues/{dialogue}/decide/vote/register?lang=en"));
    browser.wait_for("!document.getElementById('make').disabled");
    browser.click("#make");
    browser.wait_for("document.getElementById('outcome').textContent.includes('Registered')");
    let secret = browser.text("#secret");
    assert_eq!(secret.len(), 64 + 15, "64 hex digits in groups of 4: {secret}");
    // A second credential for her is refused.
    let another = hex::encode(hiwar_crypto::ballot::Credential::from_secret(&[5; 32]).public());
    let status = browser.cmd("POST", "/execute/async", Some(json!({"script": format!(
        "const done = arguments[arguments.length - 1];
         const data = JSON.parse(document.getElementById('register-data').textContent);
         fetch(location.pathname, {{method: 'POST', headers: {{'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json'}},
           body: new URLSearchParams({{csrf: data.csrf, credential: '{another}'}})}}).then((r) => done(r.status));"), "args": []})));
    assert_eq!(status, json!(409), "a second registration for one member");
    for child in ceremony {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }

    // The authority lists Huda's credential as made by the members, and makes Karim's.
    let download = |what: &str| {
        ureq::get(&format!("{url}/api/dialogues/{dialogue}/elections/vote/{what}"))
            .set("Authorization", &format!("Bearer {token}"))
            .call()
            .unwrap()
            .into_string()
            .unwrap()
    };
    std::fs::write(path("roll.csv"), download("roll")).unwrap();
    std::fs::write(path("registered.csv"), download("registrations")).unwrap();
    let out = hiwar()
        .args(["election", "credentials"])
        .args(target)
        .args([
            "--authority",
            &path("authority.json"),
            "--voters",
            &path("roll.csv"),
            "--registered",
            &path("registered.csv"),
        ])
        .args(["--out", &path("letters"), "--upload"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("1 credentials registered by members, 1 made here"));
    api("POST", &format!("{url}/api/dialogues/{dialogue}/elections/vote/open"), Some(&token), None);

    // Huda votes No in the browser with the code she made; Karim votes Yes with his letter.
    browser.go(&format!("{url}/dialogues/{dialogue}/decide/vote/vote?lang=en"));
    browser.wait_for("!document.getElementById('prepare').disabled");
    browser.set_value("#credential", &secret);
    browser.click("#q0o1");
    browser.click("#prepare");
    browser.wait_for("!document.getElementById('prepared').hidden");
    let tracking = browser.text("#tracking");
    browser.click("#cast");
    browser.wait_for(&format!("document.getElementById('outcome').textContent.includes('{tracking}')"));
    let letters = std::fs::read_dir(dir.path().join("letters/voters")).unwrap().next().unwrap().unwrap().path();
    run_ok(&[&["vote"][..], &target, &["--credential", letters.to_str().unwrap(), "--choices", "0"]].concat());
    api("POST", &format!("{url}/api/dialogues/{dialogue}/elections/vote/close"), Some(&token), None);
    for j in [1, 2] {
        run_ok(&[&["trustee", "decrypt"][..], &target, &["--key", &path(&format!("t{j}.json"))]].concat());
    }
    let status = api("GET", &format!("{url}/api/dialogues/{dialogue}/elections/vote"), None, None);
    assert_eq!(status["result"]["counts"], json!([[1, 1]]), "{status}");
    let record = get(&format!("{url}/dialogues/{dialogue}/record"));
    let made: Vec<String> = common::events(&record)
        .iter()
        .filter(|(k, _)| k == "election.credentials")
        .map(|(_, b)| b["made_by"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(made, ["members", "authority"]);
    let out = hiwar().args(["verify", &format!("{url}/dialogues/{dialogue}/record")]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    assert_eq!(common::python_verify(&record).0, 0);
}

/// Three organisations register with their invitation codes and sign a declaration in
/// the browser (their keys made on the device by the WebAssembly module); one withdraws;
/// the page shows two valid signatures; both verifiers accept the record — and reject
/// it once the operator changes the signed text in the database and re-signs the record
/// with the dialogue key.
#[test]
fn organisations_sign_in_the_browser_and_a_changed_text_fails_both_verifiers() {
    let (data, server, key, token, dialogue) = server_with_convener();
    let url = server.url.clone();
    let codes = api(
        "POST",
        &format!("{url}/api/dialogues/{dialogue}/codes"),
        Some(&token),
        Some(json!({"role": "organisation", "count": 3})),
    )["codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect::<Vec<_>>();

    // The convener drafts the declaration and opens it for signing.
    let convener = Driver::start();
    convener.go(&format!("{url}/login?lang=en"));
    convener.type_into("#code", &key);
    convener.click("form.stack button[type=submit]");
    convener.wait_for("!location.pathname.startsWith('/login')");
    convener.go(&format!("{url}/dialogues/{dialogue}/declarations?lang=en"));
    convener.type_into("#title_ar", "بيان مشترك");
    convener.type_into("#title_en", "Joint statement");
    convener.type_into("#text_ar", "نطالب بالكشف عن مصير المعتقلين.");
    convener.type_into("#text_en", "We demand to know the fate of the detainees.");
    convener.click("#draft ~ form button[type=submit]");
    convener.wait_for("document.getElementById('closes')");
    let page = convener.script("return location.pathname").as_str().unwrap().to_string();
    convener.script("document.getElementById('closes').value = '2099-01-01T12:00'; return null");
    convener.click("#open ~ form button[type=submit]");
    convener.wait_for("document.getElementById('sign-button')");

    // Three organisations register in a browser of their own, each making its key.
    let org = Driver::start();
    let mut keys = Vec::new();
    for (i, code) in codes.iter().enumerate() {
        org.go(&format!("{url}/dialogues/{dialogue}/organisations/register?lang=en"));
        org.wait_for("!document.getElementById('register-button').disabled");
        org.type_into("#code", code);
        org.type_into("#name_ar", &format!("منظمة {}", i + 1));
        org.type_into("#name_en", &format!("Organisation {}", i + 1));
        org.click("#register-button");
        org.wait_for("document.getElementById('secret').textContent.length > 0 && /org-/.test(document.getElementById('outcome').textContent)");
        let secret =
            org.script("return document.getElementById('secret').textContent").as_str().unwrap().replace('-', "");
        let outcome = org.script("return document.getElementById('outcome').textContent").as_str().unwrap().to_string();
        let signatory = outcome.split_whitespace().last().unwrap().to_string();
        keys.push((secret, signatory));
    }

    // Each signs the open version; the third then withdraws.
    let act = |secret: &str, signatory: &str, button: &str| {
        org.go(&format!("{url}{page}?lang=en"));
        org.wait_for("!document.getElementById('sign-button').disabled");
        org.type_into("#key-secret", secret);
        org.type_into("#key-signatory", signatory);
        if button == "#withdraw-button" {
            org.type_into("#withdraw-reason", "Our board did not approve.");
        }
        org.click(button);
        org.wait_for("/recorded/.test(document.getElementById('outcome').textContent)");
        org.script("return document.getElementById('outcome').className").as_str().unwrap().to_string()
    };
    for (secret, signatory) in &keys {
        assert_eq!(act(secret, signatory, "#sign-button"), "", "signing by {signatory}");
    }
    act(&keys[2].0, &keys[2].1, "#withdraw-button");
    org.go(&format!("{url}{page}?lang=en"));
    org.wait_for("document.getElementById('signed')");
    let heading = org.script("return document.getElementById('signed').textContent").as_str().unwrap().to_string();
    assert_eq!(heading.replace(['\u{2068}', '\u{2069}'], ""), "2 valid signatures");
    assert_eq!(org.script("return document.querySelectorAll('ul.signatures li').length"), json!(2));
    assert!(org.script("return document.body.textContent").as_str().unwrap().contains("Our board did not approve."));

    // Both verifiers accept the record …
    let record = get(&format!("{url}/dialogues/{dialogue}/record"));
    assert_eq!(common::verify(&record).0, 0);
    assert_eq!(common::python_verify(&record).0, 0);
    // … and reject it once the signed text is changed in the database and the record
    // re-signed with the dialogue key (the hash recomputed too: the organisations'
    // signatures are over the old one).
    drop(server);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let store = hiwar_store::Store::open_sqlite(data.path()).await.unwrap();
        hiwar_store::testing::rewrite_record(&store, &dialogue, |mut events| {
            for (kind, body) in events.iter_mut().filter(|(k, _)| k == "declaration.drafted") {
                let _ = kind;
                body["text"]["en"] = json!("We demand nothing.");
                let (id, version) =
                    (body["declaration"].as_str().unwrap().to_string(), body["version"].as_u64().unwrap());
                let hash =
                    hiwar_record::declaration::version_hash(&dialogue, &id, version, &body["title"], &body["text"]);
                body["hash"] = json!(hex::encode(hash));
            }
            events
        })
        .await;
    });
    let server = Running::start(&["serve", "--listen", "127.0.0.1:0", "--data", data.path().to_str().unwrap()]);
    let forged = get(&format!("{}/dialogues/{dialogue}/record", server.url));
    let (code, out) = common::verify(&forged);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("VERIFICATION FAILED: D3"), "{out}");
    let (code, out) = common::python_verify(&forged);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("D3 failed"), "{out}");
}
