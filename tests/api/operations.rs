//! Probes, request ids, headers, CORS and the OpenAPI document.

use hearth_tests::{send, StatusCode, TestApp};
use serde_json::Value;
use std::path::Path;

#[tokio::test]
async fn healthz_and_readyz_answer_ok() {
    let app = TestApp::spawn().await;
    for path in ["/healthz", "/readyz"] {
        let (status, body) = send(app.http.get(app.url(path))).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert_eq!(body["status"], "ok");
    }
}

#[tokio::test]
async fn requests_get_a_fast_503_when_the_database_goes_away() {
    let app = TestApp::spawn().await;
    let (status, _) = send(app.http.get(app.url("/api/server/category/"))).await;
    assert_eq!(status, StatusCode::OK);
    app.drop_database_now().await;
    for path in ["/readyz", "/api/server/category/", "/api/server/select/"] {
        let started = std::time::Instant::now();
        let (status, body) = send(app.http.get(app.url(path))).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{path}: {body}");
        assert_eq!(body["code"], "unavailable", "{path}");
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "{path} hung"
        );
    }
    let (status, _) = send(app.http.get(app.url("/healthz"))).await;
    assert_eq!(status, StatusCode::OK, "the process itself is alive");
}

#[tokio::test]
async fn every_response_carries_a_request_id_and_safe_headers() {
    let app = TestApp::spawn().await;
    let mut seen = Vec::new();
    for path in ["/healthz", "/api/server/select/", "/nope"] {
        let response = app
            .http
            .get(app.url(path))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let headers = response.headers();
        let id = headers
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_else(|| panic!("{path} has no x-request-id"))
            .to_owned();
        assert!(!seen.contains(&id), "request ids are unique");
        seen.push(id);
        assert_eq!(
            headers.get("x-content-type-options").map(|v| v.as_bytes()),
            Some(&b"nosniff"[..])
        );
        assert!(headers.get("server").is_none(), "no server banner");
    }
}

#[tokio::test]
async fn cors_allows_configured_origins_with_credentials_only() {
    let app = TestApp::spawn().await;
    let preflight = |origin: &'static str| {
        app.http
            .request(reqwest::Method::OPTIONS, app.url("/api/token/"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type")
            .send()
    };
    let allowed = preflight("http://localhost:5173")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(allowed.status().is_success());
    let headers = allowed.headers();
    assert_eq!(
        headers
            .get("access-control-allow-origin")
            .map(|v| v.as_bytes()),
        Some(&b"http://localhost:5173"[..])
    );
    assert_eq!(
        headers
            .get("access-control-allow-credentials")
            .map(|v| v.as_bytes()),
        Some(&b"true"[..])
    );
    let foreign = preflight("https://evil.example")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(foreign
        .headers()
        .get("access-control-allow-origin")
        .is_none());
}

fn committed_spec() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../openapi/openapi.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("committed spec is not JSON: {e}"))
}

#[test]
fn committed_spec_equals_the_generated_one() {
    let generated = hearth_api::openapi::to_committed_json(&hearth_api::openapi::document())
        .unwrap_or_else(|e| panic!("{e}"));
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../openapi/openapi.json");
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        generated == committed,
        "openapi/openapi.json is stale: run `make openapi`"
    );
}

#[tokio::test]
async fn served_spec_equals_the_committed_one_on_both_paths() {
    let app = TestApp::spawn().await;
    for path in ["/api/docs/schema/", "/api/docs/schema"] {
        let (status, served) = send(app.http.get(app.url(path))).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert_eq!(served, committed_spec(), "{path}");
    }
}

#[tokio::test]
async fn spec_declares_cookie_and_bearer_security_and_every_compat_path() {
    let spec = committed_spec();
    assert!(spec["openapi"]
        .as_str()
        .is_some_and(|v| v.starts_with("3.1")));
    let schemes = &spec["components"]["securitySchemes"];
    assert_eq!(schemes["cookie"]["in"], "cookie");
    assert_eq!(schemes["cookie"]["name"], "access_token");
    assert_eq!(schemes["bearer"]["scheme"], "bearer");
    for (path, method) in [
        ("/api/register/", "post"),
        ("/api/token/", "post"),
        ("/api/token/refresh/", "post"),
        ("/api/logout/", "post"),
        ("/api/account/", "get"),
        ("/api/auth/token/", "post"),
        ("/api/server/category/", "get"),
        ("/api/server/select/", "get"),
        ("/api/membership/{server_id}/membership/", "post"),
        (
            "/api/membership/{server_id}/membership/remove_member/",
            "delete",
        ),
        ("/api/membership/{server_id}/membership/is_member/", "get"),
        ("/api/messages/", "get"),
    ] {
        assert!(
            spec["paths"][path][method].is_object(),
            "{method} {path} missing from the spec"
        );
    }
}

#[tokio::test]
async fn swagger_ui_is_served_at_both_documented_paths() {
    let app = TestApp::spawn().await;
    for path in ["/api/docs/schema/ui/", "/api/docs/", "/api/docs"] {
        let response = app
            .http
            .get(app.url(path))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let html = response.text().await.unwrap_or_default();
        assert!(html.contains("swagger"), "{path} is not Swagger UI");
    }
}
