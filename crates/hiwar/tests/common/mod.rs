//! Running the real `hiwar` binary in tests.

#![allow(dead_code)] // each test file uses a different part

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

pub fn hiwar() -> Command {
    Command::new(env!("CARGO_BIN_EXE_hiwar"))
}

/// A `hiwar serve` or `hiwar demo` process, killed on drop.
pub struct Running {
    pub child: Child,
    pub url: String,
    /// Everything printed on stdout before the server was ready.
    pub banner: Vec<String>,
    stderr: mpsc::Receiver<String>,
}

impl Running {
    /// Starts `hiwar <args>` and waits for its "running at" line and the rest of the banner.
    pub fn start(args: &[&str]) -> Running {
        let mut child = hiwar().args(args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("hiwar runs");
        let stdout = child.stdout.take().unwrap();
        let stderr = child.stderr.take().unwrap();
        let (err_tx, err_rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = err_tx.send(line);
            }
        });
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let mut banner = Vec::new();
        let mut url = None;
        // The banner ends with the "Stop with Ctrl-C" line (demo) or the convener hint (serve).
        while let Ok(line) = rx.recv_timeout(Duration::from_secs(120)) {
            if let Some(rest) = line.split("running at ").nth(1) {
                url = Some(rest.trim().trim_end_matches('/').to_string());
            }
            let done = line.contains("Ctrl-C") || line.contains("hiwar convener add");
            banner.push(line);
            if done {
                break;
            }
        }
        let url = url.unwrap_or_else(|| {
            let errors: Vec<String> = err_rx.try_iter().collect();
            panic!("hiwar {args:?} did not start: {banner:?} {errors:?}")
        });
        Running { child, url, banner, stderr: err_rx }
    }

    /// The banner line starting with `label`, without the label.
    pub fn value(&self, label: &str) -> String {
        self.banner
            .iter()
            .find_map(|l| l.trim().strip_prefix(label).map(|v| v.trim().to_string()))
            .unwrap_or_else(|| panic!("no {label} in {:?}", self.banner))
    }

    pub fn values(&self, label: &str) -> Vec<String> {
        self.banner.iter().filter_map(|l| l.trim().strip_prefix(label).map(|v| v.trim().to_string())).collect()
    }

    /// What the process logged so far.
    pub fn logs(&self) -> Vec<String> {
        self.stderr.try_iter().collect()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A JSON request with an optional bearer token: the status and the JSON answer (null if
/// none). A fresh connection each time: the server may close one after refusing a body.
pub fn call(method: &str, url: &str, token: Option<&str>, body: Option<serde_json::Value>) -> (u16, serde_json::Value) {
    let mut request = ureq::AgentBuilder::new().build().request(method, url);
    if let Some(t) = token {
        request = request.set("Authorization", &format!("Bearer {t}"));
    }
    let result = match body {
        Some(b) => request.set("Content-Type", "application/json").send_string(&b.to_string()),
        None => request.call(),
    };
    let (status, response) = match result {
        Ok(r) => (r.status(), r),
        Err(ureq::Error::Status(code, r)) => (code, r),
        Err(e) => panic!("{method} {url}: {e}"),
    };
    let text = response.into_string().unwrap();
    (status, serde_json::from_str(&text).unwrap_or(serde_json::Value::Null))
}

pub fn get(url: &str) -> String {
    ureq::get(url).call().unwrap_or_else(|e| panic!("GET {url}: {e}")).into_string().unwrap()
}

/// The independent Python verifier (`tools/verify_record.py`, on libsodium) on the same bytes.
pub fn python_verify(contents: &str) -> (i32, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("record.jsonl");
    std::fs::write(&path, contents).unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tools/verify_record.py");
    let out = std::process::Command::new("python3").arg(script).arg(&path).output().expect("python3 runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("ModuleNotFoundError"),
        "the Python verifier needs PyNaCl (pip install pynacl rbcl): {stderr}"
    );
    (out.status.code().unwrap(), String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Re-signs `events` from end to end under a key of our own, as an operator holding the
/// signing key could: only the checks beyond signatures can catch what was changed.
pub fn reseal(events: &[(String, serde_json::Value)]) -> String {
    reseal_as("simulation", events)
}

/// [`reseal`] for a record of dialogue `dialogue`. Witnesses' co-signatures are left
/// out: they co-sign checkpoints of the real dialogue key, which no re-signing under
/// another key can keep (W1).
pub fn reseal_as(dialogue: &str, events: &[(String, serde_json::Value)]) -> String {
    let key = ed25519_dalek::SigningKey::from_bytes(&[9u8; 32]);
    let mut prev = hiwar_record::GENESIS_PREV.to_string();
    let mut out = String::new();
    let events: Vec<_> = events.iter().filter(|(kind, _)| kind != "witness.cosigned").collect();
    for (seq, (kind, body)) in events.into_iter().enumerate() {
        let mut body = body.clone();
        if seq == 0 {
            body["public_key"] = serde_json::json!(hex::encode(key.verifying_key().to_bytes()));
        }
        let sealed = hiwar_record::Event {
            dialogue: dialogue.into(),
            seq: seq as u64,
            prev: prev.clone(),
            time: "2026-11-23T12:00:00Z".into(),
            kind: kind.clone(),
            body,
        }
        .seal(&key)
        .unwrap();
        prev = hex::encode(sealed.hash);
        out.push_str(&sealed.text);
        out.push('\n');
    }
    out
}

/// The events of a record, as `(kind, body)`.
pub fn events(record: &str) -> Vec<(String, serde_json::Value)> {
    record
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            (v["kind"].as_str().unwrap().to_string(), v["body"].clone())
        })
        .collect()
}

/// `hiwar verify FILE [extra]`: exit code and stdout.
pub fn verify_with(record: &str, extra: &[&str]) -> (i32, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.jsonl");
    std::fs::write(&path, record).unwrap();
    let mut args = vec!["verify", path.to_str().unwrap()];
    args.extend_from_slice(extra);
    let out = hiwar().args(&args).output().unwrap();
    (out.status.code().unwrap(), String::from_utf8_lossy(&out.stdout).into_owned())
}

pub fn verify(record: &str) -> (i32, String) {
    verify_with(record, &[])
}

/// Both verifiers reject the re-signed `events`, naming `check`.
pub fn assert_fails(events: &[(String, serde_json::Value)], check: &str, what: &str) {
    let (code, stdout) = verify(&reseal(events));
    assert_eq!(code, 1, "{what} was accepted: {stdout}");
    let verdict = stdout.lines().find(|l| l.starts_with("VERIFICATION FAILED")).unwrap();
    assert!(verdict.starts_with(&format!("VERIFICATION FAILED: {check} ")), "{what}: expected {check}, got {verdict}");
    // The independent verifier, written from the spec, names the same check.
    let (code, stdout) = python_verify(&reseal(events));
    assert_eq!(code, 1, "python accepted {what}: {stdout}");
    assert!(
        stdout.starts_with(&format!("VERIFICATION FAILED: {check} ")),
        "python, {what}: expected {check}, got {stdout}"
    );
}
