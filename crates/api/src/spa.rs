//! The built single-page app (`HEARTH_STATIC_DIR`), served at `/` with history-API fallback:
//! a client route such as `/servers/1/channels/2` gets `index.html`, while the API, media and
//! socket paths keep their own JSON 404s.

use crate::error::ApiError;
use actix_files::{Files, NamedFile};
use actix_web::dev::{fn_service, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, CacheControl, CacheDirective};
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
/// methods fall through to the application's JSON 404.
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
                    let response = ApiError::not_found("Not found").error_response();
                    return Ok(ServiceResponse::new(req, response));
                }
                let file = NamedFile::open_async(&index).await?;
                let mut response = file.into_response(&req);
                response
                    .headers_mut()
                    .insert(header::CACHE_CONTROL, no_cache());
                Ok(ServiceResponse::new(req, response))
            }
        }))
}

fn no_cache() -> header::HeaderValue {
    header::HeaderValue::from_static("no-cache")
}

/// A path the SPA's router owns: not reserved, and not a missing file (`/assets/x.js`,
/// `/favicon.ico`), which must stay a 404 rather than become HTML.
fn is_client_route(path: &str) -> bool {
    let reserved = RESERVED_PATHS.contains(&path)
        || RESERVED_PREFIXES
            .iter()
            .any(|prefix| path == prefix.trim_end_matches('/') || path.starts_with(prefix));
    let looks_like_file = path
        .rsplit('/')
        .next()
        .is_some_and(|last| last.contains('.'));
    !reserved && !looks_like_file
}

/// `Cache-Control` for a static file: Vite's `/assets/` names carry a content hash, so they never
/// change; everything else is revalidated.
pub fn cache_control(path: &str) -> CacheControl {
    if path.starts_with("/assets/") {
        CacheControl(vec![
            CacheDirective::Public,
            CacheDirective::MaxAge(31_536_000),
            CacheDirective::Extension("immutable".to_owned(), None),
        ])
    } else {
        CacheControl(vec![CacheDirective::NoCache])
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
