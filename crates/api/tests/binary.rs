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
    let mut server = Serving::start(&db.url, &[]);
    let health = reqwest::get(format!("{}/healthz", server.address))
        .await
        .map(|r| r.status());
    assert_eq!(health.ok(), Some(reqwest::StatusCode::OK));
    server.sigterm();
    let status = server.exit_within(Duration::from_secs(10)).await;
    assert!(status.success(), "hearth exited with {status}");
    let log = server.log();
    assert!(log.iter().any(|l| l.contains("Hearth stopped")), "{log:?}");
    db.drop_now().await;
}

/// A `hearth serve` process and where it listens.
struct Serving {
    child: std::process::Child,
    address: String,
    media: std::path::PathBuf,
    /// Every line the server printed so far.
    log: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl Serving {
    /// Starts `serve --seed-if-empty` with `env` and waits for its listening line.
    fn start(database_url: &str, env: &[(&str, &str)]) -> Serving {
        let media = std::env::temp_dir().join(format!(
            "hearth-binary-media-{}",
            uuid::Uuid::new_v4().simple()
        ));
        let mut command = hearth(database_url);
        command
            .args(["serve", "--seed-if-empty"])
            .env("HEARTH_PORT", "0")
            .env("HEARTH_MEDIA_DIR", &media)
            .env("HEARTH_LOG_FORMAT", "json")
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        for (key, value) in env {
            command.env(key, value);
        }
        let mut child = command.spawn().unwrap_or_else(|e| panic!("{e}"));
        let stdout = child.stdout.take().unwrap_or_else(|| panic!("no stdout"));
        // Lines are read on a thread so a silent server cannot hang the test.
        let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Ok(mut lines) = sink.lock() {
                    lines.push(line);
                }
            }
        });
        let mut server = Serving {
            child,
            address: String::new(),
            media,
            log,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            let log = server.log();
            let address = log.iter().find_map(|line| {
                let json: serde_json::Value = serde_json::from_str(line).unwrap_or_default();
                json["fields"]["address"].as_str().map(str::to_owned)
            });
            let seeded = log.iter().any(|line| line.contains("demo data loaded"));
            if let (Some(address), true) = (address, seeded) {
                server.address = address;
                return server;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "the server never said where it listens, or did not seed: {:?}",
            server.log()
        );
    }

    /// The lines printed so far, checked for secrets.
    fn log(&self) -> Vec<String> {
        let lines = self
            .log
            .lock()
            .map(|lines| lines.clone())
            .unwrap_or_default();
        for line in &lines {
            assert!(
                !line.contains("HEARTH_JWT_SECRET=") && !line.contains("password_hash"),
                "a secret reached the log: {line}"
            );
        }
        lines
    }

    fn sigterm(&self) {
        let sent = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .is_ok_and(|s| s.success());
        assert!(sent, "cannot send SIGTERM");
    }

    /// Waits for the exit; panics after `limit`.
    async fn exit_within(&mut self, limit: Duration) -> std::process::ExitStatus {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().unwrap_or_else(|e| panic!("{e}")) {
                return status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("hearth did not stop within {limit:?} of SIGTERM");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Serving {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.media);
    }
}

