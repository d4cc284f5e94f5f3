//! Accounts: registration, cookie sessions for the SPA, bearer tokens for other clients.

use crate::auth::{
    clear_auth_cookies, set_access_cookie, set_refresh_cookie, AuthUser, TokenKind, REFRESH_COOKIE,
};
use crate::error::{ApiError, ErrorBody, JsonBodyErrors};
use crate::json::JsonObject;
use crate::startup::AppState;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use hearth_domain::{rules, DomainError, UserId};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::{Validate, ValidationError};

fn username_rule(username: &str) -> Result<(), ValidationError> {
    match rules::username_problems(username).first() {
        None => Ok(()),
        Some(problem) => Err(ValidationError::new("username").with_message((*problem).into())),
    }
}

fn password_rule(password: &str) -> Result<(), ValidationError> {
    match rules::password_problems(password).first() {
        None => Ok(()),
        Some(problem) => Err(ValidationError::new("password").with_message((*problem).into())),
    }
}

/// A new account.
#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct RegisterRequest {
    /// 1–150 letters, digits and `@ . + - _`; unique regardless of case.
    #[validate(custom(function = "username_rule"))]
    // Letters and digits of any script, as the rule checks (`\w` would mean ASCII only).
    #[schema(
        example = "alice",
        min_length = 1,
        max_length = 150,
        pattern = r"^[\p{L}\p{N}.@+_-]+$"
    )]
    pub username: String,
    /// At least 8 characters, not entirely digits.
    #[validate(custom(function = "password_rule"))]
    #[schema(
        example = "correct horse battery",
        min_length = 8,
        max_length = 1024,
        pattern = r"[^0-9]"
    )]
    pub password: String,
}

/// The account that was created.
#[derive(Debug, Serialize, ToSchema)]
pub struct RegisterResponse {
    pub username: String,
}

/// Creates an account.
#[utoipa::path(
    tag = "accounts",
    request_body = RegisterRequest,
    responses(
        (status = 201, description = "Account created", body = RegisterResponse),
        (status = 400, description = "Invalid username or password", body = ErrorBody),
        (status = 409, description = "Username taken or reserved", body = ErrorBody),
        JsonBodyErrors,
    )
)]
#[post("/api/register/")]
#[tracing::instrument(skip_all)]
pub async fn register_user(
    state: web::Data<AppState>,
    body: JsonObject<RegisterRequest>,
) -> Result<HttpResponse, ApiError> {
    let request = body.into_inner();
    request.validate()?;
    if rules::is_reserved_username(&request.username) {
        return Err(ApiError::conflict(
            "username_not_allowed",
            "Username not allowed",
        ));
    }
    let hash = state.hasher.hash(&request.password).await?;
    let user = hearth_db::users::create(&state.db, &request.username, &hash, false)
        .await
        .map_err(|e| match e {
            DomainError::Conflict(_) => {
                ApiError::conflict("username_taken", "Username already exists")
            }
            other => other.into(),
        })?;
    tracing::info!(user_id = %user.id, "account registered");
    Ok(HttpResponse::Created().json(RegisterResponse {
        username: user.username,
    }))
}

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

async fn check_credentials(state: &AppState, request: &LoginRequest) -> Result<UserId, ApiError> {
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
        Some(credentials) if password_ok => Ok(credentials.user.id),
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
        (status = 200, description = "Logged in; cookies set", body = LoginResponse),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "Wrong credentials", body = ErrorBody),
        JsonBodyErrors,
    )
)]
#[post("/api/token/")]
#[tracing::instrument(skip_all)]
pub async fn login(
    state: web::Data<AppState>,
    body: JsonObject<LoginRequest>,
) -> Result<HttpResponse, ApiError> {
    let user = check_credentials(&state, &body).await?;
    let access = state.tokens.issue(user, TokenKind::Access)?;
    let refresh = state.tokens.issue(user, TokenKind::Refresh)?;
    let mut response = HttpResponse::Ok();
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
        (status = 200, description = "New access cookie set", body = Empty),
        (status = 401, description = "Missing, invalid or expired refresh token", body = ErrorBody),
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
    let access = state.tokens.issue(user, TokenKind::Access)?;
    let mut response = HttpResponse::Ok();
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

/// Which account to look up.
#[derive(Debug, Deserialize, IntoParams)]
pub struct AccountQuery {
    /// The account's id.
    pub user_id: i64,
}

/// Public facts about an account.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccountResponse {
    pub username: String,
}

