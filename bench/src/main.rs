//! `make bench`: Rampart's hot paths against their physical limits.
//!
//! For each store (SQLite, then PostgreSQL) the runner starts the release binary on a fresh
//! database, seeds one app and a few users, drives every scenario with wrk from a separate
//! process, then grows the data to 1,000 apps and 10,000 users in the measured app, restarts
//! the server and measures again. The ceilings are measured in the same run: argon2id and
//! JWT signing in this process with Rampart's own code, routing on the same server.

mod ceiling;
mod import;
mod load;
mod report;
mod seed;
mod server;
mod spray;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Parser;
use domain::keys::SigningAlg;
use secrecy::SecretString;
use testkit::PgSchema;

use crate::ceiling::Ceilings;
use crate::load::Wrk;
use crate::report::{Phase, Row, Run, StoreRun};
use crate::seed::{Api, PASSWORD};
use crate::server::{Launch, Server};

#[derive(Parser, Debug)]
#[command(about = "Benchmarks Rampart's hot paths against their ceilings; prints a table per store")]
struct Args {
    /// The release binary under test.
    #[arg(long, default_value = "target/release/rampart")]
    rampart: PathBuf,
    /// Stores to measure, in order.
    #[arg(long, value_delimiter = ',', default_value = "sqlite,postgres")]
    stores: Vec<String>,
    /// Seconds of measured load per scenario.
    #[arg(long, default_value_t = 10)]
    duration: u64,
    /// Seconds of unmeasured load before each scenario.
    #[arg(long, default_value_t = 2)]
    warmup: u64,
    /// Connections for the read, refresh and mixed scenarios (password scenarios use one
    /// per core: more would only queue behind argon2).
    #[arg(long, default_value_t = 32)]
    connections: usize,
    #[arg(long, env = "RAMPART_TEST_POSTGRES_URL", default_value = "postgres://postgres@127.0.0.1:5432/test")]
    postgres_url: String,
    /// Where the JSON results go.
    #[arg(long, default_value = "bench/results")]
    out: PathBuf,
    /// The wrk scripts.
    #[arg(long, default_value = "bench/wrk")]
    scripts: PathBuf,
    /// Measure only the small data set (1 app), not 1,000 apps and 10,000 users as well.
    #[arg(long)]
    small_only: bool,
    /// Run only the scenarios whose names contain this (case-insensitive), e.g. `--only eddsa`.
    #[arg(long)]
    only: Option<String>,
    /// Extra environment for the server under test, e.g. `--env RAMPART_ARGON2_THREADS=1`.
    #[arg(long = "env", value_name = "KEY=VALUE", value_parser = parse_env)]
    server_env: Vec<(String, String)>,
    /// Users the import scenario feeds `rampart import` (1,000,000; 100,000 with `--small-only`).
    #[arg(long)]
    import_users: Option<u64>,
    /// Compare two result files instead of running: `--compare before.json after.json`.
    #[arg(long, num_args = 2, value_names = ["BEFORE", "AFTER"])]
    compare: Option<Vec<PathBuf>>,
}

fn parse_env(raw: &str) -> Result<(String, String), String> {
    match raw.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_owned(), v.to_owned())),
        _ => Err(format!("'{raw}' is not KEY=VALUE")),
    }
}

impl Args {
    /// Whether `--only` leaves the scenario named `name` in.
    fn wants(&self, name: &str) -> bool {
        self.only.as_ref().is_none_or(|part| name.to_lowercase().contains(&part.to_lowercase()))
    }
}

/// The app every scenario runs against, and the apps whose only job is their algorithm.
const MAIN_APP: &str = "bench";
const ED_APP: &str = "bench-ed";
const EC_APP: &str = "bench-ec";
const SMALL_USERS: usize = 100;
const LARGE_USERS: usize = 10_000;
const LARGE_APPS: usize = 1_000;
/// How long after ready the idle RSS is read.
const IDLE_AFTER: Duration = Duration::from_secs(12);
/// Sessions the read scenarios cycle through.
const READ_SESSIONS: usize = 64;
/// The classes a mixed script times (`timed` in `bench/wrk/common.lua`), as the tables name them.
const CLASSES: &[(&str, &str)] = &[("me", "GET /me"), ("refresh", "refresh"), ("signin", "sign-in")];

#[derive(Clone, Copy)]
enum Ceiling {
    Argon2Verify,
    Argon2Hash,
    Sign(SigningAlg),
    Routing,
    Mixed,
}

