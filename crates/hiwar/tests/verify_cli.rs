//! `hiwar verify` on a record served by a real demo server: it accepts the record
//! and rejects it after any line is changed, removed, reordered or re-signed.

mod common;

use common::{assert_fails, events, get, hiwar, python_verify, reseal_as, verify_with, Running};
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

#[test]
fn selections_are_checked_in_the_record_and_against_their_manifests() {
    let demo = Running::start(&["demo", "--listen", "127.0.0.1:0"]);
    let record_url = demo.value("public record:");
    let record = get(&record_url);
    // Re-signed under the record's own dialogue id, which the demo's elections are bound to.
    let dialogue = record_url.trim_end_matches("/record").rsplit('/').next().unwrap().to_string();
    let s3_line = |stdout: &str| stdout.lines().find(|l| l.contains(" S3 ")).unwrap_or("").to_string();

    // From the URL, the manifest is fetched from the same server and S3 runs.
    let out = hiwar().args(["verify", &record_url]).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{stdout}");
    assert!(s3_line(&stdout).contains("ok"), "{stdout}");
    let t1 = stdout.lines().find(|l| l.contains(" T1 ")).unwrap_or("");
    assert!(t1.contains("ok"), "the statement texts are fetched and checked (T1): {stdout}");

    // T1 from files, by both verifiers: the served texts, then one of them changed.
    let dir = tempfile::tempdir().unwrap();
    let (record_file, texts_file) = (dir.path().join("record.jsonl"), dir.path().join("statements.json"));
    std::fs::write(&record_file, &record).unwrap();
    let texts = get(&record_url.replace("/record", "/statements.json"));
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tools/verify_record.py");
    let both = |texts: &str| {
        std::fs::write(&texts_file, texts).unwrap();
        let rust = hiwar()
            .args(["verify", record_file.to_str().unwrap(), "--statements", texts_file.to_str().unwrap()])
            .output()
            .unwrap();
        let python = std::process::Command::new("python3")
            .args([script, record_file.to_str().unwrap(), "--statements", texts_file.to_str().unwrap()])
            .output()
            .unwrap();
        (
            rust.status.code(),
            String::from_utf8_lossy(&rust.stdout).into_owned(),
            python.status.code(),
            String::from_utf8_lossy(&python.stdout).into_owned(),
        )
    };
    let (rust, rust_out, python, python_out) = both(&texts);
    assert_eq!((rust, python), (Some(0), Some(0)), "{rust_out}\n{python_out}");
    assert!(python_out.contains("statement texts match the record"), "{python_out}");
    let mut served: Value = serde_json::from_str(&texts).unwrap();
    let entry = served["statements"].as_array_mut().unwrap().iter_mut().find(|e| e.get("text").is_some()).unwrap();
    entry["text"] = Value::String(format!("{} (edited)", entry["text"].as_str().unwrap()));
    let (rust, rust_out, python, python_out) = both(&served.to_string());
    assert_eq!((rust, python), (Some(1), Some(1)), "{rust_out}\n{python_out}");
    assert!(
        rust_out.contains("VERIFICATION FAILED: T1") && python_out.contains("VERIFICATION FAILED: T1"),
        "{rust_out}\n{python_out}"
    );

    let mut evs = events(&record);
    let published = evs.iter().position(|(k, _)| k == "selection.published").expect("the demo publishes a selection");
    let drawn = evs.iter().position(|(k, _)| k == "selection.drawn").unwrap();
    let seated = evs.iter().position(|(k, _)| k == "selection.seated").unwrap();
    assert!(published < drawn && drawn < seated);
    let sid = evs[published].1["selection"].as_str().unwrap().to_string();
    let manifest_url = format!("{}/selections/{sid}/manifest.json", record_url.trim_end_matches("/record"));
    let manifest = get(&manifest_url);

    // From a file: S3 is skipped without manifests, and runs with them.
    let resealed = reseal_as(&dialogue, &evs);
    let (code, stdout) = verify_with(&resealed, &[]);
    assert_eq!(code, 0, "{stdout}");
    assert!(s3_line(&stdout).contains("skip"), "{stdout}");
    assert_eq!(python_verify(&resealed).0, 0);
    let dir = tempfile::tempdir().unwrap();
    let with_manifests = |manifest: &str, record: &str| {
        std::fs::write(dir.path().join(format!("{sid}-manifest.json")), manifest).unwrap();
        verify_with(record, &["--manifests", dir.path().to_str().unwrap()])
    };
    let (code, stdout) = with_manifests(&manifest, &resealed);
    assert_eq!(code, 0, "{stdout}");
    assert!(s3_line(&stdout).contains("ok"), "{stdout}");

    // An operator who re-signs everything still cannot move the draw (S2) or its order (S1).
    let mut other_index = evs.clone();
    let panels = evs[published].1["panels"].as_u64().unwrap();
    let index = evs[drawn].1["index"].as_u64().unwrap();
    other_index[drawn].1["index"] = serde_json::json!((index + 1) % panels);
    assert_fails(&other_index, "S2", "another panel index");
    let mut other_beacon = evs.clone();
    other_beacon[drawn].1["beacon"] = serde_json::json!("a beacon chosen after the fact");
    assert_fails(&other_beacon, "S2", "another beacon with the old seed");
    let mut other_hash = evs.clone();
    other_hash[published].1["manifest_hash"] = serde_json::json!("00".repeat(32));
    assert_fails(&other_hash, "S2", "another manifest hash");
    let mut drawn_first = evs.clone();
    drawn_first.swap(published, drawn);
    assert_fails(&drawn_first, "S1", "a draw before its publication");
    let mut twice = evs.clone();
    let again = twice[drawn].clone();
    twice.insert(drawn + 1, again);
    assert_fails(&twice, "S1", "a second draw");
    let mut short_panel = evs.clone();
    short_panel[drawn].1["panel"].as_array_mut().unwrap().pop();
    assert_fails(&short_panel, "S1", "a panel missing a member");
    let participant_batch =
        evs.iter().find(|(k, b)| k == "codes.issued" && b["role"] == "participant").unwrap().1["batch"].clone();
    let mut wrong_batch = evs.clone();
    wrong_batch[seated].1["batch"] = participant_batch;
    assert_fails(&wrong_batch, "S1", "seating through participant invitations");
    // Seats from a batch the operator prepared before publication, or one already used,
    // or one that seated another selection.
    let size = evs[published].1["size"].clone();
    let early =
        ("codes.issued".to_string(), serde_json::json!({"batch": "b-early", "role": "delegate", "count": size}));
    let mut prepared = evs.clone();
    prepared.insert(published, early);
    prepared[seated + 1].1["batch"] = serde_json::json!("b-early");
    assert_fails(&prepared, "S1", "seating through a batch issued before publication");
    let mut used = evs.clone();
    used.insert(
        seated,
        ("codes.issued".into(), serde_json::json!({"batch": "b-used", "role": "delegate", "count": size})),
    );
    used.insert(
        seated + 1,
        ("member.joined".into(), serde_json::json!({"member": "m-early-bird", "pseudonym": "Early bird", "role": "delegate", "batch": "b-used"})),
    );
    used[seated + 2].1["batch"] = serde_json::json!("b-used");
    assert_fails(&used, "S1", "seating through a batch already used");
    // A convener seated through a participant invitation, with no role.granted line.
    let mut promoted = evs.clone();
    let join = promoted.iter().position(|(k, b)| k == "member.joined" && b["role"] == "participant").unwrap();
    promoted[join].1["role"] = serde_json::json!("convener");
    assert_fails(&promoted, "R9", "a join whose role differs from its batch's");

    // A swapped panel member passes S1 and S2 but not the manifest (S3).
    let pool: serde_json::Value = serde_json::from_str(&manifest).unwrap();
    let panel: Vec<String> = serde_json::from_value(evs[drawn].1["panel"].clone()).unwrap();
    let outsider = pool["pool"]["volunteers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["id"].as_str().unwrap().to_string())
        .find(|id| !panel.contains(id))
        .unwrap();
    evs[drawn].1["panel"][0] = serde_json::json!(outsider);
    let swapped = reseal_as(&dialogue, &evs);
    assert_eq!(python_verify(&swapped).0, 0, "the record alone cannot see it");
    let (code, stdout) = with_manifests(&manifest, &swapped);
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.contains("VERIFICATION FAILED: S3"), "{stdout}");
    // An altered manifest fails S3 against the honest record.
    let mut altered: serde_json::Value = serde_json::from_str(&manifest).unwrap();
    let first = altered["panels"][0][0].clone();
    altered["panels"][0][0] = altered["panels"][1][0].clone();
    altered["panels"][1][0] = first;
    let (code, stdout) = with_manifests(&altered.to_string(), &resealed);
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.contains("VERIFICATION FAILED: S3"), "{stdout}");
}