/// The JSON body of a request that must succeed.
async fn json_of(request: reqwest::RequestBuilder) -> serde_json::Value {
    request
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .json()
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_mid_traffic_finishes_in_flight_work_and_loses_no_acknowledged_message() {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    use tokio_tungstenite::tungstenite::Message;

    let db = Scratch::new().await;
    let mut server = Serving::start(
        &db.url,
        &[
            // Logins queue behind one another, so several are in flight when the signal comes.
            ("HEARTH_HASH_CONCURRENCY", "1"),
            ("HEARTH_WS_RATE_PER_SEC", "1000"),
            ("HEARTH_WS_RATE_BURST", "1000"),
        ],
    );
    let http = reqwest::Client::new();
    let address = server.address.clone();
    let login = |http: reqwest::Client| {
        let url = format!("{address}/api/auth/token/");
        async move {
            http.post(url)
                .json(&serde_json::json!({"username": "alice", "password": "hearth-demo"}))
                .send()
                .await
                .map(|r| r.status().as_u16())
        }
    };
    let tokens = json_of(
        http.post(format!("{}/api/auth/token/", server.address))
            .json(&serde_json::json!({"username": "alice", "password": "hearth-demo"})),
    )
    .await;
    let token = tokens["access"].as_str().unwrap_or_default().to_owned();
    let servers = json_of(http.get(format!(
        "{}/api/server/select/?category=programming",
        server.address
    )))
    .await;
    let rustaceans = servers
        .as_array()
        .and_then(|all| all.iter().find(|s| s["name"] == "Rustaceans"))
        .unwrap_or_else(|| panic!("no seeded server: {servers}"));
    let socket_url = format!(
        "{}/ws/servers/{}/channels/{}",
        server.address.replacen("http", "ws", 1),
        rustaceans["id"],
        rustaceans["channel_server"][0]["id"]
    );
    let mut sockets = Vec::new();
    for _ in 0..3 {
        let mut request = socket_url
            .as_str()
            .into_client_request()
            .unwrap_or_else(|e| panic!("{e}"));
        request.headers_mut().insert(
            "authorization",
            format!("Bearer {token}")
                .parse()
                .unwrap_or_else(|e| panic!("{e}")),
        );
        let (socket, _) = tokio_tungstenite::connect_async(request)
            .await
            .unwrap_or_else(|e| panic!("cannot connect: {e}"));
        sockets.push(socket);
    }

    // One socket sends a message every 5 ms and collects its acknowledgements; the others listen.
    let sender = sockets.remove(0);
    let sending = tokio::spawn(async move {
        let (mut sink, mut stream) = sender.split();
        let writer = tokio::spawn(async move {
            for i in 0.. {
                let frame = serde_json::json!({"type": "message", "message": format!("m{i}"), "nonce": format!("n{i}")});
                if sink.send(Message::text(frame.to_string())).await.is_err() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        });
        let mut acknowledged = Vec::new();
        let mut close_code = None;
        while let Some(Ok(message)) = stream.next().await {
            match message {
                Message::Text(text) => {
                    let frame: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
                    if frame["type"] == "chat.message" {
                        if let Some(nonce) = frame["new_message"]["nonce"].as_str() {
                            acknowledged.push(nonce.to_owned());
                        }
                    }
                }
                Message::Close(frame) => {
                    close_code = frame.map(|f| u16::from(f.code));
                    break;
                }
                _ => {}
            }
        }
        writer.abort();
        (acknowledged, close_code)
    });
    let listeners: Vec<_> = sockets
        .into_iter()
        .map(|mut socket| {
            tokio::spawn(async move {
                while let Some(Ok(message)) = socket.next().await {
                    if let Message::Close(frame) = message {
                        return frame.map(|f| u16::from(f.code));
                    }
                }
                None
            })
        })
        .collect();

    tokio::time::sleep(Duration::from_millis(500)).await;
    let logins: Vec<_> = (0..4).map(|_| tokio::spawn(login(http.clone()))).collect();
    tokio::time::sleep(Duration::from_millis(30)).await;
    server.sigterm();

    // Sockets are closed with 1001 (going away).
    let (acknowledged, sender_close) = tokio::time::timeout(Duration::from_secs(10), sending)
        .await
        .unwrap_or_else(|_| panic!("the sender's socket was never closed"))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(sender_close, Some(1001));
    for listener in listeners {
        let code = tokio::time::timeout(Duration::from_secs(10), listener)
            .await
            .unwrap_or_else(|_| panic!("a listener's socket was never closed"))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(code, Some(1001));
    }
    // New connections are refused from now on...
    let refused = reqwest::Client::new()
        .get(format!("{}/healthz", server.address))
        .timeout(Duration::from_secs(2))
        .send()
        .await;
    assert!(refused.is_err(), "a new request was accepted after SIGTERM");
    // ...while the requests already in flight finish.
    for login in logins {
        match login.await.unwrap_or_else(|e| panic!("{e}")) {
            Ok(status) => assert_eq!(status, 200, "an in-flight login failed"),
            Err(e) => panic!("an in-flight login was cut: {e}"),
        }
    }
    let status = server.exit_within(Duration::from_secs(10)).await;
    assert!(status.success(), "hearth exited with {status}");

    // Every message acknowledged before the stop is stored, once.
    assert!(!acknowledged.is_empty(), "nothing was sent before the stop");
    let list = acknowledged
        .iter()
        .map(|n| format!("'{n}'"))
        .collect::<Vec<_>>()
        .join(",");
    let stored = db
        .query_one(&format!(
            "SELECT count(*) FROM messages WHERE nonce IN ({list})"
        ))
        .await;
    assert_eq!(stored, i64::try_from(acknowledged.len()).unwrap_or(-1));
    db.drop_now().await;
}
