//! Live chat over WebSocket: the handshake, the socket sessions, the local hub and the Redis
//! bridge between instances. The protocol is described in `docs/websocket.md`.

mod frames;
mod hub;
mod personal;
pub mod protocol;
mod redis;
mod session;
pub(crate) mod takeover;

pub use hub::{Frame, Hub, Subscription, PRESENCE_TICK};
pub use redis::Bridge;

use crate::auth::{bearer_token, cookie_token, TokenKind};
use crate::error::{ApiError, ErrorBody};
use crate::startup::AppState;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{get, web, FromRequest, HttpRequest, HttpResponse};
use hearth_domain::{ChannelId, ServerId, UserId, UserRef};
use protocol::close;
use serde::Deserialize;
use session::Connection;
use utoipa::IntoParams;

/// The credentials a handshake carried, and how.
struct Credentials {
    token: Option<String>,
    from_cookie: bool,
    from_subprotocol: bool,
}

/// `Authorization: Bearer`, then `Sec-WebSocket-Protocol: bearer, <jwt>`, then the cookie.
/// Never the query string. A malformed `Authorization` header authenticates nobody, as on REST.
fn credentials(req: &HttpRequest) -> Credentials {
    let protocols: Vec<String> = req
        .headers()
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|p| p.trim().to_owned())
        .collect();
    let from_subprotocol = protocols.first().is_some_and(|p| p == "bearer");
    let subprotocol_token = from_subprotocol
        .then(|| protocols.get(1).cloned())
        .flatten();
    let bearer = match bearer_token(req) {
        Ok(bearer) => bearer,
        Err(_) => {
            return Credentials {
                token: None,
                from_cookie: false,
                from_subprotocol,
            }
        }
    };
    let cookie = cookie_token(req);
    let from_cookie = bearer.is_none() && subprotocol_token.is_none() && cookie.is_some();
    Credentials {
        token: bearer.or(subprotocol_token).or(cookie),
        from_cookie,
        from_subprotocol,
    }
}

/// Whether a cookie-authenticated handshake comes from a page allowed to use the cookie: the
/// server's own origin or a configured CORS origin. Requests without `Origin` are not from a
/// browser page and cannot ride on a victim's cookie.
fn origin_allowed(req: &HttpRequest, state: &AppState) -> bool {
    let Some(origin) = req
        .headers()
        .get(header::ORIGIN)
        .and_then(|o| o.to_str().ok())
    else {
        return true;
    };
    let own = req.connection_info().host().to_owned();
    let own_origin = |scheme: &str| format!("{scheme}://{own}");
    origin == own_origin("http")
        || origin == own_origin("https")
        || state.settings.cors_origins.iter().any(|o| o == origin)
}

/// Query parameters of a socket.
#[derive(Debug, Deserialize, IntoParams)]
pub struct SocketQuery {
    /// Replay every message with a sequence number above this one before going live.
    #[param(minimum = 0)]
    pub after: Option<i64>,
    /// `full` opts a compatibility socket (`/{server_id}/{channel_id}`) in to Hearth's whole
    /// protocol (presence, typing, edits, error frames, ...); without it that path sends only
    /// `chat.message` frames, as the reference does. The native path always speaks the whole
    /// protocol.
    #[param(inline)]
    pub protocol: Option<SocketProtocol>,
}

/// Which frames a socket receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SocketProtocol {
    /// Every frame of `docs/websocket.md`.
    Full,
}

/// What a socket speaks, from its path and its `protocol` parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// The reference's: only `chat.message` frames reach the client; refusals are silent and
    /// messages over the rate limit are held and stored in order instead of refused.
    Reference,
    /// Hearth's whole protocol.
    Full,
}

/// What a socket is opened on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    /// A server's channel.
    Channel(ServerId, ChannelId),
    /// A conversation the user takes part in.
    Conversation(ChannelId),
    /// The user's personal socket.
    Me,
}

