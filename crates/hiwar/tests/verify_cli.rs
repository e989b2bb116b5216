//! `hiwar verify` on a record served by a real demo server: it accepts the record
//! and rejects it after any line is changed, removed, reordered or re-signed.

mod common;

use common::{get, hiwar, python_verify, Running};
use ed25519_dalek::SigningKey;
use hiwar_record::Event;
use serde_json::Value;

fn verify_file(contents: &str, extra: &[&str]) -> (i32, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("record.jsonl");
    std::fs::write(&path, contents).unwrap();
    let mut args = vec!["verify", path.to_str().unwrap()];
    args.extend_from_slice(extra);
    let out = hiwar().args(&args).output().unwrap();
    (out.status.code().unwrap(), String::from_utf8_lossy(&out.stdout).into_owned())
}

fn lines(record: &str) -> Vec<String> {
    record.lines().map(String::from).collect()
}

fn join(lines: &[String]) -> String {
    lines.iter().map(|l| format!("{l}\n")).collect()
}

#[test]
fn verify_accepts_the_served_record_and_rejects_every_tampering() {
    let demo = Running::start(&["demo", "--listen", "127.0.0.1:0"]);
    let record_url = demo.value("public record:");
    let record = get(&record_url);

    // By URL and from a downloaded file.
    let out = hiwar().args(["verify", &record_url]).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.contains("R7") && stdout.contains("all checks hold"));
    let (code, stdout) = verify_file(&record, &[]);
    assert_eq!(code, 0, "{stdout}");
    let key = stdout.lines().find_map(|l| l.strip_prefix("dialogue key: ")).unwrap()[..64].to_string();

    let original = lines(&record);
    assert_eq!(python_verify(&record).0, 0, "the independent verifier accepts the honest record");
    let expect_fail = |tampered: String, check: &str, what: &str| {
        let (code, stdout) = verify_file(&tampered, &[]);
        assert_eq!(code, 1, "{what}: {stdout}");
        assert!(stdout.contains(&format!("VERIFICATION FAILED: {check}")), "{what}: {stdout}");
        let (code, stdout) = python_verify(&tampered);
        assert_eq!(code, 1, "python, {what}: {stdout}");
        assert!(stdout.contains(&format!("VERIFICATION FAILED: {check}")), "python, {what}: {stdout}");
    };

    // Changed: a pseudonym in a join.
    let mut changed = original.clone();
    let i = changed.iter().position(|l| l.contains("Omar")).unwrap();
    changed[i] = changed[i].replace("Omar", "Amar");
    expect_fail(join(&changed), "R7", "changed line");
    // Removed.
    let mut removed = original.clone();
    removed.remove(3);
    expect_fail(join(&removed), "R4", "removed line");
    // Reordered.
    let mut reordered = original.clone();
    reordered.swap(4, 5);
    expect_fail(join(&reordered), "R4", "reordered lines");
    // Re-signed with another key (content, seq and prev kept).
    let mut resigned = original.clone();
    let v: Value = serde_json::from_str(&resigned[6]).unwrap();
    let other_key = SigningKey::from_bytes(&[7u8; 32]);
    resigned[6] = Event {
        dialogue: v["dialogue"].as_str().unwrap().into(),
        seq: v["seq"].as_u64().unwrap(),
        prev: v["prev"].as_str().unwrap().into(),
        time: v["time"].as_str().unwrap().into(),
        kind: v["kind"].as_str().unwrap().into(),
        body: v["body"].clone(),
    }
    .seal(&other_key)
    .unwrap()
    .text;
    expect_fail(join(&resigned), "R7", "re-signed line");

    let mut not_utf8 = record.clone().into_bytes();
    not_utf8[10] = 0xff;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bin"), &not_utf8).unwrap();
    let out = hiwar().args(["verify", dir.path().join("bin").to_str().unwrap()]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("R1"));

    // Pinned key: the right one passes, another fails.
    assert_eq!(verify_file(&record, &["--key", &key]).0, 0);
    let (code, stdout) = verify_file(&record, &["--key", &"ab".repeat(32)]);
    assert_eq!(code, 1);
    assert!(stdout.contains("R6"));

    // An earlier copy must be a prefix: a truncated "new" copy is caught.
    let dir = tempfile::tempdir().unwrap();
    let earlier = dir.path().join("earlier.jsonl");
    std::fs::write(&earlier, &record).unwrap();
    let (code, stdout) =
        verify_file(&join(&original[..original.len() - 2]), &["--previous", earlier.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(stdout.contains("R10"), "{stdout}");

    // Unreadable sources are an error of their own (exit 2), not a verdict.
    assert_eq!(hiwar().args(["verify", "/no/such/file"]).output().unwrap().status.code(), Some(2));
    assert_eq!(
        hiwar().args(["verify", &format!("{}/dialogues/nope/record", demo.url)]).output().unwrap().status.code(),
        Some(2)
    );
}

#[test]
fn convener_add_and_config_file() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("hiwar.toml");
    std::fs::write(&config, format!("data = {:?}\nlogins_per_minute = 5\n", dir.path().join("data"))).unwrap();
    let out = hiwar().args(["--config", config.to_str().unwrap(), "convener", "add"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let key = String::from_utf8_lossy(&out.stdout).lines().last().unwrap().to_string();
    assert_eq!(key.len(), 23);
    assert!(dir.path().join("data/hiwar.sqlite3").exists());
    // The server on that data directory accepts the key.
    let server = Running::start(&["--config", config.to_str().unwrap(), "serve", "--listen", "127.0.0.1:0"]);
    let reply = ureq::post(&format!("{}/api/login", server.url)).send_json(serde_json::json!({"code": key})).unwrap();
    assert_eq!(reply.status(), 200);
    // A config file with an unknown key is refused with its name.
    std::fs::write(&config, "listen_on = \"x\"\n").unwrap();
    let out = hiwar().args(["--config", config.to_str().unwrap(), "convener", "add"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("listen_on"));
}

#[test]
fn help_explains_the_commands() {
    let out = hiwar().arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    for word in ["serve", "demo", "verify", "convener"] {
        assert!(help.contains(word), "{help}");
    }
    let out = hiwar().args(["serve", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(help.contains("--database-url") && help.contains("HIWAR_DATA") && help.contains("127.0.0.1:8080"));
}
