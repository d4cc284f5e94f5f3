-- Mentions (`<@id>` in a message's content), resolved when the message is stored or edited:
-- only users who can read the channel (its server's members, the conversation's
-- participants) are mentioned.
--
-- The message carries them for history and live frames, as a JSON array of {id, username}
-- (NULL: none), so a page of history reads them with its rows, no join. A column without a
-- default is added without rewriting the table.
ALTER TABLE messages ADD COLUMN mentions TEXT;

-- And one row per mentioned user, for their mention counts: a user's mentions in a channel
-- after their read state are an index range.
CREATE TABLE message_mentions (
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    channel_id BIGINT NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    seq        BIGINT NOT NULL,
    message_id BIGINT NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, channel_id, seq)
);
CREATE INDEX message_mentions_message_id_idx ON message_mentions (message_id);
CREATE INDEX message_mentions_channel_id_idx ON message_mentions (channel_id);
