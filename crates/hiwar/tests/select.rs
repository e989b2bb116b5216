//! `hiwar select run | draw | verify` on the paper's pool and on bad input.

mod common;

use common::hiwar;
use serde_json::Value;

fn shared(file: &str) -> Option<String> {
    let path = format!("{}/../../../shared/data/sortition/example_small_20/{file}", env!("CARGO_MANIFEST_DIR"));
    if std::path::Path::new(&path).exists() {
        Some(path)
    } else {
        eprintln!("skipping: {path} is absent");
        None
    }
}

fn run(args: &[&str]) -> (i32, String, String) {
    let out = hiwar().args(args).output().unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn run_draw_and_verify_on_the_papers_pool() {
    let (Some(pool), Some(quotas)) = (shared("respondents.csv"), shared("categories.csv")) else { return };
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("manifest.json");
    let m = manifest.to_str().unwrap();
    let (code, stdout, stderr) =
        run(&["select", "run", "--pool", &pool, "--quotas", &quotas, "--size", "20", "--out", m]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("minimum selection probability") && stdout.contains("10.0000%"), "{stdout}");
    assert!(!stdout.contains("NOT PROVEN"), "{stdout}");
    assert!(dir.path().join("manifest.svg").exists());
    for bad in ["0", "-1", "soon"] {
        let limit = format!("--time-limit={bad}");
        let args = ["select", "run", "--pool", &pool, "--quotas", &quotas, "--size", "20", &limit, "--out", m];
        let (code, _, stderr) = run(&args);
        assert_ne!(code, 0, "--time-limit {bad}");
        assert!(stderr.contains("time-limit") || stderr.contains("time_limit"), "{stderr}");
    }
    let value: Value = serde_json::from_str(&std::fs::read_to_string(&manifest).unwrap()).unwrap();
    assert_eq!(value["panels"].as_array().unwrap().len(), 1000);
    assert_eq!(value["probabilities"].as_object().unwrap().len(), 200);
    assert_eq!(value["manifest_hash"].as_str().unwrap().len(), 64);
    let sum: f64 = value["probabilities"].as_object().unwrap().values().map(|p| p.as_f64().unwrap()).sum();
    assert!((sum - 20.0).abs() < 1e-9);

    let panel = dir.path().join("panel.csv");
    let p = panel.to_str().unwrap();
    let beacon = "Lottery 2026-12-01: 04 18 22 31 40";
    assert_eq!(run(&["select", "draw", "--manifest", m, "--beacon", beacon, "--out", p]).0, 0);
    let lines = std::fs::read_to_string(&panel).unwrap();
    assert_eq!(lines.lines().count(), 21);
    let (code, stdout, _) = run(&["select", "verify", "--manifest", m, "--beacon", beacon, "--panel", p]);
    assert_eq!(code, 0, "{stdout}");
    // Another beacon, or an altered manifest, fails.
    let (code, stdout, _) = run(&["select", "verify", "--manifest", m, "--beacon", "another", "--panel", p]);
    assert_eq!(code, 1);
    assert!(stdout.contains("VERIFICATION FAILED"));
    let altered = dir.path().join("altered.json");
    std::fs::write(&altered, std::fs::read_to_string(&manifest).unwrap().replacen("\"size\": 20", "\"size\": 19", 1))
        .unwrap();
    let (code, stdout, _) = run(&["select", "verify", "--manifest", altered.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(stdout.contains("manifest_hash"), "{stdout}");
}

#[test]
fn bad_input_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let quotas = dir.path().join("q.csv");
    let pool = dir.path().join("p.csv");
    let out = dir.path().join("m.json");
    // Writes the two files, runs `select run` and returns its exit code and stderr.
    let attempt = |quotas_csv: &str, pool_csv: &str, size: &str| {
        std::fs::write(&quotas, quotas_csv).unwrap();
        std::fs::write(&pool, pool_csv).unwrap();
        let (code, _, stderr) = run(&[
            "select",
            "run",
            "--pool",
            pool.to_str().unwrap(),
            "--quotas",
            quotas.to_str().unwrap(),
            "--size",
            size,
            "--out",
            out.to_str().unwrap(),
        ]);
        (code, stderr)
    };
    let gender = "category,feature,min,max\ngender,f,1,2\ngender,m,1,2\n";
    let (code, stderr) = attempt(gender, "id,gender\na,f\nb,m\nc,\"f\n", "2");
    assert_eq!(code, 2);
    assert!(stderr.contains("pool: line 4"), "{stderr}");
    let (code, stderr) = attempt(gender, "id,gender\na,f\nb,m\n", "5");
    assert_eq!(code, 2);
    assert!(stderr.contains("a panel of 5 from a pool of 2"), "{stderr}");
    let (code, stderr) = attempt("category,feature,min,max\ngender,f,2,1\n", "id,gender\na,f\nb,m\n", "1");
    assert_eq!(code, 2);
    assert!(stderr.contains("quotas: line 2, column 3: min 2 is greater than max 1"), "{stderr}");
}
