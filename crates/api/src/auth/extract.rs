//! Extractors: the caller's identity from `Authorization: Bearer` or the `access_token` cookie.

use super::cookies::ACCESS_COOKIE;
use super::tokens::TokenKind;
use crate::error::ApiError;
use crate::startup::AppState;
use actix_web::dev::Payload;
use actix_web::http::header::AUTHORIZATION;
use actix_web::{web, FromRequest, HttpRequest};
use hearth_domain::UserId;
use std::future::{ready, Ready};

/// An authenticated caller; extracting it answers 401 when there is no valid access token.
#[derive(Debug, Clone, Copy)]
pub struct AuthUser {
    pub id: UserId,
}

/// The caller when a valid access token is present, `None` otherwise (never an error).
#[derive(Debug, Clone, Copy)]
pub struct MaybeUser(pub Option<AuthUser>);

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

fn authenticate(req: &HttpRequest) -> Result<AuthUser, ApiError> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| ApiError::Internal("application state missing".to_owned()))?;
    let token = token_of(req)?
        .ok_or_else(|| ApiError::unauthorized("Authentication credentials were not provided"))?;
    let id = state.tokens.verify(&token, TokenKind::Access)?;
    Ok(AuthUser { id })
}

impl FromRequest for AuthUser {
    type Error = ApiError;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(authenticate(req))
    }
}

impl FromRequest for MaybeUser {
    type Error = ApiError;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(MaybeUser(authenticate(req).ok())))
    }
}
