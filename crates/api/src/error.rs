//! The one error type of the HTTP layer and the one JSON body every error has.

use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use hearth_domain::DomainError;
use serde::Serialize;
use std::collections::BTreeMap;
use utoipa::{IntoResponses, ToSchema};

/// Field name → problems with it.
pub type FieldErrors = BTreeMap<String, Vec<String>>;

/// The body of every error response.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"error": "Server not found", "code": "not_found"}))]
pub struct ErrorBody {
    /// A sentence for humans.
    pub error: String,
    /// A stable snake_case code for programs.
    pub code: &'static str,
    /// Problems per field, for validation errors.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<std::collections::HashMap<String, Vec<String>>>)]
    pub fields: Option<FieldErrors>,
    /// With `rate_limited`: milliseconds until the request would be accepted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
}

/// What every endpoint with a JSON body may answer before its handler runs (add to its
/// `responses(...)`); malformed JSON is a 400 the endpoint documents itself.
#[derive(IntoResponses)]
pub enum JsonBodyErrors {
    /// Larger than the body limit (`HEARTH_BODY_LIMIT_BYTES`, 64 KiB by default)
    #[response(status = 413)]
    TooLarge(ErrorBody),
    /// Not a JSON body: `Content-Type: application/json` missing or different
    #[response(status = 415)]
    UnsupportedMediaType(ErrorBody),
}

/// What a rate-limited endpoint may answer (add to its `responses(...)`).
#[derive(IntoResponses)]
pub enum RateLimitedErrors {
    /// Too many requests (`rate_limited`): wait `retry_after` milliseconds
    #[response(
        status = 429,
        headers(
            ("Retry-After" = u64, description = "Seconds to wait, rounded up"),
            ("X-RateLimit-Limit" = u32, description = "Requests the limit allows at once"),
            ("X-RateLimit-Remaining" = u32, description = "Requests left now (0)"),
            ("X-RateLimit-Reset" = u64, description = "When the limit is whole again, in Unix seconds"),
        )
    )]
    TooManyRequests(ErrorBody),
}

