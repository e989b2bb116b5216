//! Fills a database with a national-scale deliberation for the platform's load
//! benchmarks (docs/performance.md, "Deliberation in the platform"): a dialogue in its
//! deliberation phase, STATEMENTS statements posted through the store (so the record
//! verifies), PARTICIPANTS participants and their generated votes (four planted
//! opinion groups) written in bulk, and session tokens for the first SESSIONS
//! participants.
//!
//! ```text
//! cargo run --release -p hiwar --example fill_deliberation -- \
//!     DATABASE_URL PARTICIPANTS STATEMENTS VOTES SESSIONS OUT_DIR
//! ```
//!
//! Writes `OUT_DIR/dialogue` (its id), `OUT_DIR/statements` and `OUT_DIR/tokens` (one
//! per line).

use std::time::Instant;

use hiwar_opinion::synthetic::Planted;
use hiwar_store::{testing, HashedCode, NewDialogue, Phase, Store, Text};

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [url, participants, statements, votes, sessions, out] = &args[..] else {
        eprintln!("usage: fill_deliberation DATABASE_URL PARTICIPANTS STATEMENTS VOTES SESSIONS OUT_DIR");
        std::process::exit(2);
    };
    let number = |s: &str| s.parse::<usize>().unwrap_or_else(|_| panic!("not a number: {s}"));
    let (participants, statements, votes, sessions) =
        (number(participants), number(statements), number(votes), number(sessions));
    let out = std::path::Path::new(out);
    std::fs::create_dir_all(out).unwrap();
    let started = Instant::now();
    let store = Store::open_url(url).await.unwrap();

    let convener =
        store.create_convener(&HashedCode { lookup: hiwar_store::random_id("K", 6), hash: "-".into() }).await;
    let convener = convener.unwrap();
    let new = NewDialogue {
        title: Text::new("حوار وطني (حِمل)", "National dialogue (load)"),
        description: Text::new("بيانات مولّدة للقياس", "Generated data for benchmarks"),
        listed: false,
    };
    let dialogue = store.create_dialogue(&new, &convener, "المنسّق").await.unwrap();
    let phase = Phase {
        kind: "deliberation".into(),
        name: Text::new("نقاش", "Deliberation"),
        starts: "2026-01-01".into(),
        ends: "2027-12-31".into(),
    };
    store.add_phase(&dialogue, &phase).await.unwrap();
    store.set_current_phase(&dialogue, Some(0)).await.unwrap();
    let author = store.membership(&dialogue, &convener).await.unwrap().unwrap().id;
    let mut statement_ids = Vec::with_capacity(statements);
    for i in 0..statements {
        let text = format!("Generated statement number {i}");
        statement_ids.push(store.post_statement(&dialogue, &author, &text, statements as u64).await.unwrap());
    }
    eprintln!("{statements} statements posted ({:.1} s)", started.elapsed().as_secs_f64());

    let ids = testing::bulk_members(&store, &dialogue, participants).await;
    eprintln!("{participants} participants added ({:.1} s)", started.elapsed().as_secs_f64());
    let conversation = Planted {
        participants,
        statements,
        groups: vec![0.45, 0.3, 0.15, 0.1],
        consensus: statements / 50,
        density: votes as f64 / (participants as f64 * statements as f64),
        noise: 0.2,
        seed: 1,
    }
    .generate()
    .votes;
    let triples: Vec<(u32, u32, i8)> = (0..conversation.participants)
        .flat_map(|p| conversation.participant_votes(p).iter().map(move |&(s, v)| (p as u32, s, v)))
        .collect();
    let members: Vec<String> = ids.iter().map(|(_, m)| m.clone()).collect();
    testing::bulk_votes(&store, &dialogue, &members, &statement_ids, &triples).await;
    testing::analyze(&store).await;
    eprintln!("{} votes stored ({:.1} s)", triples.len(), started.elapsed().as_secs_f64());

    let expires = time::OffsetDateTime::now_utc().unix_timestamp() + 86_400;
    let mut tokens = String::new();
    for (account, _) in ids.iter().take(sessions) {
        let token = hiwar_server::web::random_token();
        store.create_session(&hiwar_server::web::token_hash(&token), account, expires).await.unwrap();
        tokens.push_str(&token);
        tokens.push('\n');
    }
    std::fs::write(out.join("tokens"), tokens).unwrap();
    std::fs::write(out.join("statements"), statement_ids.join("\n") + "\n").unwrap();
    std::fs::write(out.join("dialogue"), &dialogue).unwrap();
    println!("{dialogue}");
}
