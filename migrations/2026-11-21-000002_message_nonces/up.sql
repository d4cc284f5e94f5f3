-- Nonces: a client may attach a de-duplication key to a message, so that a send it retries (after
-- a timeout, a dropped socket, ...) cannot store the message twice. The same nonce from the same
-- sender within 10 minutes yields the message first stored with it.

-- Echoed back with the message, so the client can match it to what it sent.
ALTER TABLE messages ADD COLUMN nonce TEXT CHECK (char_length(nonce) BETWEEN 1 AND 64);

-- The live claims on nonces, one per (sender, nonce). The primary key is what makes concurrent
-- identical sends safe: only one transaction can insert the row; the others wait for it to commit
-- and then see the conflict. A claim older than 10 minutes may be taken over by a new message
-- (INSERT ... ON CONFLICT DO UPDATE ... WHERE created_at < now() - interval '10 minutes').
-- A plain unique index on messages could not express the time window, which is why the claims
-- live in a table of their own.
CREATE TABLE message_nonces (
    sender_id  BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    nonce      TEXT        NOT NULL CHECK (char_length(nonce) BETWEEN 1 AND 64),
    message_id BIGINT      NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (sender_id, nonce)
);
-- Cascades from messages, and freeing a deleted message's nonce.
CREATE INDEX message_nonces_message_id_idx ON message_nonces (message_id);

-- History paging needs no new index: pages by id use messages_channel_id_id_idx (channel_id, id)
-- and catch-up by sequence number uses the UNIQUE (channel_id, seq) constraint's index.
