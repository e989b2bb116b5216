//! Nothing acknowledged is ever lost: the real `hiwar serve` under a load of votes and
//! record appends is killed with SIGKILL, has its PostgreSQL restarted under it, runs
//! out of disk, and is backed up while it works — and every write it acknowledged is
//! found afterwards, and every record verifies.
//!
//! These tests restart the shared PostgreSQL server and mount a small tmpfs, so they
//! need root (as CI runs) and take one global lock: they never overlap one another.

mod common;

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{call, hiwar, Running};
use serde_json::json;

/// One fault at a time: they restart the database or fill a disk.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// Where a test's data lives: a SQLite directory or a PostgreSQL URL.
#[derive(Clone)]
enum Data {
    Sqlite(std::path::PathBuf),
    Postgres(String),
}

impl Data {
    fn args(&self) -> Vec<String> {
        match self {
            Data::Sqlite(dir) => vec!["--data".into(), dir.display().to_string()],
            Data::Postgres(url) => vec!["--database-url".into(), url.clone()],
        }
    }
    fn postgres() -> Data {
        Data::Postgres(
            tokio::runtime::Runtime::new().unwrap().block_on(hiwar_store::testing::fresh_postgres_database()),
        )
    }
    /// Opens the store and runs `f` on it, in one runtime (PostgreSQL's connections
    /// live in the runtime that opened them).
    fn with_store<T, F: std::future::Future<Output = T>>(&self, f: impl FnOnce(hiwar_store::Store) -> F) -> T {
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async {
            let store = match self {
                Data::Sqlite(dir) => hiwar_store::Store::open_sqlite(dir).await.unwrap(),
                Data::Postgres(url) => hiwar_store::Store::open_url(url).await.unwrap(),
            };
            f(store).await
        })
    }
    /// Every stored vote of `dialogue`: `(member, statement)` → vote.
    fn votes(&self, dialogue: &str) -> HashMap<(String, String), i8> {
        let (_, votes) = self.with_store(|store| async move { store.votes(dialogue).await.unwrap() });
        votes.into_iter().map(|(m, s, v)| ((m, s), v)).collect()
    }
}

fn serve(data: &Data) -> Running {
    let mut args: Vec<String> = vec!["serve".into(), "--listen".into(), "127.0.0.1:0".into()];
    args.extend(data.args());
    args.extend(["--logins-per-minute".into(), "10000".into()]);
    Running::start(&args.iter().map(String::as_str).collect::<Vec<_>>())
}

/// A dialogue in its deliberation phase with `members` logged-in participants and ten
/// statements.
struct Conversation {
    id: String,
    /// `(token, member id)` of each participant.
    members: Vec<(String, String)>,
    statements: Vec<String>,
}

fn convener_key(data: &Data) -> String {
    let out = hiwar().arg("convener").arg("add").args(data.args()).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).lines().last().unwrap().to_string()
}

