//! Searching the messages a user may read.

use super::{to_message, MessageRow, COLUMNS};
use crate::error::from_diesel;
use crate::schema::{channels, conversation_participants, messages, server_members, users};
use crate::{Db, DbResult};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use hearth_domain::model::Message;
use hearth_domain::{ChannelId, MessageId, ServerId, UserId};

/// `TRUE`, and a mark that keeps the statement out of the prepared statement cache: a cached
/// statement is soon planned once for any terms (a generic plan, PostgreSQL's choice after five
/// runs), which picked the trigram index for every query and took seconds for common words that
/// the newest-first scan answers in milliseconds. Planned anew, each query's plan is made for
/// its own terms (how common they are), which costs far less than a wrong plan.
#[derive(Debug, Clone, Copy, diesel::query_builder::QueryId)]
struct PlannedForItsTerms;

impl diesel::Expression for PlannedForItsTerms {
    type SqlType = diesel::sql_types::Bool;
}

impl<QS> diesel::AppearsOnTable<QS> for PlannedForItsTerms {}

impl<QS> diesel::SelectableExpression<QS> for PlannedForItsTerms {}

impl diesel::expression::ValidGrouping<()> for PlannedForItsTerms {
    type IsAggregate = diesel::expression::is_aggregate::Never;
}

impl diesel::query_builder::QueryFragment<diesel::pg::Pg> for PlannedForItsTerms {
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, diesel::pg::Pg>,
    ) -> QueryResult<()> {
        out.unsafe_to_cache_prepared();
        out.push_sql("TRUE");
        Ok(())
    }
}

/// What to look for, and where.
#[derive(Debug, Clone)]
pub struct Search {
    /// Who searches: only messages of the channels of servers they belong to and of their
    /// conversations are found.
    pub reader: UserId,
    /// `LIKE` patterns a message's content must all match, letter case ignored
    /// ([`hearth_domain::search::like_pattern`]).
    pub patterns: Vec<String>,
    pub server: Option<ServerId>,
    pub channel: Option<ChannelId>,
    pub author: Option<UserId>,
    /// Only messages older than this one (the next page), and newer than `after`.
    pub before: Option<MessageId>,
    pub after: Option<MessageId>,
    pub limit: i64,
}

/// A message found, with where it was said.
#[derive(Debug, Clone)]
pub struct Hit {
    pub message: Message,
    /// The channel's server; `None` for a conversation.
    pub server_id: Option<ServerId>,
    /// The channel's name (a conversation's is its own).
    pub channel_name: String,
}

/// The newest messages that match, newest first, in one statement: the access rule, the
/// terms and the filters are all part of it, so a message the reader may not read is never
/// loaded, and a deleted one never matches.
#[tracing::instrument(skip(db, search), fields(terms = search.patterns.len()))]
pub async fn search(db: &Db, search: &Search) -> DbResult<Vec<Hit>> {
    let mut conn = db.conn().await?;
    let reader = search.reader.0;
    let servers_of_reader = server_members::table
        .filter(server_members::user_id.eq(reader))
        .select(server_members::server_id.nullable());
    let their_conversations = conversation_participants::table
        .filter(conversation_participants::user_id.eq(reader))
        .select(conversation_participants::channel_id);
    let mut query = messages::table
        .inner_join(users::table)
        .inner_join(channels::table)
        .select((COLUMNS, channels::server_id, channels::name))
        .order(messages::id.desc())
        .limit(search.limit)
        .into_boxed::<diesel::pg::Pg>()
        .filter(PlannedForItsTerms)
        .filter(messages::deleted_at.is_null())
        .filter(
            channels::server_id
                .eq_any(servers_of_reader)
                .or(messages::channel_id.eq_any(their_conversations)),
        );
    for pattern in &search.patterns {
        query = query.filter(messages::content.ilike(pattern.clone()));
    }
    if let Some(server) = search.server {
        query = query.filter(channels::server_id.eq(server.0));
    }
    if let Some(channel) = search.channel {
        query = query.filter(messages::channel_id.eq(channel.0));
    }
    if let Some(author) = search.author {
        query = query.filter(messages::sender_id.eq(author.0));
    }
    if let Some(before) = search.before {
        query = query.filter(messages::id.lt(before.0));
    }
    if let Some(after) = search.after {
        query = query.filter(messages::id.gt(after.0));
    }
    let rows: Vec<(MessageRow, Option<i64>, String)> =
        query.load(&mut conn).await.map_err(from_diesel)?;
    Ok(rows
        .into_iter()
        .map(|(row, server, name)| Hit {
            message: to_message(row),
            server_id: server.map(ServerId),
            channel_name: name,
        })
        .collect())
}