/// Looks up an account's username.
#[utoipa::path(
    tag = "accounts",
    params(AccountQuery),
    security(("cookie" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "The account", body = AccountResponse),
        (status = 400, description = "Missing or malformed user_id", body = ErrorBody),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 404, description = "No such account", body = ErrorBody),
    )
)]
#[get("/api/account/")]
#[tracing::instrument(skip_all, fields(user_id = query.user_id))]
pub async fn get_account(
    state: web::Data<AppState>,
    _caller: AuthUser,
    query: web::Query<AccountQuery>,
) -> Result<web::Json<AccountResponse>, ApiError> {
    let user = hearth_db::users::find(&state.db, UserId(query.user_id))
        .await?
        .ok_or_else(|| ApiError::not_found("Account not found"))?;
    Ok(web::Json(AccountResponse {
        username: user.username,
    }))
}

/// The signed-in account.
#[derive(Debug, Serialize, ToSchema)]
pub struct CurrentUserResponse {
    pub user_id: i64,
    pub username: String,
    /// Staff manage categories.
    pub is_staff: bool,
}

/// Who the caller is: lets a browser restore its session from the cookie after a reload.
#[utoipa::path(
    tag = "accounts",
    security(("cookie" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "The caller's account", body = CurrentUserResponse),
        (status = 401, description = "Not authenticated, or the account no longer exists", body = ErrorBody),
    )
)]
#[get("/api/me/")]
#[tracing::instrument(skip_all, fields(user_id = caller.id.0))]
pub async fn get_current_user(caller: AuthUser) -> web::Json<CurrentUserResponse> {
    web::Json(CurrentUserResponse {
        user_id: caller.id.0,
        username: caller.username,
        is_staff: caller.is_staff,
    })
}

/// Logs in a non-browser client: tokens in the body, no cookies.
#[utoipa::path(
    tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Tokens issued", body = TokenResponse),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "Wrong credentials", body = ErrorBody),
        JsonBodyErrors,
    )
)]
#[post("/api/auth/token/")]
#[tracing::instrument(skip_all)]
pub async fn issue_token(
    state: web::Data<AppState>,
    body: JsonObject<LoginRequest>,
) -> Result<web::Json<TokenResponse>, ApiError> {
    let user = check_credentials(&state, &body).await?;
    Ok(web::Json(TokenResponse {
        access: state.tokens.issue(user, TokenKind::Access)?,
        refresh: state.tokens.issue(user, TokenKind::Refresh)?,
        token_type: "Bearer",
        expires_in: state.tokens.access_ttl().as_secs(),
    }))
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
        (status = 200, description = "Tokens issued", body = TokenResponse),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "Invalid or expired refresh token", body = ErrorBody),
        JsonBodyErrors,
    )
)]
#[post("/api/auth/refresh/")]
#[tracing::instrument(skip_all)]
pub async fn refresh_token(
    state: web::Data<AppState>,
    body: JsonObject<TokenRefreshRequest>,
) -> Result<web::Json<TokenResponse>, ApiError> {
    let user = state.tokens.verify(&body.refresh, TokenKind::Refresh)?;
    Ok(web::Json(TokenResponse {
        access: state.tokens.issue(user, TokenKind::Access)?,
        refresh: state.tokens.issue(user, TokenKind::Refresh)?,
        token_type: "Bearer",
        expires_in: state.tokens.access_ttl().as_secs(),
    }))
}
