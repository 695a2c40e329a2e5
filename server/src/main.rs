//! `rampart`: loads the configuration and serves, or runs one of the operator commands.

use std::io::BufRead;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use domain::config::EngineConfig;
use domain::engine::{Engine, RequestMeta, SignupInput};
use domain::types::PLATFORM_SLUG;
use secrecy::SecretString;
use server::config::{Config, Env};

/// mimalloc rather than glibc's malloc: per-request allocations are cheaper across worker
/// threads, and freed memory goes back to the system instead of staying in per-thread arenas
/// (measured in `bench/`).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "rampart", version, about = "Self-hostable multi-tenant authentication server")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API, hosted pages and console (the default).
    Serve,
    /// Apply the store's migrations and exit.
    Migrate,
    /// Create a console account. The password is read from RAMPART_ACCOUNT_PASSWORD or,
    /// failing that, from the first line of standard input.
    CreateAccount {
        #[arg(long)]
        email: String,
        #[arg(long)]
        username: String,
        #[arg(long)]
        display_name: Option<String>,
    },
    /// Recompute the audit log's hash chain of one app (`--app slug`) or of every app, and
    /// name the first broken link. Exits 1 when a chain does not verify.
    VerifyAudit {
        #[arg(long)]
        app: Option<String>,
    },
    /// Rotate an app's signing key: a new key signs from now on; the previous one stays in
    /// the JWKS and keeps verifying until the tokens it signed have expired. Running nodes on
    /// PostgreSQL switch at once; on SQLite a running server switches within a minute.
    RotateKeys {
        #[arg(long)]
        app: String,
    },
    /// Write an app's end-users as JSON lines (README, "Moving users in and out") to
    /// standard output or `--output`, password hashes included: keep the file as secret as
    /// the database.
    Export {
        #[arg(long)]
        app: String,
        #[arg(long)]
        output: Option<std::path::PathBuf>,
    },
    /// Read end-users as JSON lines from standard input or `--input` into an app. A rerun
    /// updates, never duplicates. Refused lines are printed to standard error, the summary
    /// to standard output; exits 1 when a line was refused.
    Import {
        #[arg(long)]
        app: String,
        #[arg(long)]
        input: Option<std::path::PathBuf>,
        /// Firebase's hash parameters, for `password_format: firebase-scrypt` lines (or the
        /// file's header line): the base64 signer key…
        #[arg(long, env = "RAMPART_FIREBASE_SIGNER_KEY", hide_env_values = true)]
        firebase_signer_key: Option<String>,
        /// …the base64 salt separator…
        #[arg(long)]
        firebase_salt_separator: Option<String>,
        /// …rounds…
        #[arg(long)]
        firebase_rounds: Option<u32>,
        /// …and memory cost.
        #[arg(long)]
        firebase_mem_cost: Option<u32>,
    },
}

fn main() -> ExitCode {
    // First, before the runtime and the allocator's arenas are touched.
    domain::memory::keep_pages_small();
    let cli = Cli::parse();
    let config = match Config::load(&Env) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("rampart: {e}");
            return ExitCode::from(2);
        }
    };
    domain::password::configure(config.argon2);
    // The one-shot commands print their answers on standard output; their logs go aside.
    let serving = matches!(cli.command, None | Some(Command::Serve));
    server::telemetry::init(config.log_format, !serving);
    // Before the runtime starts its threads: they inherit this thread's priority.
    match domain::password::place() {
        domain::password::Placement::AsAsked => {}
        domain::password::Placement::RestLowered(by) => tracing::info!(
            by,
            "argon2 may not be raised above the rest here (no CAP_SYS_NICE): the rest runs lower instead"
        ),
        domain::password::Placement::Unplaced => {
            tracing::warn!(nice = config.argon2.nice, "argon2 runs at the same priority as the rest")
        }
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("rampart: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match cli.command.unwrap_or(Command::Serve) {
            Command::Serve => serve(config).await,
            Command::Migrate => {
                domain::store::connect(config.database_url()).await.map_err(|e| anyhow::anyhow!("{e:?}"))?;
                println!("migrations applied");
                Ok(())
            }
            Command::CreateAccount { email, username, display_name } => {
                create_account(config, email, username, display_name).await
            }
            Command::VerifyAudit { app } => return verify_audit(config, app).await,
            Command::RotateKeys { app } => rotate_keys(config, app).await,
            Command::Export { app, output } => export(config, app, output).await,
            Command::Import {
                app,
                input,
                firebase_signer_key,
                firebase_salt_separator,
                firebase_rounds,
                firebase_mem_cost,
            } => {
                let firebase = match (firebase_signer_key, firebase_salt_separator, firebase_rounds, firebase_mem_cost)
                {
                    (None, None, None, None) => None,
                    (Some(signer_key), Some(salt_separator), Some(rounds), Some(mem_cost)) => {
                        Some(domain::engine::FirebaseHashConfig { signer_key, salt_separator, rounds, mem_cost })
                    }
                    _ => anyhow::bail!(
                        "the --firebase-* flags go together: signer key, salt separator, rounds, mem cost"
                    ),
                };
                return import(config, app, input, firebase).await;
            }
        }
        .map(|()| ExitCode::SUCCESS)
    });
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("rampart: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(config: Config) -> anyhow::Result<()> {
    if config.master_key_generated() {
        tracing::warn!(
            path = %config.data_dir.join("master.key").display(),
            "RAMPART_MASTER_KEY is not set: using a generated development key; set it in production"
        );
    }
    let app = server::build(config).await?;
    let url = app.public_url().to_owned();
    tracing::info!(%url, store = app.engine().store().backend(), "Rampart is ready");
    println!("Rampart is listening on {url} — console at {url}/console");
    app.run_until_stopped().await?;
    Ok(())
}

