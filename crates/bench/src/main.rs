//! `hearth-bench`: what `make bench` runs (through `scripts/bench.sh`).
//!
//! Creates a database of its own on the PostgreSQL server at `--admin-url`, migrates it with the
//! release `hearth` binary, seeds the fixed data set, starts `hearth serve` on a free loopback
//! port, runs every scenario against it, then starts a fresh server process for the idle-socket
//! memory scenario. Prints one table, writes it as JSON under `--out`, stops the servers and
//! drops the database, also when interrupted or past `--timeout`.
//!
//! With `--soak <seconds>` (`make soak`, issue 7) it runs the soak instead, on the same private
//! database and data set: one server process for the whole soak, rounds of mixed REST and
//! WebSocket load (see `hearth_bench::soak`), the server's VmRSS after every round; prints the
//! rounds, writes them as JSON (`soak-<time>.json` under `--out`) and fails, naming the
//! criterion, on any failed request, any lost or duplicated message, a dead server, or memory
//! that kept growing.

use anyhow::{anyhow, bail, Context};
use clap::Parser;
use hearth_bench::fixture::{self, Sizes};
use hearth_bench::process::{self, BenchDatabase, ServerProcess};
use hearth_bench::report;
use hearth_bench::scenarios::{Plan, Target};
use hearth_bench::soak::{self, SoakPlan};
use hearth_bench::stats::Row;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// Load-tests a release build of Hearth on a private database (issue 6).
#[derive(Debug, Parser)]
#[command(name = "hearth-bench")]
struct Args {
    /// PostgreSQL admin URL; a database `hearth_bench_<random>` is created there and dropped.
    #[arg(long, env = "HEARTH_BENCH_ADMIN_URL")]
    admin_url: String,
    /// The server binary (build it with `cargo build --release -p hearth-api`).
    #[arg(long, default_value = "target/release/hearth")]
    server: PathBuf,
    /// Where the JSON results and the server logs go.
    #[arg(long, default_value = "bench-results")]
    out: PathBuf,
    /// Runs of every scenario; the table shows medians.
    #[arg(long, env = "HEARTH_BENCH_RUNS", default_value_t = 1)]
    runs: usize,
    /// Only these scenarios (comma-separated): is_member, server_list, join_leave,
    /// join_leave_hot, login,
    /// fanout_20, fanout_400, chat, dm_pingpong, personal_fanout, login_memory, idle,
    /// idle_personal.
    #[arg(long, env = "HEARTH_BENCH_ONLY", value_delimiter = ',')]
    only: Vec<String>,
    /// Measured seconds of each HTTP scenario (after a 2 s warm-up).
    #[arg(long, default_value_t = 10)]
    duration: u64,
    /// Sockets of the idle scenario (capped by the open-files limit).
    #[arg(long, default_value_t = 20_000)]
    idle_sockets: usize,
    /// Logins of the login_memory scenario (its target is judged at 10,000 or more).
    #[arg(long, default_value_t = 10_000)]
    logins: usize,
    /// Runs the server without its metrics listener (the delivery rows then have no stages),
    /// to see what metrics cost.
    #[arg(long, env = "HEARTH_BENCH_NO_METRICS")]
    no_metrics: bool,
    /// Threads of the load generator's runtime (1: a current-thread runtime).
    #[arg(long, env = "HEARTH_BENCH_CLIENT_THREADS", default_value_t = 1)]
    client_threads: usize,
    /// Toy sizes (the smoke test's), for trying the harness out in seconds.
    #[arg(long)]
    quick: bool,
    /// Give up (and clean up) after this many seconds (with --soak, at least twice the soak
    /// plus five minutes).
    #[arg(long, default_value_t = 1800)]
    timeout: u64,
    /// Run the soak instead of the scenarios: about this many seconds of mixed REST and
    /// WebSocket load against one server (`make soak`: 600). With --quick, three toy rounds.
    #[arg(long, value_name = "SECONDS")]
    soak: Option<u64>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let runtime = if args.client_threads <= 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(args.client_threads)
            .enable_all()
            .build()
    };
    let result = runtime
        .context("cannot start the runtime")
        .and_then(|runtime| runtime.block_on(bench(args)));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("hearth-bench: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn progress(message: impl std::fmt::Display) {
    eprintln!(
        "[bench {}] {message}",
        chrono::Local::now().format("%H:%M:%S")
    );
}

