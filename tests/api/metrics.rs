//! `GET /metrics` on a listener of its own: off unless configured, Prometheus' text format, and
//! counters that move with the traffic.

use hearth_tests::ws::{connect, Auth};
use hearth_tests::{send, StatusCode, TestApp, PASSWORD};
use serde_json::json;
use std::collections::HashMap;
use std::time::Duration;

/// A scraped page: series (name and labels, as written) → value.
struct Page(HashMap<String, f64>);

impl Page {
    /// Parses the text format strictly enough to catch a malformed page: every line is a
    /// comment (`# HELP`, `# TYPE`) or `series value`.
    fn parse(text: &str) -> Page {
        let mut series = HashMap::new();
        for line in text.lines().filter(|l| !l.is_empty()) {
            if let Some(comment) = line.strip_prefix("# ") {
                assert!(
                    comment.starts_with("HELP ") || comment.starts_with("TYPE "),
                    "unexpected comment: {line}"
                );
                continue;
            }
            let (name, value) = line
                .rsplit_once(' ')
                .unwrap_or_else(|| panic!("not `series value`: {line}"));
            let value: f64 = value
                .parse()
                .unwrap_or_else(|e| panic!("not a number in {line}: {e}"));
            assert!(
                name.starts_with("hearth_"),
                "a series outside Hearth's namespace: {line}"
            );
            series.insert(name.to_owned(), value);
        }
        Page(series)
    }

    fn value(&self, series: &str) -> f64 {
        self.0.get(series).copied().unwrap_or(0.0)
    }

    fn has(&self, series: &str) -> bool {
        self.0.contains_key(series)
    }
}

async fn scrape(app: &TestApp) -> Page {
    let port = app
        .metrics_port
        .unwrap_or_else(|| panic!("metrics are off"));
    let response = app
        .http
        .get(format!("http://127.0.0.1:{port}/metrics"))
        .send()
        .await
        .unwrap_or_else(|e| panic!("scrape failed: {e}"));
    assert_eq!(response.status(), StatusCode::OK);
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    Page::parse(&response.text().await.unwrap_or_default())
}

fn metrics_on(settings: &mut hearth_api::config::Settings) {
    settings.metrics_addr = "127.0.0.1:0".parse().ok();
}

const IS_MEMBER: &str = r#"hearth_http_requests_total{route="/api/membership/{server_id}/membership/is_member/",method="GET",status="200"}"#;

#[tokio::test]
async fn metrics_are_off_unless_an_address_is_configured() {
    let app = TestApp::spawn().await;
    assert_eq!(app.metrics_port, None);
    let (status, _) = send(app.http.get(app.url("/metrics"))).await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "never on the public listener"
    );
}

#[tokio::test]
async fn the_counters_move_with_the_requests_made() {
    let app = TestApp::spawn_with(metrics_on).await;
    let (owner, token) = app.user_with_token("owner").await;
    let category = app.category("misc").await;
    let server = app.server(owner, category, "Place").await;
    let channel = app.channel(server, owner, "general").await.id;
    let before = scrape(&app).await;
    for name in [
        "hearth_db_pool_connections",
        "hearth_db_pool_in_use",
        "hearth_db_pool_waiting",
        "hearth_sockets_open",
        "hearth_fanout_queue_depth",
    ] {
        assert!(before.has(name), "{name} missing");
    }

    let is_member = app.url(&format!(
        "/api/membership/{}/membership/is_member/",
        server.0
    ));
    for _ in 0..5 {
        let (status, _) = send(app.http.get(&is_member).bearer_auth(&token)).await;
        assert_eq!(status, StatusCode::OK);
    }
    let (status, _) = send(
        app.http
            .post(app.url("/api/auth/token/"))
            .json(&json!({"username": "owner", "password": "wrong"})),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let mut socket = connect(
        app.port,
        &format!("/ws/servers/{}/channels/{}", server.0, channel.0),
        Auth::Bearer(token.clone()),
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    socket
        .recv_type("presence.list", Duration::from_secs(5))
        .await;
    socket.say("counted").await;
    socket
        .recv_type("chat.message", Duration::from_secs(5))
        .await;

    let after = scrape(&app).await;
    assert_eq!(after.value(IS_MEMBER) - before.value(IS_MEMBER), 5.0);
    let failed_login =
        r#"hearth_http_requests_total{route="/api/auth/token/",method="POST",status="401"}"#;
    assert_eq!(after.value(failed_login), 1.0);
    let latency = r#"hearth_http_request_duration_seconds_count{route="/api/membership/{server_id}/membership/is_member/",method="GET"}"#;
    assert!(after.value(latency) >= 5.0);
    assert!(
        after.has(r#"hearth_http_request_duration_seconds_bucket{route="/api/membership/{server_id}/membership/is_member/",method="GET",le="0.001"}"#),
        "a latency histogram with buckets"
    );
    assert_eq!(
        after.value("hearth_messages_stored_total") - before.value("hearth_messages_stored_total"),
        1.0
    );
    // presence.list and the message, at least.
    assert!(
        after.value("hearth_frames_delivered_total")
            - before.value("hearth_frames_delivered_total")
            >= 1.0
    );
    assert_eq!(after.value("hearth_sockets_open"), 1.0);
    assert!(after.value("hearth_db_pool_connections") >= 1.0);
    // The message's time, stage by stage, once each (the frame was written to the one socket).
    for stage in ["wait", "store", "publish", "write"] {
        let count = format!(r#"hearth_message_stage_seconds_count{{stage="{stage}"}}"#);
        assert_eq!(after.value(&count) - before.value(&count), 1.0, "{stage}");
        let bucket =
            format!(r#"hearth_message_stage_seconds_bucket{{stage="{stage}",le="0.001"}}"#);
        assert!(after.has(&bucket), "{stage} has buckets");
    }
    // Ids never become labels: one series for every server's is_member.
    assert!(!after
        .0
        .keys()
        .any(|k| k.contains(&format!("/{}/", server.0))));
    socket.close().await;
}

#[tokio::test]
async fn rate_limit_refusals_are_counted_by_limit() {
    let app = TestApp::spawn_with(|s| {
        metrics_on(s);
        s.limits.login_failures = hearth_api::limits::Rate::parse("1/60").ok().flatten();
    })
    .await;
    app.register("alice").await;
    for expected in [
        StatusCode::UNAUTHORIZED,
        StatusCode::TOO_MANY_REQUESTS,
        StatusCode::TOO_MANY_REQUESTS,
    ] {
        let (status, _) = send(
            app.http
                .post(app.url("/api/token/"))
                .json(&json!({"username": "alice", "password": format!("not {PASSWORD}")})),
        )
        .await;
        assert_eq!(status, expected);
    }
    let page = scrape(&app).await;
    assert_eq!(
        page.value(r#"hearth_rate_limited_total{limit="login_failures"}"#),
        2.0
    );
    assert_eq!(
        page.value(r#"hearth_http_requests_total{route="/api/token/",method="POST",status="429"}"#),
        2.0
    );
}
