DROP FUNCTION message_store_many(BIGINT, BIGINT, BIGINT, TEXT[], TEXT[], BIGINT[], INT);
DROP FUNCTION message_store(BIGINT, BIGINT, BIGINT, TEXT, TEXT, BIGINT, INT);
DROP TRIGGER messages_gone_from_replies ON messages;
DROP FUNCTION messages_gone_from_replies();
DROP FUNCTION reply_preview_of(BIGINT);
DROP INDEX messages_reply_to_idx;
ALTER TABLE messages DROP COLUMN reply_preview;
ALTER TABLE messages DROP COLUMN reply_to;

CREATE FUNCTION message_store(
    p_server BIGINT, p_channel BIGINT, p_sender BIGINT, p_content TEXT, p_nonce TEXT,
    p_window_minutes INT,
    OUT o_outcome TEXT, OUT o_id BIGINT, OUT o_seq BIGINT, OUT o_created_at TIMESTAMPTZ)
LANGUAGE plpgsql AS $$
BEGIN
    IF p_server IS NULL THEN
        PERFORM FROM conversation_participants
            WHERE channel_id = p_channel AND user_id = p_sender;
        IF NOT FOUND THEN
            o_outcome := 'no_such_channel';
            RETURN;
        END IF;
        PERFORM FROM direct_pairs p
            JOIN user_blocks b ON (b.blocker_id = p.low_id AND b.blocked_id = p.high_id)
                               OR (b.blocker_id = p.high_id AND b.blocked_id = p.low_id)
            WHERE p.channel_id = p_channel;
        IF FOUND THEN
            o_outcome := 'blocked';
            RETURN;
        END IF;
    ELSE
        PERFORM FROM server_members WHERE server_id = p_server AND user_id = p_sender;
        IF NOT FOUND THEN
            PERFORM FROM servers WHERE id = p_server;
            o_outcome := CASE WHEN FOUND THEN 'not_member' ELSE 'no_such_channel' END;
            RETURN;
        END IF;
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
        WHERE id = p_channel AND server_id IS NOT DISTINCT FROM p_server
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

CREATE FUNCTION message_store_many(
    p_server BIGINT, p_channel BIGINT, p_sender BIGINT, p_contents TEXT[], p_nonces TEXT[],
    p_window_minutes INT)
RETURNS TABLE (o_index INT, o_outcome TEXT, o_id BIGINT, o_seq BIGINT, o_created_at TIMESTAMPTZ)
LANGUAGE plpgsql AS $$
BEGIN
    IF cardinality(p_contents) IS DISTINCT FROM cardinality(p_nonces) THEN
        RAISE EXCEPTION 'message_store_many: % contents but % nonces',
            cardinality(p_contents), cardinality(p_nonces);
    END IF;
    FOR i IN 1 .. coalesce(cardinality(p_contents), 0) LOOP
        RETURN QUERY SELECT i, s.o_outcome, s.o_id, s.o_seq, s.o_created_at
            FROM message_store(p_server, p_channel, p_sender, p_contents[i], p_nonces[i],
                               p_window_minutes) s;
    END LOOP;
END
$$;
