//! Cookie sessions, the SPA's way of logging in (the reference's endpoints).

use crate::auth::{
    clear_auth_cookies, set_access_cookie, set_refresh_cookie, AuthUser, TokenKind, REFRESH_COOKIE,
};
use crate::error::{ApiError, ErrorBody, JsonBodyErrors, RateLimitedErrors};
use crate::json::JsonObject;
use crate::limits::{Allowance, ClientAddress};
use crate::startup::AppState;
use actix_web::{delete, post, web, HttpRequest, HttpResponse};
use hearth_domain::{rules, Event, UserId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Credentials to log in with.
#[derive(Debug, Deserialize, ToSchema)]
pub struct LoginRequest {
    /// Any letter case. Text with NUL characters is refused with 400 (no account can have it).
    #[schema(example = "alice", pattern = r"^[^\u0000]*$")]
    pub username: String,
    #[schema(example = "correct horse battery")]
    pub password: String,
}

/// A cookie session was started; the refresh token is also returned, as the reference does.
#[derive(Debug, Serialize, ToSchema)]
pub struct LoginResponse {
    pub user_id: i64,
    pub refresh: String,
}

/// The account these credentials open, within the login limits: attempts from the client's
/// address, and failures of the username (known or not: both count the same). The attempt counts
/// as a failure until it succeeds; a success forgives the username's failures, so the owner of
/// an account is throttled while someone guesses at it, never locked out for good.
pub(super) async fn check_credentials(
    state: &AppState,
    client: ClientAddress,
    request: &LoginRequest,
) -> Result<(UserId, Option<Allowance>), ApiError> {
    let allowance = state.limits.login_attempts.check(&client.0)?;
    let username = state.limits.username_key(&request.username);
    state.limits.login_failures.check(&username)?;
    let credentials = if request.username.chars().count() > rules::USERNAME_MAX_CHARS {
        None
    } else {
        hearth_db::users::credentials(&state.db, &request.username).await?
    };
    let password_ok = request.password.chars().count() <= rules::PASSWORD_MAX_CHARS
        && state
            .hasher
            .verify(
                &request.password,
                credentials.as_ref().map(|c| c.password_hash.as_str()),
            )
            .await?;
    match credentials {
        Some(credentials) if password_ok => {
            state.limits.login_failures.forget(&username);
            Ok((credentials.user.id, allowance))
        }
        _ => Err(ApiError::unauthorized(
            "No active account found with the given credentials",
        )),
    }
}

/// Logs in with a cookie session (the SPA's way).
///
/// Sets the `access_token` and `refresh_token` cookies (`HttpOnly; SameSite=Lax`).
#[utoipa::path(
    tag = "accounts",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Logged in; cookies set", body = LoginResponse, headers(
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
#[post("/api/token/")]
#[tracing::instrument(skip_all)]
pub async fn login(
    state: web::Data<AppState>,
    client: ClientAddress,
    body: JsonObject<LoginRequest>,
) -> Result<HttpResponse, ApiError> {
    let (user, allowance) = check_credentials(&state, client, &body).await?;
    let access = state.tokens.issue(user, TokenKind::Access)?;
    let refresh = state.tokens.issue(user, TokenKind::Refresh)?;
    let mut response = HttpResponse::Ok();
    Allowance::apply(allowance, &mut response);
    let secure = state.settings.cookie_secure;
    set_access_cookie(&mut response, access, state.tokens.access_ttl(), secure);
    set_refresh_cookie(
        &mut response,
        refresh.clone(),
        state.tokens.refresh_ttl(),
        secure,
    );
    tracing::info!(user_id = %user, "logged in");
    Ok(response.json(LoginResponse {
        user_id: user.0,
        refresh,
    }))
}

/// A refresh token sent in the body instead of the cookie.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct RefreshRequest {
    pub refresh: Option<String>,
}

/// Nothing to report: the new access token travels in a cookie.
#[derive(Debug, Serialize, ToSchema)]
pub struct Empty {}

