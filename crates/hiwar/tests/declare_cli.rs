//! `hiwar org` and `hiwar declaration` against the demo: an organisation makes its key,
//! registers with an invitation code, signs the open version of the demo's joint
//! statement (reading its text from the verified record), hands over to a new key,
//! withdraws with it (for good: it cannot sign that version again), and finally revokes
//! itself; the old key is refused, and the record verifies.

mod common;

use common::{call, hiwar, Running};
use serde_json::json;

fn run<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> (bool, String) {
    let out = hiwar().args(args).output().unwrap();
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

#[test]
fn an_organisation_registers_signs_withdraws_rotates_and_revokes_from_the_command_line() {
    let demo = Running::start(&["demo", "--listen", "127.0.0.1:0"]);
    let dialogue = demo.value("demo dialogue:").rsplit('/').next().unwrap().to_string();
    let (_, login) =
        call("POST", &format!("{}/api/login", demo.url), None, Some(json!({"code": demo.value("convener key:")})));
    let token = login["token"].as_str().unwrap().to_string();
    let (status, issued) = call(
        "POST",
        &format!("{}/api/dialogues/{dialogue}/codes", demo.url),
        Some(&token),
        Some(json!({"role": "organisation", "count": 1})),
    );
    assert_eq!(status, 201, "{issued}");
    let code = issued["codes"][0].as_str().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let (key, next) = (dir.path().join("org.json"), dir.path().join("org-2.json"));
    let (key, next) = (key.to_str().unwrap(), next.to_str().unwrap());
    let target = ["--server", demo.url.as_str(), "--dialogue", dialogue.as_str()];
    let with = |args: &[&str]| -> Vec<String> { args.iter().chain(&target).map(|s| s.to_string()).collect() };

    let (ok, out) = run(&["org", "keygen", "--out", key]);
    assert!(ok, "{out}");
    let (ok, out) = run(&with(&[
        "org",
        "register",
        "--key",
        key,
        "--code",
        &code,
        "--name-ar",
        "رابطة الصحفيين",
        "--name-en",
        "Journalists' League",
        "--kind",
        "media",
        "--place",
        "abroad",
    ]));
    assert!(ok, "{out}");
    assert!(out.contains("registered as signatory org-"), "{out}");
    // The code is spent.
    let (ok, out) = run(&with(&[
        "org",
        "register",
        "--key",
        key,
        "--code",
        &code,
        "--name-ar",
        "أ",
        "--name-en",
        "A",
        "--kind",
        "ngo",
    ]));
    assert!(!ok && out.contains("401"), "{out}");

    let sign = |key: &str| run(&with(&["declaration", "sign", "--declaration", "joint-statement", "--key", key]));
    let (ok, out) = sign(key);
    assert!(ok, "{out}");
    assert!(
        out.contains("detainee and missing person") && out.contains("signing version 2"),
        "the text is shown: {out}"
    );
    let (ok, out) = sign(key);
    assert!(!ok && out.contains("already signed"), "{out}");
    let (ok, out) = run(&with(&["org", "rotate", "--key", key, "--out", next, "--reason", "a new laptop"]));
    assert!(ok, "{out}");
    let withdraw = |key: &str| {
        run(&with(&[
            "declaration",
            "withdraw",
            "--declaration",
            "joint-statement",
            "--key",
            key,
            "--declaration-version",
            "2",
            "--reason",
            "a mistake",
        ]))
    };
    let (ok, out) = withdraw(key);
    assert!(!ok && out.contains("does not verify"), "the old key withdraws nothing: {out}");
    let (ok, out) = withdraw(next);
    assert!(ok, "{out}");
    let (ok, out) = sign(next);
    assert!(!ok && out.contains("withdrew"), "a withdrawal is final: {out}");
    let (ok, out) = run(&with(&["org", "revoke", "--key", next, "--reason", "we are leaving the coalition"]));
    assert!(ok, "{out}");
    let (ok, out) = run(&with(&[
        "declaration",
        "withdraw",
        "--declaration",
        "joint-statement",
        "--key",
        next,
        "--declaration-version",
        "2",
    ]));
    assert!(!ok && out.contains("revoked"), "{out}");
    let (ok, out) = run(&["verify", &format!("{}/dialogues/{dialogue}/record", demo.url)]);
    assert!(ok, "{out}");
}