async fn open_socket(
    req: HttpRequest,
    body: web::Payload,
    state: web::Data<AppState>,
    target: Target,
    after: Option<i64>,
    dialect: Dialect,
) -> Result<HttpResponse, ApiError> {
    let credentials = credentials(&req);
    if credentials.from_cookie && !origin_allowed(&req, &state) {
        return Err(ApiError::Forbidden {
            code: "forbidden_origin",
            message: "Cross-origin WebSocket handshakes may not use the session cookie".to_owned(),
        });
    }
    let user = match &credentials.token {
        Some(token) => state.tokens.verify(token, TokenKind::Access).ok(),
        None => None,
    };
    // Frames over the limit are refused from their header on, not once buffered whole.
    let limited: frames::BoxedPayload = Box::pin(frames::FrameLimit::new(
        body.into_inner(),
        session::MAX_FRAME,
    ));
    let mut limited = actix_web::dev::Payload::from(limited);
    let body = web::Payload::from_request(&req, &mut limited)
        .await
        .map_err(|e| ApiError::Internal(format!("cannot read the socket's payload: {e}")))?;
    let (mut response, session, stream) = actix_ws::handle(&req, body).map_err(|e| {
        ApiError::bad_request(
            "websocket_expected",
            format!("Expected a WebSocket upgrade: {e}"),
        )
    })?;
    if credentials.from_subprotocol {
        response.headers_mut().insert(
            header::SEC_WEBSOCKET_PROTOCOL,
            HeaderValue::from_static("bearer"),
        );
    }
    let state = state.into_inner();
    let socket = async move {
        let Some(user) = user else {
            return session::refuse(session, close::NOT_AUTHENTICATED, "not authenticated").await;
        };
        let checked = Box::pin(check_target(&state, user, target)).await;
        match checked {
            Ok(Some(user)) => {
                // Online (for their DM partners) while this socket is open.
                let _online = state.hub.connected(&user);
                let (server, channel) = match target {
                    Target::Channel(server, channel) => (Some(server), channel),
                    Target::Conversation(channel) => (None, channel),
                    Target::Me => {
                        // Boxed, each kind of socket's task is the size of its own loop (a
                        // task lasts as long as its socket).
                        Box::pin(personal::run(
                            web::Data::from(state),
                            session,
                            stream,
                            user,
                            after,
                        ))
                        .await;
                        return;
                    }
                };
                let connection = Connection {
                    user,
                    server,
                    channel,
                    after,
                    dialect,
                };
                Box::pin(session::run(
                    web::Data::from(state),
                    session,
                    stream,
                    connection,
                ))
                .await;
            }
            Ok(None) => {
                session::refuse(session, close::NOT_FOUND, "no such server or channel").await
            }
            Err(code) => session::refuse(session, code, "cannot open this socket").await,
        }
    };
    actix_web::rt::spawn(socket);
    Ok(response)
}

/// The user behind the token, if the channel exists in that server (or the user takes part in
/// the conversation); `Ok(None)` otherwise.
async fn check_target(
    state: &AppState,
    user: UserId,
    target: Target,
) -> Result<Option<UserRef>, u16> {
    let account = hearth_db::users::find(&state.db, user)
        .await
        .map_err(|_| 1011_u16)?;
    let Some(account) = account else {
        return Err(close::NOT_AUTHENTICATED);
    };
    let exists = match target {
        Target::Channel(server, channel) => hearth_db::channels::find(&state.db, channel)
            .await
            .map_err(|_| 1011_u16)?
            .is_some_and(|c| c.server_id == server),
        Target::Conversation(channel) => {
            hearth_db::conversations::is_participant(&state.db, channel, account.id)
                .await
                .map_err(|_| 1011_u16)?
        }
        Target::Me => true,
    };
    Ok(exists.then_some(UserRef {
        id: account.id,
        username: account.username,
    }))
}

/// Declares a socket endpoint; both paths behave the same and share their documentation.
macro_rules! socket_endpoint {
    ($(#[doc = $doc:literal])* $name:ident, $path:literal, $dialect:expr) => {
        $(#[doc = $doc])*
        ///
        /// A WebSocket endpoint: authenticate with the `access_token` cookie,
        /// `Authorization: Bearer`, or `Sec-WebSocket-Protocol: bearer, <jwt>`. See
        /// `docs/websocket.md` for the frames. Closes with 4001 (not authenticated), 4004 (no
        /// such server or channel), 4008 (rate limit exceeded repeatedly), 4009 (too slow:
        /// reconnect with `?after=`), 1009 (frame too large), 1002 (protocol violation), 1007
        /// (text that is not UTF-8).
        #[utoipa::path(
            tag = "chat",
            params(
                ("server_id" = i64, Path, description = "The server's id"),
                ("channel_id" = i64, Path, description = "The channel's id"),
                SocketQuery,
            ),
            security(("cookie" = []), ("bearer" = [])),
            responses(
                (status = 101, description = "Switching to the WebSocket protocol"),
                (status = 400, description = "Not a WebSocket handshake", body = ErrorBody),
                (status = 403, description = "Cookie handshake from a foreign origin", body = ErrorBody),
            )
        )]
        #[get($path)]
        pub async fn $name(
            req: HttpRequest,
            body: web::Payload,
            state: web::Data<AppState>,
            path: web::Path<(i64, i64)>,
            query: web::Query<SocketQuery>,
        ) -> Result<HttpResponse, ApiError> {
            let (server, channel) = path.into_inner();
            let query = query.into_inner();
            let dialect: fn(Option<SocketProtocol>) -> Dialect = $dialect;
            let dialect = dialect(query.protocol);
            let target = Target::Channel(ServerId(server), ChannelId(channel));
            open_socket(req, body, state, target, query.after, dialect).await
        }
    };
}

