//! The OpenAPI document, collected from the same registrations that route requests.

use actix_web::App;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::OpenApi as OpenApiDoc;
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::AppExt;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Hearth",
        description = "Discord-style chat: accounts, servers by category, membership and live chat.\n\n\
            Log in with `POST /api/token/` (cookies, for browsers) or `POST /api/auth/token/` \
            (bearer tokens); after a cookie login, \"Try it out\" works on every endpoint.",
        license(name = "MIT")
    ),
    modifiers(&SecuritySchemes),
    components(schemas(
        hearth_domain::Event,
        hearth_domain::ChatMessage,
        hearth_domain::UserRef,
        crate::gateway::protocol::ClientFrame,
        crate::gateway::protocol::PersonalClientFrame,
        crate::gateway::protocol::SubscribeTo,
        crate::gateway::protocol::ServerFrame,
    )),
    tags(
        (name = "accounts", description = "Registration and cookie sessions (compatibility surface)"),
        (name = "auth", description = "Bearer tokens for non-browser clients"),
        (name = "catalogue", description = "Categories and servers (compatibility surface)"),
        (name = "membership", description = "Joining and leaving servers (compatibility surface)"),
        (name = "servers", description = "Creating and managing servers and their members"),
        (name = "channels", description = "Creating and managing channels (server owners)"),
        (name = "categories", description = "Managing categories (staff)"),
        (name = "images", description = "Server icons and banners, category icons (multipart uploads), and the stored files"),
        (name = "messages", description = "Message history; posting, editing and deleting messages"),
        (name = "conversations", description = "Direct messages: 1:1 and group conversations, their messages and sockets, and blocks"),
        (name = "chat", description = "Live chat over WebSocket (frames: the Event, ClientFrame and ServerFrame schemas; see docs/websocket.md)"),
        (name = "operations", description = "Health probes"),
    )
)]
struct ApiDoc;

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut OpenApiDoc) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "cookie",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                "access_token",
                "Set by POST /api/token/",
            ))),
        );
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some("An access token from POST /api/auth/token/"))
                    .build(),
            ),
        );
    }
}

/// The base document (info, tags, security schemes) before routes add their paths.
pub fn base() -> OpenApiDoc {
    let mut doc = ApiDoc::openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").to_owned();
    doc
}

/// The complete document, exactly as the server serves it.
pub fn document() -> OpenApiDoc {
    let (_, doc) = App::new()
        .into_utoipa_app()
        .openapi(base())
        .configure(crate::routes::configure)
        .split_for_parts();
    doc
}

/// The document as committed in `openapi/openapi.json`: pretty JSON with a final newline.
pub fn to_committed_json(doc: &OpenApiDoc) -> Result<String, serde_json::Error> {
    let mut json = serde_json::to_string_pretty(doc)?;
    json.push('\n');
    Ok(json)
}