/// Every way a request can fail.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{message}")]
    BadRequest { code: &'static str, message: String },
    #[error("invalid input")]
    Validation(FieldErrors),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{message}")]
    Forbidden { code: &'static str, message: String },
    #[error("{message}")]
    NotFound { code: &'static str, message: String },
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    /// The path exists, but not for this method; `allow` lists the methods it has.
    #[error("Method {method} is not allowed here")]
    MethodNotAllowed { method: String, allow: String },
    #[error("request body too large")]
    PayloadTooLarge,
    /// Over the rate limit called `limit`.
    #[error("Too many requests; try again in {} ms", crate::limits::millis_ceil(*retry_after))]
    RateLimited {
        limit: &'static str,
        retry_after: std::time::Duration,
        allowance: crate::limits::Allowance,
    },
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("service unavailable: {0}")]
    Unavailable(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::BadRequest {
            code,
            message: message.into(),
        }
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::NotFound {
            code: "not_found",
            message: message.into(),
        }
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::Conflict {
            code,
            message: message.into(),
        }
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::Unauthorized(message.into())
    }

    pub fn forbidden(code: &'static str, message: impl Into<String>) -> Self {
        Self::Forbidden {
            code,
            message: message.into(),
        }
    }

    fn code(&self) -> &'static str {
        match self {
            ApiError::BadRequest { code, .. }
            | ApiError::Forbidden { code, .. }
            | ApiError::NotFound { code, .. }
            | ApiError::Conflict { code, .. } => code,
            ApiError::Validation(_) => "validation_failed",
            ApiError::Unauthorized(_) => "not_authenticated",
            ApiError::MethodNotAllowed { .. } => "method_not_allowed",
            ApiError::PayloadTooLarge => "payload_too_large",
            ApiError::RateLimited { .. } => "rate_limited",
            ApiError::UnsupportedMediaType(_) => "unsupported_media_type",
            ApiError::Unavailable(_) => "unavailable",
            ApiError::Internal(_) => "internal_error",
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::BadRequest { .. } | ApiError::Validation(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden { .. } => StatusCode::FORBIDDEN,
            ApiError::NotFound { .. } => StatusCode::NOT_FOUND,
            ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let (error, fields) = match self {
            ApiError::Internal(cause) => {
                // The cause stays in the log; the client learns only that it was our fault.
                tracing::error!(%cause, "request failed");
                ("Internal error".to_owned(), None)
            }
            ApiError::Unavailable(cause) => {
                tracing::warn!(%cause, "dependency unavailable");
                (
                    "The service is temporarily unavailable; try again shortly".to_owned(),
                    None,
                )
            }
            ApiError::Validation(fields) => ("Invalid input".to_owned(), Some(fields.clone())),
            other => (other.to_string(), None),
        };
        let mut response = HttpResponse::build(self.status_code());
        if matches!(self, ApiError::Unavailable(_)) {
            response.insert_header(("Retry-After", "1"));
        }
        if let ApiError::MethodNotAllowed { allow, .. } = self {
            response.insert_header((actix_web::http::header::ALLOW, allow.as_str()));
        }
        let mut retry_after = None;
        if let ApiError::RateLimited {
            limit,
            retry_after: wait,
            allowance,
        } = self
        {
            let ms = crate::limits::millis_ceil(*wait);
            tracing::info!(limit, retry_after_ms = ms, "rate limited");
            response.insert_header((actix_web::http::header::RETRY_AFTER, ms.div_ceil(1000)));
            crate::limits::Allowance::apply(Some(*allowance), &mut response);
            retry_after = Some(ms);
        }
        response.json(ErrorBody {
            error,
            code: self.code(),
            fields,
            retry_after,
        })
    }
}

impl From<DomainError> for ApiError {
    fn from(err: DomainError) -> Self {
        match err {
            DomainError::NotFound(what) => {
                ApiError::not_found(format!("{} not found", capitalize(what)))
            }
            DomainError::Conflict(what) => {
                ApiError::conflict("conflict", format!("{} already exists", capitalize(what)))
            }
            DomainError::InvalidInput(problem) => {
                ApiError::bad_request("invalid_text", format!("Invalid input: {problem}"))
            }
            DomainError::AccountGone => ApiError::unauthorized("The account no longer exists"),
            DomainError::Unavailable(cause) => ApiError::Unavailable(cause),
            DomainError::Internal(cause) => ApiError::Internal(cause),
        }
    }
}

impl From<validator::ValidationErrors> for ApiError {
    fn from(errors: validator::ValidationErrors) -> Self {
        let fields = errors
            .field_errors()
            .into_iter()
            .map(|(field, problems)| {
                let messages = problems
                    .iter()
                    .map(|problem| {
                        problem.message.as_ref().map_or_else(
                            || format!("Invalid value ({}).", problem.code),
                            ToString::to_string,
                        )
                    })
                    .collect();
                (field.to_string(), messages)
            })
            .collect();
        ApiError::Validation(fields)
    }
}

fn capitalize(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// Malformed, mistyped, oversized or mislabelled JSON bodies.
pub fn json_error(err: JsonPayloadError, _req: &HttpRequest) -> actix_web::Error {
    let api = match &err {
        JsonPayloadError::OverflowKnownLength { .. } | JsonPayloadError::Overflow { .. } => {
            ApiError::PayloadTooLarge
        }
        JsonPayloadError::ContentType => ApiError::UnsupportedMediaType(
            "Expected a JSON body (Content-Type: application/json)".to_owned(),
        ),
        JsonPayloadError::Deserialize(cause) if cause.is_data() => {
            ApiError::bad_request("invalid_body", format!("Invalid request body: {cause}"))
        }
        JsonPayloadError::Deserialize(cause) => {
            ApiError::bad_request("malformed_json", format!("Malformed JSON: {cause}"))
        }
        JsonPayloadError::Payload(actix_web::error::PayloadError::Overflow) => {
            ApiError::PayloadTooLarge
        }
        other => ApiError::bad_request("invalid_body", format!("Invalid request body: {other}")),
    };
    api.into()
}

/// Query strings that do not fit the endpoint's parameters.
pub fn query_error(err: QueryPayloadError, _req: &HttpRequest) -> actix_web::Error {
    let message = match &err {
        QueryPayloadError::Deserialize(cause) => format!("Invalid query parameter: {cause}"),
        other => format!("Invalid query string: {other}"),
    };
    ApiError::bad_request("invalid_query", message).into()
}

/// A path segment that is not a valid id names nothing: 404, as the reference does.
pub fn path_error(_err: PathError, _req: &HttpRequest) -> actix_web::Error {
    ApiError::not_found("Not found").into()
}