#[test]
fn a_taken_port_and_an_unusable_data_directory_are_named() {
    let first = Running::start(&["demo", "--listen", "127.0.0.1:0"]);
    let port = first.url.rsplit(':').next().unwrap().to_string();
    let out = hiwar().args(["demo", "--listen", &format!("127.0.0.1:{port}")]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains(&format!("127.0.0.1:{port}")) && stderr.contains("--listen"), "{stderr}");
    let out = hiwar().args(["serve", "--data", "/proc/hiwar-data", "--listen", "127.0.0.1:0"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("/proc/hiwar-data"), "{stderr}");
}

/// Serves `body` once at any path, then drops the connection: with `chunked`, after the
/// bytes without the closing chunk; otherwise with a Content-Length larger than sent.
fn serve_cut(body: Vec<u8>, chunked: bool) -> String {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/cut.jsonl", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let mut request = [0u8; 4096];
        let _ = stream.read(&mut request);
        let head = if chunked {
            "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n".to_string()
        } else {
            format!("HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n", body.len() * 2)
        };
        let _ = stream.write_all(head.as_bytes());
        if chunked {
            let _ = stream.write_all(format!("{:x}\r\n", body.len()).as_bytes());
            let _ = stream.write_all(&body);
            let _ = stream.write_all(b"\r\n");
        } else {
            let _ = stream.write_all(&body);
        }
        // Dropped here: the connection closes mid-record.
    });
    url
}

