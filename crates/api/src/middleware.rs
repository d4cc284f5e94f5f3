//! Small request rewrites and response headers shared by every route.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::http::Uri;
use actix_web::middleware::Next;
use actix_web::HttpMessage;
use tracing_actix_web::RequestId;

/// Serves every API path with and without its trailing slash.
///
/// API routes are declared with a trailing slash (as the reference's Django URLs are); a path
/// under `/api` without one gets it appended before routing. Paths whose last segment looks like
/// a file (`swagger-ui.css`) are left alone.
pub async fn api_trailing_slash(
    mut req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let path = req.path();
    let needs_slash = (path == "/api" || path.starts_with("/api/"))
        && !path.ends_with('/')
        && !path
            .rsplit('/')
            .next()
            .is_some_and(|last| last.contains('.'));
    if needs_slash {
        let with_slash = match req.uri().query() {
            Some(query) => format!("{path}/?{query}"),
            None => format!("{path}/"),
        };
        if let Ok(uri) = with_slash.parse::<Uri>() {
            req.match_info_mut().get_mut().update(&uri);
            req.head_mut().uri = uri;
        }
    }
    next.call(req).await
}

/// Counts a request and its latency by route template, method and status
/// (`hearth_http_requests_total`, `hearth_http_request_duration_seconds`). Installed only when
/// metrics are on.
pub async fn count_request(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = std::time::Instant::now();
    let state = req
        .app_data::<actix_web::web::Data<crate::startup::AppState>>()
        .cloned();
    let method = method_label(req.method());
    let response = next.call(req).await?;
    if let Some(state) = state {
        // The template, never the path: ids would make a series per request.
        let route = response
            .request()
            .match_pattern()
            .unwrap_or_else(|| "unmatched".to_owned());
        state
            .metrics
            .http_request(route, method, response.status().as_u16(), started.elapsed());
    }
    Ok(response)
}

fn method_label(method: &actix_web::http::Method) -> &'static str {
    use actix_web::http::Method;
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        // Made-up methods would each make a series.
        _ => "OTHER",
    }
}

/// Echoes the request id tracing assigned as `X-Request-Id`, so a client can quote it.
pub async fn request_id_header(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let request_id = req.extensions().get::<RequestId>().copied();
    let mut response = next.call(req).await?;
    if let Some(id) = request_id.and_then(|id| HeaderValue::from_str(&id.to_string()).ok()) {
        response
            .headers_mut()
            .insert(HeaderName::from_static("x-request-id"), id);
    }
    Ok(response)
}

/// Content Security Policy of the SPA: nothing but its own origin (sockets included).
const SPA_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
    img-src 'self' data: blob:; connect-src 'self'; font-src 'self'; object-src 'none'; \
    base-uri 'self'; form-action 'self'; frame-ancestors 'none'";
/// Swagger UI sets inline styles and draws its icons from `data:` URIs.
const DOCS_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
    img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; \
    form-action 'self'; frame-ancestors 'none'";

/// Headers of pages and static files: a Content Security Policy on every HTML page, and
/// `Cache-Control` on the SPA's files (hashed assets forever, the rest revalidated).
pub async fn page_headers(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    // Decided from the path up front: nothing is copied or formatted per request.
    let policy = if req.path().starts_with("/api/docs") {
        DOCS_CSP
    } else {
        SPA_CSP
    };
    let cache_control = crate::spa::cache_control(req.path());
    let mut response = next.call(req).await?;
    let success = response.status().is_success();
    let headers = response.headers_mut();
    let is_html = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("text/html"));
    if is_html {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(policy),
        );
    }
    if let Some(value) = cache_control.filter(|_| success) {
        if !headers.contains_key(header::CACHE_CONTROL) {
            headers.insert(header::CACHE_CONTROL, value);
        }
    }
    Ok(response)
}