async fn bench(args: Args) -> anyhow::Result<()> {
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    let database = BenchDatabase::create(&args.admin_url).await?;
    progress(format_args!("database {}", database.name));
    let timeout = args.soak.map_or(args.timeout, |seconds| {
        args.timeout
            .max(seconds.saturating_mul(2).saturating_add(300))
    });
    let outcome = tokio::select! {
        outcome = tokio::time::timeout(Duration::from_secs(timeout), run(&args, &database.url)) => {
            outcome.unwrap_or_else(|_| Err(anyhow!("gave up after {timeout} s (--timeout)")))
        }
        _ = tokio::signal::ctrl_c() => Err(anyhow!("interrupted")),
    };
    // The servers were stopped (or killed on drop) by now; nothing holds the database.
    let dropped = database.drop_now().await;
    outcome?;
    dropped.context("cannot drop the bench database")
}

async fn run(args: &Args, database_url: &str) -> anyhow::Result<()> {
    let started_at = chrono::Utc::now();
    let stamp = started_at.format("%Y%m%d-%H%M%S").to_string();
    let load_before = process::load_average();
    let sizes = if args.quick {
        Sizes::toy()
    } else {
        Sizes::full()
    };
    if args.soak.is_some() && !args.only.is_empty() {
        bail!("--soak runs its own mix of scenarios: it does not take --only");
    }
    for name in &args.only {
        if !hearth_bench::SCENARIOS.contains(&name.as_str()) {
            bail!("no scenario named {name}");
        }
    }

    let secret = format!(
        "{:032x}{:032x}",
        rand::random::<u128>(),
        rand::random::<u128>()
    );
    let media = std::env::temp_dir().join(format!("hearth-bench-media-{stamp}"));
    let _media_guard = process::RemoveOnDrop(media.clone());
    let metrics_addr = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?;
    let mut env: Vec<(String, String)> = vec![
        ("DATABASE_URL".into(), database_url.into()),
        ("HEARTH_JWT_SECRET".into(), secret.clone()),
        // The chat scenarios send up to 400 messages per second per user.
        ("HEARTH_WS_RATE_PER_SEC".into(), "1000".into()),
        ("HEARTH_WS_RATE_BURST".into(), "1000".into()),
        // Logins at 40/s and joins of 1,000 users, all from this one address.
        ("HEARTH_RATE_LOGIN_FAILURES".into(), "off".into()),
        ("HEARTH_RATE_LOGIN_ADDRESS".into(), "off".into()),
        ("HEARTH_RATE_REGISTER_ADDRESS".into(), "off".into()),
        ("HEARTH_RATE_REFRESH_ACCOUNT".into(), "off".into()),
        ("HEARTH_RATE_CONVERSATIONS_ACCOUNT".into(), "off".into()),
        ("HEARTH_RATE_BLOCKS_ACCOUNT".into(), "off".into()),
        // The conversation scenarios: one reader's acks, unread lists and searches.
        ("HEARTH_RATE_ACKS_ACCOUNT".into(), "off".into()),
        ("HEARTH_RATE_UNREAD_ACCOUNT".into(), "off".into()),
        ("HEARTH_RATE_SEARCH_ACCOUNT".into(), "off".into()),
        ("HEARTH_MEDIA_DIR".into(), media.display().to_string()),
        ("HEARTH_LOG_FORMAT".into(), "pretty".into()),
    ];
    if !args.no_metrics {
        // Metrics on, as in a deployment: the delivery scenarios read where a message's time
        // goes off the server's own histograms.
        env.push(("HEARTH_METRICS_ADDR".into(), metrics_addr.to_string()));
    }
    if std::env::var_os("RUST_LOG").is_none() {
        env.push(("RUST_LOG".into(), "warn".into()));
    }
    // Settings inherited from this environment (HEARTH_WORKERS, HEARTH_DB_POOL_SIZE, ...) go into
    // the report with the ones set here.
    let inherited: Vec<(String, String)> = std::env::vars()
        .filter(|(k, _)| k.starts_with("HEARTH_") && !k.starts_with("HEARTH_BENCH_"))
        .filter(|(k, _)| k != "HEARTH_JWT_SECRET" && !env.iter().any(|(set, _)| set == k))
        .collect();

    let postgres = process::PostgresSettings::read(database_url).await?;
    progress(&postgres);
    progress("migrating");
    process::migrate(&args.server, &env).await?;
    progress(format_args!("seeding {sizes:?}"));
    let mut fixture = fixture::seed(
        database_url,
        sizes,
        secret.as_bytes(),
        Duration::from_secs(3 * 3600),
    )
    .await?;
    // The data at size takes minutes to load: only when its scenario runs.
    let wants_growth =
        args.soak.is_none() && (args.only.is_empty() || args.only.iter().any(|o| o == "at_size"));
    if wants_growth {
        let growth = if args.quick {
            fixture::GrowthSizes::toy()
        } else {
            fixture::GrowthSizes::full()
        };
        progress(format_args!("growing the data at size: {growth:?}"));
        let grown_at = std::time::Instant::now();
        fixture.grown = Some(
            fixture::grow(
                database_url,
                growth,
                secret.as_bytes(),
                Duration::from_secs(3 * 3600),
            )
            .await?,
        );
        progress(format_args!(
            "grown in {:.0} s",
            grown_at.elapsed().as_secs_f64()
        ));
    }
    if args.soak.is_none()
        && (args.only.is_empty() || args.only.iter().any(|o| o == "conversation"))
    {
        let sizes = if args.quick {
            hearth_bench::library::LibrarySizes::toy()
        } else {
            hearth_bench::library::LibrarySizes::full()
        };
        progress(format_args!("growing the library: {sizes:?}"));
        let grown_at = std::time::Instant::now();
        fixture.library = Some(
            hearth_bench::library::grow(
                database_url,
                sizes,
                secret.as_bytes(),
                Duration::from_secs(3 * 3600),
            )
            .await?,
        );
        progress(format_args!(
            "library grown in {:.0} s",
            grown_at.elapsed().as_secs_f64()
        ));
    }

    if let Some(seconds) = args.soak {
        let plan = if args.quick {
            SoakPlan::smoke()
        } else {
            SoakPlan::for_seconds(seconds)
        };
        let setup = Setup {
            started_at,
            stamp,
            load_before,
            postgres,
            sizes,
            env,
            inherited,
            fixture,
        };
        return run_soak(args, plan, setup).await;
    }

    let mut plan = if args.quick {
        Plan::smoke()
    } else {
        Plan::full()
    };
    if !args.quick {
        plan.http.duration = Duration::from_secs(args.duration);
        plan.idle_sockets = args.idle_sockets;
        plan.login_memory.logins = args.logins;
    }
    let wanted = |name: &str| args.only.is_empty() || args.only.iter().any(|o| o == name);
    // The server and this process both hold one descriptor per idle socket.
    let files = process::open_files_limit()?;
    let idle_cap = usize::try_from(files.saturating_sub(200)).unwrap_or(usize::MAX);
    let capped = plan.idle_sockets > idle_cap;
    if capped {
        progress(format_args!(
            "open-files limit {files}: idle scenario capped at {idle_cap} sockets (raise `ulimit -n`)"
        ));
        plan.idle_sockets = idle_cap;
    }

    let mut by_scenario: Vec<(String, Vec<Row>)> = Vec::new();
    let mut record = |rows: Vec<Row>| {
        for row in rows {
            progress(format_args!(
                "{}: {:.0} {} p50 {:.2} ms p99 {:.2} ms errors {} lost {} dups {}",
                row.scenario,
                row.throughput,
                row.unit,
                row.p50_ms,
                row.p99_ms,
                row.errors,
                row.lost.unwrap_or(0),
                row.duplicates.unwrap_or(0)
            ));
            match by_scenario
                .iter_mut()
                .find(|(name, _)| *name == row.scenario)
            {
                Some((_, runs)) => runs.push(row),
                None => by_scenario.push((row.scenario.clone(), vec![row])),
            }
        }
    };

    let shared: Vec<&str> = hearth_bench::SCENARIOS
        .into_iter()
        .filter(|name| !hearth_bench::wants_fresh_server(name) && wanted(name))
        .collect();
    if !shared.is_empty() {
        let log = args.out.join(format!("server-{stamp}.log"));
        let mut server = ServerProcess::start(&args.server, &env, &log).await?;
        progress(format_args!(
            "server {} (pid {})",
            server.base_url, server.pid
        ));
        let mut target = Target::new(&server.base_url, fixture.clone())?;
        target.metrics = (!args.no_metrics).then_some(metrics_addr);
        for run in 1..=args.runs {
            for name in &shared {
                progress(format_args!("run {run}/{}: {name}", args.runs));
                // The server's pid, for scenarios that read its CPU time.
                let pid = Some(server.pid);
                record(hearth_bench::run_scenario(&target, &plan, name, pid).await?);
                server.check_alive()?;
                tokio::time::sleep(plan.settle).await;
            }
        }
        server.stop().await?;
    }
    for idle in hearth_bench::SCENARIOS
        .into_iter()
        .filter(|name| hearth_bench::wants_fresh_server(name) && wanted(name))
    {
        for run in 1..=args.runs {
            let log = args.out.join(format!("server-{stamp}-{idle}-{run}.log"));
            let server = ServerProcess::start(&args.server, &env, &log).await?;
            let size = match idle {
                "idle" => format!("{} sockets", plan.idle_sockets),
                "idle_personal" => format!("{} personal sockets", plan.idle_personal_sockets),
                _ => format!(
                    "{} logins, {} at once",
                    plan.login_memory.logins, plan.login_memory.at_once
                ),
            };
            progress(format_args!(
                "run {run}/{}: {idle}, {size} on a fresh server (pid {})",
                args.runs, server.pid
            ));
            let target = Target::new(&server.base_url, fixture.clone())?;
            let mut rows =
                hearth_bench::run_scenario(&target, &plan, idle, Some(server.pid)).await?;
            for row in rows.iter_mut().filter(|_| idle.starts_with("idle")) {
                row.notes
                    .push(format!("{:.0} sockets/s opened", row.throughput));
                if capped {
                    row.notes
                        .push(format!("capped by the open-files limit ({files})"));
                }
            }
            record(rows);
            server.stop().await?;
        }
    }

    let mut rows: Vec<Row> = Vec::new();
    for (_, runs) in &by_scenario {
        if let Some(mut row) = report::median_row(runs.clone()) {
            // Toy sizes say nothing about the targets.
            if !args.quick {
                row.goal = report::judge(&row, &plan);
            }
            rows.push(row);
        }
    }
    let table = report::table(&rows);
    let met = rows
        .iter()
        .filter(|r| r.goal.as_ref().is_some_and(|g| g.met))
        .count();
    let judged = rows.iter().filter(|r| r.goal.is_some()).count();
    let load_after = process::load_average();
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "\n{table}")?;
    writeln!(
        stdout,
        "{met} of {judged} targets met. Load average before {load_before}, after {load_after} \
         ({} cores; the load generator shares them).",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    )?;
    writeln!(stdout, "Database: {postgres}.")?;

    let json = serde_json::json!({
        "started_at": started_at.to_rfc3339(),
        "finished_at": chrono::Utc::now().to_rfc3339(),
        "command": std::env::args().collect::<Vec<_>>(),
        "cores": std::thread::available_parallelism().map_or(0, |n| n.get()),
        "load_average": {"before": load_before, "after": load_after},
        "postgres": postgres,
        "open_files_limit": files,
        "client_threads": args.client_threads,
        "runs": args.runs,
        "sizes": sizes,
        "plan": plan,
        "commit": process::git_commit().await,
        "server_env": env.iter()
            .chain(inherited.iter())
            .filter(|(k, _)| k != "HEARTH_JWT_SECRET" && k != "DATABASE_URL")
            .collect::<Vec<_>>(),
        "rows": rows,
        "every_run": by_scenario,
    });
    let path = args.out.join(format!("bench-{stamp}.json"));
    std::fs::write(&path, serde_json::to_string_pretty(&json)?)
        .with_context(|| format!("cannot write {}", path.display()))?;
    writeln!(stdout, "Results: {}", path.display())?;
    Ok(())
}

