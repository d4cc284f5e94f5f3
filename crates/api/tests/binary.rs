//! The `hearth` binary as an operator runs it: its commands, its refusal to run unsafely in
//! production, and a graceful stop on SIGTERM.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tokio_postgres::NoTls;

const HEARTH: &str = env!("CARGO_BIN_EXE_hearth");

fn admin_url() -> String {
    std::env::var("HEARTH_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// A fresh empty database, dropped at the end of the test.
struct Scratch {
    name: String,
    url: String,
}

impl Scratch {
    async fn new() -> Scratch {
        let name = format!("hearth_cli_{}", uuid::Uuid::new_v4().simple());
        admin(&format!("CREATE DATABASE {name}")).await;
        let admin = admin_url();
        let base = admin
            .rsplit_once('/')
            .map_or(admin.as_str(), |(base, _)| base);
        Scratch {
            url: format!("{base}/{name}"),
            name,
        }
    }

    async fn query_one(&self, sql: &str) -> i64 {
        let (client, connection) = tokio_postgres::connect(&self.url, NoTls)
            .await
            .unwrap_or_else(|e| panic!("connect: {e}"));
        tokio::spawn(connection);
        let row = client
            .query_one(sql, &[])
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        row.get(0)
    }

    async fn drop_now(self) {
        admin(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        ))
        .await;
    }
}

async fn admin(sql: &str) {
    let (client, connection) = tokio_postgres::connect(&admin_url(), NoTls)
        .await
        .unwrap_or_else(|e| panic!("cannot reach the test PostgreSQL: {e}"));
    tokio::spawn(connection);
    client
        .batch_execute(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

fn hearth(database_url: &str) -> Command {
    let mut command = Command::new(HEARTH);
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", database_url)
        .env("HEARTH_HASH_CONCURRENCY", "2")
        .env("RUST_LOG", "info");
    command
}

fn run_ok(command: &mut Command) -> String {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("cannot run hearth: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "hearth failed: {text}");
    text
}

#[tokio::test]
async fn migrate_seed_and_create_commands_work_and_seed_is_idempotent() {
    let db = Scratch::new().await;
    run_ok(hearth(&db.url).arg("migrate"));
    run_ok(hearth(&db.url).arg("seed"));
    let counts =
        "SELECT (SELECT count(*) FROM users) * 1000000 + (SELECT count(*) FROM servers) * 1000 \
                  + (SELECT count(*) FROM server_members)";
    let first = db.query_one(counts).await;
    assert!(first > 1_000_000, "seed created users and servers");
    run_ok(hearth(&db.url).arg("seed"));
    assert_eq!(
        db.query_one(counts).await,
        first,
        "a second seed changes nothing"
    );

    run_ok(hearth(&db.url).args([
        "create-user",
        "root_admin",
        "--staff",
        "--password",
        "s3cret-pass",
    ]));
    assert_eq!(
        db.query_one("SELECT count(*) FROM users WHERE username = 'root_admin' AND is_staff")
            .await,
        1
    );
    // Reading the password from stdin works too, and an existing name gets its password reset.
    let mut child = hearth(&db.url)
        .args(["create-user", "root_admin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{e}"));
    if let Some(mut stdin) = child.stdin.take() {
        std::io::Write::write_all(&mut stdin, b"another-password\n")
            .unwrap_or_else(|e| panic!("{e}"));
    }
    assert!(child.wait().is_ok_and(|s| s.success()));

    run_ok(hearth(&db.url).args(["create-category", "Board Games", "--description", "Meeples"]));
    assert_eq!(
        db.query_one("SELECT count(*) FROM categories WHERE name = 'board games'")
            .await,
        1
    );
    let duplicate = hearth(&db.url)
        .args(["create-category", "board games"])
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        !duplicate.status.success(),
        "a duplicate category is refused"
    );
    db.drop_now().await;
}

#[test]
fn create_user_refuses_invalid_input() {
    let output = hearth("postgres://127.0.0.1:1/none")
        .args(["create-user", "bad name", "--password", "long enough pass"])
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("invalid username"));
}

#[test]
fn production_without_a_secret_refuses_to_start() {
    for secret in [None, Some("short")] {
        let mut command = hearth("postgres://127.0.0.1:1/none");
        command.env("HEARTH_ENV", "production").arg("serve");
        if let Some(secret) = secret {
            command.env("HEARTH_JWT_SECRET", secret);
        }
        let output = command.output().unwrap_or_else(|e| panic!("{e}"));
        assert!(!output.status.success(), "started with secret {secret:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("HEARTH_JWT_SECRET"), "{stderr}");
    }
}

#[test]
fn openapi_command_prints_the_committed_document() {
    let output = hearth("postgres://unused")
        .arg("openapi")
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(output.status.success());
    let committed = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../openapi/openapi.json"
    ))
    .unwrap_or_default();
    assert!(
        output.stdout == committed,
        "openapi/openapi.json is stale: run `make openapi`"
    );
}

#[tokio::test]
async fn sigterm_stops_the_server_gracefully() {
    let db = Scratch::new().await;
    // Serving creates the media directory; keep it out of the source tree.
    let media = std::env::temp_dir().join(format!("hearth-binary-media-{}", std::process::id()));
    let mut child = hearth(&db.url)
        .args(["serve", "--seed-if-empty"])
        .env("HEARTH_PORT", "0")
        .env("HEARTH_MEDIA_DIR", &media)
        .env("HEARTH_LOG_FORMAT", "json")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{e}"));
    let stdout = child.stdout.take().unwrap_or_else(|| panic!("no stdout"));
    // The listening line names the port; read lines on a thread so a silent server cannot hang us.
    let (lines_tx, lines_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut address = None;
    let mut seeded = false;
    while Instant::now() < deadline && (address.is_none() || !seeded) {
        let Ok(line) = lines_rx.recv_timeout(Duration::from_millis(200)) else {
            continue;
        };
        assert!(
            !line.contains("HEARTH_JWT_SECRET=") && !line.contains("password_hash"),
            "{line}"
        );
        let json: serde_json::Value = serde_json::from_str(&line).unwrap_or_default();
        if let Some(a) = json["fields"]["address"].as_str() {
            address = Some(a.to_owned());
        }
        seeded |= line.contains("demo data loaded");
    }
    let address = address.unwrap_or_else(|| panic!("the server never said where it listens"));
    assert!(seeded, "an empty database was seeded");
    let health = reqwest::get(format!("{address}/healthz"))
        .await
        .map(|r| r.status());
    assert_eq!(health.ok(), Some(reqwest::StatusCode::OK));

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .is_ok_and(|s| s.success());
    assert!(killed, "cannot send SIGTERM");
    let stopped_by = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap_or_else(|e| panic!("{e}")) {
            break status;
        }
        if Instant::now() > stopped_by {
            let _ = child.kill();
            panic!("hearth did not stop within 10 s of SIGTERM");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "hearth exited with {status}");
    let _ = std::fs::remove_dir_all(&media);
    let log_tail: Vec<String> = lines_rx.try_iter().collect();
    assert!(
        log_tail.iter().any(|l| l.contains("Hearth stopped")),
        "{log_tail:?}"
    );
    db.drop_now().await;
}