fn set_up(url: &str, key: &str, members: usize) -> Conversation {
    let (_, login) = call("POST", &format!("{url}/api/login"), None, Some(json!({ "code": key })));
    let token = login["token"].as_str().unwrap().to_string();
    let t = Some(token.as_str());
    let (status, created) = call(
        "POST",
        &format!("{url}/api/dialogues"),
        t,
        Some(json!({"title_ar": "حوار", "title_en": "Dialogue", "listed": true, "pseudonym": "Convener"})),
    );
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_string();
    let phase = json!({"kind": "deliberation", "name_ar": "نقاش", "name_en": "Deliberation",
        "starts": "2026-01-01", "ends": "2027-12-31"});
    assert_eq!(call("POST", &format!("{url}/api/dialogues/{id}/phases"), t, Some(phase)).0, 201);
    assert_eq!(call("POST", &format!("{url}/api/dialogues/{id}/phase"), t, Some(json!({"index": 0}))).0, 200);
    let (_, issued) = call(
        "POST",
        &format!("{url}/api/dialogues/{id}/codes"),
        t,
        Some(json!({"role": "participant", "count": members})),
    );
    let members: Vec<(String, String)> = issued["codes"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
        .map(|(i, code)| {
            let body = json!({"code": code, "pseudonym": format!("Member {i}")});
            let (_, joined) = call("POST", &format!("{url}/api/login"), None, Some(body));
            (joined["token"].as_str().unwrap().to_string(), joined["joined"]["member"].as_str().unwrap().to_string())
        })
        .collect();
    let statements = (0..10)
        .map(|i| {
            let body = json!({ "text": format!("Opening statement {i}") });
            let (status, posted) = call("POST", &format!("{url}/api/dialogues/{id}/statements"), t, Some(body));
            assert_eq!(status, 201, "{posted}");
            posted["id"].as_str().unwrap().to_string()
        })
        .collect();
    Conversation { id, members, statements }
}

/// What one loader saw: the votes acknowledged last per statement, the values sent
/// after that whose fate is unknown (no answer, or 503), the statements posted and
/// acknowledged, and how many answers of each status.
#[derive(Default)]
struct Seen {
    acked: HashMap<String, i8>,
    unsure: HashMap<String, HashSet<i8>>,
    posted: Vec<String>,
    statuses: HashMap<u16, u64>,
}

/// Where the loaders send requests; a restarted server gets a new address.
type Target = Arc<Mutex<String>>;

/// Loader `i`: votes (and every 8th request posts a statement) as member `i` until
/// `stop`, without pause; a request that gets no answer counts as status 0.
fn load(target: Target, c: &Conversation, i: usize, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<Seen> {
    let (token, dialogue, statements) = (c.members[i].0.clone(), c.id.clone(), c.statements.clone());
    std::thread::spawn(move || {
        let agent = ureq::AgentBuilder::new().timeout(Duration::from_secs(20)).build();
        let mut seen = Seen::default();
        let mut k = 0usize;
        while !stop.load(Ordering::Relaxed) {
            let url = target.lock().unwrap().clone();
            k += 1;
            let request =
                |path: String| agent.post(&format!("{url}{path}")).set("Authorization", &format!("Bearer {token}"));
            if k.is_multiple_of(8) {
                let text = format!("Statement {k} of loader {i}");
                let status = match request(format!("/api/dialogues/{dialogue}/statements"))
                    .send_json(json!({"text": text}))
                {
                    Ok(r) => {
                        seen.posted.push(r.into_json::<serde_json::Value>().unwrap()["id"].as_str().unwrap().into());
                        201
                    }
                    Err(ureq::Error::Status(code, _)) => code,
                    Err(_) => 0,
                };
                *seen.statuses.entry(status).or_default() += 1;
                continue;
            }
            let statement = &statements[k % statements.len()];
            let value: i8 = [1, -1, 0][(k / statements.len()) % 3];
            let name = ["agree", "disagree", "pass"][(k / statements.len()) % 3];
            let path = format!("/api/dialogues/{dialogue}/statements/{statement}/vote");
            let status = match request(path).send_json(json!({ "vote": name })) {
                Ok(r) => r.status(),
                Err(ureq::Error::Status(code, _)) => code,
                Err(_) => 0,
            };
            *seen.statuses.entry(status).or_default() += 1;
            match status {
                204 => {
                    seen.acked.insert(statement.clone(), value);
                    seen.unsure.remove(statement);
                }
                409 => {} // the member's statement cap: refused, nothing stored
                _ => {
                    seen.unsure.entry(statement.clone()).or_default().insert(value);
                    if status == 0 {
                        std::thread::sleep(Duration::from_millis(20));
                    }
                }
            }
        }
        seen
    })
}

/// Runs `loaders` loaders while `during` does its damage, then stops them.
fn under_load(target: &Target, c: &Conversation, loaders: usize, during: impl FnOnce()) -> Vec<Seen> {
    let stop = Arc::new(AtomicBool::new(false));
    let handles: Vec<_> = (0..loaders).map(|i| load(target.clone(), c, i, stop.clone())).collect();
    during();
    stop.store(true, Ordering::Relaxed);
    handles.into_iter().map(|h| h.join().unwrap()).collect()
}

/// Every acknowledged vote is stored (or a later one whose answer was lost), every
/// acknowledged statement is served, and the record verifies.
fn nothing_acknowledged_is_lost(data: &Data, url: &str, c: &Conversation, seen: &[Seen]) {
    let stored = data.votes(&c.id);
    let mut checked = 0;
    for (i, s) in seen.iter().enumerate() {
        let member = &c.members[i].1;
        for statement in &c.statements {
            let now = stored.get(&(member.clone(), statement.clone())).copied();
            let acked = s.acked.get(statement).copied();
            let unsure = s.unsure.get(statement).cloned().unwrap_or_default();
            assert!(
                now == acked || now.is_some_and(|v| unsure.contains(&v)),
                "member {i}, {statement}: stored {now:?}, acknowledged {acked:?}, unsure {unsure:?}"
            );
            checked += acked.is_some() as usize;
        }
    }
    assert!(checked > 0, "the load acknowledged no vote");
    let texts = common::get(&format!("{url}/dialogues/{}/statements.json", c.id));
    for id in seen.iter().flat_map(|s| &s.posted) {
        assert!(texts.contains(id.as_str()), "acknowledged statement {id} is gone");
    }
    let out = hiwar().args(["verify", &format!("{url}/dialogues/{}/record", c.id)]).output().unwrap();
    assert!(out.status.success(), "{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
}

fn statuses(seen: &[Seen]) -> HashMap<u16, u64> {
    let mut all = HashMap::new();
    for s in seen {
        for (k, v) in &s.statuses {
            *all.entry(*k).or_default() += v;
        }
    }
    all
}

/// Opens a verifiable vote in the dialogue the way its roles would (three trustees'
/// key ceremony, the credential authority's list for `voters` voters) and makes every
/// voter's ballot in advance: the request bodies, one per voter.
fn open_election(url: &str, dialogue: &str, convener: &str, voters: usize, dir: &Path) -> Vec<String> {
    let run = |args: &[&str]| {
        let out = hiwar().args(args).output().unwrap();
        assert!(out.status.success(), "hiwar {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let path = |name: &str| dir.join(name).display().to_string();
    let trustees: Vec<serde_json::Value> = (1..=3)
        .map(|j| {
            serde_json::from_str(&run(&["trustee", "keygen", "--out", &path(&format!("trustee-{j}.json"))])).unwrap()
        })
        .collect();
    let authority: serde_json::Value =
        serde_json::from_str(&run(&["election", "authority", "--out", &path("authority.json")])).unwrap();
    let list: Vec<serde_json::Value> = (1..=voters).map(|i| json!({ "voter": format!("voter-{i}") })).collect();
    let election = json!({
        "id": "load", "title": {"ar": "استفتاء", "en": "Referendum"},
        "questions": [{"title": {"ar": "هل توافق؟", "en": "Do you agree?"},
            "options": [{"ar": "نعم", "en": "Yes"}, {"ar": "لا", "en": "No"}], "min": 1, "max": 1}],
        "electorate": {"list": list}, "trustees": trustees, "threshold": 2, "authority": authority["authority"],
    });
    let (status, answer) =
        call("POST", &format!("{url}/api/dialogues/{dialogue}/elections"), Some(convener), Some(election));
    assert_eq!(status, 201, "{answer}");
    let target = ["--server", url, "--dialogue", dialogue, "--election", "load"];
    // The trustees' ceremony: three processes at once, each waiting for the others' steps.
    let ceremony: Vec<_> = (1..=3)
        .map(|j| {
            let key = path(&format!("trustee-{j}.json"));
            let mut command = hiwar();
            command.args(["trustee", "ceremony"]).args(target).args(["--key", &key]);
            command.stdout(std::process::Stdio::null()).stderr(std::process::Stdio::piped()).spawn().unwrap()
        })
        .collect();
    for trustee in ceremony {
        let out = trustee.wait_with_output().unwrap();
        assert!(out.status.success(), "trustee ceremony: {}", String::from_utf8_lossy(&out.stderr));
    }
    let roll: String = std::iter::once("voter,weight".to_string())
        .chain((1..=voters).map(|i| format!("voter-{i},1")))
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(dir.join("roll.csv"), roll + "\n").unwrap();
    run(&[
        &["election", "credentials"][..],
        &target,
        &[
            "--authority",
            &path("authority.json"),
            "--voters",
            &path("roll.csv"),
            "--out",
            &path("credentials"),
            "--upload",
        ],
    ]
    .concat());
    let (status, answer) =
        call("POST", &format!("{url}/api/dialogues/{dialogue}/elections/load/open"), Some(convener), None);
    assert!(status < 300, "{answer}");
    let batch: String = std::iter::once("credential,choices".to_string())
        .chain((1..=voters).map(|i| format!("{},{}", path(&format!("credentials/voters/voter-{i}.json")), i % 2)))
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(dir.join("batch.csv"), batch + "\n").unwrap();
    run(&[&["vote", "--batch", &path("batch.csv"), "--bodies", &path("bodies.jsonl")][..], &target].concat());
    std::fs::read_to_string(dir.join("bodies.jsonl")).unwrap().lines().map(str::to_string).collect()
}

/// Casts the ballots in turn until `stop`: the tracking codes acknowledged (201).
fn cast(
    target: Target,
    dialogue: String,
    ballots: Vec<String>,
    stop: Arc<AtomicBool>,
) -> std::thread::JoinHandle<Vec<String>> {
    std::thread::spawn(move || {
        let agent = ureq::AgentBuilder::new().timeout(Duration::from_secs(20)).build();
        let mut acked = Vec::new();
        for body in ballots {
            if stop.load(Ordering::Relaxed) {
                break;
            }
            let url = format!("{}/api/dialogues/{dialogue}/elections/load/ballots", target.lock().unwrap());
            if let Ok(r) = agent.post(&url).set("Content-Type", "application/json").send_string(&body) {
                acked.push(r.into_json::<serde_json::Value>().unwrap()["tracking"].as_str().unwrap().to_string());
            }
        }
        acked
    })
}

fn killed_mid_load(data: Data) {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let key = convener_key(&data);
    let mut server = serve(&data);
    let c = set_up(&server.url, &key, 8);
    let dir = tempfile::tempdir().unwrap();
    let (_, login) = call("POST", &format!("{}/api/login", server.url), None, Some(json!({ "code": key })));
    let ballots = open_election(&server.url, &c.id, login["token"].as_str().unwrap(), 400, dir.path());
    let target: Target = Arc::new(Mutex::new(server.url.clone()));
    let stop_casting = Arc::new(AtomicBool::new(false));
    let casting = cast(target.clone(), c.id.clone(), ballots, stop_casting.clone());
    let seen = under_load(&target, &c, 8, || {
        std::thread::sleep(Duration::from_millis(1500));
        server.child.kill().unwrap(); // SIGKILL: no shutdown, no flush
        server.child.wait().unwrap();
        stop_casting.store(true, Ordering::Relaxed);
        std::thread::sleep(Duration::from_millis(300));
    });
    let cast_before_the_kill = casting.join().unwrap();
    let all = statuses(&seen);
    assert!(all.get(&204).copied().unwrap_or(0) > 50, "{all:?}");
    assert!(all.keys().all(|s| [0, 201, 204, 409].contains(s)), "{all:?}");
    let restarted = serve(&data);
    nothing_acknowledged_is_lost(&data, &restarted.url, &c, &seen);
    assert!(!cast_before_the_kill.is_empty(), "no ballot was cast before the kill");
    for tracking in &cast_before_the_kill {
        let (_, board) = call(
            "GET",
            &format!("{}/api/dialogues/{}/elections/load/board?q={tracking}", restarted.url, c.id),
            None,
            None,
        );
        let found = board["entries"].as_array().map_or(0, Vec::len);
        assert_eq!(found, 1, "acknowledged ballot {tracking} is on the board: {board}");
    }
    eprintln!("{} ballots acknowledged before the kill, all on the board after", cast_before_the_kill.len());
}

#[test]
fn a_killed_server_loses_no_acknowledged_write_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    killed_mid_load(Data::Sqlite(dir.path().join("data")));
}

#[test]
fn a_killed_server_loses_no_acknowledged_write_postgres() {
    killed_mid_load(Data::postgres());
}

/// `id -u` or `id -g` of the tests' process.
fn id(flag: &str) -> String {
    let out = std::process::Command::new("id").arg(flag).output().expect("id runs");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// `program` as root: directly when the tests run as root (as CI does), else through
/// `sudo -n` (which must not ask for a password).
fn as_root(program: &str) -> std::process::Command {
    if id("-u") == "0" {
        std::process::Command::new(program)
    } else {
        let mut sudo = std::process::Command::new("sudo");
        sudo.args(["-n", program]);
        sudo
    }
}

fn postgres_version() -> String {
    let versions = std::fs::read_dir("/etc/postgresql").expect("PostgreSQL's configuration in /etc/postgresql");
    let mut versions: Vec<String> = versions.map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    versions.sort();
    versions.pop().expect("a PostgreSQL cluster")
}

/// PostgreSQL restarts under a load: requests meanwhile fail with 503 and a message (no
/// 500, no hang), the server recovers by itself, and nothing acknowledged is lost.
#[test]
fn a_restarted_database_costs_503s_and_nothing_acknowledged() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let data = Data::postgres();
    let key = convener_key(&data);
    let server = serve(&data);
    let c = set_up(&server.url, &key, 6);
    let target: Target = Arc::new(Mutex::new(server.url.clone()));
    let seen = under_load(&target, &c, 6, || {
        std::thread::sleep(Duration::from_millis(800));
        let out = as_root("pg_ctlcluster")
            .args(["--skip-systemctl-redirect", &postgres_version(), "main", "restart", "--mode", "fast"])
            .output()
            .expect("pg_ctlcluster runs (the test needs root, as CI has)");
        assert!(out.status.success(), "restarting PostgreSQL: {}", String::from_utf8_lossy(&out.stderr));
        std::thread::sleep(Duration::from_millis(2000));
    });
    let all = statuses(&seen);
    assert!(all.keys().all(|s| [201, 204, 409, 503].contains(s)), "only clean answers: {all:?}");
    // The same process serves again, without a restart of its own.
    let (status, _) = call(
        "POST",
        &format!("{}/api/dialogues/{}/statements/{}/vote", server.url, c.id, c.statements[0]),
        Some(&c.members[0].0),
        Some(json!({"vote": "agree"})),
    );
    assert_eq!(status, 204);
    let mut seen = seen;
    seen[0].acked.insert(c.statements[0].clone(), 1);
    seen[0].unsure.remove(&c.statements[0]);
    nothing_acknowledged_is_lost(&data, &server.url, &c, &seen);
    eprintln!("answers while PostgreSQL restarted: {all:?}");
}

/// Mounts a tmpfs of `megabytes` at `dir` for the life of the value (root only).
struct SmallDisk(std::path::PathBuf);

impl SmallDisk {
    fn mount(dir: &Path, megabytes: u32) -> SmallDisk {
        std::fs::create_dir_all(dir).unwrap();
        let out = as_root("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={megabytes}m,mode=0700,uid={},gid={}", id("-u"), id("-g")),
                "tmpfs",
            ])
            .arg(dir)
            .output()
            .expect("mount runs");
        assert!(
            out.status.success(),
            "mounting a small tmpfs for the full-disk test needs root: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        SmallDisk(dir.to_path_buf())
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = as_root("umount").arg("-l").arg(&self.0).output();
    }
}

/// Fills the file system holding `dir` with a file of its own until a write fails.
fn fill(dir: &Path) -> std::path::PathBuf {
    use std::io::Write;
    let path = dir.join("filler");
    let mut file = std::fs::File::create(&path).unwrap();
    let block = vec![0u8; 64 * 1024];
    while file.write_all(&block).and_then(|_| file.sync_all()).is_ok() {}
    let small = [0u8; 512];
    while file.write_all(&small).and_then(|_| file.sync_all()).is_ok() {}
    path
}

/// The disk fills under a load: writes are refused with 503, nothing is corrupted, and
/// once space is freed the same server takes writes again.
#[test]
fn a_full_disk_costs_503s_and_recovers_once_freed() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let root = tempfile::tempdir().unwrap();
    let _disk = SmallDisk::mount(&root.path().join("disk"), 24);
    let data = Data::Sqlite(root.path().join("disk").join("data"));
    let key = convener_key(&data);
    let server = serve(&data);
    let c = set_up(&server.url, &key, 4);
    let target: Target = Arc::new(Mutex::new(server.url.clone()));
    let filler = Arc::new(Mutex::new(None));
    let seen = under_load(&target, &c, 4, || {
        std::thread::sleep(Duration::from_millis(500));
        *filler.lock().unwrap() = Some(fill(&root.path().join("disk")));
        std::thread::sleep(Duration::from_millis(1500));
    });
    let all = statuses(&seen);
    let logs = || server.logs().into_iter().filter(|l| !l.contains("INFO")).collect::<Vec<_>>().join("\n");
    assert!(all.get(&503).copied().unwrap_or(0) > 0, "a full disk is answered 503: {all:?}");
    assert!(all.keys().all(|s| [201, 204, 409, 503].contains(s)), "only clean answers: {all:?}\n{}", logs());
    let vote = |statement: &str| {
        call(
            "POST",
            &format!("{}/api/dialogues/{}/statements/{statement}/vote", server.url, c.id),
            Some(&c.members[0].0),
            Some(json!({"vote": "disagree"})),
        )
        .0
    };
    assert_eq!(vote(&c.statements[1]), 503, "still full");
    std::fs::remove_file(filler.lock().unwrap().take().unwrap()).unwrap();
    let started = Instant::now();
    while vote(&c.statements[1]) != 204 {
        assert!(started.elapsed() < Duration::from_secs(20), "the server did not recover once space was freed");
        std::thread::sleep(Duration::from_millis(200));
    }
    let mut seen = seen;
    seen[0].acked.insert(c.statements[1].clone(), -1);
    seen[0].unsure.remove(&c.statements[1]);
    eprintln!("server said:\n{}", logs());
    nothing_acknowledged_is_lost(&data, &server.url, &c, &seen);
    let integrity = data.with_store(|store| async move { hiwar_store::testing::integrity_check(&store).await });
    assert_eq!(integrity, "ok");
    eprintln!("answers while the disk was full: {all:?}");
}

/// A backup taken while votes and statements arrive restores on the other backend, and
/// every record in it verifies; a damaged backup is refused before anything is written.
#[test]
fn a_backup_taken_under_load_restores_and_verifies() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let root = tempfile::tempdir().unwrap();
    let data = Data::Sqlite(root.path().join("data"));
    let key = convener_key(&data);
    let server = serve(&data);
    let c = set_up(&server.url, &key, 6);
    let target: Target = Arc::new(Mutex::new(server.url.clone()));
    let file = root.path().join("backup.jsonl");
    under_load(&target, &c, 6, || {
        std::thread::sleep(Duration::from_millis(700));
        let out = hiwar().arg("backup").arg("--out").arg(&file).args(data.args()).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        std::thread::sleep(Duration::from_millis(300));
    });
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);

    // SQLite's backup into PostgreSQL: the restore verifies every record itself.
    let pg = Data::postgres();
    let out = hiwar().arg("restore").arg("--from").arg(&file).args(pg.args()).output().unwrap();
    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{said}{}", String::from_utf8_lossy(&out.stderr));
    assert!(said.contains("every record verifies"), "{said}");
    let restored = serve(&pg);
    let record = common::get(&format!("{}/dialogues/{}/record", restored.url, c.id));
    let verified = hiwar().args(["verify", &format!("{}/dialogues/{}/record", restored.url, c.id)]).output().unwrap();
    assert!(verified.status.success() && record.lines().count() > 10);
    // And back: PostgreSQL's backup into a new SQLite directory.
    let again = root.path().join("again.jsonl");
    assert!(hiwar().arg("backup").arg("--out").arg(&again).args(pg.args()).status().unwrap().success());
    let sqlite = Data::Sqlite(root.path().join("restored"));
    assert!(hiwar().arg("restore").arg("--from").arg(&again).args(sqlite.args()).status().unwrap().success());
    assert_eq!(sqlite.votes(&c.id), pg.votes(&c.id));

    // Refused: into a database that is not empty, and a damaged file.
    let out = hiwar().arg("restore").arg("--from").arg(&file).args(pg.args()).output().unwrap();
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("not empty"));
    let text = std::fs::read_to_string(&file).unwrap();
    let damaged = root.path().join("damaged.jsonl");
    std::fs::write(&damaged, text.replacen("Opening statement 3", "Opening statement 4", 1)).unwrap();
    let fresh = Data::Sqlite(root.path().join("fresh"));
    let out = hiwar().arg("restore").arg("--from").arg(&damaged).args(fresh.args()).output().unwrap();
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("SHA-256"));
    assert!(fresh.votes(&c.id).is_empty(), "nothing was written");
}
