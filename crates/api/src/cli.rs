//! `hearth <command>`: serve, migrate, seed, create-user, create-category, openapi.

use crate::auth::PasswordHasher;
use crate::config::Settings;
use crate::startup::Application;
use crate::{openapi, seed, telemetry};
use anyhow::{bail, Context};
use clap::{Parser, Subcommand};
use hearth_db::{Db, DomainError, PoolSettings};
use hearth_domain::rules;
use std::io::{BufRead, Write};
use std::process::ExitCode;

/// Hearth: a Discord-style chat backend.
///
/// Configuration comes from environment variables (and a `.env` file, if present); see the
/// README for the full list.
#[derive(Debug, Parser)]
#[command(name = "hearth", version)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the API (the default command). Migrates the database first.
    Serve {
        /// Load the demo data when the database has no users yet.
        #[arg(long)]
        seed_if_empty: bool,
    },
    /// Apply pending database migrations and exit.
    Migrate,
    /// Load the demo data (idempotent).
    Seed,
    /// Create an account, or reset its password (like Django's createsuperuser).
    CreateUser {
        username: String,
        /// The password; otherwise read from HEARTH_PASSWORD or the first line of stdin.
        #[arg(long, env = "HEARTH_PASSWORD", hide_env_values = true)]
        password: Option<String>,
        /// Make the account staff (may manage categories).
        #[arg(long)]
        staff: bool,
    },
    /// Create a category (names are stored lower-case).
    CreateCategory {
        name: String,
        #[arg(long, default_value = "")]
        description: String,
    },
    /// Print the OpenAPI document (what `openapi/openapi.json` must contain).
    Openapi,
}

/// Runs the command line and turns failures into a message and exit code 1.
pub fn main() -> ExitCode {
    // A missing .env is normal; a malformed one should not pass silently.
    if let Err(e) = dotenvy::dotenv() {
        if !e.not_found() {
            eprintln!("hearth: cannot read .env: {e}");
            return ExitCode::FAILURE;
        }
    }
    let cli = Cli::parse();
    let result = match cli.command {
        Some(Command::Openapi) => print_openapi(),
        command => tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .context("cannot start the async runtime")
            .and_then(|runtime| runtime.block_on(run(command))),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = format!("{e:#}"), "hearth failed");
            eprintln!("hearth: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn print_openapi() -> anyhow::Result<()> {
    let json = openapi::to_committed_json(&openapi::document())?;
    std::io::stdout().write_all(json.as_bytes())?;
    Ok(())
}

async fn run(command: Option<Command>) -> anyhow::Result<()> {
    let settings = Settings::from_env()?;
    telemetry::init(settings.log_format);
    match command.unwrap_or(Command::Serve {
        seed_if_empty: false,
    }) {
        Command::Serve { seed_if_empty } => serve(settings, seed_if_empty).await,
        Command::Migrate => {
            let db = connect(&settings)?;
            let applied = hearth_db::migrate::run_pending(&db).await?;
            tracing::info!(count = applied.len(), "migrations applied");
            Ok(())
        }
        Command::Seed => {
            let db = connect_and_migrate(&settings).await?;
            let hasher = PasswordHasher::new(settings.hash_concurrency)?;
            let report = seed::run(&db, &hasher).await?;
            tracing::info!(?report, "demo data loaded");
            Ok(())
        }
        Command::CreateUser {
            username,
            password,
            staff,
        } => create_user(&settings, &username, password, staff).await,
        Command::CreateCategory { name, description } => {
            let db = connect_and_migrate(&settings).await?;
            let category = hearth_db::categories::create(&db, &name, &description).await?;
            tracing::info!(id = %category.id, name = %category.name, "category created");
            Ok(())
        }
        Command::Openapi => print_openapi(),
    }
}

fn connect(settings: &Settings) -> anyhow::Result<Db> {
    Ok(Db::connect(
        settings.database_url.as_str(),
        &PoolSettings::default(),
    )?)
}

async fn connect_and_migrate(settings: &Settings) -> anyhow::Result<Db> {
    let db = connect(settings)?;
    hearth_db::migrate::run_pending(&db).await?;
    Ok(db)
}

async fn serve(settings: Settings, seed_if_empty: bool) -> anyhow::Result<()> {
    let app = Application::build(settings).await?;
    if seed_if_empty {
        let state = app.state();
        if hearth_db::users::count(&state.db).await? == 0 {
            let report = seed::run(&state.db, &state.hasher).await?;
            tracing::info!(
                ?report,
                password = seed::DEMO_PASSWORD,
                "empty database: demo data loaded (users alice, bob, carol, dave)"
            );
        }
    }
    app.run_until_stopped().await?;
    tracing::info!("Hearth stopped");
    Ok(())
}

async fn create_user(
    settings: &Settings,
    username: &str,
    password: Option<String>,
    staff: bool,
) -> anyhow::Result<()> {
    let password = match password {
        Some(password) => password,
        None => {
            eprint!("Password for {username}: ");
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line)?;
            line.trim_end_matches(['\r', '\n']).to_owned()
        }
    };
    if let Some(problem) = rules::username_problems(username).first() {
        bail!("invalid username: {problem}");
    }
    if let Some(problem) = rules::password_problems(&password).first() {
        bail!("invalid password: {problem}");
    }
    let db = connect_and_migrate(settings).await?;
    let hasher = PasswordHasher::new(1)?;
    let hash = hasher.hash(&password).await?;
    match hearth_db::users::create(&db, username, &hash, staff).await {
        Ok(user) => tracing::info!(id = %user.id, staff, "user created"),
        Err(DomainError::Conflict(_)) => {
            let existing = hearth_db::users::credentials(&db, username)
                .await?
                .context("user vanished")?;
            hearth_db::users::set_password(&db, existing.user.id, &hash, staff).await?;
            tracing::info!(id = %existing.user.id, staff, "existing user updated");
        }
        Err(e) => return Err(e.into()),
    }
    Ok(())
}
