-- Hearth's foundation: accounts, the catalogue, membership, channels and messages.
-- Ids are BIGINT identities; every foreign key cascades from the thing that owns the row.

CREATE TABLE users (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username      TEXT        NOT NULL CHECK (char_length(username) BETWEEN 1 AND 150),
    password_hash TEXT        NOT NULL,
    is_staff      BOOLEAN     NOT NULL DEFAULT FALSE,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);
-- Usernames are unique regardless of case, so "Alice" cannot pose as "alice".
CREATE UNIQUE INDEX users_username_key ON users (lower(username));

CREATE TABLE categories (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE CHECK (name = lower(name) AND char_length(name) BETWEEN 1 AND 100),
    description TEXT NOT NULL DEFAULT '',
    icon        TEXT
);

CREATE TABLE servers (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    owner_id    BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    category_id BIGINT      NOT NULL REFERENCES categories (id) ON DELETE CASCADE,
    name        TEXT        NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
    description TEXT        NOT NULL DEFAULT '',
    icon        TEXT,
    banner      TEXT,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX servers_category_id_idx ON servers (category_id, id);
CREATE INDEX servers_owner_id_idx ON servers (owner_id);

CREATE TABLE server_members (
    server_id BIGINT      NOT NULL REFERENCES servers (id) ON DELETE CASCADE,
    user_id   BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    joined_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (server_id, user_id)
);
-- "Servers I am a member of" (by_user) and cascades from users.
CREATE INDEX server_members_user_id_idx ON server_members (user_id, server_id);

-- The owner of a server is a member from the moment the server exists, whichever code path
-- creates it.
CREATE FUNCTION add_owner_as_member() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO server_members (server_id, user_id) VALUES (NEW.id, NEW.owner_id)
    ON CONFLICT DO NOTHING;
    RETURN NEW;
END
$$;
CREATE TRIGGER servers_owner_is_member AFTER INSERT ON servers
    FOR EACH ROW EXECUTE FUNCTION add_owner_as_member();

CREATE TABLE channels (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    server_id  BIGINT      NOT NULL REFERENCES servers (id) ON DELETE CASCADE,
    owner_id   BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name       TEXT        NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
    topic      TEXT        NOT NULL DEFAULT '',
    -- The sequence number of the channel's newest message; bumped in the transaction that
    -- stores a message, so every message gets the next number with no gap.
    last_seq   BIGINT      NOT NULL DEFAULT 0,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (server_id, name)
);
CREATE INDEX channels_owner_id_idx ON channels (owner_id);

CREATE TABLE messages (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    channel_id BIGINT      NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    sender_id  BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    seq        BIGINT      NOT NULL,
    content    TEXT        NOT NULL CHECK (char_length(content) BETWEEN 1 AND 2000),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    edited_at  TIMESTAMPTZ,
    deleted_at TIMESTAMPTZ,
    UNIQUE (channel_id, seq)
);
-- History pages walk a channel by id.
CREATE INDEX messages_channel_id_id_idx ON messages (channel_id, id);
CREATE INDEX messages_sender_id_idx ON messages (sender_id);