/// Renews the `access_token` cookie from the `refresh_token` cookie (or a `refresh` in the body).
#[utoipa::path(
    tag = "accounts",
    request_body(content = Option<RefreshRequest>, description = "Optional when the refresh cookie is sent"),
    responses(
        (status = 200, description = "New access cookie set", body = Empty, headers(
            ("X-RateLimit-Limit" = u32, description = "Requests the limit allows at once"),
            ("X-RateLimit-Remaining" = u32, description = "Requests left now"),
            ("X-RateLimit-Reset" = u64, description = "When the limit is whole again, in Unix seconds"),
        )),
        (status = 401, description = "Missing, invalid or expired refresh token", body = ErrorBody),
        RateLimitedErrors,
    )
)]
#[post("/api/token/refresh/")]
#[tracing::instrument(skip_all)]
pub async fn refresh_session(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: Option<JsonObject<RefreshRequest>>,
) -> Result<HttpResponse, ApiError> {
    let token = body
        .and_then(|b| b.into_inner().refresh)
        .or_else(|| req.cookie(REFRESH_COOKIE).map(|c| c.value().to_owned()))
        .ok_or_else(|| ApiError::unauthorized("No refresh token provided"))?;
    let user = state.tokens.verify(&token, TokenKind::Refresh)?;
    let allowance = state.limits.refreshes.check(&user)?;
    let access = state.tokens.issue(user, TokenKind::Access)?;
    let mut response = HttpResponse::Ok();
    Allowance::apply(allowance, &mut response);
    set_access_cookie(
        &mut response,
        access,
        state.tokens.access_ttl(),
        state.settings.cookie_secure,
    );
    Ok(response.json(Empty {}))
}

/// A short confirmation.
#[derive(Debug, Serialize, ToSchema)]
pub struct MessageResponse {
    pub message: String,
}

/// Ends the cookie session by expiring both cookies.
#[utoipa::path(
    tag = "accounts",
    responses((status = 200, description = "Cookies cleared", body = MessageResponse))
)]
#[post("/api/logout/")]
pub async fn logout(state: web::Data<AppState>) -> HttpResponse {
    let mut response = HttpResponse::Ok();
    clear_auth_cookies(&mut response, state.settings.cookie_secure);
    response.json(MessageResponse {
        message: "Logged out successfully".to_owned(),
    })
}

/// The password that confirms an account's deletion.
#[derive(Debug, Deserialize, ToSchema)]
pub struct DeleteAccountRequest {
    #[schema(example = "correct horse battery")]
    pub password: String,
}

/// Deletes the caller's account, confirmed by its password (rate limited as logins are).
///
/// Its servers go with it (with their channels and messages), as do its memberships, its
/// place in conversations and its messages. Every socket of the account, on any instance,
/// receives `account.deleted` and is closed with 4001; its tokens stop working at once. The
/// session cookies are cleared.
#[utoipa::path(
    tag = "accounts",
    request_body = DeleteAccountRequest,
    security(("cookie" = []), ("bearer" = [])),
    responses(
        (status = 204, description = "Deleted; cookies cleared"),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "Not authenticated, or the password is wrong", body = ErrorBody),
        RateLimitedErrors,
        JsonBodyErrors,
    )
)]
#[delete("/api/me/")]
#[tracing::instrument(skip_all, fields(user_id = caller.id.0))]
pub async fn delete_account(
    state: web::Data<AppState>,
    client: ClientAddress,
    caller: AuthUser,
    body: JsonObject<DeleteAccountRequest>,
) -> Result<HttpResponse, ApiError> {
    let confirmation = LoginRequest {
        username: caller.username.clone(),
        password: body.into_inner().password,
    };
    let (user, _) = check_credentials(&state, client, &confirmation).await?;
    let gone = hearth_db::users::delete_account(&state.db, user)
        .await?
        .ok_or_else(|| ApiError::unauthorized("The account no longer exists"))?;
    // The account's own sockets first: they close with 4001, whatever comes next.
    state.hub.publish(Event::AccountDeleted { to: user });
    for server_id in gone.owned_servers {
        state.hub.publish(Event::ServerDeleted { server_id });
    }
    for server_id in gone.member_of {
        state.hub.publish(Event::MemberLeft {
            server_id,
            user_id: user,
        });
    }
    for channel_id in gone.conversations {
        state.hub.publish(Event::ParticipantLeft {
            channel_id,
            user_id: user,
        });
    }
    tracing::info!(user_id = %user, "account deleted");
    let mut response = HttpResponse::NoContent();
    clear_auth_cookies(&mut response, state.settings.cookie_secure);
    Ok(response.finish())
}
