//! `hiwar`: the command line. A thin layer over the library crates: it reads flags,
//! environment and the optional config file, then calls into them.

mod backup;
mod ballots;
mod config;
mod decide;
mod declare;
mod opinions;
mod select;
mod simulate;
mod verify;
mod witness;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use hiwar_server::AppState;
use hiwar_store::Store;

use crate::config::StoreArgs;

/// Verifying a large record allocates millions of small JSON values on several threads;
/// mimalloc does that markedly faster than the system allocator (docs/performance.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// hiwar: a national dialogue that no convener can rig.
///
/// Delegates seated by a checkable lottery, everyone's opinions heard, decisions by
/// verifiable secret ballot, and a signed public record anyone can verify.
#[derive(Parser)]
#[command(name = "hiwar", version, propagate_version = true)]
struct Cli {
    /// A TOML file with defaults for the flags below (flags and HIWAR_* variables win).
    #[arg(long, global = true, env = "HIWAR_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the platform (SQLite in ./hiwar-data unless --database-url is given).
    Serve {
        #[command(flatten)]
        store: StoreArgs,
        #[command(flatten)]
        server: config::ServerArgs,
    },
    /// Run the platform with a seeded bilingual demo dialogue, printing its URL and login codes.
    Demo {
        /// Where to keep the demo's data [default: a temporary directory, removed at exit].
        #[arg(long, env = "HIWAR_DATA", value_name = "DIR")]
        data: Option<PathBuf>,
        #[command(flatten)]
        server: config::ServerArgs,
    },
    /// Verify a public record (a file, or the URL of /dialogues/{id}/record): chain,
    /// signatures and every event in it. Exits 0 only if every check holds.
    Verify {
        /// The record: a path, or an http(s) URL.
        record: String,
        /// The dialogue's signing key as published by the convener elsewhere (hex);
        /// without it the key in the record's first line is trusted.
        #[arg(long, value_name = "HEX")]
        key: Option<String>,
        /// An earlier copy of the same record: it must be a prefix of this one.
        #[arg(long, value_name = "FILE")]
        previous: Option<PathBuf>,
        /// A directory with the selection manifests (`{selection}-manifest.json`, as the
        /// server names them), for check S3 of a record read from a file. From a URL
        /// they are fetched from the same server.
        #[arg(long, value_name = "DIR")]
        manifests: Option<PathBuf>,
        /// The statement texts served beside the record (`statements.json`), for check
        /// T1 of a record read from a file. From a URL they are fetched from the same server.
        #[arg(long, value_name = "FILE")]
        statements: Option<PathBuf>,
        #[command(flatten)]
        witnesses: verify::WitnessArgs,
        /// Print one JSON document with every check's outcome (for tools) instead of
        /// the lines for people; the exit code is the same.
        #[arg(long)]
        json: bool,
        /// Also say whether the ballot with this tracking code is in the record, and
        /// whether it counts or a later ballot of its credential superseded it (exit 1
        /// if it is not there).
        #[arg(long, value_name = "CODE")]
        tracking: Option<String>,
    },
    /// Witness a dialogue's record as an independent observer: co-sign each new head
    /// only if the record extends the one you co-signed before.
    Witness {
        #[command(subcommand)]
        action: WitnessAction,
    },
    /// Elections: the credential authority's key and voters' credentials, or a whole simulated election.
    Election {
        #[command(subcommand)]
        action: ElectionAction,
    },
    /// What a trustee does on its own machine: keys, the key ceremony, decrypting the tally.
    Trustee {
        #[command(subcommand)]
        action: TrusteeAction,
    },
    /// Check a ballot you challenged, from the verified record, on a device you trust
    Ballot {
        #[command(subcommand)]
        action: BallotAction,
    },
    /// Vote in an open election (the ballot is encrypted, proved and signed here), or check your ballot.
    #[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
    Vote {
        #[command(subcommand)]
        action: Option<VoteAction>,
        #[command(flatten)]
        target: Option<decide::Target>,
        /// Your credential: the file from the credential authority, or the code on your letter
        #[arg(long, value_name = "FILE|CODE", required_unless_present = "batch")]
        credential: Option<String>,
        /// Your choices: per question (separated by ;) the numbers of the options you
        /// choose, from 0 — e.g. 0, or 1;0,2
        #[arg(long, required_unless_present = "batch")]
        choices: Option<String>,
        /// First challenge a ballot with the same choices: it is opened and published as
        /// challenged (never counted), so you can see this device encrypts what you chose
        #[arg(long)]
        challenge: bool,
        /// Keep the receipt here: the tracking code and the record's signed head just
        /// after your ballot (give it to hiwar verify --checkpoint later: a record without
        /// your ballot then fails, with a proof)
        #[arg(long, value_name = "FILE")]
        receipt: Option<PathBuf>,
        /// Many voters at once: a CSV with columns credential and choices (drills, tests, load)
        #[arg(long, value_name = "CSV")]
        batch: Option<PathBuf>,
        /// With --batch: connections casting at once
        #[arg(long, default_value_t = 16)]
        concurrency: usize,
        /// With --batch: write the ballots (one JSON body per line) instead of casting them
        #[arg(long, value_name = "FILE")]
        bodies: Option<PathBuf>,
    },
    /// Seat delegates by a fair, checkable lottery: run the optimiser, draw, verify.
    Select {
        #[command(subcommand)]
        action: select::SelectAction,
    },
    /// Organisations that sign declarations: make a signing key, register with an invitation code.
    Org {
        #[command(subcommand)]
        action: declare::OrgAction,
    },
    /// Sign, or withdraw a signature of, the exact text of a declaration's version.
    Declaration {
        #[command(subcommand)]
        action: declare::DeclarationAction,
    },
    /// Opinions: analyse a conversation (groups, representative statements, consensus).
    Opinions {
        #[command(subcommand)]
        action: opinions::OpinionsAction,
    },
    /// Take a consistent copy of the platform's database while it runs (SQLite or
    /// PostgreSQL), with a checksum; it holds the dialogues' signing keys: keep it safe.
    Backup {
        /// The file to write (replaced only once the backup is complete).
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Restore a backup into a new, empty database (either backend), check it against
    /// its checksum first and verify every record after.
    Restore {
        /// The backup file `hiwar backup` wrote.
        #[arg(long, value_name = "FILE")]
        from: PathBuf,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Manage platform conveners (who may create dialogues).
    Convener {
        #[command(subcommand)]
        action: ConvenerAction,
    },
}

#[derive(Subcommand)]
enum ElectionAction {
    /// Run a complete election locally (trustee keys, credentials, ballots with some
    /// re-votes and challenges, tally, threshold decryption) and write its record.
    Simulate {
        /// Number of voters.
        #[arg(long, default_value_t = 1000)]
        voters: u64,
        /// Number of options of the one question.
        #[arg(long, default_value_t = 3)]
        options: u32,
        /// How many options a voter selects, MIN..MAX [default: 1..1, choose one].
        #[arg(long, value_name = "MIN..MAX", default_value = "1..1")]
        select: String,
        /// Trustees as T/N: any T of N can decrypt.
        #[arg(long, value_name = "T/N", default_value = "2/3")]
        trustees: String,
        /// Seed of the simulation's randomness (the same seed gives the same ballots).
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Time stamp of every event, YYYY-MM-DDTHH:MM:SSZ [default: now]; with --seed it
        /// makes the record reproducible byte for byte.
        #[arg(long, value_name = "TIME")]
        time: Option<String>,
        /// Give voters public weights 1, 2, 3, 1, 2, 3, … (as in a weighted vote).
        #[arg(long)]
        weighted: bool,
        /// Where to write the record.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// Also write the roles' secret keys here: trustee-J.json for `hiwar trustee
        /// decrypt`, and authority.json (the credential authority's signing seed).
        #[arg(long, value_name = "DIR")]
        keys: Option<PathBuf>,
    },
    /// Make the credential authority's signing key; prints the public key for the convener
    Authority {
        /// Where to keep the secret key (created, readable only by you)
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// As the credential authority: one private credential per voter of the roll, as
    /// letters (HTML, Arabic and English), files and CSV; the signed public list
    Credentials {
        #[command(flatten)]
        target: decide::Target,
        /// The authority's key file from `hiwar election authority`
        #[arg(long, value_name = "FILE")]
        authority: PathBuf,
        /// The roll (CSV: voter, pseudonym, weight), downloaded from the election page
        #[arg(long, value_name = "CSV")]
        voters: PathBuf,
        /// The credentials members made themselves and registered (CSV: voter,
        /// credential, from the election page): listed as made by the members; letters
        /// are made only for the others
        #[arg(long, value_name = "CSV")]
        registered: Option<PathBuf>,
        /// A new folder for the letters and files (print, hand out, then delete it)
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// Send the signed public list to the server now
        #[arg(long)]
        upload: bool,
    },
}

#[derive(Subcommand)]
enum TrusteeAction {
    /// Make your long-term trustee keys; prints the public keys to give the convener
    Keygen {
        /// Where to keep your secret keys (created, readable only by you)
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Take part in an election's key ceremony (commit, reveal, deal, check), waiting
    /// for the other trustees; stop and run it again at any time
    Ceremony {
        #[command(flatten)]
        target: decide::Target,
        /// Your key file from `hiwar trustee keygen`
        #[arg(long, value_name = "FILE")]
        key: PathBuf,
        /// Give up after this many seconds of waiting for the others
        #[arg(long, default_value_t = 3600)]
        wait: u64,
    },
    /// Verify the record, recompute your key share from the shares dealt to you, and
    /// sign your partial decryption of the election's verified tally: sent to the
    /// server with --server, else printed (one record body, as JSON). Refuses if any
    /// check of the record fails.
    Decrypt {
        /// The record: a path, or the URL of /dialogues/{id}/record (or give --server).
        #[arg(long, required_unless_present = "server")]
        record: Option<String>,
        /// Send the partial decryption to this server (with --dialogue and --election)
        #[arg(long, value_name = "URL", requires = "dialogue")]
        server: Option<String>,
        #[arg(long)]
        dialogue: Option<String>,
        /// The election (if your key file does not name it)
        #[arg(long)]
        election: Option<String>,
        /// Your trustee key file (from `hiwar trustee keygen`, or `election simulate --keys`).
        #[arg(long, value_name = "FILE")]
        key: PathBuf,
        /// Where to write the signed body [default: standard output].
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Decrypt only a record your named witnesses co-signed: then the key holder
        /// cannot show you alone a fork of the record (say, with a single voter's ballot)
        #[command(flatten)]
        witnesses: verify::WitnessArgs,
    },
}

#[derive(Subcommand)]
enum WitnessAction {
    /// Make your witness key (kept in --out, readable only by you) and print its public
    /// key, for a convener to add to the dialogue.
    Init {
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Watch a dialogue: every --every seconds fetch its signed checkpoint, check that
    /// the record extends the head you co-signed last (kept in --state), co-sign and
    /// post the co-signature. Stops with exit status 3, keeping both signed heads as
    /// evidence in --state, if it does not.
    Watch {
        /// The dialogue's address, http(s)://host/dialogues/ID
        #[arg(long, value_name = "URL")]
        dialogue: String,
        /// Your key file, from hiwar witness init
        #[arg(long, value_name = "FILE")]
        key: PathBuf,
        /// Where the head you co-signed and any evidence are kept (keep it safe)
        #[arg(long, value_name = "DIR")]
        state: PathBuf,
        /// Seconds between rounds
        #[arg(long, default_value_t = 60, value_name = "SECONDS")]
        every: u64,
        /// One round, then exit
        #[arg(long)]
        once: bool,
        /// The dialogue key as the convener published it (hex); without it the key in
        /// the record's first line is pinned at the first round
        #[arg(long, value_name = "HEX")]
        dialogue_key: Option<String>,
    },
    /// Check a fork proof (from a witness's evidence or hiwar verify): two statements
    /// under the dialogue key that cannot both be true. Exit 0 if it is one.
    CheckProof {
        file: PathBuf,
        /// The dialogue key as the convener published it (hex): the proof must be under it
        #[arg(long, value_name = "HEX")]
        dialogue_key: Option<String>,
    },
}

#[derive(Subcommand)]
enum BallotAction {
    /// What a challenged ballot encrypted: verifies the whole record, then shows the
    /// choices of the ballot with this tracking code (exit 0), or says it was cast or is
    /// not there (exit 1)
    Audit {
        /// The record: a path, or the URL of /dialogues/{id}/record
        #[arg(long)]
        record: String,
        #[arg(long)]
        election: String,
        /// The tracking code your voting device showed
        #[arg(long, value_name = "CODE")]
        tracking: String,
    },
}

#[derive(Subcommand)]
enum VoteAction {
    /// Verify the record, then say whether your credential is listed and which of your
    /// ballots counts, and where a tracking code appears. Exits 1 if something is missing.
    Check {
        /// The record: a path, or the URL of /dialogues/{id}/record.
        #[arg(long)]
        record: String,
        /// The election id.
        #[arg(long)]
        election: String,
        /// Your public credential (64 hex digits).
        #[arg(long, value_name = "HEX")]
        credential: Option<String>,
        /// A tracking code you were shown.
        #[arg(long, value_name = "CODE")]
        tracking: Option<String>,
    },
}

#[derive(Subcommand)]
enum ConvenerAction {
    /// Create a convener account and print its personal login key (shown once).
    Add {
        #[command(flatten)]
        store: StoreArgs,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging();
    let file = match config::FileConfig::load(cli.config.as_deref()) {
        Ok(file) => file,
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitCode::from(2);
        }
    };
    let result = match cli.command {
        Command::Verify { record, key, previous, manifests, statements, witnesses, json, tracking } => {
            return verify::run(
                &record,
                key,
                previous.as_deref(),
                manifests.as_deref(),
                statements.as_deref(),
                &witnesses,
                &verify::Report { json, tracking },
            )
        }
        Command::Witness { action: WitnessAction::Init { out } } => witness::init(&out),
        Command::Witness { action: WitnessAction::Watch { dialogue, key, state, every, once, dialogue_key } } => {
            let every = std::time::Duration::from_secs(every.max(1));
            return match witness::watch(&dialogue, &key, &state, every, once, dialogue_key.as_deref()) {
                Ok(code) => ExitCode::from(code),
                Err(e) => {
                    eprintln!("error: {e:#}");
                    ExitCode::from(2)
                }
            };
        }
        Command::Witness { action: WitnessAction::CheckProof { file, dialogue_key } } => {
            return match witness::check_proof(&file, dialogue_key.as_deref()) {
                Ok(code) => ExitCode::from(code),
                Err(e) => {
                    eprintln!("error: {e:#}");
                    ExitCode::from(2)
                }
            };
        }
        Command::Serve { store, server } => runtime().and_then(|rt| rt.block_on(serve(store, server, &file))),
        Command::Demo { data, server } => runtime().and_then(|rt| rt.block_on(demo(data, server, &file))),
        Command::Election {
            action: ElectionAction::Simulate { voters, options, select, trustees, seed, time, weighted, out, keys },
        } => simulate(voters, options, &select, &trustees, seed, time, weighted, &out, keys),
        Command::Election { action: ElectionAction::Authority { out } } => decide::authority_keygen(&out),
        Command::Election {
            action: ElectionAction::Credentials { target, authority, voters, registered, out, upload },
        } => decide::credentials(&target, &authority, &voters, registered.as_deref(), &out, upload),
        Command::Trustee { action: TrusteeAction::Keygen { out } } => decide::trustee_keygen(&out),
        Command::Trustee { action: TrusteeAction::Ceremony { target, key, wait } } => {
            decide::trustee_ceremony(&target, &key, std::time::Duration::from_secs(wait))
        }
        Command::Trustee {
            action: TrusteeAction::Decrypt { record, server, dialogue, election, key, out, witnesses },
        } => trustee_decrypt(record, server, dialogue, election, &key, out.as_deref(), &witnesses),
        Command::Vote { action: None, target, credential, choices, challenge, receipt, batch, concurrency, bodies } => {
            match (target, batch) {
                (None, _) => Err(anyhow::anyhow!("give --server, --dialogue and --election")),
                (Some(t), Some(batch)) => decide::vote_batch(&t, &batch, concurrency, bodies.as_ref()),
                (Some(t), None) => decide::vote(
                    &t,
                    credential.as_deref().unwrap_or_default(),
                    choices.as_deref().unwrap_or_default(),
                    challenge,
                    receipt.as_deref(),
                ),
            }
        }
        Command::Ballot { action: BallotAction::Audit { record, election, tracking } } => {
            return match ballots::ballot_audit(&record, &election, &tracking) {
                Ok(true) => ExitCode::SUCCESS,
                Ok(false) => ExitCode::from(1),
                Err(e) => {
                    eprintln!("error: {e:#}");
                    ExitCode::from(2)
                }
            }
        }
        Command::Vote { action: Some(VoteAction::Check { record, election, credential, tracking }), .. } => {
            return match ballots::vote_check(&record, &election, credential.as_deref(), tracking.as_deref()) {
                Ok(true) => ExitCode::SUCCESS,
                Ok(false) => ExitCode::from(1),
                Err(e) => {
                    eprintln!("error: {e:#}");
                    ExitCode::from(2)
                }
            }
        }
        Command::Select { action } => select::run(action),
        Command::Opinions { action } => opinions::run(action),
        Command::Org { action } => declare::org(action),
        Command::Declaration { action } => declare::declaration(action),
        Command::Backup { out, store } => runtime().and_then(|rt| {
            rt.block_on(async {
                // A backup reads an existing database: it never creates an empty one.
                if store.database_url.is_none() && file.database_url.is_none() {
                    let dir =
                        store.data.clone().or_else(|| file.data.clone()).unwrap_or_else(|| PathBuf::from("hiwar-data"));
                    if !dir.join("hiwar.sqlite3").exists() {
                        anyhow::bail!("no database in {} (give --data DIR or --database-url URL)", dir.display());
                    }
                }
                backup::backup(&open_store(&store, &file).await?, &out).await
            })
        }),
        Command::Restore { from, store } => runtime()
            .and_then(|rt| rt.block_on(async { backup::restore(&open_store(&store, &file).await?, &from).await })),
        Command::Convener { action: ConvenerAction::Add { store } } => {
            runtime().and_then(|rt| rt.block_on(convener_add(store, &file)))
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the async runtime")
}

/// Logs go to stderr; `HIWAR_LOG` (or `RUST_LOG`) sets the level, `info` by default.
fn init_logging() {
    let filter =
        std::env::var("HIWAR_LOG").or_else(|_| std::env::var("RUST_LOG")).unwrap_or_else(|_| "info,sqlx=warn".into());
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(std::io::stderr)
        .init();
}

async fn open_store(args: &StoreArgs, file: &config::FileConfig) -> Result<Store> {
    match args.database_url.clone().or_else(|| file.database_url.clone()) {
        Some(url) => Store::open_url(&url).await.with_context(|| "opening the database given by --database-url"),
        None => {
            let dir = args.data.clone().or_else(|| file.data.clone()).unwrap_or_else(|| PathBuf::from("hiwar-data"));
            Store::open_sqlite(&dir).await.with_context(|| format!("opening the SQLite database in {}", dir.display()))
        }
    }
}

async fn bind(server: &config::ServerArgs, file: &config::FileConfig) -> Result<(tokio::net::TcpListener, SocketAddr)> {
    let listen = server.listen.clone().or_else(|| file.listen.clone()).unwrap_or_else(|| "127.0.0.1:8080".into());
    let listener = tokio::net::TcpListener::bind(&listen).await.with_context(|| {
        format!("cannot listen on {listen} (is another hiwar already running there? choose another with --listen)")
    })?;
    let addr = listener.local_addr()?;
    Ok((listener, addr))
}

async fn serve(store_args: StoreArgs, server: config::ServerArgs, file: &config::FileConfig) -> Result<()> {
    let store = open_store(&store_args, file).await?;
    let (listener, addr) = bind(&server, file).await?;
    println!("hiwar is running at http://{addr}/");
    println!("  storage: {:?}", store.backend());
    println!("  first time? create a convener with: hiwar convener add");
    let state = AppState::new(store, with_public_url(server.config(file), addr));
    hiwar_server::serve(listener, state).await.context("serving HTTP")
}

/// Without a configured public address, pages show the address the server listens on.
fn with_public_url(mut config: hiwar_server::Config, addr: SocketAddr) -> hiwar_server::Config {
    config.public_url.get_or_insert_with(|| format!("http://{addr}"));
    config
}

async fn demo(data: Option<PathBuf>, server: config::ServerArgs, file: &config::FileConfig) -> Result<()> {
    let temporary = match &data {
        Some(_) => None,
        None => Some(tempfile::Builder::new().prefix("hiwar-demo-").tempdir()?),
    };
    let dir = data.or_else(|| temporary.as_ref().map(|t| t.path().to_path_buf())).expect("one of them is set");
    // Take the port first: a second demo on the same port fails at once, naming it.
    let (listener, addr) = bind(&server, file).await?;
    let store =
        Store::open_sqlite(&dir).await.with_context(|| format!("opening the demo's data in {}", dir.display()))?;
    let access = hiwar_server::demo::seed(&store).await.map_err(|e| anyhow::anyhow!("seeding the demo: {e:?}"))?;
    println!("hiwar demo is running at http://{addr}/");
    println!("  demo dialogue:  http://{addr}/dialogues/{}", access.dialogue);
    println!("  public record:  http://{addr}/dialogues/{}/record", access.dialogue);
    println!("  convener key:   {}", access.convener_key);
    println!("  participant invitation codes (each joins once, with a pseudonym of your choice):");
    for code in &access.invitations {
        println!("    invitation:   {code}");
    }
    println!(
        "  votes:          http://{addr}/dialogues/{}/decide (a decided referendum, an open vote)",
        access.dialogue
    );
    println!("  voting credentials for the open vote (each voter may vote, and vote again):");
    for credential in &access.voting_credentials {
        println!("    credential:   {credential}");
    }
    println!(
        "  vote with:      hiwar vote --server http://{addr} --dialogue {} --election {} --credential CODE --choices 0,2",
        access.dialogue, access.open_election
    );
    println!("  Arabic: add ?lang=ar to any address; English: ?lang=en. Stop with Ctrl-C.");
    let state = AppState::new(store, with_public_url(server.config(file), addr));
    hiwar_server::serve(listener, state).await.context("serving HTTP")?;
    drop(temporary);
    Ok(())
}

/// `hiwar trustee decrypt`, from a record file or URL, or from a server it answers to.
fn trustee_decrypt(
    record: Option<String>,
    server: Option<String>,
    dialogue: Option<String>,
    election: Option<String>,
    key: &std::path::Path,
    out: Option<&std::path::Path>,
    witnesses: &verify::WitnessArgs,
) -> Result<()> {
    let Some(server) = server else {
        let record = record.context("give --record, or --server with --dialogue and --election")?;
        return ballots::trustee_decrypt(&record, key, election.as_deref(), out, None, witnesses);
    };
    let target = decide::Target {
        server,
        dialogue: dialogue.context("with --server, name the dialogue with --dialogue")?,
        election: election.clone().context("with --server, name the election with --election")?,
    };
    let record = record.unwrap_or_else(|| target.record_url());
    ballots::trustee_decrypt(&record, key, election.as_deref(), out, Some(&target), witnesses)
}

fn parse_pair(text: &str, separator: &str, what: &str) -> Result<(u32, u32)> {
    let (a, b) =
        text.split_once(separator).with_context(|| format!("{what} must look like A{separator}B, not {text:?}"))?;
    let a = a.trim().parse().with_context(|| format!("{what}: {a:?} is not a number"))?;
    let b = b.trim().parse().with_context(|| format!("{what}: {b:?} is not a number"))?;
    Ok((a, b))
}

#[allow(clippy::too_many_arguments)] // one per flag of `election simulate`
fn simulate(
    voters: u64,
    options: u32,
    select: &str,
    trustees: &str,
    seed: u64,
    time: Option<String>,
    weighted: bool,
    out: &std::path::Path,
    keys: Option<PathBuf>,
) -> Result<()> {
    let (min, max) = parse_pair(select, "..", "--select")?;
    let (threshold, n) = parse_pair(trustees, "/", "--trustees")?;
    let sim = simulate::Simulation {
        voters,
        options,
        min,
        max,
        threshold,
        trustees: n,
        seed,
        revote_every: 100,
        challenge_every: 1000,
        time,
        weighted,
        keys,
    };
    let started = std::time::Instant::now();
    let counts = simulate::run(&sim, out)?;
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "wrote {} ({voters} voters, {options} options, select {min}..{max}, trustees {threshold}/{n})",
        out.display()
    );
    println!("result: {counts:?}");
    println!("time: {seconds:.1} s ({:.0} voters/s)", voters as f64 / seconds);
    Ok(())
}

async fn convener_add(store_args: StoreArgs, file: &config::FileConfig) -> Result<()> {
    let store = open_store(&store_args, file).await?;
    let key = hiwar_server::dialogues::service::create_convener(&store).await.map_err(|e| anyhow::anyhow!("{e:?}"))?;
    println!("New convener created. Personal login key (shown once; keep it safe):");
    println!("{key}");
    Ok(())
}
