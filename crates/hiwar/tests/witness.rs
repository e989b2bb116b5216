//! Witnesses against the operator: a server, three `hiwar witness watch` processes, then
//! each attack the holder of the database and the dialogue key could try — a forked
//! record shown to different witnesses, an old line rewritten and re-signed, a record
//! cut short, a forged co-signature, a witness not in the verifier's list, stale heads —
//! and what the witnesses and both verifiers say.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{call, get, hiwar, python_verify, Running};
use serde_json::{json, Value};

fn run(args: &[&str]) -> (i32, String) {
    let out = hiwar().args(args).output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.code().unwrap_or(-1), text)
}

fn serve(data: &Path) -> Running {
    Running::start(&["serve", "--listen", "127.0.0.1:0", "--data", data.to_str().unwrap()])
}

/// Adds a phase through the API: one more line in the record.
fn add_event(server: &str, dialogue: &str, token: &str, name: &str) {
    let body =
        json!({"kind": "deliberation", "name_ar": name, "name_en": name, "starts": "2026-12-01", "ends": "2026-12-31"});
    let (status, answer) = call("POST", &format!("{server}/api/dialogues/{dialogue}/phases"), Some(token), Some(body));
    assert_eq!(status, 201, "{answer}");
}

fn checkpoint(server: &str, dialogue: &str) -> Value {
    serde_json::from_str(&get(&format!("{server}/dialogues/{dialogue}/checkpoint"))).unwrap()
}

