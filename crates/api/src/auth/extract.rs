//! Extractors: the caller's identity from `Authorization: Bearer` or the `access_token` cookie.

use super::cookies::ACCESS_COOKIE;
use super::tokens::TokenKind;
use crate::error::ApiError;
use crate::startup::AppState;
use actix_web::dev::Payload;
use actix_web::http::header::AUTHORIZATION;
use actix_web::{web, FromRequest, HttpRequest};
use futures_util::future::{ready, LocalBoxFuture, Ready};
use hearth_domain::UserId;

/// An authenticated caller; extracting it answers 401 when there is no valid access token, or
/// when the account it names no longer exists. The account is read once, here, so handlers that
/// need the name or the staff flag do not read it again.
#[derive(Debug, Clone)]
pub struct AuthUser {
    pub id: UserId,
    pub username: String,
    pub is_staff: bool,
}

/// A caller whose access token is valid, before anything is read about its account. Only for
/// handlers whose own statement also checks that the account exists, in the same round trip,
/// and fails with `DomainError::AccountGone` (401) when it does not: the hot membership
/// endpoints. Every other handler takes [`AuthUser`].
#[derive(Debug, Clone, Copy)]
pub struct TokenUser {
    pub id: UserId,
}

/// The token in `Authorization: Bearer <token>`: `Ok(None)` without the header, an error when
/// the header is there but malformed (it never falls back to another credential).
pub fn bearer_token(req: &HttpRequest) -> Result<Option<String>, ApiError> {
    let Some(header) = req.headers().get(AUTHORIZATION) else {
        return Ok(None);
    };
    let value = header
        .to_str()
        .map_err(|_| ApiError::unauthorized("Authorization header is not valid text"))?;
    value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .map(str::trim)
        .filter(|token| !token.is_empty())
        .map(|token| Some(token.to_owned()))
        .ok_or_else(|| ApiError::unauthorized("Authorization header must be `Bearer <token>`"))
}

/// The access-token cookie, if sent.
pub fn cookie_token(req: &HttpRequest) -> Option<String> {
    req.cookie(ACCESS_COOKIE)
        .map(|cookie| cookie.value().to_owned())
}

/// The token a request carries: a bearer header wins over the cookie.
fn token_of(req: &HttpRequest) -> Result<Option<String>, ApiError> {
    Ok(bearer_token(req)?.or_else(|| cookie_token(req)))
}

fn app_state(req: &HttpRequest) -> Result<&web::Data<AppState>, ApiError> {
    req.app_data::<web::Data<AppState>>()
        .ok_or_else(|| ApiError::Internal("application state missing".to_owned()))
}

async fn authenticate(req: HttpRequest) -> Result<AuthUser, ApiError> {
    let TokenUser { id } = token_user(&req)?;
    let state = app_state(&req)?;
    // A token outlives a deleted account; it must not outlive it in effect. The reference
    // (simplejwt) loads the user on every request for the same reason.
    let account = hearth_db::users::find(&state.db, id)
        .await?
        .ok_or_else(|| ApiError::unauthorized("The account no longer exists"))?;
    Ok(AuthUser {
        id,
        username: account.username,
        is_staff: account.is_staff,
    })
}

impl FromRequest for AuthUser {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        Box::pin(authenticate(req.clone()))
    }
}

impl FromRequest for TokenUser {
    type Error = ApiError;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(token_user(req))
    }
}

fn token_user(req: &HttpRequest) -> Result<TokenUser, ApiError> {
    let state = app_state(req)?;
    let token = token_of(req)?
        .ok_or_else(|| ApiError::unauthorized("Authentication credentials were not provided"))?;
    let id = state.tokens.verify(&token, TokenKind::Access)?;
    Ok(TokenUser { id })
}
