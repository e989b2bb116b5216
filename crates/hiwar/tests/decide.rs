//! A whole vote through the platform, with the real binary as server, trustees, the
//! credential authority and voters: create, key ceremony, credentials, open, cast,
//! challenge, re-vote, close, threshold decryption, result — then both verifiers on
//! the published record, and the attacks an anonymous user or the operator could try.

mod common;

use std::path::Path;
use std::process::Output;

use common::{call, get, hiwar, python_verify, Running};
use serde_json::{json, Value};

/// The status a server answers to a request declaring a body of `bytes` bytes (the
/// body is not sent: the server refuses on the declaration).
fn declared_too_large(url: &str, bytes: usize) -> String {
    use std::io::{Read, Write};
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest.split_at(rest.find('/').unwrap());
    let mut stream = std::net::TcpStream::connect(host).unwrap();
    write!(stream, "POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: {bytes}\r\nConnection: close\r\n\r\n").unwrap();
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer.split_whitespace().nth(1).unwrap_or_default().to_string()
}

fn ok(out: Output, what: &str) -> String {
    assert!(
        out.status.success(),
        "{what}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A server with a convener, a dialogue, three trustees' keys and the authority's key.
struct Setup {
    server: Running,
    token: String,
    dialogue: String,
    trustees: Vec<(std::path::PathBuf, Value)>,
    authority: (std::path::PathBuf, String),
    dir: tempfile::TempDir,
}

fn setup(database: &[&str]) -> Setup {
    let out = hiwar().args([&["convener", "add"][..], database].concat()).output().unwrap();
    let key = ok(out, "convener add").lines().last().unwrap().to_string();
    let server = Running::start(&[&["serve", "--listen", "127.0.0.1:0"][..], database].concat());
    let (_, login) = call("POST", &format!("{}/api/login", server.url), None, Some(json!({"code": key})));
    let token = login["token"].as_str().unwrap().to_string();
    let (status, created) = call(
        "POST",
        &format!("{}/api/dialogues", server.url),
        Some(&token),
        Some(json!({"title_ar": "حوار", "title_en": "Dialogue", "listed": true, "pseudonym": "Convener"})),
    );
    assert_eq!(status, 201);
    let dialogue = created["id"].as_str().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let trustees = (1..=3)
        .map(|j| {
            let path = dir.path().join(format!("trustee-{j}.json"));
            let public =
                ok(hiwar().args(["trustee", "keygen", "--out", path.to_str().unwrap()]).output().unwrap(), "keygen");
            (path, serde_json::from_str::<Value>(public.trim()).unwrap())
        })
        .collect();
    let path = dir.path().join("authority.json");
    let public =
        ok(hiwar().args(["election", "authority", "--out", path.to_str().unwrap()]).output().unwrap(), "authority");
    let authority = serde_json::from_str::<Value>(public.trim()).unwrap()["authority"].as_str().unwrap().to_string();
    Setup { server, token, dialogue, trustees, authority: (path, authority), dir }
}

impl Setup {
    fn api(&self, rest: &str) -> String {
        format!("{}/api/dialogues/{}{rest}", self.server.url, self.dialogue)
    }

    fn target(&self, election: &str) -> Vec<String> {
        ["--server", &self.server.url, "--dialogue", &self.dialogue, "--election", election].map(String::from).to_vec()
    }

    /// Creates a one-question election over a register of `voters` voters.
    fn create(&self, election: &str, voters: usize, options: usize) -> Value {
        self.create_closing(election, voters, options, None)
    }

    fn create_closing(&self, election: &str, voters: usize, options: usize, closes_at: Option<&str>) -> Value {
        let register: Vec<Value> = (1..=voters).map(|i| json!({"voter": format!("voter-{i}")})).collect();
        let input = json!({
            "id": election,
            "title": {"ar": "استفتاء", "en": "Referendum"},
            "questions": [{"title": {"ar": "هل توافق؟", "en": "Do you agree?"},
                "options": (0..options).map(|o| json!({"ar": format!("خيار {o}"), "en": format!("Option {o}")})).collect::<Vec<_>>(),
                "min": 1, "max": 1}],
            "electorate": {"list": register},
            "trustees": self.trustees.iter().map(|(_, p)| p.clone()).collect::<Vec<_>>(),
            "threshold": 2,
            "authority": self.authority.1,
            "closes_at": closes_at,
        });
        let (status, body) = call("POST", &self.api("/elections"), Some(&self.token), Some(input.clone()));
        assert_eq!(status, 201, "{body}");
        input
    }

    /// The three trustees' ceremony, run at once as three processes.
    fn ceremony(&self, election: &str) {
        let children: Vec<_> = self
            .trustees
            .iter()
            .map(|(key, _)| {
                hiwar()
                    .args(["trustee", "ceremony"])
                    .args(self.target(election))
                    .args(["--key", key.to_str().unwrap(), "--wait", "120"])
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for child in children {
            ok(child.wait_with_output().unwrap(), "trustee ceremony");
        }
    }

    /// The credential authority makes the credentials and uploads the signed list.
    fn credentials(&self, election: &str, voters: usize) -> std::path::PathBuf {
        let roll: String = std::iter::once("voter,weight\n".to_string())
            .chain((1..=voters).map(|i| format!("voter-{i},1\n")))
            .collect();
        let roll_path = self.dir.path().join(format!("{election}-roll.csv"));
        std::fs::write(&roll_path, roll).unwrap();
        let out = self.dir.path().join(format!("{election}-credentials"));
        ok(
            hiwar()
                .args(["election", "credentials"])
                .args(self.target(election))
                .args(["--authority", self.authority.0.to_str().unwrap(), "--voters", roll_path.to_str().unwrap()])
                .args(["--out", out.to_str().unwrap(), "--upload"])
                .output()
                .unwrap(),
            "election credentials",
        );
        out
    }

    fn open(&self, election: &str) {
        let (status, body) = call("POST", &self.api(&format!("/elections/{election}/open")), Some(&self.token), None);
        assert_eq!(status, 200, "{body}");
    }

    fn vote(&self, election: &str, credential: &Path, choices: &str, extra: &[&str]) -> Output {
        hiwar()
            .arg("vote")
            .args(self.target(election))
            .args(["--credential", credential.to_str().unwrap(), "--choices", choices])
            .args(extra)
            .output()
            .unwrap()
    }

    fn close_and_decrypt(&self, election: &str, trustees: &[usize]) -> Value {
        let (status, body) = call("POST", &self.api(&format!("/elections/{election}/close")), Some(&self.token), None);
        assert_eq!(status, 204, "{body}");
        self.decrypt(election, trustees)
    }

    fn decrypt(&self, election: &str, trustees: &[usize]) -> Value {
        for &j in trustees {
            ok(
                hiwar()
                    .args(["trustee", "decrypt"])
                    .args(self.target(election))
                    .args(["--key", self.trustees[j - 1].0.to_str().unwrap()])
                    .output()
                    .unwrap(),
                "trustee decrypt",
            );
        }
        call("GET", &self.api(&format!("/elections/{election}")), None, None).1
    }

    fn record(&self) -> String {
        get(&format!("{}/dialogues/{}/record", self.server.url, self.dialogue))
    }
}

/// A trustee's keys, read from its key file (as the test plays that trustee).
fn trustee_role(path: &Path) -> hiwar_record::election::roles::TrusteeRole {
    let v: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let seed: [u8; 32] = hex::decode(v["signing_seed"].as_str().unwrap()).unwrap().try_into().unwrap();
    let share = hiwar_crypto::group::scalar_from_hex("share", v["share_secret"].as_str().unwrap()).unwrap();
    hiwar_record::election::roles::TrusteeRole::new(&seed, share)
}

fn voter_file(credentials: &Path, i: usize) -> std::path::PathBuf {
    credentials.join("voters").join(format!("voter-{i}.json"))
}

#[test]
fn a_vote_from_creation_to_verified_result() {
    let data = tempfile::tempdir().unwrap();
    let s = setup(&["--data", data.path().to_str().unwrap()]);
    let input = s.create("referendum", 4, 3);
    // Questions never change: the same id again is refused.
    let (status, body) = call("POST", &s.api("/elections"), Some(&s.token), Some(input));
    assert_eq!(status, 409, "{body}");
    // Opening before the ceremony and the credentials is refused, naming the check.
    let (status, body) = call("POST", &s.api("/elections/referendum/open"), Some(&s.token), None);
    assert_eq!(status, 409, "{body}");
    assert!(body.to_string().contains("E3"), "{body}");

    s.ceremony("referendum");
    let credentials = s.credentials("referendum", 4);
    let letters = std::fs::read_to_string(credentials.join("letters.html")).unwrap();
    assert!(letters.contains("بطاقة اعتمادك السرية") && letters.contains("your secret voting credential"));
    // The ballot box is closed before opening.
    let early = s.vote("referendum", &voter_file(&credentials, 1), "0", &[]);
    assert!(!early.status.success());
    assert!(String::from_utf8_lossy(&early.stderr).contains("not open"));
    s.open("referendum");

    // Voter 1 challenges a ballot, then casts; voter 2 votes twice (the last counts);
    // voter 3 votes; voter 4 abstains.
    let challenged = ok(s.vote("referendum", &voter_file(&credentials, 1), "0", &["--challenge"]), "vote 1");
    assert!(challenged.contains("challenged ballot") && challenged.contains("cast: tracking code"), "{challenged}");
    // A second device shows what the challenged ballot said, from the verified record.
    let opened = challenged.split("challenged ballot ").nth(1).unwrap().split_whitespace().next().unwrap();
    let record_url = format!("{}/dialogues/{}/record", s.server.url, s.dialogue);
    let audit = hiwar()
        .args(["ballot", "audit", "--record", &record_url, "--election", "referendum", "--tracking", opened])
        .output()
        .unwrap();
    let said = ok(audit, "ballot audit");
    assert!(said.contains("never counted") && said.contains("0 (Option 0 / خيار 0)"), "{said}");
    let cast = challenged.split("cast: tracking code ").nth(1).unwrap().split_whitespace().next().unwrap();
    let audit = hiwar()
        .args(["ballot", "audit", "--record", &record_url, "--election", "referendum", "--tracking", cast])
        .output()
        .unwrap();
    assert_eq!(audit.status.code(), Some(1), "a cast ballot stays secret");
    ok(s.vote("referendum", &voter_file(&credentials, 2), "1", &[]), "vote 2");
    std::thread::sleep(std::time::Duration::from_millis(5));
    ok(s.vote("referendum", &voter_file(&credentials, 2), "0", &[]), "vote 2 again");
    let receipt_file = s.dir.path().join("receipt.json");
    let receipt = ok(
        s.vote("referendum", &voter_file(&credentials, 3), "2", &["--receipt", receipt_file.to_str().unwrap()]),
        "vote 3",
    );
    let tracking = receipt.split("tracking code ").nth(1).unwrap().split_whitespace().next().unwrap().to_string();
    // The receipt carries the signed head just after the ballot: the record agrees with
    // it, and a copy cut short before the ballot fails W3.
    let kept: Value = serde_json::from_str(&std::fs::read_to_string(&receipt_file).unwrap()).unwrap();
    assert_eq!(kept["tracking"], tracking.as_str());
    let record_url = format!("{}/dialogues/{}/record", s.server.url, s.dialogue);
    let receipt_arg = receipt_file.to_str().unwrap();
    ok(hiwar().args(["verify", &record_url, "--checkpoint", receipt_arg]).output().unwrap(), "verify with the receipt");
    let line = kept["line"].as_u64().unwrap() as usize;
    let cut: String = s.record().lines().take(line).map(|l| format!("{l}\n")).collect();
    let (code, out) = common::verify_with(&cut, &["--checkpoint", receipt_arg]);
    assert!(code == 1 && out.contains("VERIFICATION FAILED: W3"), "a record without the ballot: {out}");

    // The ballot board lists it, for anyone.
    let (_, board) = call("GET", &s.api(&format!("/elections/referendum/board?q={}", &tracking[..8])), None, None);
    assert_eq!(board["entries"][0]["tracking"], tracking.as_str());
    let page = get(&format!("{}/dialogues/{}/decide/referendum/board?lang=ar", s.server.url, s.dialogue));
    assert!(page.contains(&tracking) && page.contains("dir=\"rtl\""));
    let (_, board) = call("GET", &s.api("/elections/referendum/board"), None, None);
    assert_eq!(board["total"], 5, "four cast, one challenged: {board}");

    // Hostile input, each refused with a clear error and nothing stored.
    let record = s.record();
    let cast: Value = common::events(&record).into_iter().rev().find(|(k, _)| k == "ballot.cast").unwrap().1;
    let ballots = s.api("/elections/referendum/ballots");
    let (status, body) = call("POST", &ballots, None, Some(cast.clone()));
    assert_eq!((status, body["detail"].as_str().unwrap().contains("replay")), (409, true), "a replay: {body}");
    let mut other = cast.clone();
    other["election"] = json!("another");
    let (status, body) = call("POST", &ballots, None, Some(other));
    assert_eq!(status, 400, "another election: {body}");
    let mut stranger = cast.clone();
    stranger["credential"] =
        json!(hex::encode(ed25519_dalek::SigningKey::from_bytes(&[7; 32]).verifying_key().to_bytes()));
    let (status, body) = call("POST", &ballots, None, Some(stranger));
    assert!(
        status == 400 && body["detail"].as_str().unwrap().contains("not on the list"),
        "an unknown credential: {body}"
    );
    let mut forged = cast.clone();
    forged["counter"] = json!(cast["counter"].as_u64().unwrap() + 1);
    let (status, body) = call("POST", &ballots, None, Some(forged));
    assert!(status == 400 && body["detail"].as_str().unwrap().contains("E5"), "a re-used signature: {body}");
    let mut bad_proof = cast.clone();
    let z = bad_proof["ballot"]["answers"][0]["choice_proofs"][0][0]["z"].as_str().unwrap().to_string();
    bad_proof["ballot"]["answers"][0]["choice_proofs"][0][0]["z"] =
        json!(format!("{}{}", if z.starts_with('0') { "1" } else { "0" }, &z[1..]));
    let (status, body) = call("POST", &ballots, None, Some(bad_proof));
    assert_eq!(status, 400, "a changed proof: {body}");
    let (status, _) = call("POST", &ballots, None, Some(json!({"election": "referendum"})));
    assert_eq!(status, 400, "a malformed ballot");
    assert_eq!(declared_too_large(&ballots, 200_000), "413", "an oversized ballot");
    assert_eq!(s.record(), record, "nothing refused reached the record");

    // A trustee cannot decrypt before closing.
    let early = hiwar()
        .args(["trustee", "decrypt"])
        .args(s.target("referendum"))
        .args(["--key", s.trustees[0].0.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&early.stderr).contains("not closed"));

    // A trustee's partial decryption that does not match its key is refused, naming
    // it, even though the trustee signed it (E9).
    let (status, body) = call("POST", &s.api("/elections/referendum/close"), Some(&s.token), None);
    assert_eq!(status, 204, "{body}");
    let record = s.record();
    let events = common::events(&record);
    let created =
        events.iter().find(|(k, b)| k == "election.created" && b["election"] == "referendum").unwrap().1.clone();
    let closed = events.iter().find(|(k, _)| k == "election.closed").unwrap().1.clone();
    let hash = hiwar_record::election::election_hash(&s.dialogue, &created);
    let role = trustee_role(&s.trustees[1].0);
    let revealed: Vec<&Value> =
        events.iter().filter(|(k, _)| k == "election.trustee_revealed").map(|(_, b)| b).collect();
    let dealt: Vec<&Value> = events.iter().filter(|(k, _)| k == "election.trustee_shares").map(|(_, b)| b).collect();
    let key =
        role.key_share(&hash, 2, &hiwar_record::election::roles::dealt_to(&revealed, &dealt, 2).unwrap()).unwrap();
    let tally: Vec<Vec<_>> = closed["tally"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| {
            q.as_array().unwrap().iter().map(|c| hiwar_record::election::parse_ct(c, "tally", false).unwrap()).collect()
        })
        .collect();
    let mut wrong = role.partial("referendum", &hash, &key, &tally, &mut rand::rngs::OsRng);
    wrong["shares"][0][0]["share"] = wrong["shares"][0][1]["share"].clone();
    wrong.as_object_mut().unwrap().remove("signature");
    let wrong = hiwar_record::election::sign_event("election.partial_decryption", &hash, wrong, &role.signer);
    let (status, body) = call(
        "POST",
        &s.api("/elections/referendum/events"),
        None,
        Some(json!({"kind": "election.partial_decryption", "body": wrong})),
    );
    assert!(status == 409 && body["detail"].as_str().unwrap().contains("E9"), "a wrong partial decryption: {body}");

    // Trustees 1 and 3 of 3 decrypt; the result is published with the second.
    let status = s.decrypt("referendum", &[1, 3]);
    assert_eq!(status["stage"], "decided", "{status}");
    assert_eq!(status["result"]["counts"], json!([[2, 0, 1]]));
    assert_eq!(status["ballots"], json!({"cast": 4, "superseded": 1, "spoiled": 1}));
    let (status, _) = call("POST", &ballots, None, Some(cast));
    assert_eq!(status, 409, "a ballot after closing");

    // The results page, in both languages.
    let page = get(&format!("{}/dialogues/{}/decide/referendum?lang=ar", s.server.url, s.dialogue));
    assert!(page.contains("النتيجة") && page.contains("٢ (٦٦٫٧٪\u{61C})"), "Arabic-Indic digits in Arabic: {page}");
    let page = get(&format!("{}/dialogues/{}/decide/referendum?lang=en", s.server.url, s.dialogue));
    assert!(page.contains("Result") && page.contains("Option 0"));

    // Both verifiers accept the published record...
    let record = s.record();
    let out = hiwar().args(["verify", &format!("{}/dialogues/{}/record", s.server.url, s.dialogue)]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    let (code, stdout) = python_verify(&record);
    assert_eq!(code, 0, "{stdout}");

    // ...and reject it once the operator, holding the dialogue key, changes the ballots
    // in its database and re-signs every line: a counted ballot dropped (the tally no
    // longer adds up, E8), altered (its voter's signature fails, E5), or added again
    // (a tracking code may appear once, E5).
    let events = common::events(&record);
    let last_cast = events.iter().rposition(|(k, _)| k == "ballot.cast").unwrap();
    let mut dropped = events.clone();
    dropped.remove(last_cast);
    let mut altered = events.clone();
    let answer = &mut altered[last_cast].1["ballot"]["answers"][0]["choices"];
    answer.as_array_mut().unwrap().swap(0, 1);
    let mut added = events.clone();
    added.insert(last_cast + 1, events[last_cast].clone());
    for (forged, check, what) in
        [(dropped, "E8", "a dropped ballot"), (altered, "E5", "an altered ballot"), (added, "E5", "an added ballot")]
    {
        let forged = common::reseal_as(&s.dialogue, &forged);
        let (code, stdout) = common::verify(&forged);
        assert_eq!(code, 1, "{what}");
        assert!(stdout.contains(&format!("VERIFICATION FAILED: {check}")), "{what}: {stdout}");
        let (code, stdout) = python_verify(&forged);
        assert_eq!(code, 1, "{what}");
        assert!(stdout.starts_with(&format!("VERIFICATION FAILED: {check}")), "{what}: {stdout}");
    }
}

/// A trustee who deals a wrong share (and signs it) is caught by the honest trustee it
/// was dealt to, whose ceremony complains with a proof; the ceremony has failed and the
/// election can never open (E3).
#[test]
fn a_wrong_share_ends_the_ceremony() {
    let data = tempfile::tempdir().unwrap();
    let s = setup(&["--data", data.path().to_str().unwrap()]);
    s.create("spoilt", 2, 2);
    let created = common::events(&s.record()).into_iter().find(|(k, _)| k == "election.created").unwrap().1;
    let hash = hiwar_record::election::election_hash(&s.dialogue, &created);
    let cheat = trustee_role(&s.trustees[2].0);
    let relay = |kind: &str, body: &Value| {
        call("POST", &s.api("/elections/spoilt/events"), None, Some(json!({"kind": kind, "body": body})))
    };
    let commitment = cheat.committed("spoilt", &hash, 3, 2);
    assert_eq!(relay("election.trustee_committed", &commitment).0, 201);
    // Sent again, or unsigned, it is refused, naming the check, and changes nothing.
    let (status, body) = relay("election.trustee_committed", &commitment);
    assert!(status == 409 && body["detail"].as_str().unwrap().contains("committed twice"), "{body}");
    let mut unsigned = commitment.clone();
    unsigned["signature"] = json!("00".repeat(64));
    let (status, body) = relay("election.trustee_committed", &unsigned);
    assert!(status == 409 && body["detail"].as_str().unwrap().contains("E2"), "{body}");
    let honest: Vec<_> = s.trustees[..2]
        .iter()
        .map(|(key, _)| {
            hiwar()
                .args(["trustee", "ceremony"])
                .args(s.target("spoilt"))
                .args(["--key", key.to_str().unwrap(), "--wait", "60"])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let revealed = cheat.revealed("spoilt", &hash, 3, 2);
    while relay("election.trustee_revealed", &revealed).0 != 201 {
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let keys: Vec<_> = created["trustees"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| hiwar_crypto::group::point_from_hex("share", t["share_key"].as_str().unwrap()).unwrap())
        .collect();
    let mut shares = cheat.shares("spoilt", &hash, 3, 2, &keys, &mut rand::rngs::OsRng);
    // The share for trustee 1 is flipped in one bit, and re-signed by its dealer.
    let share = shares["shares"][0]["share"].as_str().unwrap().to_string();
    shares["shares"][0]["share"] = json!(format!("{}{}", if share.starts_with('0') { '1' } else { '0' }, &share[1..]));
    shares.as_object_mut().unwrap().remove("signature");
    let shares = hiwar_record::election::sign_event("election.trustee_shares", &hash, shares, &cheat.signer);
    while relay("election.trustee_shares", &shares).0 != 201 {
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let outputs: Vec<Output> = honest.into_iter().map(|c| c.wait_with_output().unwrap()).collect();
    let told = String::from_utf8_lossy(&outputs[0].stderr).into_owned();
    assert!(!outputs[0].status.success() && told.contains("trustee 3 dealt you a wrong share"), "{told}");
    let (status, body) = call("POST", &s.api("/elections/spoilt/open"), Some(&s.token), None);
    assert!(
        status == 409 && body["detail"].as_str().unwrap().contains("trustee 3 dealt trustee 1 a wrong share"),
        "{body}"
    );
    let out = hiwar().args(["verify", &format!("{}/dialogues/{}/record", s.server.url, s.dialogue)]).output().unwrap();
    assert!(out.status.success(), "a failed ceremony is a valid record: {}", String::from_utf8_lossy(&out.stdout));
}

/// 10,000 voters cast with `hiwar vote --batch` against a running server; the result
/// the trustees decrypt equals the plain count, and the record verifies.
fn ten_thousand_ballots(database: &[&str]) {
    const VOTERS: usize = 10_000;
    let s = setup(database);
    s.create("big", VOTERS, 3);
    s.ceremony("big");
    let credentials = s.credentials("big", VOTERS);
    s.open("big");
    let mut batch = String::from("credential,choices\n");
    let mut expected = [0u64; 3];
    for i in 1..=VOTERS {
        // A skewed but deterministic choice: option 0 for i ≡ 0, 1 (mod 5), and so on.
        let choice = [0, 0, 1, 2, 1][i % 5];
        expected[choice] += 1;
        batch.push_str(&format!("{},{choice}\n", voter_file(&credentials, i).display()));
    }
    let batch_path = s.dir.path().join("batch.csv");
    std::fs::write(&batch_path, batch).unwrap();
    let out = hiwar()
        .arg("vote")
        .args(s.target("big"))
        .args(["--batch", batch_path.to_str().unwrap(), "--concurrency", "32"])
        .output()
        .unwrap();
    let report = ok(out.clone(), "vote --batch") + &String::from_utf8_lossy(&out.stderr);
    assert!(report.contains("cast 10000 ballots"), "{report}");
    let status = s.close_and_decrypt("big", &[2, 3]);
    assert_eq!(status["result"]["counts"], json!([expected]), "{status}");
    assert_eq!(status["ballots"]["cast"], VOTERS as u64);
    let out = hiwar().args(["verify", &format!("{}/dialogues/{}/record", s.server.url, s.dialogue)]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
}

#[test]
fn ten_thousand_ballots_by_command_line_on_sqlite() {
    let data = tempfile::tempdir().unwrap();
    ten_thousand_ballots(&["--data", data.path().to_str().unwrap()]);
}

#[test]
fn ten_thousand_ballots_by_command_line_on_postgres() {
    let url = tokio::runtime::Runtime::new().unwrap().block_on(hiwar_store::testing::fresh_postgres_database());
    ten_thousand_ballots(&["--database-url", &url]);
}

/// An election closes by itself at its closing time; a ballot after it is refused.
#[test]
fn a_vote_closes_at_its_closing_time() {
    let data = tempfile::tempdir().unwrap();
    let s = setup(&["--data", data.path().to_str().unwrap()]);
    let closes = hiwar_record::format_time(time::OffsetDateTime::now_utc() + time::Duration::seconds(20));
    s.create_closing("timed", 2, 2, Some(&closes));
    s.ceremony("timed");
    let credentials = s.credentials("timed", 2);
    s.open("timed");
    ok(s.vote("timed", &voter_file(&credentials, 1), "1", &[]), "a vote in time");
    let started = std::time::Instant::now();
    loop {
        let (_, status) = call("GET", &s.api("/elections/timed"), None, None);
        if status["stage"] == "closed" {
            assert_eq!(status["ballots"]["cast"], 1);
            break;
        }
        assert!(started.elapsed().as_secs() < 90, "not closed at {closes}: {status}");
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
    let late = s.vote("timed", &voter_file(&credentials, 2), "0", &[]);
    assert!(String::from_utf8_lossy(&late.stderr).contains("closed"), "{}", String::from_utf8_lossy(&late.stderr));
}