async fn create_account(
    config: Config,
    email: String,
    username: String,
    display_name: Option<String>,
) -> anyhow::Result<()> {
    let password = match std::env::var("RAMPART_ACCOUNT_PASSWORD") {
        Ok(p) if !p.is_empty() => p,
        _ => {
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line)?;
            line.trim_end_matches(['\r', '\n']).to_owned()
        }
    };
    let engine = offline_engine(&config).await?;
    let input = SignupInput {
        email,
        username: username.clone(),
        password: SecretString::from(password),
        display_name,
        email_verified: true,
        api_key: None,
    };
    engine.signup(PLATFORM_SLUG, input, &RequestMeta::default()).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    println!("account '{username}' created");
    Ok(())
}

/// `rampart verify-audit`: one line per app, `ok` or the first broken link; exit 1 if any
/// chain is broken.
async fn verify_audit(config: Config, slug: Option<String>) -> anyhow::Result<ExitCode> {
    let engine = offline_engine(&config).await?;
    let store = engine.store().clone();
    // Each app by its slug; a deleted app's log (which outlives it) by its id.
    let apps = match slug {
        Some(slug) => {
            let app = store.app_by_slug(&slug).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            let app = app.ok_or_else(|| anyhow::anyhow!("no app named {slug}"))?;
            vec![(app.id, app.slug)]
        }
        None => {
            let mut apps = Vec::new();
            for id in engine.audited_apps().await.map_err(|e| anyhow::anyhow!("{e}"))? {
                let app = store.app_by_id(id).await.map_err(|e| anyhow::anyhow!("{e}"))?;
                apps.push((id, app.map_or_else(|| format!("deleted app {id}"), |a| a.slug)));
            }
            apps
        }
    };
    let mut broken = false;
    for (id, slug) in apps {
        let v = engine.verify_audit_of(id).await.map_err(|e| anyhow::anyhow!("{e}"))?;
        match &v.first_broken {
            None => println!("{}: ok, {} events verified", slug, v.checked),
            Some(b) => {
                broken = true;
                let id = b.id.map(|id| format!(" (event {id})")).unwrap_or_default();
                println!(
                    "{}: BROKEN at position {}{id}: {}; {} events verified before it",
                    slug, b.position, b.reason, v.checked
                );
            }
        }
    }
    Ok(if broken { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

/// `rampart rotate-keys --app slug`: prints the new key's id and when the previous one retires.
async fn rotate_keys(config: Config, slug: String) -> anyhow::Result<()> {
    let engine = offline_engine(&config).await?;
    let before = engine.store().app_by_slug(&slug).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let app = before.ok_or_else(|| anyhow::anyhow!("no app named {slug}"))?;
    let key = engine.rotate_signing_key_as_operator(&app.slug).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let retires = domain::engine::retirement_grace(&app);
    println!(
        "{slug}: key {} ({}) signs from now on; the previous key verifies for {} more hours",
        key.kid,
        key.alg,
        retires.num_hours()
    );
    Ok(())
}

/// `rampart export --app slug [--output file]`.
async fn export(config: Config, slug: String, output: Option<std::path::PathBuf>) -> anyhow::Result<()> {
    let engine = offline_engine(&config).await?;
    match output {
        Some(path) => {
            // Every user's password hash is in it: readable by its owner only.
            let mut options = tokio::fs::OpenOptions::new();
            options.write(true).create(true).truncate(true);
            #[cfg(unix)]
            options.mode(0o600);
            server::transfer_cli::export(&engine, &slug, options.open(path).await?).await?
        }
        None => server::transfer_cli::export(&engine, &slug, tokio::io::stdout()).await?,
    };
    Ok(())
}

/// `rampart import --app slug [--input file]`: the summary as JSON on standard output.
async fn import(
    config: Config,
    slug: String,
    input: Option<std::path::PathBuf>,
    firebase: Option<domain::engine::FirebaseHashConfig>,
) -> anyhow::Result<ExitCode> {
    let engine = offline_engine(&config).await?;
    let summary = match input {
        Some(path) => {
            let file = tokio::fs::File::open(path).await?;
            let size = file.metadata().await?.len();
            server::transfer_cli::import(&engine, &slug, file, Some(size), firebase).await?
        }
        None => server::transfer_cli::import(&engine, &slug, tokio::io::stdin(), None, firebase).await?,
    };
    // The audit events are linked before the process ends.
    engine.sequence_audit().await.map_err(|e| anyhow::anyhow!("{e}"))?;
    println!("{}", serde_json::to_string(&summary)?);
    Ok(if summary.failed_count > 0 { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

/// An engine over the configured store for a one-shot command (no mail worker).
async fn offline_engine(config: &Config) -> anyhow::Result<Engine> {
    let store = domain::store::connect(config.database_url()).await.map_err(|e| anyhow::anyhow!("{e:?}"))?;
    Engine::new(
        store,
        EngineConfig {
            public_url: config.public_url_for(config.bind),
            master_key: config.master_key()?,
            mail: config.mail_settings(false)?,
            counters: config.counters().await?,
            outbound_reachable: Default::default(),
        },
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e:?}"))
}
