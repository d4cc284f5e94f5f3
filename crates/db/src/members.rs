//! Server membership.
//!
//! Each change is one SQL statement that relies on the primary key of `server_members`, so
//! concurrent requests cannot both succeed and no row is ever half-written. The statement also
//! reports *why* nothing changed, from the same snapshot, so the caller never has to check and
//! then write.

use crate::error::{foreign_key_violation, from_diesel};
use crate::{Db, DbResult};
use diesel::sql_types::{BigInt, Bool};
use diesel::QueryableByName;
use diesel_async::RunQueryDsl;
use hearth_domain::model::{JoinOutcome, LeaveOutcome, Member, Membership};
use hearth_domain::{DomainError, ServerId, UserId};

#[derive(QueryableByName)]
struct JoinRow {
    #[diesel(sql_type = Bool)]
    server_exists: bool,
    #[diesel(sql_type = Bool)]
    inserted: bool,
}

/// Makes `user` a member of `server`.
#[tracing::instrument(skip(db))]
pub async fn join(db: &Db, server: ServerId, user: UserId) -> DbResult<JoinOutcome> {
    let mut conn = db.conn().await?;
    let row: JoinRow = diesel::sql_query(
        "WITH s AS (SELECT id FROM servers WHERE id = $1), \
              i AS (INSERT INTO server_members (server_id, user_id) \
                    SELECT id, $2 FROM s ON CONFLICT DO NOTHING RETURNING 1) \
         SELECT EXISTS (SELECT 1 FROM s) AS server_exists, \
                EXISTS (SELECT 1 FROM i) AS inserted",
    )
    .bind::<BigInt, _>(server.0)
    .bind::<BigInt, _>(user.0)
    .get_result(&mut conn)
    .await
    .map_err(|e| match foreign_key_violation(&e) {
        // The server was deleted between the snapshot and the insert.
        Some(constraint) if constraint.contains("server_id") => DomainError::NotFound("server"),
        Some(_) => DomainError::AccountGone,
        None => from_diesel(e),
    })?;
    Ok(match (row.server_exists, row.inserted) {
        (false, _) => JoinOutcome::NoSuchServer,
        (true, true) => JoinOutcome::Joined,
        (true, false) => JoinOutcome::AlreadyMember,
    })
}

#[derive(QueryableByName)]
struct LeaveRow {
    #[diesel(sql_type = Bool)]
    server_exists: bool,
    #[diesel(sql_type = Bool)]
    was_member: bool,
    #[diesel(sql_type = Bool)]
    is_owner: bool,
    #[diesel(sql_type = Bool)]
    deleted: bool,
}

/// Removes `user` from `server`, unless they own it.
#[tracing::instrument(skip(db))]
pub async fn leave(db: &Db, server: ServerId, user: UserId) -> DbResult<LeaveOutcome> {
    let mut conn = db.conn().await?;
    // Every sub-statement of a WITH sees the same snapshot, so `was_member` is the state before
    // the DELETE, and the DELETE itself refuses the owner.
    let row: LeaveRow = diesel::sql_query(
        "WITH s AS (SELECT id, owner_id FROM servers WHERE id = $1), \
              d AS (DELETE FROM server_members m USING s \
                    WHERE m.server_id = s.id AND m.user_id = $2 AND s.owner_id <> $2 \
                    RETURNING 1) \
         SELECT EXISTS (SELECT 1 FROM s) AS server_exists, \
                EXISTS (SELECT 1 FROM server_members WHERE server_id = $1 AND user_id = $2) \
                    AS was_member, \
                EXISTS (SELECT 1 FROM s WHERE owner_id = $2) AS is_owner, \
                EXISTS (SELECT 1 FROM d) AS deleted",
    )
    .bind::<BigInt, _>(server.0)
    .bind::<BigInt, _>(user.0)
    .get_result(&mut conn)
    .await
    .map_err(from_diesel)?;
    Ok(if !row.server_exists {
        LeaveOutcome::NoSuchServer
    } else if row.deleted {
        LeaveOutcome::Left
    } else if !row.was_member {
        LeaveOutcome::NotMember
    } else if row.is_owner {
        LeaveOutcome::OwnerCannotLeave
    } else {
        // A concurrent leave removed the row between our snapshot and our DELETE.
        LeaveOutcome::NotMember
    })
}

/// Whether `user` is a member of `server`, in one round trip. Written with the query builder
/// (not `sql_query`) so diesel keeps it as a prepared statement: the hottest read of the API
/// pays no parse or plan per request.
#[tracing::instrument(skip(db))]
pub async fn membership(db: &Db, server: ServerId, user: UserId) -> DbResult<Membership> {
    use crate::schema::{server_members, servers};
    use diesel::dsl::exists;
    use diesel::QueryDsl;
    let mut conn = db.conn().await?;
    let (server_exists, is_member): (bool, bool) = diesel::select((
        exists(servers::table.find(server.0)),
        exists(server_members::table.find((server.0, user.0))),
    ))
    .get_result(&mut conn)
    .await
    .map_err(from_diesel)?;
    Ok(match (server_exists, is_member) {
        (false, _) => Membership::NoSuchServer,
        (true, true) => Membership::Member,
        (true, false) => Membership::NotMember,
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
