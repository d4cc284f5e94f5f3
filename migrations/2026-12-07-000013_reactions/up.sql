-- Reactions: each user once per emoji on a message, at most 20 distinct emoji per message.
-- Changes to one message's reactions take its row's lock first, so the cap and the counts hold
-- under concurrency, and the message carries its counts (`reactions`, JSON [{emoji, count}] in
-- the order the emoji first appeared; NULL: none) so that history reads them with its rows.
CREATE TABLE message_reactions (
    message_id BIGINT      NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    emoji      TEXT        NOT NULL CHECK (octet_length(emoji) BETWEEN 1 AND 64),
    user_id    BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (message_id, emoji, user_id)
);
-- A reader's own reactions on a page, and an account's when it goes.
CREATE INDEX message_reactions_user_id_idx ON message_reactions (user_id, message_id);
ALTER TABLE messages ADD COLUMN reactions TEXT;

-- The counts a message carries, from its reactions.
CREATE FUNCTION reaction_counts_of(p_message BIGINT) RETURNS TEXT LANGUAGE sql STABLE AS $$
    SELECT json_agg(json_build_object('emoji', emoji, 'count', n) ORDER BY first, emoji)::text
    FROM (SELECT emoji, count(*) AS n, min(created_at) AS first
          FROM message_reactions WHERE message_id = p_message GROUP BY emoji) counts
$$;

-- The counts follow every change, whoever makes it (a reaction, taking one back, an account
-- that goes with its reactions): once per statement, for the messages it touched.
CREATE FUNCTION reactions_recount() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE messages m SET reactions = reaction_counts_of(m.id)
        WHERE m.id IN (SELECT DISTINCT message_id FROM changed);
    RETURN NULL;
END
$$;
CREATE TRIGGER reactions_added AFTER INSERT ON message_reactions
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT
    EXECUTE FUNCTION reactions_recount();
CREATE TRIGGER reactions_removed AFTER DELETE ON message_reactions
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT
    EXECUTE FUNCTION reactions_recount();
