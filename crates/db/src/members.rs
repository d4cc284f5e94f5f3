//! Server membership.
//!
//! Each change is one call of a SQL function (migration 3) that relies on the primary key of
//! `server_members`, so concurrent requests cannot both succeed and no row is ever half-written.
//! The function also reports *why* nothing changed, so the caller never has to check and then
//! write, and it is a prepared statement: one round trip, no parse or plan per request.

use crate::error::{foreign_key_violation, from_diesel, unexpected_outcome};
use crate::{Db, DbResult};
use diesel_async::RunQueryDsl;
use hearth_domain::model::{JoinOutcome, LeaveOutcome, Member, Membership};
use hearth_domain::{DomainError, ServerId, UserId};

diesel::define_sql_function! {
    /// The `membership_join` SQL function (migration 3): one round trip, one cached plan.
    fn membership_join(
        server: diesel::sql_types::BigInt,
        user: diesel::sql_types::BigInt,
    ) -> diesel::sql_types::Text;
}

diesel::define_sql_function! {
    /// The `membership_leave` SQL function (migration 3).
    fn membership_leave(
        server: diesel::sql_types::BigInt,
        user: diesel::sql_types::BigInt,
    ) -> diesel::sql_types::Text;
}

/// Makes `user` a member of `server`. [`DomainError::AccountGone`] when the account does not
/// exist (any more): checked in the same statement, so a caller authenticated only by its
/// token needs no separate account lookup.
#[tracing::instrument(skip(db))]
pub async fn join(db: &Db, server: ServerId, user: UserId) -> DbResult<JoinOutcome> {
    let mut conn = db.conn().await?;
    let outcome: String = diesel::select(membership_join(server.0, user.0))
        .get_result(&mut conn)
        .await
        .map_err(|e| match foreign_key_violation(&e) {
            // The server or the account was deleted while the statement ran.
            Some(constraint) if constraint.contains("server_id") => DomainError::NotFound("server"),
            Some(_) => DomainError::AccountGone,
            None => from_diesel(e),
        })?;
    match outcome.as_str() {
        "joined" => Ok(JoinOutcome::Joined),
        "already_member" => Ok(JoinOutcome::AlreadyMember),
        "no_such_server" => Ok(JoinOutcome::NoSuchServer),
        "no_such_user" => Err(DomainError::AccountGone),
        other => Err(unexpected_outcome("membership_join", other)),
    }
}

/// Removes `user` from `server`, unless they own it. An account that does not exist is
/// [`LeaveOutcome::NoSuchUser`]: the caller decides whether that is the caller's own account
/// (401) or someone else's (not a member).
#[tracing::instrument(skip(db))]
pub async fn leave(db: &Db, server: ServerId, user: UserId) -> DbResult<LeaveOutcome> {
    let mut conn = db.conn().await?;
    let outcome: String = diesel::select(membership_leave(server.0, user.0))
        .get_result(&mut conn)
        .await
        .map_err(from_diesel)?;
    match outcome.as_str() {
        "left" => Ok(LeaveOutcome::Left),
        "not_member" => Ok(LeaveOutcome::NotMember),
        "owner_cannot_leave" => Ok(LeaveOutcome::OwnerCannotLeave),
        "no_such_server" => Ok(LeaveOutcome::NoSuchServer),
        "no_such_user" => Ok(LeaveOutcome::NoSuchUser),
        other => Err(unexpected_outcome("membership_leave", other)),
    }
}

/// Whether `user` is a member of `server`, in one round trip that also checks the account
/// still exists ([`DomainError::AccountGone`] otherwise). Written with the query builder (not
/// `sql_query`) so diesel keeps it as a prepared statement: the hottest read of the API pays no
/// parse or plan per request.
#[tracing::instrument(skip(db))]
pub async fn membership(db: &Db, server: ServerId, user: UserId) -> DbResult<Membership> {
    use crate::schema::{server_members, servers, users};
    use diesel::dsl::exists;
    use diesel::QueryDsl;
    let query = diesel::select((
        exists(users::table.find(user.0)),
        exists(servers::table.find(server.0)),
        exists(server_members::table.find((server.0, user.0))),
    ));
    let (account_exists, server_exists, is_member): (bool, bool, bool) = db
        .pipelined(|conn| Box::pin(query.get_result(conn)))
        .await?;
    Ok(match (account_exists, server_exists, is_member) {
        (false, _, _) => return Err(DomainError::AccountGone),
        (true, false, _) => Membership::NoSuchServer,
        (true, true, true) => Membership::Member,
        (true, true, false) => Membership::NotMember,
    })
}

/// Members of a server by user id, after `after`, at most `limit`.
#[tracing::instrument(skip(db))]
pub async fn list(
    db: &Db,
    server: ServerId,
    after: Option<UserId>,
    limit: i64,
) -> DbResult<Vec<Member>> {
    use crate::schema::{server_members, users};
    use diesel::{ExpressionMethods, QueryDsl};
    let mut conn = db.conn().await?;
    let rows: Vec<(i64, String, chrono::DateTime<chrono::Utc>)> = server_members::table
        .inner_join(users::table)
        .filter(server_members::server_id.eq(server.0))
        .filter(server_members::user_id.gt(after.map_or(i64::MIN, |a| a.0)))
        .order(server_members::user_id)
        .limit(limit)
        .select((
            server_members::user_id,
            users::username,
            server_members::joined_at,
        ))
        .load(&mut conn)
        .await
        .map_err(from_diesel)?;
    Ok(rows
        .into_iter()
        .map(|(user_id, username, joined_at)| Member {
            user_id: UserId(user_id),
            username,
            joined_at,
        })
        .collect())
}

/// The servers `user` is a member of, by id.
#[tracing::instrument(skip(db))]
pub async fn servers_of(db: &Db, user: UserId) -> DbResult<Vec<ServerId>> {
    use crate::schema::server_members;
    use diesel::{ExpressionMethods, QueryDsl};
    let mut conn = db.conn().await?;
    let ids: Vec<i64> = server_members::table
        .filter(server_members::user_id.eq(user.0))
        .order(server_members::server_id)
        .select(server_members::server_id)
        .load(&mut conn)
        .await
        .map_err(from_diesel)?;
    Ok(ids.into_iter().map(ServerId).collect())
}