struct Scenario {
    name: &'static str,
    script: &'static str,
    slug: &'static str,
    extra: &'static str,
    password: bool,
    fresh_refresh: bool,
    ceiling: Ceiling,
}

const SCENARIOS: &[Scenario] = &[
    Scenario {
        name: "routing: GET /health",
        script: "read.lua",
        slug: MAIN_APP,
        extra: "health",
        password: false,
        fresh_refresh: false,
        ceiling: Ceiling::Routing,
    },
    Scenario {
        name: "sign-in (password)",
        script: "signin.lua",
        slug: MAIN_APP,
        extra: "",
        password: true,
        fresh_refresh: false,
        ceiling: Ceiling::Argon2Verify,
    },
    Scenario {
        name: "sign-up",
        script: "signup.lua",
        slug: MAIN_APP,
        extra: "",
        password: true,
        fresh_refresh: false,
        ceiling: Ceiling::Argon2Hash,
    },
    Scenario {
        name: "refresh, RS256",
        script: "refresh.lua",
        slug: MAIN_APP,
        extra: "",
        password: false,
        fresh_refresh: true,
        ceiling: Ceiling::Sign(SigningAlg::Rs256),
    },
    Scenario {
        name: "refresh, ES256",
        script: "refresh.lua",
        slug: EC_APP,
        extra: "",
        password: false,
        fresh_refresh: true,
        ceiling: Ceiling::Sign(SigningAlg::Es256),
    },
    Scenario {
        name: "refresh, EdDSA",
        script: "refresh.lua",
        slug: ED_APP,
        extra: "",
        password: false,
        fresh_refresh: true,
        ceiling: Ceiling::Sign(SigningAlg::EdDsa),
    },
    Scenario {
        name: "GET /me",
        script: "read.lua",
        slug: MAIN_APP,
        extra: "me",
        password: false,
        fresh_refresh: false,
        ceiling: Ceiling::Routing,
    },
    Scenario {
        name: "GET /me/permissions",
        script: "read.lua",
        slug: MAIN_APP,
        extra: "me/permissions",
        password: false,
        fresh_refresh: false,
        ceiling: Ceiling::Routing,
    },
    Scenario {
        name: "JWKS",
        script: "read.lua",
        slug: MAIN_APP,
        extra: "jwks",
        password: false,
        fresh_refresh: false,
        ceiling: Ceiling::Routing,
    },
    Scenario {
        name: "introspection",
        script: "read.lua",
        slug: MAIN_APP,
        extra: "introspect",
        password: false,
        fresh_refresh: false,
        ceiling: Ceiling::Routing,
    },
    Scenario {
        name: "mixed: 90% /me, 8% refresh, 2% sign-in",
        script: "mixed.lua",
        slug: MAIN_APP,
        extra: "",
        password: false,
        fresh_refresh: true,
        ceiling: Ceiling::Mixed,
    },
];

/// The state of one store's run: where it is, what it holds, who may call it.
struct Bench<'a> {
    args: &'a Args,
    ceilings: &'a Ceilings,
    wrk: &'a Wrk,
    launch: Launch,
    owner: String,
    users: usize,
    scratch: PathBuf,
}

