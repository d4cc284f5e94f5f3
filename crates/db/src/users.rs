//! Accounts.

use crate::error::{from_diesel, unique_violation};
use crate::schema::users;
use crate::{Db, DbResult};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::scoped_futures::ScopedFutureExt;
use diesel_async::{AsyncConnection, RunQueryDsl};
use hearth_domain::model::{Credentials, User};
use hearth_domain::{ChannelId, DomainError, ServerId, UserId};

diesel::define_sql_function! {
    /// SQL `lower(text)`: usernames are unique and looked up regardless of case.
    fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = users, check_for_backend(diesel::pg::Pg))]
struct UserRow {
    id: i64,
    username: String,
    is_staff: bool,
    created_at: DateTime<Utc>,
}

impl From<UserRow> for User {
    fn from(row: UserRow) -> Self {
        User {
            id: UserId(row.id),
            username: row.username,
            is_staff: row.is_staff,
            created_at: row.created_at,
        }
    }
}

/// Creates an account. `password_hash` is a PHC string (never a clear password).
///
/// Fails with [`DomainError::Conflict`] when the username is taken, in any letter case.
#[tracing::instrument(skip(db, password_hash))]
pub async fn create(
    db: &Db,
    username: &str,
    password_hash: &str,
    is_staff: bool,
) -> DbResult<User> {
    let mut conn = db.conn().await?;
    diesel::insert_into(users::table)
        .values((
            users::username.eq(username),
            users::password_hash.eq(password_hash),
            users::is_staff.eq(is_staff),
        ))
        .returning(UserRow::as_returning())
        .get_result(&mut conn)
        .await
        .map(User::from)
        .map_err(|e| match unique_violation(&e) {
            Some(_) => DomainError::Conflict("username"),
            None => from_diesel(e),
        })
}

/// The account with this username (in any letter case) and its password hash, for logging in.
#[tracing::instrument(skip(db))]
pub async fn credentials(db: &Db, username: &str) -> DbResult<Option<Credentials>> {
    let mut conn = db.conn().await?;
    let row: Option<(UserRow, String)> = users::table
        .filter(lower(users::username).eq(lower(username)))
        .select((UserRow::as_select(), users::password_hash))
        .first(&mut conn)
        .await
        .optional()
        .map_err(from_diesel)?;
    Ok(row.map(|(user, password_hash)| Credentials {
        user: user.into(),
        password_hash,
    }))
}

/// The account with this username, in any letter case.
#[tracing::instrument(skip(db))]
pub async fn find_by_name(db: &Db, username: &str) -> DbResult<Option<User>> {
    let mut conn = db.conn().await?;
    users::table
        .filter(lower(users::username).eq(lower(username)))
        .select(UserRow::as_select())
        .first(&mut conn)
        .await
        .optional()
        .map(|row| row.map(User::from))
        .map_err(from_diesel)
}

/// The account with this id.
#[tracing::instrument(skip(db))]
pub async fn find(db: &Db, id: UserId) -> DbResult<Option<User>> {
    let mut conn = db.conn().await?;
    users::table
        .find(id.0)
        .select(UserRow::as_select())
        .first(&mut conn)
        .await
        .optional()
        .map(|row| row.map(User::from))
        .map_err(from_diesel)
}

/// Replaces an account's password hash (`create-user` on an existing name).
#[tracing::instrument(skip(db, password_hash))]
pub async fn set_password(
    db: &Db,
    id: UserId,
    password_hash: &str,
    is_staff: bool,
) -> DbResult<()> {
    let mut conn = db.conn().await?;
    diesel::update(users::table.find(id.0))
        .set((
            users::password_hash.eq(password_hash),
            users::is_staff.eq(is_staff),
        ))
        .execute(&mut conn)
        .await
        .map_err(from_diesel)?;
    Ok(())
}

/// How many accounts exist (the seed only runs on an empty database).
pub async fn count(db: &Db) -> DbResult<i64> {
    let mut conn = db.conn().await?;
    users::table
        .count()
        .get_result(&mut conn)
        .await
        .map_err(from_diesel)
}

/// What a deleted account took with it, for telling those who remain.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeletedAccount {
    /// The servers it owned (deleted with it).
    pub owned_servers: Vec<ServerId>,
    /// The other servers it was a member of.
    pub member_of: Vec<ServerId>,
    /// The conversations it took part in (those it was the last of are gone too).
    pub conversations: Vec<ChannelId>,
}

/// Deletes the account `id` and, by cascade, everything it owns; `None` when there was none.
/// What it owned and took part in is read in the same transaction.
#[tracing::instrument(skip(db))]
pub async fn delete_account(db: &Db, id: UserId) -> DbResult<Option<DeletedAccount>> {
    use crate::schema::{conversation_participants, server_members, servers};
    let mut conn = db.conn().await?;
    conn.transaction::<_, diesel::result::Error, _>(|conn| {
        async move {
            let owned: Vec<i64> = servers::table
                .filter(servers::owner_id.eq(id.0))
                .select(servers::id)
                .load(conn)
                .await?;
            let member_of: Vec<i64> = server_members::table
                .filter(server_members::user_id.eq(id.0))
                .filter(server_members::server_id.ne_all(&owned))
                .select(server_members::server_id)
                .load(conn)
                .await?;
            let conversations: Vec<i64> = conversation_participants::table
                .filter(conversation_participants::user_id.eq(id.0))
                .select(conversation_participants::channel_id)
                .load(conn)
                .await?;
            let deleted = diesel::delete(users::table.find(id.0))
                .execute(conn)
                .await?;
            Ok((deleted > 0).then(|| DeletedAccount {
                owned_servers: owned.into_iter().map(ServerId).collect(),
                member_of: member_of.into_iter().map(ServerId).collect(),
                conversations: conversations.into_iter().map(ChannelId).collect(),
            }))
        }
        .scope_boxed()
    })
    .await
    .map_err(from_diesel)
}

/// Deletes an account and, by cascade, everything it owns. Returns whether it existed.
#[tracing::instrument(skip(db))]
pub async fn delete_by_username(db: &Db, username: &str) -> DbResult<bool> {
    let mut conn = db.conn().await?;
    diesel::delete(users::table.filter(lower(users::username).eq(lower(username))))
        .execute(&mut conn)
        .await
        .map(|rows| rows > 0)
        .map_err(from_diesel)
}
