// The tables as diesel sees them; kept in step with `migrations/` by hand and checked by the
// integration tests, which run every query against the migrated schema.

diesel::table! {
    users (id) {
        id -> Int8,
        username -> Text,
        password_hash -> Text,
        is_staff -> Bool,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    categories (id) {
        id -> Int8,
        name -> Text,
        description -> Text,
        icon -> Nullable<Text>,
    }
}

diesel::table! {
    servers (id) {
        id -> Int8,
        owner_id -> Int8,
        category_id -> Int8,
        name -> Text,
        description -> Text,
        icon -> Nullable<Text>,
        banner -> Nullable<Text>,
        created_at -> Timestamptz,
        member_count -> Int8,
        counted_in_slots -> Bool,
    }
}

diesel::table! {
    server_members (server_id, user_id) {
        server_id -> Int8,
        user_id -> Int8,
        joined_at -> Timestamptz,
    }
}

diesel::table! {
    channels (id) {
        id -> Int8,
        server_id -> Nullable<Int8>,
        owner_id -> Nullable<Int8>,
        name -> Text,
        topic -> Text,
        last_seq -> Int8,
        created_at -> Timestamptz,
        kind -> Text,
    }
}

diesel::table! {
    conversation_participants (channel_id, user_id) {
        channel_id -> Int8,
        user_id -> Int8,
        joined_at -> Timestamptz,
    }
}

diesel::table! {
    direct_pairs (low_id, high_id) {
        low_id -> Int8,
        high_id -> Int8,
        channel_id -> Int8,
    }
}

diesel::table! {
    user_blocks (blocker_id, blocked_id) {
        blocker_id -> Int8,
        blocked_id -> Int8,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    messages (id) {
        id -> Int8,
        channel_id -> Int8,
        sender_id -> Int8,
        seq -> Int8,
        content -> Text,
        created_at -> Timestamptz,
        edited_at -> Nullable<Timestamptz>,
        deleted_at -> Nullable<Timestamptz>,
        nonce -> Nullable<Text>,
        mentions -> Nullable<Text>,
        reply_to -> Nullable<Int8>,
        reply_preview -> Nullable<Text>,
        pinned_at -> Nullable<Timestamptz>,
        pinned_by -> Nullable<Int8>,
        reactions -> Nullable<Text>,
    }
}

diesel::table! {
    message_nonces (sender_id, nonce) {
        sender_id -> Int8,
        nonce -> Text,
        message_id -> Int8,
        created_at -> Timestamptz,
    }
}

diesel::joinable!(servers -> users (owner_id));
diesel::joinable!(servers -> categories (category_id));
diesel::joinable!(server_members -> servers (server_id));
diesel::joinable!(server_members -> users (user_id));
diesel::joinable!(channels -> servers (server_id));
diesel::joinable!(messages -> channels (channel_id));
diesel::joinable!(messages -> users (sender_id));
diesel::joinable!(message_nonces -> messages (message_id));
diesel::joinable!(conversation_participants -> channels (channel_id));
diesel::joinable!(conversation_participants -> users (user_id));

diesel::allow_tables_to_appear_in_same_query!(
    users,
    categories,
    servers,
    server_members,
    channels,
    messages,
    message_nonces,
    conversation_participants,
    direct_pairs,
    user_blocks,
);
