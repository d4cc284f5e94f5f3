//! Every bench scenario at toy size against the test harness's in-process server, so the load
//! tool cannot rot between `make bench` runs. Figures are meaningless here (a debug build); only
//! correctness is asserted: no error, nothing lost, nothing delivered twice. The soak's code
//! path runs here too, as three toy rounds.

use hearth_api::config::JwtSecret;
use hearth_bench::fixture::{self, Sizes};
use hearth_bench::scenarios::{Plan, Target};
use hearth_bench::soak::{self, SoakPlan};
use hearth_tests::TestApp;
use std::num::NonZeroU32;
use std::time::{Duration, Instant};

const SECRET: &str = "bench-smoke-secret-bench-smoke-secret";

/// A server in this process that signs with the bench's secret and lets one user send fast (the
/// fast fan-out sends 400 messages per second from one user), with the toy data set seeded.
/// The app must be kept alive as long as the target is used.
async fn toy_target() -> anyhow::Result<(TestApp, Target)> {
    let app = TestApp::spawn_with(|settings| {
        settings.jwt_secret = JwtSecret::new(SECRET.as_bytes().to_vec());
        settings.jwt_secret_generated = false;
        let plenty = NonZeroU32::new(1000).unwrap_or(NonZeroU32::MIN);
        settings.ws_rate_per_sec = plenty;
        settings.ws_rate_burst = plenty;
        hearth_tests::generous_rest_limits(settings);
    })
    .await;
    let mut fixture = fixture::seed(
        &app.database_url,
        Sizes::toy(),
        SECRET.as_bytes(),
        Duration::from_secs(600),
    )
    .await?;
    fixture.grown = Some(
        fixture::grow(
            &app.database_url,
            fixture::GrowthSizes::toy(),
            SECRET.as_bytes(),
            Duration::from_secs(600),
        )
        .await?,
    );
    fixture.library = Some(
        hearth_bench::library::grow(
            &app.database_url,
            hearth_bench::library::LibrarySizes::toy(),
            SECRET.as_bytes(),
            Duration::from_secs(600),
        )
        .await?,
    );
    let target = Target::new(&app.address, fixture)?;
    Ok((app, target))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_scenario_runs_clean_at_toy_size() -> anyhow::Result<()> {
    let started = Instant::now();
    let (_app, target) = toy_target().await?;
    let plan = Plan::smoke();

    let mut all = Vec::new();
    for name in hearth_bench::SCENARIOS {
        let rows = hearth_bench::run_scenario(&target, &plan, name, None).await?;
        assert!(!rows.is_empty(), "{name} gave no row");
        for row in rows {
            assert!(
                row.clean(),
                "{}: {} errors, {:?} lost, {:?} duplicates; first error: {:?}",
                row.scenario,
                row.errors,
                row.lost,
                row.duplicates,
                row.first_error
            );
            assert!(row.count > 0, "{}: nothing measured", row.scenario);
            all.push(row);
        }
    }
    eprintln!("{}", hearth_bench::report::table(&all));
    eprintln!("bench smoke took {:?}", started.elapsed());
    Ok(())
}

#[tokio::test]
async fn idle_scenario_measures_the_server_memory_when_it_knows_the_process() -> anyhow::Result<()>
{
    let (_app, target) = toy_target().await?;
    let mut plan = Plan::smoke();
    plan.idle_sockets = 8;
    // The server runs in this very process here.
    let rows = hearth_bench::run_scenario(&target, &plan, "idle", Some(std::process::id())).await?;
    let row = rows.first().ok_or_else(|| anyhow::anyhow!("no idle row"))?;
    assert!(row.clean(), "{row:?}");
    assert!(row.rss_per_socket_kib.is_some(), "{row:?}");
    Ok(())
}

/// The soak's code path (`make soak`) at toy size: three short rounds of mixed load, each
/// sampling the memory of the server (in this very process here), and a clean verdict.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn soak_runs_clean_at_toy_size() -> anyhow::Result<()> {
    let started = Instant::now();
    let (_app, target) = toy_target().await?;
    let plan = SoakPlan::smoke();
    let mut seen = 0;
    let soak = soak::run(&target, &plan, Some(std::process::id()), |round| {
        seen += 1;
        anyhow::ensure!(round.round == seen, "rounds out of order");
        Ok(())
    })
    .await;
    let verdict = soak.verdict(&plan);
    eprintln!("{}", soak::table(&soak, &verdict));
    assert!(verdict.passed(), "{:?}", verdict.failures);
    assert_eq!(soak.rounds.len(), plan.rounds);
    for round in &soak.rounds {
        assert!(
            round.rss_bytes.is_some(),
            "round {}: no memory sample",
            round.round
        );
        assert!(round.requests > 0, "round {}: no request", round.round);
        assert!(round.deliveries > 0, "round {}: no delivery", round.round);
        assert!(
            round
                .rows
                .iter()
                .any(|r| r.scenario == "login_memory" && r.count > 0),
            "round {}: no logins",
            round.round
        );
        assert_eq!(
            round.rows.len(),
            6,
            "round {}: {:?}",
            round.round,
            round.rows
        );
    }
    eprintln!("soak smoke took {:?}", started.elapsed());
    Ok(())
}
