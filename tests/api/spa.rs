//! The built SPA served at `/`: client routes fall back to `index.html`, while API, media and
//! socket paths keep their JSON 404s, and pages carry a Content Security Policy.

use hearth_tests::{send, StatusCode, TestApp};
use reqwest::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE};
use std::path::PathBuf;

const INDEX: &str = "<!doctype html><title>Hearth</title><div id=root></div>";

/// A stand-in for `frontend/dist`: an index and one hashed asset.
fn built_spa() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("hearth-spa-{}", uuid::Uuid::new_v4()));
    let assets = dir.join("assets");
    let written = std::fs::create_dir_all(&assets)
        .and_then(|()| std::fs::write(dir.join("index.html"), INDEX))
        .and_then(|()| std::fs::write(assets.join("index-abc123.js"), "console.log(1)"));
    assert!(written.is_ok(), "cannot write the test SPA: {written:?}");
    dir
}

async fn spa_app() -> (TestApp, PathBuf) {
    let dir = built_spa();
    let static_dir = dir.clone();
    let app = TestApp::spawn_with(move |s| s.static_dir = Some(static_dir)).await;
    (app, dir)
}

#[tokio::test]
async fn client_routes_get_the_index_with_a_content_security_policy() {
    let (app, dir) = spa_app().await;
    for path in [
        "/",
        "/login",
        "/explore/games",
        "/servers/1",
        "/servers/1/channels/2",
    ] {
        let response = app.http.get(app.url(path)).send().await;
        let Ok(response) = response else {
            panic!("{path}: {response:?}");
        };
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let headers = response.headers().clone();
        assert!(
            headers[CONTENT_TYPE]
                .to_str()
                .is_ok_and(|t| t.starts_with("text/html")),
            "{path}"
        );
        let csp = headers[CONTENT_SECURITY_POLICY].to_str().unwrap_or("");
        assert!(csp.contains("default-src 'self'"), "{path}: {csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert_eq!(headers[CACHE_CONTROL], "no-cache", "{path}");
        assert_eq!(response.text().await.unwrap_or_default(), INDEX, "{path}");
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn hashed_assets_are_cached_forever() {
    let (app, dir) = spa_app().await;
    let response = app
        .http
        .get(app.url("/assets/index-abc123.js"))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(response.status(), StatusCode::OK);
    let cache = response.headers()[CACHE_CONTROL].to_str().unwrap_or("");
    assert!(cache.contains("immutable"), "{cache}");
    assert!(cache.contains("max-age=31536000"), "{cache}");
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn api_media_socket_and_missing_files_are_not_shadowed() {
    let (app, dir) = spa_app().await;
    for path in [
        "/api/nope/",
        "/api/nope",
        "/media/0000.png",
        "/ws/servers/x/channels/y",
        "/assets/missing.js",
        "/favicon.ico",
    ] {
        let (status, body) = send(app.http.get(app.url(path))).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {body}");
        assert_eq!(body["code"], "not_found", "{path}: {body}");
    }
    // Other methods on client routes are not the SPA's either.
    let (status, body) = send(app.http.post(app.url("/servers/1"))).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    // The API and its documentation still answer.
    let (status, _) = send(app.http.get(app.url("/api/server/category/"))).await;
    assert_eq!(status, StatusCode::OK);
    let docs = app
        .http
        .get(app.url("/api/docs/schema/ui/"))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(docs.status(), StatusCode::OK);
    let csp = docs.headers()[CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap_or("");
    assert!(csp.contains("script-src 'self'"), "{csp}");
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn without_a_built_spa_the_root_shows_the_docs() {
    let app = TestApp::spawn().await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    let response = client
        .get(app.url("/"))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(response.status(), StatusCode::FOUND);
    assert_eq!(response.headers()["location"], "/api/docs/");
}

#[tokio::test]
async fn get_on_a_post_only_api_path_is_405_with_allow_next_to_the_spa() {
    let (app, dir) = spa_app().await;
    for path in [
        "/api/token/",
        "/api/token/refresh/",
        "/api/register/",
        "/api/logout/",
        "/api/auth/token/",
        "/api/auth/refresh/",
        "/api/categories/",
    ] {
        for path in hearth_tests::both_slashes(path) {
            for method in [reqwest::Method::GET, reqwest::Method::HEAD] {
                let response = app
                    .http
                    .request(method.clone(), app.url(&path))
                    .send()
                    .await;
                let Ok(response) = response else {
                    panic!("{method} {path}: {response:?}");
                };
                assert_eq!(
                    response.status(),
                    StatusCode::METHOD_NOT_ALLOWED,
                    "{method} {path}"
                );
                assert_eq!(response.headers()["allow"], "POST", "{method} {path}");
                if method == reqwest::Method::GET {
                    let body: serde_json::Value = response.json().await.unwrap_or_default();
                    hearth_tests::assert_error(&body, "method_not_allowed");
                }
            }
        }
    }
    // `/api/servers/` is POST (create) and GET (the catalogue's pages): the catalogue, not the
    // SPA's page, whichever slash form.
    for path in hearth_tests::both_slashes("/api/servers/") {
        let (status, body) = hearth_tests::send(app.http.get(app.url(&path))).await;
        assert_eq!(status, StatusCode::OK, "GET {path}: {body}");
        assert!(body.is_array(), "GET {path}: {body}");
    }
    let _ = std::fs::remove_dir_all(dir);
}