#[test]
fn json_output_tracking_codes_and_a_cut_download() {
    let demo = Running::start(&["demo", "--listen", "127.0.0.1:0"]);
    let record_url = demo.value("public record:");
    let record = get(&record_url);

    // --json: one document with every check's outcome, the same exit code.
    let out = hiwar().args(["verify", "--json", &record_url]).output().unwrap();
    assert!(out.status.success());
    let doc: Value = serde_json::from_slice(&out.stdout).expect("one JSON document on stdout");
    assert_eq!(doc["verdict"], "ok");
    assert_eq!(doc["checks"].as_array().unwrap().len(), hiwar_record::CHECKS.len());
    assert!(doc["checks"].as_array().unwrap().iter().all(|c| c["outcome"] == "ok" || c["outcome"] == "skip"));
    assert!(doc["summary"]["ballots"].as_u64().unwrap() > 0);
    let mut tampered = lines(&record);
    let i = tampered.iter().position(|l| l.contains("\"kind\":\"ballot.cast\"")).unwrap();
    tampered[i] = tampered[i].replacen("\"counter\":", "\"counter\":1", 1);
    let (code, stdout) = verify_file(&join(&tampered), &["--json"]);
    assert_eq!(code, 1, "{stdout}");
    let doc: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(doc["verdict"], "failed");
    assert_eq!(doc["failure"]["line"], i);
    let failed = doc["failure"]["check"].as_str().unwrap();
    assert!(failed == "R7", "{stdout}");
    assert!(doc["checks"].as_array().unwrap().iter().any(|c| c["id"] == failed && c["outcome"] == "fail"));

    // --tracking: counted, superseded, challenged, absent.
    let ballots: Vec<(String, Value)> =
        events(&record).into_iter().filter(|(k, _)| k == "ballot.cast" || k == "ballot.spoiled").collect();
    let superseded = |n: usize| {
        let (kind, b) = &ballots[n];
        kind == "ballot.cast"
            && ballots[n + 1..].iter().any(|(k, later)| {
                k == "ballot.cast" && later["credential"] == b["credential"] && later["election"] == b["election"]
            })
    };
    let mut seen = std::collections::BTreeSet::new();
    for (n, (kind, b)) in ballots.iter().enumerate() {
        let status = match (kind.as_str(), superseded(n)) {
            ("ballot.spoiled", _) => "challenged",
            (_, true) => "superseded",
            _ => "counted",
        };
        if !seen.insert(status) {
            continue;
        }
        let code = b["tracking"].as_str().unwrap();
        let out = hiwar().args(["verify", "--json", "--tracking", code, &record_url]).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
        let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(doc["tracking"]["status"], status, "{code}");
        let out = hiwar().args(["verify", "--tracking", code, &record_url]).output().unwrap();
        assert!(String::from_utf8_lossy(&out.stdout).contains(&format!("tracking code {code}")));
    }
    assert!(
        seen.contains("counted") && seen.contains("challenged"),
        "the demo has counted and challenged ballots: {seen:?}"
    );
    let absent = "ab".repeat(32);
    let out = hiwar().args(["verify", "--tracking", &absent, &record_url]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("is NOT in the record"));

    // A download cut short is no verdict on the record: exit 2, not a failed check.
    let half = record.as_bytes()[..record.len() / 2].to_vec();
    for chunked in [true, false] {
        let out = hiwar().args(["verify", &serve_cut(half.clone(), chunked)]).output().unwrap();
        let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert_eq!(out.status.code(), Some(2), "chunked {chunked}: {stdout} {stderr}");
        assert!(stderr.contains("could not be read to its end"), "chunked {chunked}: {stderr}");
        assert!(!stdout.contains("VERIFICATION FAILED"), "chunked {chunked}: {stdout}");
    }
}
