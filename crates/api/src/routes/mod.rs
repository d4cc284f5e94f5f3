//! HTTP routes. Each handler is registered together with its OpenAPI entry, so no route exists
//! without its documentation.

pub mod accounts;
pub mod catalogue;
pub mod categories;
pub mod channels;
pub mod conversations;
pub mod health;
pub mod images;
pub mod membership;
pub mod messages;
pub mod pins;
pub mod reactions;
pub mod reads;
pub mod search;
pub mod servers;
pub mod text;

use utoipa_actix_web::service_config::ServiceConfig;

/// Registers every documented route.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(accounts::register_user)
        .service(accounts::login)
        .service(accounts::refresh_session)
        .service(accounts::logout)
        .service(accounts::get_account)
        .service(accounts::get_current_user)
        .service(accounts::delete_account)
        .service(accounts::issue_token)
        .service(accounts::refresh_token)
        .service(catalogue::list_categories)
        .service(catalogue::list_servers)
        .service(catalogue::list_server_page)
        // `is_member`, the hottest route, before its siblings: routes with path parameters are
        // tried one by one, each with a regex.
        .service(membership::get_membership)
        .service(membership::join_server)
        .service(membership::leave_server)
        .service(messages::list_channel_messages_compat)
        .service(messages::create_message)
        .service(messages::list_messages)
        .service(messages::edit_message)
        .service(messages::delete_message)
        .service(pins::pin_message)
        .service(pins::unpin_message)
        .service(pins::list_channel_pins)
        .service(pins::list_conversation_pins)
        .service(reactions::add_reaction)
        .service(reactions::remove_reaction)
        .service(servers::create_server)
        .service(servers::get_server)
        .service(servers::update_server)
        .service(servers::delete_server)
        .service(servers::list_members)
        .service(servers::remove_member)
        .service(channels::create_channel)
        .service(channels::update_channel)
        .service(channels::delete_channel)
        .service(channels::list_online)
        .service(reads::ack_channel)
        .service(reads::ack_conversation)
        .service(reads::list_unread)
        .service(search::search_messages)
        .service(categories::create_category)
        .service(categories::update_category)
        .service(categories::delete_category)
        .service(crate::gateway::connect_channel)
        .service(crate::gateway::connect_channel_compat)
        .service(conversations::create_group)
        .service(conversations::open_direct)
        .service(conversations::list_conversations)
        .service(conversations::get_conversation)
        .service(conversations::add_participant)
        .service(conversations::leave_group)
        .service(conversations::list_conversation_messages)
        .service(conversations::create_conversation_message)
        .service(conversations::list_blocks)
        .service(conversations::block_user)
        .service(conversations::unblock_user)
        .service(crate::gateway::connect_conversation)
        .service(crate::gateway::connect_personal)
        .service(images::set_server_icon)
        .service(images::set_server_banner)
        .service(images::set_category_icon)
        .service(images::get_media)
        .service(health::healthz)
        .service(health::readyz);
}
