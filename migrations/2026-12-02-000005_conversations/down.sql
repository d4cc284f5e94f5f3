DROP FUNCTION conversation_add(BIGINT, BIGINT, BIGINT, INT);
DROP FUNCTION direct_open(BIGINT, BIGINT);
DROP TRIGGER conversation_last_leaves ON conversation_participants;
DROP FUNCTION conversation_last_leaves();
DROP TABLE user_blocks;
DROP TABLE direct_pairs;
DROP TABLE conversation_participants;
DELETE FROM channels WHERE server_id IS NULL;
ALTER TABLE channels DROP CONSTRAINT channels_text_has_owner;
ALTER TABLE channels DROP CONSTRAINT channels_kind_has_server;
ALTER TABLE channels DROP COLUMN kind;
ALTER TABLE channels ALTER COLUMN owner_id SET NOT NULL;
ALTER TABLE channels ALTER COLUMN server_id SET NOT NULL;
-- message_store as migration 3 left it.
CREATE OR REPLACE FUNCTION message_store(
    p_server BIGINT, p_channel BIGINT, p_sender BIGINT, p_content TEXT, p_nonce TEXT,
    p_window_minutes INT,
    OUT o_outcome TEXT, OUT o_id BIGINT, OUT o_seq BIGINT, OUT o_created_at TIMESTAMPTZ)
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM FROM server_members WHERE server_id = p_server AND user_id = p_sender;
    IF NOT FOUND THEN
        PERFORM FROM servers WHERE id = p_server;
        o_outcome := CASE WHEN FOUND THEN 'not_member' ELSE 'no_such_channel' END;
        RETURN;
    END IF;
    IF p_nonce IS NOT NULL THEN
        -- The common replay (a client re-sending after a drop) takes no lock at all.
        SELECT n.message_id INTO o_id
            FROM message_nonces n JOIN messages m ON m.id = n.message_id
            WHERE n.sender_id = p_sender AND n.nonce = p_nonce AND m.deleted_at IS NULL
              AND n.created_at > now() - make_interval(mins => p_window_minutes);
        IF FOUND THEN
            o_outcome := 'replayed';
            RETURN;
        END IF;
    END IF;
    UPDATE channels SET last_seq = last_seq + 1
        WHERE id = p_channel AND server_id = p_server
        RETURNING last_seq INTO o_seq;
    IF NOT FOUND THEN
        o_outcome := 'no_such_channel';
        RETURN;
    END IF;
    INSERT INTO messages (channel_id, sender_id, seq, content, nonce)
        VALUES (p_channel, p_sender, o_seq, p_content, p_nonce)
        RETURNING id, created_at INTO o_id, o_created_at;
    IF p_nonce IS NOT NULL THEN
        -- Takes the nonce, or a claim on it older than the window. If a concurrent send holds
        -- it, this waits for that send's commit and then finds the claim taken.
        INSERT INTO message_nonces AS n (sender_id, nonce, message_id)
            VALUES (p_sender, p_nonce, o_id)
            ON CONFLICT (sender_id, nonce) DO UPDATE
                SET message_id = EXCLUDED.message_id, created_at = now()
                WHERE n.created_at <= now() - make_interval(mins => p_window_minutes);
        IF NOT FOUND THEN
            -- A concurrent send won the nonce: take back this message and its number (the
            -- channel row is still locked by us, so nobody took a later number), and answer
            -- with the winner's message. Its claim row is locked by us now, so it stays put.
            DELETE FROM messages WHERE id = o_id;
            UPDATE channels SET last_seq = last_seq - 1 WHERE id = p_channel;
            SELECT message_id INTO o_id FROM message_nonces
                WHERE sender_id = p_sender AND nonce = p_nonce;
            o_seq := NULL;
            o_created_at := NULL;
            o_outcome := 'replayed';
            RETURN;
        END IF;
    END IF;
    o_outcome := 'created';
END
$$;