socket_endpoint!(
    /// Opens a chat socket on a channel (the reference's path). It sends only `chat.message`
    /// frames, as the reference does, unless opened with `?protocol=full`.
    connect_channel_compat,
    "/{server_id:\\d+}/{channel_id:\\d+}",
    |protocol| match protocol {
        Some(SocketProtocol::Full) => Dialect::Full,
        None => Dialect::Reference,
    }
);

socket_endpoint!(
    /// Opens a chat socket on a channel, speaking Hearth's whole protocol.
    connect_channel,
    "/ws/servers/{server_id}/channels/{channel_id}",
    |_| Dialect::Full
);

/// Query parameters of a conversation's socket.
#[derive(Debug, Deserialize, IntoParams)]
pub struct ConversationSocketQuery {
    /// Replay every message with a sequence number above this one before going live.
    #[param(minimum = 0)]
    pub after: Option<i64>,
}

/// Opens a chat socket on a conversation (a direct message or a group), speaking Hearth's
/// whole protocol, exactly as a channel's socket: `chat.message` with `seq`, edits, deletions,
/// presence, typing, `?after=` replay. Only participants may open it; to anyone else the
/// conversation does not exist (4004).
///
/// A WebSocket endpoint: authenticate with the `access_token` cookie, `Authorization: Bearer`,
/// or `Sec-WebSocket-Protocol: bearer, <jwt>`. See `docs/websocket.md` for the frames. Closes
/// with 4001 (not authenticated), 4004 (no such conversation, or the user left it), 4008, 4009,
/// 1009, 1002 and 1007 as a channel's socket does.
#[utoipa::path(
    tag = "chat",
    params(
        ("conversation_id" = i64, Path, description = "The conversation's id"),
        ConversationSocketQuery,
    ),
    security(("cookie" = []), ("bearer" = [])),
    responses(
        (status = 101, description = "Switching to the WebSocket protocol"),
        (status = 400, description = "Not a WebSocket handshake", body = ErrorBody),
        (status = 403, description = "Cookie handshake from a foreign origin", body = ErrorBody),
    )
)]
#[get("/ws/dms/{conversation_id}")]
pub async fn connect_conversation(
    req: HttpRequest,
    body: web::Payload,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    query: web::Query<ConversationSocketQuery>,
) -> Result<HttpResponse, ApiError> {
    let target = Target::Conversation(ChannelId(path.into_inner()));
    open_socket(req, body, state, target, query.after, Dialect::Full).await
}

/// Opens the caller's personal socket: one per client session, for everything addressed to
/// the user (`private_message`, `conversation.added`) and for the channels and conversations
/// it subscribes to (`{"type":"subscribe","channels":[{"id","after"?}]}`, at most 200), each
/// with a channel socket's guarantees. See `docs/websocket.md`.
///
/// A WebSocket endpoint: authenticate with the `access_token` cookie, `Authorization: Bearer`,
/// or `Sec-WebSocket-Protocol: bearer, <jwt>`. Closes with 4001 (not authenticated), 4008, 4009
/// (too slow: reconnect and subscribe again with `after`), 1009, 1002 and 1007 as a channel's
/// socket does.
#[utoipa::path(
    tag = "chat",
    params(PersonalSocketQuery),
    security(("cookie" = []), ("bearer" = [])),
    responses(
        (status = 101, description = "Switching to the WebSocket protocol"),
        (status = 400, description = "Not a WebSocket handshake", body = ErrorBody),
        (status = 403, description = "Cookie handshake from a foreign origin", body = ErrorBody),
    )
)]
#[get("/ws/me")]
pub async fn connect_personal(
    req: HttpRequest,
    body: web::Payload,
    state: web::Data<AppState>,
    query: web::Query<PersonalSocketQuery>,
) -> Result<HttpResponse, ApiError> {
    open_socket(req, body, state, Target::Me, query.after, Dialect::Full).await
}

/// Query parameters of the personal socket.
#[derive(Debug, Deserialize, IntoParams)]
pub struct PersonalSocketQuery {
    /// The last `cursor` received (from `ready` or an event): every event addressed to the
    /// user since then is replayed first, from storage. One that cannot be is answered with
    /// `resync`.
    #[param(minimum = 0)]
    pub after: Option<i64>,
}
