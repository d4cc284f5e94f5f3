//! Accounts: registration, cookie sessions for the SPA, bearer tokens for other clients.

mod sessions;
mod tokens;

pub use sessions::*;
pub use tokens::*;

use crate::auth::AuthUser;
use crate::error::{ApiError, ErrorBody, JsonBodyErrors, RateLimitedErrors};
use crate::json::JsonObject;
use crate::limits::{Allowance, ClientAddress};
use crate::startup::AppState;
use actix_web::{get, post, web, HttpResponse};
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
        (status = 201, description = "Account created", body = RegisterResponse, headers(
            ("X-RateLimit-Limit" = u32, description = "Requests the limit allows at once"),
            ("X-RateLimit-Remaining" = u32, description = "Requests left now"),
            ("X-RateLimit-Reset" = u64, description = "When the limit is whole again, in Unix seconds"),
        )),
        (status = 400, description = "Invalid username or password", body = ErrorBody),
        (status = 409, description = "Username taken or reserved", body = ErrorBody),
        RateLimitedErrors,
        JsonBodyErrors,
    )
)]
#[post("/api/register/")]
#[tracing::instrument(skip_all)]
pub async fn register_user(
    state: web::Data<AppState>,
    client: ClientAddress,
    body: JsonObject<RegisterRequest>,
) -> Result<HttpResponse, ApiError> {
    // Every attempt counts, refused ones too: a script probing names is held up as well.
    let allowance = state.limits.registrations.check(&client.0)?;
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
    let mut response = HttpResponse::Created();
    Allowance::apply(allowance, &mut response);
    Ok(response.json(RegisterResponse {
        username: user.username,
    }))
}

/// Which account to look up.
#[derive(Debug, Deserialize, IntoParams)]
pub struct AccountQuery {
    /// The account's id.
    #[serde(deserialize_with = "crate::routes::text::ids::query")]
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
