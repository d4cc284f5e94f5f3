//! Joining and leaving servers: the reference's `api/membership/<server_id>/membership`.

use crate::auth::TokenUser;
use crate::error::{ApiError, ErrorBody};
use crate::routes::accounts::MessageResponse;
use crate::startup::AppState;
use actix_web::{delete, get, post, web};
use hearth_domain::model::{JoinOutcome, LeaveOutcome, Membership};
use hearth_domain::{DomainError, Event, ServerId, UserId};
use serde::Serialize;
use utoipa::ToSchema;

fn no_such_server() -> ApiError {
    ApiError::not_found("Server not found")
}

/// Joins a server as the caller.
#[utoipa::path(
    tag = "membership",
    params(("server_id" = i64, Path, description = "The server's id")),
    security(("cookie" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "Joined", body = MessageResponse,
            example = json!({"message": "User joined server successfully"})),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 404, description = "No such server", body = ErrorBody),
        (status = 409, description = "Already a member", body = ErrorBody,
            example = json!({"error": "User is already a member", "code": "already_member"})),
    )
)]
#[post("/api/membership/{server_id}/membership/")]
#[tracing::instrument(skip_all, fields(server_id = %server_id, user_id = %user.id))]
pub async fn join_server(
    state: web::Data<AppState>,
    user: TokenUser,
    server_id: web::Path<i64>,
) -> Result<web::Json<MessageResponse>, ApiError> {
    let server = ServerId(server_id.into_inner());
    match hearth_db::members::join(&state.db, server, user.id).await? {
        JoinOutcome::Joined => {
            state.hub.publish(Event::MemberJoined {
                server_id: server,
                user_id: user.id,
            });
            Ok(web::Json(MessageResponse {
                message: "User joined server successfully".to_owned(),
            }))
        }
        JoinOutcome::AlreadyMember => Err(ApiError::conflict(
            "already_member",
            "User is already a member",
        )),
        JoinOutcome::NoSuchServer => Err(no_such_server()),
    }
}

/// Leaves a server as the caller (owners cannot leave their own server).
#[utoipa::path(
    tag = "membership",
    params(("server_id" = i64, Path, description = "The server's id")),
    security(("cookie" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "Left", body = MessageResponse,
            example = json!({"message": "User removed from server"})),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 404, description = "No such server, or not a member", body = ErrorBody,
            example = json!({"error": "User is not a member", "code": "not_member"})),
        (status = 409, description = "The owner cannot leave", body = ErrorBody,
            example = json!({"error": "Owners cannot be removed as a member", "code": "owner_cannot_leave"})),
    )
)]
#[delete("/api/membership/{server_id}/membership/remove_member/")]
#[tracing::instrument(skip_all, fields(server_id = %server_id, user_id = %user.id))]
pub async fn leave_server(
    state: web::Data<AppState>,
    user: TokenUser,
    server_id: web::Path<i64>,
) -> Result<web::Json<MessageResponse>, ApiError> {
    let server = ServerId(server_id.into_inner());
    remove_from_server(&state, server, user.id, Remover::Themselves).await?;
    Ok(web::Json(MessageResponse {
        message: "User removed from server".to_owned(),
    }))
}

/// Who asks for a removal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Remover {
    /// The member, leaving: authenticated by token only, so a missing account is theirs (401).
    Themselves,
    /// The server's owner (an authenticated account): a missing account is not a member.
    Owner,
}

/// Removes `user` from `server` (leaving, or removal by the owner) and announces it; the same
/// refusals whoever asks: not a member (404), the owner (409), no such server (404).
pub(crate) async fn remove_from_server(
    state: &AppState,
    server: ServerId,
    user: UserId,
    by: Remover,
) -> Result<(), ApiError> {
    match hearth_db::members::leave(&state.db, server, user).await? {
        LeaveOutcome::Left => {
            state.hub.publish(Event::MemberLeft {
                server_id: server,
                user_id: user,
            });
            Ok(())
        }
        LeaveOutcome::NoSuchUser if by == Remover::Themselves => {
            Err(ApiError::from(DomainError::AccountGone))
        }
        LeaveOutcome::NotMember | LeaveOutcome::NoSuchUser => Err(ApiError::NotFound {
            code: "not_member",
            message: "User is not a member".to_owned(),
        }),
        LeaveOutcome::OwnerCannotLeave => Err(ApiError::conflict(
            "owner_cannot_leave",
            "Owners cannot be removed as a member",
        )),
        LeaveOutcome::NoSuchServer => Err(no_such_server()),
    }
}

/// Whether the caller is a member.
#[derive(Debug, Serialize, ToSchema)]
pub struct IsMemberResponse {
    pub is_member: bool,
}

/// Tells whether the caller is a member of a server.
#[utoipa::path(
    tag = "membership",
    params(("server_id" = i64, Path, description = "The server's id")),
    security(("cookie" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "Membership", body = IsMemberResponse),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 404, description = "No such server", body = ErrorBody),
    )
)]
#[get("/api/membership/{server_id}/membership/is_member/")]
#[tracing::instrument(skip_all, fields(server_id = %server_id, user_id = %user.id))]
pub async fn get_membership(
    state: web::Data<AppState>,
    user: TokenUser,
    server_id: web::Path<i64>,
) -> Result<web::Json<IsMemberResponse>, ApiError> {
    let server = ServerId(server_id.into_inner());
    match hearth_db::members::membership(&state.db, server, user.id).await? {
        Membership::Member => Ok(web::Json(IsMemberResponse { is_member: true })),
        Membership::NotMember => Ok(web::Json(IsMemberResponse { is_member: false })),
        Membership::NoSuchServer => Err(no_such_server()),
    }
}
