//! The built single-page app (`HEARTH_STATIC_DIR`), served at `/` with history-API fallback:
//! a client route such as `/servers/1/channels/2` gets `index.html`, while the API, media and
//! socket paths keep their own JSON 404s.

use actix_files::{Files, NamedFile};
use actix_web::dev::{fn_service, ServiceRequest, ServiceResponse};
use actix_web::http::header::HeaderValue;
use actix_web::{guard, ResponseError};
use std::path::{Path, PathBuf};

/// Paths the SPA must never answer, even when nothing else matched them.
const RESERVED_PREFIXES: [&str; 3] = ["/api/", "/media/", "/ws/"];
const RESERVED_PATHS: [&str; 2] = ["/healthz", "/readyz"];

/// Whether `dir` holds a built SPA.
pub fn is_built(dir: &Path) -> bool {
    dir.join("index.html").is_file()
}

/// Static files from `dir`, `index.html` for client routes. Only GET and HEAD reach it; other
/// methods fall through to the application's default service (JSON 404 or 405).
pub fn service(dir: &Path) -> Files {
    let index: PathBuf = dir.join("index.html");
    Files::new("/", dir)
        .index_file("index.html")
        .use_etag(true)
        .use_last_modified(true)
        .guard(guard::Any(guard::Get()).or(guard::Head()))
        .default_handler(fn_service(move |req: ServiceRequest| {
            let index = index.clone();
            async move {
                let (req, _) = req.into_parts();
                if !is_client_route(req.path()) {
                    // What the application answers when no route matched: 405 with `Allow` for
                    // a path the API has (`GET /api/token/`), 404 otherwise.
                    let response = crate::fallback::no_route(req.clone())
                        .await
                        .unwrap_or_else(|e| e.error_response());
                    return Ok(ServiceResponse::new(req, response));
                }
                // `Cache-Control` comes from `middleware::page_headers`, as for every file.
                let response = NamedFile::open_async(&index).await?.into_response(&req);
                Ok(ServiceResponse::new(req, response))
            }
        }))
}

/// A path of the API, its media or its sockets rather than of the SPA.
fn is_reserved(path: &str) -> bool {
    RESERVED_PATHS.contains(&path)
        || RESERVED_PREFIXES
            .iter()
            .any(|prefix| path == prefix.trim_end_matches('/') || path.starts_with(prefix))
}

/// A path the SPA's router owns: not reserved, and not a missing file (`/assets/x.js`,
/// `/favicon.ico`), which must stay a 404 rather than become HTML.
fn is_client_route(path: &str) -> bool {
    let reserved = is_reserved(path);
    let looks_like_file = path
        .rsplit('/')
        .next()
        .is_some_and(|last| last.contains('.'));
    !reserved && !looks_like_file
}

/// `Cache-Control` for what the SPA serves at `path` (`None` for the API's own paths): Vite's
/// `/assets/` names carry a content hash, so they never change; everything else is revalidated.
pub fn cache_control(path: &str) -> Option<HeaderValue> {
    if is_reserved(path) {
        None
    } else if path.starts_with("/assets/") {
        Some(HeaderValue::from_static(
            "public, max-age=31536000, immutable",
        ))
    } else {
        Some(HeaderValue::from_static("no-cache"))
    }
}

#[cfg(test)]
mod tests {
    use super::is_client_route;

    #[test]
    fn client_routes_exclude_api_media_sockets_and_files() {
        for path in [
            "/",
            "/login",
            "/explore/games",
            "/servers/1/channels/2",
            "/apiary",
            "/mediation",
        ] {
            assert!(is_client_route(path), "{path} should be a client route");
        }
        for path in [
            "/api",
            "/api/",
            "/api/nope/",
            "/media/x.png",
            "/media/",
            "/ws/servers/1/channels/2",
            "/healthz",
            "/readyz",
            "/assets/missing.js",
            "/favicon.ico",
        ] {
            assert!(
                !is_client_route(path),
                "{path} should not be a client route"
            );
        }
    }
}
