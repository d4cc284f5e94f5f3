//! Bearer tokens for clients that are not browsers: in the body, no cookies.

use super::sessions::{check_credentials, LoginRequest};
use crate::auth::TokenKind;
use crate::error::{ApiError, ErrorBody, JsonBodyErrors, RateLimitedErrors};
use crate::json::JsonObject;
use crate::limits::{Allowance, ClientAddress};
use crate::startup::AppState;
use actix_web::{post, web, HttpResponse};
use hearth_domain::UserId;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Bearer tokens for non-browser clients.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    /// Access token, for `Authorization: Bearer`.
    pub access: String,
    /// Refresh token, for `POST /api/auth/refresh`.
    pub refresh: String,
    #[schema(example = "Bearer")]
    pub token_type: &'static str,
    /// Seconds until `access` expires.
    pub expires_in: u64,
}

/// Logs in a non-browser client: tokens in the body, no cookies.
#[utoipa::path(
    tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Tokens issued", body = TokenResponse, headers(
            ("X-RateLimit-Limit" = u32, description = "Requests the limit allows at once"),
            ("X-RateLimit-Remaining" = u32, description = "Requests left now"),
            ("X-RateLimit-Reset" = u64, description = "When the limit is whole again, in Unix seconds"),
        )),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "Wrong credentials", body = ErrorBody),
        RateLimitedErrors,
        JsonBodyErrors,
    )
)]
#[post("/api/auth/token/")]
#[tracing::instrument(skip_all)]
pub async fn issue_token(
    state: web::Data<AppState>,
    client: ClientAddress,
    body: JsonObject<LoginRequest>,
) -> Result<HttpResponse, ApiError> {
    let (user, allowance) = check_credentials(&state, client, &body).await?;
    tokens_for(&state, user, allowance)
}

/// A new pair of tokens for `user`, with the limit's headers.
fn tokens_for(
    state: &AppState,
    user: UserId,
    allowance: Option<Allowance>,
) -> Result<HttpResponse, ApiError> {
    let tokens = TokenResponse {
        access: state.tokens.issue(user, TokenKind::Access)?,
        refresh: state.tokens.issue(user, TokenKind::Refresh)?,
        token_type: "Bearer",
        expires_in: state.tokens.access_ttl().as_secs(),
    };
    let mut response = HttpResponse::Ok();
    Allowance::apply(allowance, &mut response);
    Ok(response.json(tokens))
}

/// A refresh token to trade for a new access token.
#[derive(Debug, Deserialize, ToSchema)]
pub struct TokenRefreshRequest {
    pub refresh: String,
}

/// Trades a refresh token for a new pair of tokens (bearer clients).
#[utoipa::path(
    tag = "auth",
    request_body = TokenRefreshRequest,
    responses(
        (status = 200, description = "Tokens issued", body = TokenResponse, headers(
            ("X-RateLimit-Limit" = u32, description = "Requests the limit allows at once"),
            ("X-RateLimit-Remaining" = u32, description = "Requests left now"),
            ("X-RateLimit-Reset" = u64, description = "When the limit is whole again, in Unix seconds"),
        )),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "Invalid or expired refresh token", body = ErrorBody),
        RateLimitedErrors,
        JsonBodyErrors,
    )
)]
#[post("/api/auth/refresh/")]
#[tracing::instrument(skip_all)]
pub async fn refresh_token(
    state: web::Data<AppState>,
    body: JsonObject<TokenRefreshRequest>,
) -> Result<HttpResponse, ApiError> {
    let user = state.tokens.verify(&body.refresh, TokenKind::Refresh)?;
    let allowance = state.limits.refreshes.check(&user)?;
    tokens_for(&state, user, allowance)
}