/// Waits until each of `keys` has co-signed the record at its current size.
fn wait_cosigned(server: &str, dialogue: &str, keys: &[&str]) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let doc = checkpoint(server, dialogue);
        let size = doc["checkpoint"]["size"].as_u64().unwrap();
        let done = keys.iter().all(|k| {
            doc["cosignatures"].as_array().unwrap().iter().any(|c| {
                c["witness"] == *k
                    && c["checkpoint"]["size"].as_u64().unwrap() + 3 >= size
                    && content_covered(server, dialogue, c["checkpoint"]["size"].as_u64().unwrap())
            })
        });
        if done {
            return;
        }
        assert!(Instant::now() < deadline, "the witnesses did not co-sign: {doc}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Whether every line after `size` is a co-signature.
fn content_covered(server: &str, dialogue: &str, size: u64) -> bool {
    let rest = get(&format!("{server}/dialogues/{dialogue}/record?from={size}"));
    rest.lines().all(|l| l.contains("\"kind\":\"witness.cosigned\""))
}

struct Watcher {
    child: Child,
    state: PathBuf,
}

impl Watcher {
    fn start(server: &str, dialogue: &str, key: &Path, state: PathBuf) -> Watcher {
        let child = hiwar()
            .args(["witness", "watch", "--dialogue", &format!("{server}/dialogues/{dialogue}")])
            .args(["--key", key.to_str().unwrap(), "--state", state.to_str().unwrap(), "--every", "1"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        Watcher { child, state }
    }

    /// Waits for the watcher to stop on its own; its exit status and what it said.
    fn stopped(&mut self) -> (i32, String) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while self.child.try_wait().unwrap().is_none() {
            assert!(Instant::now() < deadline, "the witness did not notice");
            std::thread::sleep(Duration::from_millis(200));
        }
        let mut said = String::new();
        std::io::Read::read_to_string(self.child.stderr.as_mut().unwrap(), &mut said).unwrap();
        (self.child.wait().unwrap().code().unwrap_or(-1), said)
    }

    fn evidence(&self) -> PathBuf {
        std::fs::read_dir(&self.state)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.file_name().unwrap().to_string_lossy().starts_with("evidence-"))
            .expect("the witness kept evidence")
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn operator_rewrites(data: &Path, dialogue: &str, edit: impl FnOnce(Vec<(String, Value)>) -> Vec<(String, Value)>) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let store = hiwar_store::Store::open_sqlite(data).await.unwrap();
        hiwar_store::testing::rewrite_record(&store, dialogue, edit).await;
    });
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

#[test]
fn witnesses_and_verifiers_catch_every_rewrite_fork_and_truncation() {
    let dir = tempfile::tempdir().unwrap();
    let data_a = dir.path().join("a");
    let out = hiwar().args(["convener", "add", "--data", data_a.to_str().unwrap()]).output().unwrap();
    assert!(out.status.success());
    let convener_key = String::from_utf8_lossy(&out.stdout).lines().last().unwrap().to_string();

    // Three observers make their keys; a convener adds them.
    let keys: Vec<(PathBuf, String)> = (1..=3)
        .map(|i| {
            let path = dir.path().join(format!("witness-{i}.key"));
            let out = hiwar().args(["witness", "init", "--out", path.to_str().unwrap()]).output().unwrap();
            assert!(out.status.success());
            (path, String::from_utf8_lossy(&out.stdout).trim().to_string())
        })
        .collect();
    let keys_file = dir.path().join("witnesses.txt");
    std::fs::write(&keys_file, keys.iter().map(|(_, k)| format!("{k} an observer\n")).collect::<String>()).unwrap();
    let keys_file = keys_file.to_str().unwrap().to_string();

    let a = serve(&data_a);
    let (_, login) = call("POST", &format!("{}/api/login", a.url), None, Some(json!({"code": convener_key})));
    let token = login["token"].as_str().unwrap().to_string();
    let (_, created) = call(
        "POST",
        &format!("{}/api/dialogues", a.url),
        Some(&token),
        Some(json!({"title_ar": "حوار", "title_en": "Dialogue", "listed": true, "pseudonym": "Convener"})),
    );
    let id = created["id"].as_str().unwrap().to_string();
    let add = |server: &str, name: &str, key: &str| {
        call(
            "POST",
            &format!("{server}/api/dialogues/{id}/witnesses"),
            Some(&token),
            Some(json!({"name": name, "key": key})),
        )
    };
    for (i, (_, key)) in keys.iter().enumerate() {
        let (status, answer) = add(&a.url, &format!("مراقب {i}"), key);
        assert_eq!(status, 201, "{answer}");
    }
    // The same key twice, a malformed key, a key that is not a point: refused, nothing recorded.
    let lines_before = get(&format!("{}/dialogues/{id}/record", a.url)).lines().count();
    assert_eq!(add(&a.url, "again", &keys[0].1).0, 409);
    assert_eq!(add(&a.url, "short", "abcd").0, 400);
    assert_eq!(add(&a.url, "not a point", &"ff".repeat(32)).0, 409);
    assert_eq!(get(&format!("{}/dialogues/{id}/record", a.url)).lines().count(), lines_before);
    add_event(&a.url, &id, &token, "one");
    drop(a);

    // The operator will run two servers on copies of one database: A and B share a
    // history up to here and then diverge.
    let data_b = dir.path().join("b");
    copy_dir(&data_a, &data_b);
    let a = serve(&data_a);
    let b = serve(&data_b);
    let (_, login) = call("POST", &format!("{}/api/login", b.url), None, Some(json!({"code": convener_key})));
    let token_b = login["token"].as_str().unwrap().to_string();
    let (_, login) = call("POST", &format!("{}/api/login", a.url), None, Some(json!({"code": convener_key})));
    let token = login["token"].as_str().unwrap().to_string();

    let w1 = Watcher::start(&a.url, &id, &keys[0].0, dir.path().join("w1"));
    let w2 = Watcher::start(&a.url, &id, &keys[1].0, dir.path().join("w2"));
    let w3 = Watcher::start(&b.url, &id, &keys[2].0, dir.path().join("w3"));
    add_event(&a.url, &id, &token, "in A");
    // B grows longer than A, so A's heads fall inside B's record.
    for n in 0..6 {
        add_event(&b.url, &id, &token_b, &format!("in B {n}"));
    }
    wait_cosigned(&a.url, &id, &[&keys[0].1, &keys[1].1]);
    wait_cosigned(&b.url, &id, &[&keys[2].1]);

    // Honest A: two of three witnesses co-signed it; both verifiers accept.
    let record_a = format!("{}/dialogues/{id}/record", a.url);
    let (code, out) = run(&["verify", &record_a, "--witnesses", &keys_file, "--quorum", "2"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains(" ok   W4") && out.contains("by 2 named witnesses"), "{out}");
    let doc_a = dir.path().join("checkpoint-a.json");
    std::fs::write(&doc_a, checkpoint(&a.url, &id).to_string()).unwrap();
    let text_a = get(&record_a);
    let py = |record: &str, extra: &[&str]| python_verify_with(record, extra);
    let (code, out) =
        py(&text_a, &["--checkpoint", doc_a.to_str().unwrap(), "--witnesses", &keys_file, "--quorum", "2"]);
    assert_eq!(code, 0, "python: {out}");
    // The page shows who witnessed how far.
    let page = get(&format!("{}/dialogues/{id}/witnesses", a.url));
    assert!(page.contains("مراقب 0") && page.contains(&keys[0].1[..16]), "{page}");

    // A witness key the verifier does not list counts for nothing.
    let strangers = dir.path().join("strangers.txt");
    std::fs::write(&strangers, format!("{}\n{}\n", "1".repeat(64), "2".repeat(64))).unwrap();
    let (code, out) = run(&["verify", &record_a, "--witnesses", strangers.to_str().unwrap(), "--quorum", "1"]);
    assert!(code == 1 && out.contains("VERIFICATION FAILED: W4"), "{out}");
    let (code, out) = py(
        &text_a,
        &["--checkpoint", doc_a.to_str().unwrap(), "--witnesses", strangers.to_str().unwrap(), "--quorum", "1"],
    );
    assert!(code == 1 && out.contains("VERIFICATION FAILED: W4"), "python: {out}");
    // A key that is not a witness of the dialogue cannot post a co-signature.
    let doc = checkpoint(&a.url, &id);
    let stranger = hiwar_crypto::signing::Signer25519::from_seed(&[5; 32]);
    let checkpoint_a = hiwar_record::witness::Checkpoint::from_value(&doc["checkpoint"]).unwrap();
    let forged = hiwar_record::witness::Cosignature::sign(&checkpoint_a, &hiwar_record::now_rfc3339(), &stranger);
    let url = format!("{}/dialogues/{id}/checkpoint/cosignatures", a.url);
    assert_eq!(call("POST", &url, None, Some(forged.to_value())).0, 403);
    // A forged co-signature (a listed witness's key, a signature it never made) fails W1.
    let mut forged = doc["cosignatures"][0].clone();
    forged["time"] = json!("2030-01-01T00:00:00Z");
    assert_eq!(call("POST", &url, None, Some(forged.clone())).0, 409, "the server refuses it too");
    let forged_file = dir.path().join("forged.json");
    std::fs::write(&forged_file, json!({"cosignatures": [forged]}).to_string()).unwrap();
    let (code, out) = run(&["verify", &record_a, "--checkpoint", forged_file.to_str().unwrap()]);
    assert!(code == 1 && out.contains("VERIFICATION FAILED: W1"), "{out}");
    let (code, out) = py(&text_a, &["--checkpoint", forged_file.to_str().unwrap()]);
    assert!(code == 1 && out.contains("VERIFICATION FAILED: W1"), "python: {out}");
    // A stale co-signature replayed to the server is refused.
    let old = doc["cosignatures"][0].clone();
    assert_eq!(call("POST", &url, None, Some(old)).0, 409);

    // Fork: B's record differs from A's after the shared prefix. Held beside A's signed
    // heads, B's record fails W2 with a fork proof anyone can check.
    let record_b = format!("{}/dialogues/{id}/record", b.url);
    let (code, out) = run(&["verify", &record_b, "--checkpoint", doc_a.to_str().unwrap()]);
    assert!(code == 1 && out.contains("VERIFICATION FAILED: W2") && out.contains("FORK PROOF"), "{out}");
    let proof = out.lines().skip_while(|l| !l.starts_with("FORK PROOF")).nth(1).unwrap();
    let proof_file = dir.path().join("fork-proof.json");
    std::fs::write(&proof_file, proof).unwrap();
    let (code, out) = run(&["witness", "check-proof", proof_file.to_str().unwrap()]);
    assert!(code == 0 && out.contains("VALID FORK PROOF"), "{out}");
    let (code, out) = py(&get(&record_b), &["--checkpoint", doc_a.to_str().unwrap()]);
    assert!(code == 1 && out.contains("VERIFICATION FAILED: W2"), "python: {out}");
    // Alone, B has one recent witness of three: no quorum of two once A's witnesses'
    // pre-fork co-signatures are old.
    std::thread::sleep(Duration::from_secs(3));
    let (code, out) = run(&["verify", &record_b, "--witnesses", &keys_file, "--quorum", "2", "--max-age", "2"]);
    assert!(code == 1 && out.contains("VERIFICATION FAILED: W4"), "{out}");

    // Truncation: the operator cuts B's record short of what witness 3 co-signed.
    operator_rewrites(&data_b, &id, |mut events| {
        events.truncate(events.len() - 2);
        events
    });
    let mut w3 = w3;
    let (code, said) = w3.stopped();
    assert!(code == 3 && said.contains("WITNESS ALERT"), "{said}");
    let (code, out) = run(&["verify", &record_b]);
    assert!(
        code == 1 && out.contains("VERIFICATION FAILED: W3"),
        "the served co-signature is beyond the record: {out}"
    );
    let doc_b = dir.path().join("checkpoint-b.json");
    std::fs::write(&doc_b, checkpoint(&b.url, &id).to_string()).unwrap();
    let (code, out) = py(&get(&record_b), &["--checkpoint", doc_b.to_str().unwrap()]);
    assert!(code == 1 && out.contains("VERIFICATION FAILED: W3"), "python: {out}");

    // Rewrite: the operator changes an old line of A (the phase "one") and re-signs
    // everything with the dialogue key. Both watching witnesses stop with evidence.
    operator_rewrites(&data_a, &id, |mut events| {
        let at = events.iter().position(|(_, b)| b["name"]["en"] == "one").unwrap();
        events[at].1["name"]["en"] = json!("rewritten");
        events
    });
    for mut w in [w1, w2] {
        let (code, said) = w.stopped();
        let evidence = w.evidence();
        assert!(code == 3 && said.contains("WITNESS ALERT"), "{said}");
        let (code, out) = run(&["witness", "check-proof", evidence.to_str().unwrap()]);
        assert!(code == 0 && out.contains("VALID FORK PROOF"), "{out}");
    }
    let (code, out) = run(&["verify", &record_a, "--witnesses", &keys_file, "--quorum", "2"]);
    assert!(code == 1 && out.contains("VERIFICATION FAILED: W2") && out.contains("FORK PROOF"), "{out}");
    let (code, out) = py(&get(&record_a), &[]);
    assert!(code == 1 && out.contains("VERIFICATION FAILED: W2"), "python: {out}");
    // Without the co-signatures inside the record, the witnesses' latest ones beside it
    // still catch it, and without those the quorum is missing.
    operator_rewrites(&data_a, &id, |events| events.into_iter().filter(|(k, _)| k != "witness.cosigned").collect());
    let (code, out) = run(&["verify", &record_a]);
    let caught = out.contains("VERIFICATION FAILED: W2") || out.contains("VERIFICATION FAILED: W3");
    assert!(code == 1 && caught, "{out}");
    let rewritten = dir.path().join("rewritten.jsonl");
    std::fs::write(&rewritten, get(&record_a)).unwrap();
    let (code, out) = run(&["verify", rewritten.to_str().unwrap(), "--witnesses", &keys_file, "--quorum", "2"]);
    assert!(code == 1 && out.contains("VERIFICATION FAILED: W4"), "{out}");
}

/// The Python verifier with extra arguments.
fn python_verify_with(contents: &str, extra: &[&str]) -> (i32, String) {
    if extra.is_empty() {
        return python_verify(contents);
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("record.jsonl");
    std::fs::write(&path, contents).unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tools/verify_record.py");
    let out = Command::new("python3").arg(script).arg(&path).args(extra).output().expect("python3 runs");
    let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.code().unwrap(), said)
}