/// What the soak shares with the scenarios' run: the prepared database and server settings.
struct Setup {
    started_at: chrono::DateTime<chrono::Utc>,
    stamp: String,
    load_before: String,
    postgres: process::PostgresSettings,
    sizes: Sizes,
    env: Vec<(String, String)>,
    inherited: Vec<(String, String)>,
    fixture: fixture::Fixture,
}

/// The soak: one server process for every round of `plan`; the table, the JSON, the verdict.
async fn run_soak(args: &Args, plan: SoakPlan, setup: Setup) -> anyhow::Result<()> {
    let log = args.out.join(format!("server-{}-soak.log", setup.stamp));
    let mut server = ServerProcess::start(&args.server, &setup.env, &log).await?;
    progress(format_args!(
        "soak: {} rounds (3 HTTP scenarios of {:.1} s each with a chat alongside, then a \
         fan-out) against {} (pid {}); server log {}",
        plan.rounds,
        (plan.http.warmup + plan.http.duration).as_secs_f64(),
        server.base_url,
        server.pid,
        log.display()
    ));
    let target = Target::new(&server.base_url, setup.fixture)?;
    let pid = server.pid;
    let result = soak::run(&target, &plan, Some(pid), |round| {
        progress(round.summary());
        server.check_alive()
    })
    .await;
    let stopped = server.stop().await;
    let verdict = result.verdict(&plan);
    let load_after = process::load_average();

    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "\n{}", soak::table(&result, &verdict))?;
    writeln!(stdout, "memory criterion: {}", soak::GROWTH_CRITERION)?;
    writeln!(
        stdout,
        "Load average before {}, after {load_after} ({} cores; the load generator shares them).",
        setup.load_before,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    )?;
    writeln!(stdout, "Database: {}.", setup.postgres)?;
    let json = serde_json::json!({
        "started_at": setup.started_at.to_rfc3339(),
        "finished_at": chrono::Utc::now().to_rfc3339(),
        "command": std::env::args().collect::<Vec<_>>(),
        "cores": std::thread::available_parallelism().map_or(0, |n| n.get()),
        "load_average": {"before": setup.load_before, "after": load_after},
        "postgres": setup.postgres,
        "client_threads": args.client_threads,
        "sizes": setup.sizes,
        "plan": plan,
        "commit": process::git_commit().await,
        "server_env": setup.env.iter()
            .chain(setup.inherited.iter())
            .filter(|(k, _)| k != "HEARTH_JWT_SECRET" && k != "DATABASE_URL")
            .collect::<Vec<_>>(),
        "memory_criterion": soak::GROWTH_CRITERION,
        "passed": verdict.passed(),
        "verdict": verdict,
        "soak": result,
    });
    let path = args.out.join(format!("soak-{}.json", setup.stamp));
    std::fs::write(&path, serde_json::to_string_pretty(&json)?)
        .with_context(|| format!("cannot write {}", path.display()))?;
    writeln!(stdout, "Results: {}", path.display())?;
    if !verdict.passed() {
        bail!("soak FAILED: {}", verdict.failures.join("; "));
    }
    stopped.context("cannot stop the server")?;
    writeln!(stdout, "Soak passed.")?;
    Ok(())
}