impl Bench<'_> {
    /// One connection per core keeps every core busy with a password (the server runs at
    /// most one argon2 per core); more would only wait in line, adding latency, not rate.
    fn password_connections(&self) -> usize {
        self.ceilings.cores
    }

    /// Writes the data file a wrk run reads (see `bench/wrk/common.lua`).
    async fn data_file(&self, api: &Api, scenario: &Scenario, reads: &[seed::Pair]) -> Result<PathBuf> {
        let users = if scenario.slug == MAIN_APP { self.users } else { SMALL_USERS };
        let mut lines = vec![format!("U {users}"), format!("W {PASSWORD}")];
        lines.push(format!("N {}", &uuid::Uuid::new_v4().simple().to_string()[..8]));
        if scenario.fresh_refresh {
            // Twice the connections, so a rotation in flight never leaves a connection without one.
            for pair in api.signins(scenario.slug, 2 * self.args.connections, self.password_connections()).await? {
                lines.push(format!("R {}", pair.refresh));
            }
        }
        lines.extend(reads.iter().map(|p| format!("A {}", p.access)));
        lines.push(format!("P {}", self.owner));
        let path = self.scratch.join(format!("data-{}.txt", uuid::Uuid::new_v4().simple()));
        std::fs::write(&path, lines.join("\n") + "\n")?;
        Ok(path)
    }

    async fn scenario(
        &self,
        api: &Api,
        server: &Server,
        scenario: &Scenario,
        reads: &[seed::Pair],
    ) -> Result<load::Measured> {
        let connections = if scenario.password { self.password_connections() } else { self.args.connections };
        let mut result = None;
        for (seconds, measured) in [(self.args.warmup, false), (self.args.duration, true)] {
            if seconds == 0 {
                continue;
            }
            let data = self.data_file(api, scenario, reads).await?;
            let args =
                [scenario.slug.to_owned(), data.display().to_string(), "1".to_owned(), scenario.extra.to_owned()];
            let run = self
                .wrk
                .start(scenario.script, &server.base, connections, Duration::from_secs(seconds), &args)?
                .wait()?;
            std::fs::remove_file(&data).ok();
            if measured {
                result = Some(run);
            }
        }
        result.context("no measured run")
    }

    /// Restarts the server, lets it settle, then measures every scenario.
    async fn measure_phase(&self, name: &str, apps: usize) -> Result<Phase> {
        let server = self.launch.start().await?;
        // Idle means settled: the start's transient allocations (the migrations, the
        // routers and their OpenAPI document) are returned to the system within seconds.
        tokio::time::sleep(IDLE_AFTER).await;
        let (idle, _) = server.rss_kib()?;
        let phase = self.phase(name, apps, &server, idle).await;
        server.stop().await?;
        phase
    }

    async fn phase(&self, name: &str, apps: usize, server: &Server, idle_rss_kib: u64) -> Result<Phase> {
        let api = Api::new(&server.base)?;
        let reads = api.signins(MAIN_APP, READ_SESSIONS, self.password_connections()).await?;
        let mut rows: Vec<Row> = Vec::new();
        let mut routing = f64::NAN;
        let wanted = |s: &Scenario| s.extra == "health" || self.args.wants(s.name);
        for scenario in SCENARIOS.iter().filter(|s| wanted(s)) {
            eprintln!("  {name}: {}", scenario.name);
            let measured = self.scenario(&api, server, scenario, &reads).await?;
            let (ceiling, bound) = match scenario.ceiling {
                Ceiling::Argon2Verify => (self.ceilings.signin_rps(), "argon2id verify"),
                Ceiling::Argon2Hash => (self.ceilings.signup_rps(), "argon2id hash"),
                Ceiling::Sign(alg) => (self.ceilings.refresh_rps(alg), "signing"),
                Ceiling::Routing if scenario.extra == "health" => {
                    routing = measured.rps;
                    (f64::NAN, "this is the routing ceiling")
                }
                Ceiling::Routing => (routing, "routing"),
                Ceiling::Mixed => (
                    report::mixed_ceiling(
                        routing,
                        self.ceilings.refresh_rps(SigningAlg::Rs256),
                        self.ceilings.signin_rps(),
                    ),
                    "blend of the three",
                ),
            };
            let connections = if scenario.password { self.password_connections() } else { self.args.connections };
            let row = Row::new(scenario.name, connections, measured, ceiling, bound);
            let parts: Vec<Row> = CLASSES
                .iter()
                .filter_map(|(class, label)| row.measured.classes.get(*class).map(|c| Row::part(&row, label, c)))
                .collect();
            rows.push(row);
            rows.extend(parts);
        }
        let spray = if wanted(&spray::SCENARIO) {
            eprintln!("  {name}: {}", spray::SCENARIO.name);
            Some(self.spray(&api, server, &reads).await?)
        } else {
            None
        };
        let (_, peak) = server.rss_kib()?;
        Ok(Phase {
            name: name.to_owned(),
            apps,
            users: self.users,
            start_to_ready_ms: server.start_to_ready.as_secs_f64() * 1e3,
            idle_rss_kib,
            peak_rss_kib: peak,
            rows,
            spray,
        })
    }
}

/// A fresh database for one store: a SQLite file, or a PostgreSQL schema of its own.
async fn fresh_database(store: &str, args: &Args, scratch: &std::path::Path) -> Result<(String, Option<PgSchema>)> {
    match store {
        "sqlite" => Ok((format!("sqlite://{}/rampart.db", scratch.display()), None)),
        "postgres" => {
            let schema = PgSchema::create(&args.postgres_url, "bench")
                .await
                .with_context(|| format!("PostgreSQL is not reachable at {}", args.postgres_url))?;
            Ok((schema.url.clone(), Some(schema)))
        }
        other => anyhow::bail!("unknown store '{other}': use sqlite or postgres"),
    }
}

async fn run_store(store: &str, args: &Args, ceilings: &Ceilings, wrk: &Wrk, hash: &str) -> Result<StoreRun> {
    let scratch = std::env::temp_dir().join(format!("rampart-bench-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&scratch)?;
    let (database_url, schema) = fresh_database(store, args, &scratch).await?;
    let launch = Launch {
        port: server::free_port()?,
        binary: args.rampart.clone(),
        database_url: database_url.clone(),
        data_dir: scratch.clone(),
        master_key: domain::crypto::MasterKey::generate_base64(),
        env: args.server_env.clone(),
    };
    let outcome = async {
        eprintln!("{store}: starting on a fresh database");
        let server = launch.start().await?;
        let first_start_ms = server.start_to_ready.as_secs_f64() * 1e3;
        let api = Api::new(&server.base)?;
        let owner = api.account("bench-owner").await?.access;
        api.create_app(&owner, MAIN_APP, "RS256").await?;
        api.create_app(&owner, ED_APP, "EdDSA").await?;
        api.create_app(&owner, EC_APP, "ES256").await?;
        for slug in [MAIN_APP, ED_APP, EC_APP] {
            seed::users(&database_url, slug, 0, SMALL_USERS, hash).await?;
        }
        server.stop().await?;
        let mut bench =
            Bench { args, ceilings, wrk, launch: launch.clone(), owner, users: SMALL_USERS, scratch: scratch.clone() };
        // Every phase starts from a restart: start-to-ready with data, then idle RSS.
        // The owner's token outlives restarts: the signing key is in the store.
        let mut phases = vec![bench.measure_phase("1 app", 3).await?];
        if !args.small_only {
            eprintln!("{store}: seeding {LARGE_APPS} apps and {LARGE_USERS} users");
            let server = bench.launch.start().await?;
            Api::new(&server.base)?.filler_apps(&bench.owner, 0, LARGE_APPS - 3).await?;
            server.stop().await?;
            seed::users(&database_url, MAIN_APP, SMALL_USERS, LARGE_USERS, hash).await?;
            bench.users = LARGE_USERS;
            phases.push(bench.measure_phase("1,000 apps, 10,000 users", LARGE_APPS).await?);
        }
        let import = if args.wants(import::NAME) {
            let users = args.import_users.unwrap_or(if args.small_only { 100_000 } else { 1_000_000 });
            eprintln!("{store}: importing {users} users");
            let server = bench.launch.start().await?;
            Api::new(&server.base)?.create_app(&bench.owner, import::APP, "EdDSA").await?;
            server.stop().await?;
            let (launch, hash) = (bench.launch.clone(), hash.to_owned());
            Some(tokio::task::spawn_blocking(move || import::run(&launch, users, &hash)).await??)
        } else {
            None
        };
        Ok::<_, anyhow::Error>((first_start_ms, phases, import))
    }
    .await;
    if let Some(schema) = schema {
        schema.drop().await.ok();
    }
    std::fs::remove_dir_all(&scratch).ok();
    let (first_start_ms, phases, import) = outcome?;
    Ok(StoreRun { store: store.to_owned(), first_start_ms, phases, import })
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    if let Some(files) = &args.compare {
        return report::compare(&files[0], &files[1]);
    }
    let binary_bytes = server::binary_size(&args.rampart)?;
    let wrk = Wrk::find(&args.scripts)?;
    eprintln!("measuring the ceilings (argon2id, signing) in-process");
    let ceilings = ceiling::measure().await?;
    let hash = domain::password::hash(SecretString::from(PASSWORD)).await?;
    let mut stores = Vec::new();
    for store in &args.stores {
        stores.push(run_store(store, &args, &ceilings, &wrk, &hash).await?);
    }
    let run = Run::new(binary_bytes, args.duration, ceilings, stores);
    let text = run.render();
    println!("{text}");
    std::fs::create_dir_all(&args.out)?;
    let file = args.out.join(format!("{}.json", chrono::Utc::now().format("%Y%m%dT%H%M%SZ")));
    std::fs::write(&file, serde_json::to_vec_pretty(&run)?)?;
    println!("results: {}", file.display());
    Ok(())
}
